//! Facts: what each function does, derived from the IR and the knowledge
//! packs. Rules read facts; they never re-derive them.

pub mod admin_lists;
pub mod class_constants;
pub mod context;
pub mod guards;
pub mod list_views;
pub mod loops;
pub mod models;
pub mod per_object;
pub mod regions;
pub mod resources;
pub mod returns;
pub mod rows;
pub mod signals;
pub mod sql;
mod types;
pub mod uses;
mod walk;

use crate::collections::{HashMap, HashSet};

use weir_ir::{Call, Expr, Function, LoopKind, Module, Span, Stmt, StmtKind};

pub use context::ExecContext;
pub use loops::Iteration;
pub use types::{ProjectTypes, Typed};

use crate::context::ProjectContext;
use crate::knowledge::{Effect, Knowledge, ObjKind, QueryOp};
use crate::project::{FnRef, ModelIndex, ProjectIndex};

/// Shared, read-only facts about the whole project: what every rule of
/// every auditor can read, through [`FunctionFacts::project`].
pub struct ProjectFacts<'ir> {
    pub knowledge: Knowledge,
    pub types: ProjectTypes,
    pub index: ProjectIndex<'ir>,
    /// The ORM models of the project.
    pub models: ModelIndex,
    /// The context store: stack, database configuration, triggers,
    /// subscribers and best-practice notes (SPEC §5, §6).
    pub context: ProjectContext,
    /// Tunable sizes (`[tool.weir.thresholds]`); defaults from the SPEC.
    pub thresholds: crate::thresholds::Thresholds,
    /// Models and Core tables by table name (the transaction auditor's view).
    pub tables: models::Models,
    /// Django models whose save signals have receivers in the project.
    pub save_signals: signals::SaveSignals,
    /// Project functions that return the rows of a query (repositories,
    /// `get_queryset()`), by function.
    pub returned_rows: returns::ReturnedRows,
    /// Methods a framework calls once per item with no loop in the code:
    /// the per-object methods of DRF serializers used for lists.
    pub per_object: per_object::PerObjectMethods,
    /// Class attributes holding a collection written in the code.
    pub class_constants: class_constants::ClassConstants,
}

impl<'ir> ProjectFacts<'ir> {
    /// Facts for a project whose stack is not known (a single file, a test).
    pub fn new(modules: &'ir [Module]) -> Self {
        Self::with_context(modules, ProjectContext::default())
    }

    pub fn with_context(modules: &'ir [Module], context: ProjectContext) -> Self {
        let mut roots: Vec<&str> = modules
            .iter()
            .flat_map(|m| m.imports.iter())
            .map(|i| i.target.split('.').next().unwrap_or(&i.target))
            .collect();
        roots.sort_unstable();
        roots.dedup();
        let knowledge = Knowledge::for_project(&roots, &context.tech_stack);
        // Independent of each other: built side by side.
        let ((types, class_constants), (index, (models, tables))) = rayon::join(
            || {
                rayon::join(
                    || ProjectTypes::build(modules, &knowledge),
                    || class_constants::ClassConstants::build(modules),
                )
            },
            || {
                rayon::join(
                    || ProjectIndex::build(modules),
                    || {
                        rayon::join(
                            || ModelIndex::build(modules),
                            || models::Models::build(modules),
                        )
                    },
                )
            },
        );
        // These read the indexes above, and not each other.
        let ((save_signals, returned_rows), per_object) = rayon::join(
            || {
                rayon::join(
                    || signals::SaveSignals::build(modules, &models),
                    || returns::ReturnedRows::build(modules, &models),
                )
            },
            || per_object::PerObjectMethods::build(modules, &index, &models),
        );
        ProjectFacts {
            knowledge,
            types,
            index,
            models,
            context,
            thresholds: crate::thresholds::Thresholds::default(),
            tables,
            save_signals,
            returned_rows,
            per_object,
            class_constants,
        }
    }

    /// Writing a row of this Django model one at a time runs logic of the
    /// project's that the set-based form skips: the model (itself or through
    /// a project base or mixin) overrides `method` (`save`, `delete`), or
    /// derives from a library model base that does (django-lifecycle's
    /// hooks, django-mptt's tree fields), or, for `save`, a project receiver
    /// listens to its `pre_save`/`post_save`. `QuerySet.update()`,
    /// `bulk_update()`, `bulk_create()` and `QuerySet.delete()` call
    /// neither, so the loop is how that logic runs.
    pub fn writes_run_model_logic(&self, class: &str, method: &str) -> bool {
        self.index.method(class, method).is_some()
            || self.index.has_base(class, |base| {
                crate::knowledge::django_library_base_overrides(base, method)
            })
            || (method == "save" && self.save_signals.models.contains(class))
    }
}

/// An enclosing loop: a statement loop or a comprehension.
#[derive(Debug, Clone)]
pub struct LoopRef<'ir> {
    pub kind: LoopKind,
    pub iter: Option<&'ir Expr>,
    pub target: Option<&'ir Expr>,
    /// The loop body (empty for comprehensions).
    pub body: &'ir [Stmt],
    pub span: Span,
    pub is_comprehension: bool,
    pub iteration: Iteration,
    /// The iterable is (or is a local bound to) the result of a query in
    /// this function: its items are persistent ORM objects.
    pub iterates_query_rows: bool,
    /// The model and eager loads of the rows, when the loop iterates a
    /// query of a project model.
    pub rows: Option<rows::RowSource>,
    /// For comprehensions: the element expression (their "body").
    pub element: Option<&'ir Expr>,
    /// For comprehensions: the clause's `if` conditions, tested on every
    /// item (`[p.title for p in posts if p.author.is_active]`).
    pub conditions: &'ir [Expr],
}

impl LoopRef<'_> {
    /// One iteration per item of data of unknown size: the loops that make
    /// N+1 queries and per-row statements.
    pub fn is_per_item(&self) -> bool {
        self.kind == LoopKind::ForEach && self.iteration == Iteration::PerItem
    }

    /// The loop variable's name, when it is a single name.
    pub fn target_name(&self) -> Option<&str> {
        self.target.and_then(Expr::as_name)
    }

    /// The plain names the loop binds per item: `model` in `for model in
    /// models`, `model_class` and `objects` in `for model_class, objects in
    /// by_model.items()`.
    pub fn target_names(&self) -> Vec<&str> {
        match self.target.map(|t| &t.kind) {
            Some(weir_ir::ExprKind::Name { id }) => vec![id.as_str()],
            Some(weir_ir::ExprKind::Collection { elements, .. }) => {
                elements.iter().filter_map(Expr::as_name).collect()
            }
            _ => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryPart {
    Body,
    Handler(usize),
    Else,
    Finally,
}

/// A structural scope around a site, outermost first.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'ir> {
    Loop(usize),
    /// The `then` block of an `if`: its test and the block.
    If(&'ir Expr, &'ir [Stmt]),
    /// The `else` block of an `if` (or a `match` case): the test.
    Else(&'ir Expr),
    Try(&'ir Stmt, TryPart),
    With(&'ir Stmt),
}

/// Where something happens inside a function.
#[derive(Debug, Clone)]
pub struct Site<'ir> {
    pub span: Span,
    pub scopes: Vec<Scope<'ir>>,
    pub awaited: bool,
    /// Inside the callable handed to `asyncio.to_thread` and friends.
    pub offloaded: bool,
    pub in_lambda: bool,
    /// The enclosing loops (positions in [`Site::loops`], from..to) that
    /// the code leaves right after this site: its statement is, or is
    /// followed in its block by, a `return` or `raise` (every enclosing
    /// loop) or a `break` (the innermost), with no `continue` between. Such
    /// a site runs at most once per run of those loops, not once per item.
    pub leaves_loops: Option<(usize, usize)>,
}

impl<'ir> Site<'ir> {
    /// Indices (into `FunctionFacts::loops`) of the enclosing loops, outermost first.
    pub fn loops(&self) -> impl DoubleEndedIterator<Item = usize> + '_ {
        self.scopes.iter().filter_map(|s| match s {
            Scope::Loop(i) => Some(*i),
            _ => None,
        })
    }

    pub fn innermost_loop(&self) -> Option<usize> {
        self.loops().next_back()
    }

    /// Whether the site leaves its innermost loop right after it runs.
    pub fn leaves_innermost_loop(&self) -> bool {
        self.loops()
            .count()
            .checked_sub(1)
            .is_some_and(|position| self.leaves_loop_at(position))
    }

    /// Whether the site leaves the enclosing loop at `position` (in
    /// [`Site::loops`] order) right after it runs.
    pub fn leaves_loop_at(&self, position: usize) -> bool {
        self.leaves_loops
            .is_some_and(|(from, to)| (from..to).contains(&position))
    }

    /// The scopes nested inside the innermost loop.
    pub fn scopes_in_innermost_loop(&self) -> &[Scope<'ir>] {
        let at = self
            .scopes
            .iter()
            .rposition(|s| matches!(s, Scope::Loop(_)));
        at.map_or(&[], |i| &self.scopes[i + 1..])
    }
}

/// A call the knowledge packs know something about, or the evaluation of
/// a lazy query by iteration (`call` is `None` then).
#[derive(Debug, Clone)]
pub struct CallFact<'ir> {
    pub site: Site<'ir>,
    /// The call expression, or the iterated expression for a lazy query.
    pub expr: &'ir Expr,
    pub call: Option<&'ir Call>,
    /// The statement a query runs (`execute(stmt)`), with a local name
    /// followed to the value assigned to it.
    pub statement: Option<&'ir Expr>,
    /// The value the statement's local held before it was refined from
    /// itself (`stmt = insert(T).values(rows); stmt =
    /// stmt.on_conflict_do_nothing()` → `insert(T).values(rows)`).
    pub statement_base: Option<&'ir Expr>,
    /// The first argument, with a local name followed to its assigned value
    /// (`body = await request.body(); json.loads(body)`).
    pub first_arg: Option<&'ir Expr>,
    pub effect: Option<Effect>,
    /// For queries: the operation, with `FromArgument` resolved where possible.
    pub op: Option<QueryOp>,
    /// Dotted path of the receiver (`session`, `self.db`).
    pub receiver: Option<String>,
    pub receiver_kind: Option<Typed>,
    pub returns: Option<ObjKind>,
    /// The project function the call runs, when it resolves to one.
    pub target: Option<FnRef>,
    /// For queries of a project model: its qualified class.
    pub model: Option<String>,
    /// The qualified name or `receiver.method` text, for messages.
    pub label: String,
}

impl CallFact<'_> {
    /// The primary-key expression a single-entity load uses:
    /// `session.get(Job, job_id)`, `select(Job).where(Job.id == job_id)`,
    /// `Job.objects.get(pk=job_id)` → `job_id`.
    pub fn load_key(&self) -> Option<&Expr> {
        if self.op != Some(QueryOp::Select) {
            return None;
        }
        let call = self.call?;
        if matches!(call.method_name(), Some("get" | "get_one")) {
            if let Some(key) = call.positional(1) {
                return Some(key);
            }
            if let Some(key) = call.keyword("pk").or_else(|| call.keyword("id")) {
                return Some(key);
            }
        }
        let mut key = None;
        for source in [self.statement, Some(self.expr)].into_iter().flatten() {
            weir_ir::visit::walk_expr(source, &mut |e| {
                if let weir_ir::ExprKind::Compare(cmp) = &e.kind {
                    let weir_ir::Compare {
                        left,
                        ops,
                        comparators,
                    } = &**cmp;
                    let is_pk = matches!(&left.kind, weir_ir::ExprKind::Attribute { attr, .. } if attr == "id" || attr == "pk");
                    if is_pk && ops.as_slice() == [weir_ir::Operator::Eq] && key.is_none() {
                        key = comparators.first();
                    }
                }
            });
        }
        key
    }

    /// `session.execute(…)`, `Path(…).read_bytes()`, for messages.
    pub fn text(&self) -> String {
        match self.call {
            Some(c) => format!(
                "`{}({})`",
                callee_text(&c.callee),
                if c.args.is_empty() { "" } else { "…" }
            ),
            None => format!("`{}`", self.label),
        }
    }

    /// The blocking I/O this call does, if any: a known blocking API, or a
    /// database call on an object known for certain to be synchronous.
    pub fn blocking_io(&self) -> Option<crate::knowledge::IoKind> {
        if self.site.awaited {
            return None;
        }
        match self.effect? {
            Effect::Blocking(kind) => Some(kind),
            // `session.add` only stages; it does no I/O by itself.
            Effect::Query(_) | Effect::Commit | Effect::Rollback | Effect::Flush => {
                let receiver = self.receiver_kind?;
                // The Django ORM is synchronous whatever the certainty of the
                // kind (its async API is the awaited `a…` methods).
                let django = matches!(receiver.kind, ObjKind::QuerySet | ObjKind::DjangoModel)
                    && !self
                        .call
                        .and_then(weir_ir::Call::method_name)
                        .is_some_and(|m| crate::knowledge::DJANGO_ASYNC_API.contains(&m));
                // The legacy `session.query(M)` exists only on the synchronous
                // Session (`AsyncSession` has no `query()`): running one blocks,
                // even on a session known only by its name (`db.session`).
                let legacy = receiver.kind == ObjKind::LegacyQuery;
                ((receiver.certain && receiver.kind.is_sync_db()) || django || legacy)
                    .then_some(crate::knowledge::IoKind::Database)
            }
            _ => None,
        }
    }
}

pub(crate) fn callee_text(expr: &Expr) -> String {
    match &expr.kind {
        weir_ir::ExprKind::Name { id } => id.to_string(),
        weir_ir::ExprKind::Attribute { value, attr } => format!("{}.{attr}", callee_text(value)),
        weir_ir::ExprKind::Call(call) => {
            format!(
                "{}({})",
                callee_text(&call.callee),
                if call.args.is_empty() { "" } else { "…" }
            )
        }
        weir_ir::ExprKind::Await { value } => callee_text(value),
        _ => "…".into(),
    }
}

/// A resource bound to a local variable by a plain assignment.
#[derive(Debug, Clone)]
pub struct Acquisition<'ir> {
    pub var: String,
    pub kind: ObjKind,
    pub site: Site<'ir>,
    pub label: String,
}

/// `x += value` or `x = x + value`.
#[derive(Debug, Clone)]
pub struct Accumulation<'ir> {
    pub var: String,
    pub value: &'ir Expr,
    pub site: Site<'ir>,
    /// Where `var` was last bound before this point (assignment, loop
    /// target, parameter: `None`).
    pub bound_at: Option<Span>,
}

/// Everything known about one function.
pub struct FunctionFacts<'ir> {
    /// The project-wide facts, the context store among them.
    pub project: &'ir ProjectFacts<'ir>,
    pub module: &'ir Module,
    pub function: &'ir Function,
    pub context: ExecContext,
    pub loops: Vec<LoopRef<'ir>>,
    pub calls: Vec<CallFact<'ir>>,
    pub acquisitions: Vec<Acquisition<'ir>>,
    /// Variables bound by `with`/`async with` (managed by a context manager).
    pub managed: HashSet<String>,
    /// Variables whose value leaves the function (returned, yielded, passed
    /// on, stored) — the function is not responsible for closing them.
    pub escapes: HashSet<String>,
    pub accumulations: Vec<Accumulation<'ir>>,
    /// Variables known to hold strings, with the line they became one.
    pub strings: HashMap<String, u32>,
    /// Locals that always hold a list, dict or set built in this function
    /// (or parameters annotated so): copying or materialising them again is
    /// never needed to iterate them.
    pub collections: HashSet<String>,
    /// Locals also bound to something else (kept out of `collections`).
    pub mixed_collections: HashSet<String>,
    pub params: HashSet<String>,
    /// Every binding of a name (assignment, `with … as`, loop target), in order.
    pub bindings: Vec<(String, Span)>,
    /// Locals holding a lazy query (Django `QuerySet`, legacy `Query`).
    pub lazy_query_vars: HashSet<String>,
    /// Locals holding one ORM entity or rows of a model (qualified class):
    /// loaded by a query, iterated from one, or an annotated parameter.
    pub entities: HashMap<String, String>,
    /// Locals bound to rows (or one entity) of a query with eager-loading
    /// options: the name, the binding statement, the rows.
    pub eager_rows: Vec<(String, Span, rows::RowSource)>,
    /// Project functions this one hands to a job queue by reference
    /// (`background_tasks.add_task(f, …)`, `queue.enqueue("app.jobs.f")`):
    /// they run as background jobs (see `context::enqueued_job_context`).
    pub queued_jobs: Vec<FnRef>,
    /// Every call expression of the body, in walk order; computed on first
    /// use, so that the rules looking at all calls share one walk.
    pub(crate) call_exprs: std::sync::OnceLock<Vec<&'ir Expr>>,
    /// The spans of the arguments handed to long-lived work (see
    /// `handed_to_long_lived_work`), found on first use: asked once per
    /// call of a module's top level, which may hold thousands.
    pub(crate) long_lived_args: std::sync::OnceLock<Vec<Span>>,
    /// The transaction regions, built on first use (see `regions`).
    pub(crate) regions: std::sync::OnceLock<regions::Regions>,
}

impl<'ir> FunctionFacts<'ir> {
    pub fn build(
        project: &'ir ProjectFacts<'ir>,
        module: &'ir Module,
        function: &'ir Function,
    ) -> Self {
        walk::Walker::run(project, module, function)
    }

    /// The statements at the top level of the body that end before
    /// `call` starts: an early return there (`if key in cache: return
    /// cache[key]`) decides whether the call runs at all. When the call
    /// sits in a top-level `with` block (`with _CACHE_LOCK:`) or `try`
    /// body, which run their statements in order like the body does, the
    /// statements before it in that block follow, and so on inward.
    pub fn statements_before(&self, call: &CallFact<'_>) -> impl Iterator<Item = &'ir Stmt> {
        let at = call.site.span.start;
        let mut block: &'ir [Stmt] = &self.function.body;
        std::iter::from_fn(move || {
            loop {
                let (stmt, rest) = block.split_first()?;
                if stmt.span.end <= at {
                    block = rest;
                    return Some(stmt);
                }
                block = match &stmt.kind {
                    StmtKind::With { body, .. } if stmt.span.start <= at => body,
                    StmtKind::Try { body, .. }
                        if body.last().is_some_and(|last| last.span.end > at) =>
                    {
                        body
                    }
                    _ => &[],
                };
            }
        })
    }

    /// Every call expression of the body (lambdas and comprehensions
    /// included, nested definitions not), in the order of
    /// `weir_ir::visit::walk_block_exprs`.
    pub fn call_exprs(&self) -> &[&'ir Expr] {
        self.call_exprs.get_or_init(|| {
            let mut calls = Vec::new();
            weir_ir::visit::walk_block_exprs(&self.function.body, &mut |e| {
                if e.as_call().is_some() {
                    calls.push(e);
                }
            });
            calls
        })
    }

    /// `asyncio.create_task(run_job(job))`, `executor.submit(sync_one, item)`,
    /// `background_tasks.add_task(poll)`: the call is handed to long-lived
    /// work (a task, a thread, a job) that runs apart from this function.
    pub fn handed_to_long_lived_work(&self, call: &CallFact<'_>) -> bool {
        let span = call.expr.span;
        self.long_lived_args
            .get_or_init(|| {
                self.call_exprs()
                    .iter()
                    .filter(|e| {
                        e.as_call()
                            .is_some_and(|outer| resources::starts_long_lived_work(outer).is_some())
                            && !self.awaits_task(e)
                    })
                    .filter_map(|e| e.as_call())
                    .flat_map(|outer| outer.args.iter().map(|a| a.value.unawaited().span))
                    .collect()
            })
            .iter()
            .any(|arg| arg.contains(&span))
    }

    /// The function is run once per item by a framework (a DRF serializer's
    /// `get_<field>` or `to_representation` on a list): see [`per_object`].
    pub fn per_object(&self) -> Option<&'ir per_object::PerObject> {
        self.project
            .per_object
            .get(&self.module.name, &self.function.qualname)
    }

    /// The parameter that receives the item of a [`Self::per_object`]
    /// method: the one after `self` (`obj`, `instance`).
    pub fn per_object_param(&self) -> Option<&'ir str> {
        self.per_object()?;
        self.function.params.get(1).map(|p| p.name.as_str())
    }

    /// The task a call starts is awaited in this function, so its work runs
    /// here after all: `await asyncio.create_task(…)`, or `flush =
    /// asyncio.create_task(…)` then `await asyncio.shield(flush)`, `await
    /// asyncio.wait({task})`.
    pub fn awaits_task(&self, start: &Expr) -> bool {
        let mut bound: Option<&str> = None;
        weir_ir::visit::walk_stmts(&self.function.body, &mut |stmt| {
            if let Some(([target], value)) = stmt.plain_assign()
                && value.span == start.span
            {
                bound = target.as_name();
            }
        });
        let mut awaited = false;
        weir_ir::visit::walk_block_exprs(&self.function.body, &mut |e| {
            if let weir_ir::ExprKind::Await { value } = &e.kind {
                if value.span.contains(&start.span) {
                    awaited = true;
                } else if let Some(name) = bound {
                    weir_ir::visit::walk_expr(value, &mut |n| awaited |= n.as_name() == Some(name));
                }
            }
        });
        awaited
    }

    /// The last binding of `var` before `offset`.
    pub fn binding_before(&self, var: &str, offset: u32) -> Option<Span> {
        self.bindings
            .iter()
            .rev()
            .find(|(name, span)| name == var && span.start < offset)
            .map(|(_, span)| *span)
    }

    /// True when `var` is bound again between `from` and `to`.
    pub fn rebound_between(&self, var: &str, from: u32, to: u32) -> bool {
        self.bindings
            .iter()
            .any(|(name, span)| name == var && span.start > from && span.start < to)
    }

    /// Calls whose effect matches `pred`.
    pub fn calls_with(
        &self,
        pred: impl Fn(Effect) -> bool,
    ) -> impl Iterator<Item = &CallFact<'ir>> {
        self.calls
            .iter()
            .filter(move |c| c.effect.is_some_and(&pred))
    }
}
