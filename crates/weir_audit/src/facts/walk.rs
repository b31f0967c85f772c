//! One ordered walk over a function body that records its facts: calls
//! with their effects, the loops/try/with around them, local object kinds,
//! resource acquisitions and escapes, string accumulations.

use crate::collections::{HashMap, HashSet};

use weir_ir::{
    ArgSpread, Call, Expr, ExprKind, Function, Literal, LoopKind, Module, Operator, Stmt, StmtKind,
};

use super::{
    Accumulation, Acquisition, CallFact, FunctionFacts, LoopRef, ProjectFacts, Scope, Site,
    TryPart, Typed, context, loops, sql,
};
use crate::knowledge::{
    DJANGO_ONE_INSTANCE, DJANGO_PAIR_OF_INSTANCE, SINGLE_ROW_METHODS, SINGLE_ROW_OR_404,
};
use crate::knowledge::{Effect, ObjKind, QueryOp};
use crate::project::FnRef;

/// Libraries whose objects have ORM-like attribute names (`objects`):
/// boto3's resources (`Bucket.objects`, an S3 object collection,
/// <https://boto3.amazonaws.com/v1/documentation/api/latest/guide/collections.html>).
const NOT_ORM_LIBRARIES: &[&str] = &["boto3"];

/// The label of a lazy query run by iterating it.
const ITERATION: &str = "iteration of a lazy query";

/// Builtins that evaluate a lazy query passed to them (`list(qs)`, `len(qs)`).
const EVALUATING_BUILTINS: &[&str] = &[
    "builtins.list",
    "builtins.tuple",
    "builtins.set",
    "builtins.sorted",
    "builtins.len",
    "builtins.bool",
    "builtins.any",
    "builtins.all",
    "builtins.sum",
    "builtins.next",
    "builtins.dict",
    "builtins.enumerate",
];

/// Loop variables with these in their name are not model instances.
const NOT_MODELS: &[&str] = &[
    "form",
    "panel",
    "widget",
    "field",
    "handler",
    "serializer",
    "file",
];

/// How a sub-expression is reached.
#[derive(Clone, Copy, Default)]
struct Flags {
    offloaded: bool,
    in_lambda: bool,
}

pub(super) struct Walker<'ir> {
    project: &'ir ProjectFacts<'ir>,
    module: &'ir Module,
    env: HashMap<String, Typed>,
    assigned: HashMap<String, &'ir Expr>,
    /// Locals refined from their own value (`stmt = stmt.returning(M)`,
    /// `q = q.where(…)`): the value they held before the first refinement,
    /// where a statement's operation is read (`insert(M).values(…)`).
    refined: HashMap<String, &'ir Expr>,
    /// Locals holding instances of project classes (`repo = JobRepository(s)`).
    instances: HashMap<String, String>,
    /// Locals bound to a literal display (`queries = [q1, q2]`).
    literal_names: HashSet<String>,
    /// Locals bound to an empty dict and filled, so far, only at keys
    /// written in the code (`sources = {}; sources["chat"] = …`): a fixed,
    /// small set of entries, literal once the first one is stored.
    keyed_dicts: HashSet<String>,
    /// Locals bound to an empty list and grown, so far, only by
    /// `append(x)` written outside any loop the list was not bound in
    /// (`lane_filters = []; if run.key: lane_filters.append(…)`): one item
    /// per call written in the code, a fixed, small number. The value is
    /// the loop depth at the binding.
    appended_lists: HashMap<String, usize>,
    /// Locals assigned the rows of a query in this function (their model is
    /// in `facts.entities`): the relations loaded with them. (Parameters are
    /// not here: a caller may have prefetched their relations.)
    fetched: HashMap<String, Vec<String>>,
    /// Loop variables over query rows: the relations loaded with the rows.
    row_eager: HashMap<String, Vec<String>>,
    scopes: Vec<Scope<'ir>>,
    /// The loops the statement being walked leaves right after it (see
    /// [`Site::leaves_loops`]).
    leaves_loops: Option<(usize, usize)>,
    /// An earlier statement of an enclosing block sent a signal to this
    /// very process (`os.kill(os.getpid(), signal.SIGKILL)`): what follows
    /// waits for the process to end.
    ending_process: bool,
    facts: FunctionFacts<'ir>,
    /// The qualified class of the method (or of the method a nested
    /// function is in), asked for every `self.…` call: found once.
    enclosing_class: std::cell::OnceCell<Option<String>>,
    /// The locals whose bound method is being classified (`read =
    /// path.read_text; read()`): a binding that reads its own name
    /// (`call = call().run; call()`) means the value the name held before,
    /// which is not followed again.
    following_aliases: std::cell::RefCell<Vec<&'ir Expr>>,
}

/// Whether classifying a call already looked up the project function it
/// reaches (and what it found), so that the walker does not do it twice.
enum TargetLookup {
    NotDone,
    Done(Option<FnRef>),
}

/// What the packs say about one call.
struct CallInfo {
    effect: Option<Effect>,
    returns: Option<ObjKind>,
    receiver_kind: Option<Typed>,
}

impl<'ir> Walker<'ir> {
    pub(super) fn run(
        project: &'ir ProjectFacts<'ir>,
        module: &'ir Module,
        function: &'ir Function,
    ) -> FunctionFacts<'ir> {
        let mut walker = Walker {
            project,
            module,
            env: HashMap::default(),
            assigned: HashMap::default(),
            refined: HashMap::default(),
            literal_names: HashSet::default(),
            keyed_dicts: HashSet::default(),
            appended_lists: HashMap::default(),
            fetched: HashMap::default(),
            row_eager: HashMap::default(),
            instances: HashMap::default(),
            scopes: Vec::new(),
            leaves_loops: None,
            ending_process: false,
            enclosing_class: std::cell::OnceCell::new(),
            following_aliases: std::cell::RefCell::default(),
            facts: FunctionFacts {
                project,
                module,
                function,
                context: context::classify(module, function),
                loops: Vec::new(),
                calls: Vec::new(),
                acquisitions: Vec::new(),
                managed: HashSet::default(),
                escapes: HashSet::default(),
                accumulations: Vec::new(),
                strings: HashMap::default(),
                collections: HashSet::default(),
                mixed_collections: HashSet::default(),
                bindings: Vec::new(),
                lazy_query_vars: HashSet::default(),
                entities: HashMap::default(),
                eager_rows: Vec::new(),
                queued_jobs: Vec::new(),
                params: function.params.iter().map(|p| p.name.clone()).collect(),
                call_exprs: std::sync::OnceLock::new(),
                long_lived_args: std::sync::OnceLock::new(),
                regions: std::sync::OnceLock::new(),
            },
        };
        walker.seed_params(function);
        walker.seed_django_manager_self(function);
        walker.block(&function.body);
        walker.facts
    }

    /// In a method of the project's Django `Manager` or `QuerySet`
    /// subclass, `self` (and `super()`) is a QuerySet:
    /// `def get_default(self): return self.get(is_default=True)`.
    fn seed_django_manager_self(&mut self, function: &'ir Function) {
        if function.class.is_none() || !function.is_instance_method() {
            return;
        }
        let Some(class) = self.enclosing_class() else {
            return;
        };
        let manager = self.project.index.has_base(&class, |q| {
            q.strip_prefix("django.db.models.").is_some_and(|rest| {
                matches!(
                    rest.rsplit('.').next(),
                    Some("Manager" | "BaseManager" | "QuerySet")
                )
            })
        });
        if manager {
            self.env
                .insert("self".to_string(), Typed::certain(ObjKind::QuerySet));
        }
    }

    fn seed_params(&mut self, function: &'ir Function) {
        for param in &function.params {
            // `**kwargs` holds the keyword arguments written at the call
            // site: a fixed, small set, not data of unknown size.
            if param.kind == weir_ir::ParamKind::VarKeyword {
                self.literal_names.insert(param.name.clone());
            }
            if param
                .annotation
                .as_ref()
                .and_then(Expr::dotted)
                .is_some_and(|a| a == "str")
            {
                self.facts
                    .strings
                    .insert(param.name.clone(), param.span.line);
            }
            if param
                .annotation
                .as_ref()
                .is_some_and(is_collection_annotation)
            {
                self.facts.collections.insert(param.name.clone());
            }
            let declared = param.annotation.as_ref().and_then(|a| {
                self.project
                    .types
                    .annotation_kind(self.module, &self.project.knowledge, a)
            });
            if let Some(kind) = declared {
                self.env.insert(param.name.clone(), Typed::certain(kind));
            }
            let class = param
                .annotation
                .as_ref()
                .and_then(|a| crate::project::annotation_class(self.module, a))
                .and_then(|q| self.project.index.canonical_class(&q));
            if let Some(class) = class {
                self.instances.insert(param.name.clone(), class);
            }
            let model = param
                .annotation
                .as_ref()
                .and_then(|a| crate::project::annotation_class(self.module, a))
                .and_then(|q| self.project.models.get(&q).map(|m| m.class.clone()));
            if let Some(model) = model {
                self.facts.entities.insert(param.name.clone(), model);
            }
        }
        // A serializer's `get_<field>(self, obj)` receives an instance of
        // its `Meta.model`: `obj.lines.filter(…)` reads a related manager.
        if let Some(param) = self.facts.per_object_param()
            && !self.facts.entities.contains_key(param)
            && let Some(model) = self.facts.per_object().and_then(|p| p.model.clone())
        {
            if let Some(class) = self.project.index.canonical_class(&model) {
                self.instances.insert(param.to_string(), class);
            }
            self.facts.entities.insert(param.to_string(), model);
        }
        // A parameter used as a session, `store.query(Model)`, with no
        // annotation or name that says so ([`super::types::query_receiver_params`]).
        if self
            .project
            .knowledge
            .method(ObjKind::Session, "query")
            .is_some()
        {
            let knowledge = &self.project.knowledge;
            let untyped: HashSet<&str> = function
                .params
                .iter()
                .map(|p| p.name.as_str())
                .filter(|n| {
                    !matches!(*n, "self" | "cls")
                        && !self.env.contains_key(*n)
                        && !self.instances.contains_key(*n)
                        && knowledge.hint(n).is_none()
                })
                .collect();
            let sessions = super::types::query_receiver_params(
                self.module,
                self.facts.call_exprs(),
                &self.project.models,
                &untyped,
            );
            for param in sessions {
                self.env
                    .insert(param.to_string(), Typed::hinted(ObjKind::Session));
            }
        }
    }

    fn site(&self, expr: &Expr, flags: Flags, awaited: bool) -> Site<'ir> {
        Site {
            span: expr.span,
            scopes: self.scopes.clone(),
            awaited,
            offloaded: flags.offloaded,
            in_lambda: flags.in_lambda,
            leaves_loops: self.leaves_loops,
        }
    }

    fn block(&mut self, stmts: &'ir [Stmt]) {
        let ending = self.ending_process;
        self.block_stmts(stmts);
        self.ending_process = ending;
    }

    /// Walks one statement of a block, then notes whether it signalled the
    /// process itself (see [`Walker::ending_process`]).
    fn block_stmt(&mut self, stmt: &'ir Stmt) {
        self.stmt(stmt);
        if signals_own_process(self.module, stmt) {
            self.ending_process = true;
        }
    }

    fn block_stmts(&mut self, stmts: &'ir [Stmt]) {
        let Some((exit, leaves)) = leaving(stmts, || {
            self.scopes
                .iter()
                .filter(|s| matches!(s, Scope::Loop(_)))
                .count()
        }) else {
            for stmt in stmts {
                self.block_stmt(stmt);
            }
            return;
        };
        // A `continue` before the exit skips it for what comes earlier.
        let first = stmts[..=exit]
            .iter()
            .rposition(continues)
            .map_or(0, |i| i + 1);
        let outer = self.leaves_loops;
        for (i, stmt) in stmts.iter().enumerate() {
            if (first..=exit).contains(&i) {
                self.leaves_loops = Some(match outer {
                    // Contiguous with what an outer block leaves: both.
                    Some((from, to)) if leaves.0 <= to => (from.min(leaves.0), leaves.1),
                    _ => leaves,
                });
            }
            self.block_stmt(stmt);
            self.leaves_loops = outer;
        }
    }

    fn stmt(&mut self, stmt: &'ir Stmt) {
        let flags = Flags::default();
        match &stmt.kind {
            StmtKind::Expr { value } => self.expr(value, flags),
            StmtKind::Assign {
                targets,
                value,
                annotation,
                op,
            } => self.assign(stmt, targets, value.as_ref(), annotation.as_deref(), *op),
            StmtKind::Return { value } | StmtKind::Raise { value } => {
                if let Some(value) = value {
                    self.expr(value, flags);
                    if matches!(stmt.kind, StmtKind::Return { .. }) {
                        self.mark_escapes(value);
                    }
                }
            }
            StmtKind::If { test, then, orelse } => {
                self.expr(test, flags);
                self.scopes.push(Scope::If(test, then));
                self.block(then);
                self.scopes.pop();
                self.scopes.push(Scope::Else(test));
                self.block(orelse);
                self.scopes.pop();
            }
            StmtKind::Loop(lp) => {
                if let Some(iter) = &lp.iter {
                    match &iter.kind {
                        // `async for row in qs.aiterator()`: the loop awaits the
                        // call's rows, as `await` would.
                        ExprKind::Call(call) if lp.is_async => self.call(iter, call, flags, true),
                        _ => self.expr(iter, flags),
                    }
                    self.evaluate_if_lazy(iter, flags, lp.is_async, ITERATION);
                }
                let index = self.push_loop(LoopRef {
                    kind: lp.kind,
                    iter: lp.iter.as_ref(),
                    target: lp.target.as_ref(),
                    body: &lp.body,
                    span: stmt.span,
                    is_comprehension: false,
                    iteration: match &lp.iter {
                        Some(iter) if lp.is_async && loops::receives_messages(iter) => {
                            loops::Iteration::Endless
                        }
                        _ => self.iteration(lp.iter.as_ref(), lp.target.as_ref()),
                    },
                    iterates_query_rows: false,
                    rows: None,
                    element: None,
                    conditions: &[],
                });
                self.scopes.push(Scope::Loop(index));
                if let Some(test) = &lp.test {
                    self.expr(test, flags);
                }
                self.block(&lp.body);
                self.scopes.pop();
                self.block(&lp.orelse);
            }
            StmtKind::With {
                items,
                body,
                is_async,
            } => {
                for item in items {
                    // `async with client.get(url) as resp:` awaits the call on entry.
                    match (&item.context.kind, is_async) {
                        (ExprKind::Call(call), true) => self.call(&item.context, call, flags, true),
                        _ => self.expr(&item.context, flags),
                    }
                    let Some(target) = item.target.as_ref().and_then(Expr::dotted) else {
                        continue;
                    };
                    match self.kind_of(&item.context) {
                        Some(kind) => self.env.insert(target.clone(), kind),
                        None => self.env.remove(&target),
                    };
                    self.facts.bindings.push((target.clone(), stmt.span));
                    self.facts.managed.insert(target);
                }
                self.scopes.push(Scope::With(stmt));
                self.block(body);
                self.scopes.pop();
            }
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            } => {
                self.scoped(Scope::Try(stmt, TryPart::Body), body);
                for (i, handler) in handlers.iter().enumerate() {
                    self.scoped(Scope::Try(stmt, TryPart::Handler(i)), &handler.body);
                }
                self.scoped(Scope::Try(stmt, TryPart::Else), orelse);
                self.scoped(Scope::Try(stmt, TryPart::Finally), finally);
            }
            StmtKind::Defer { call } => self.expr(call, flags),
            StmtKind::Switch { subject, cases } => {
                self.expr(subject, flags);
                for case in cases {
                    self.scoped(Scope::Else(subject), case);
                }
            }
            StmtKind::Delete { targets } => targets.iter().for_each(|t| self.expr(t, flags)),
            StmtKind::FunctionDef { id } => {
                // A closure that uses a resource takes over its lifetime.
                let inner = self.module.function(*id);
                weir_ir::visit::walk_block_exprs(&inner.body, &mut |e| {
                    if let Some(name) = e.as_name() {
                        self.facts.escapes.insert(name.to_string());
                    }
                });
            }
            StmtKind::ClassDef { .. } | StmtKind::Break | StmtKind::Continue => {}
        }
    }

    /// Registers a loop; its target is bound at the loop header, and the
    /// items of a Django QuerySet (or of any loop, in a Django project) are
    /// taken as model instances.
    fn push_loop(&mut self, mut lp: LoopRef<'ir>) -> usize {
        // What the loop goes over, inside `enumerate(…)`, `reversed(…)`,
        // `sorted(…)`: the same items.
        let items = lp.iter.map(loops::wrapped_items);
        // `for severity in default_severities` over a module-level literal
        // list, here or imported from another project module.
        if lp.iteration == loops::Iteration::PerItem
            && let Some(name) = items.and_then(Expr::as_name)
            && !self.assigned.contains_key(name)
            && !self.facts.params.contains(name)
            && self.project.index.is_literal_constant(self.module, name)
        {
            lp.iteration = loops::Iteration::Literal;
        }
        // `for reason in ResolutionReason`: the members of an enum class;
        // `for role, label in MailTemplateRoles.choices`: the pairs of a
        // Django `TextChoices`/`IntegerChoices` class (also its `values`,
        // `labels` and `names`), one per member written in the code.
        if lp.iteration == loops::Iteration::PerItem
            && let Some(iter) = items
                .map(|i| match &i.kind {
                    ExprKind::Attribute { value, attr }
                        if matches!(attr.as_str(), "choices" | "values" | "labels" | "names") =>
                    {
                        value
                    }
                    _ => i,
                })
                .filter(|i| i.as_name().is_some_and(|n| !self.assigned.contains_key(n)))
            && let Some(class) = self
                .module
                .resolve_expr(iter)
                .or_else(|| iter.dotted().map(|d| format!("{}.{d}", self.module.name)))
                .and_then(|q| self.project.index.canonical_class(&q))
            && self.project.index.is_enum_class(&class)
        {
            lp.iteration = loops::Iteration::Literal;
        }
        // `for db in get_db():` over a project generator that yields one session.
        if lp.iteration == loops::Iteration::PerItem
            && let Some(call) = lp.iter.map(Expr::unawaited).and_then(Expr::as_call)
            && call
                .callee
                .dotted_last()
                .is_some_and(|name| self.project.index.may_yield_once(name))
            && let Some(target) = self.project_target(call)
            && let function = self.project.index.function(target)
            && function.is_generator
            && loops::yields_once(&function.body)
        {
            lp.iteration = loops::Iteration::Once;
        }
        // `async for checking_id in source.paid_invoices_stream():` over a
        // project generator that polls (yields in a `while` loop that
        // sleeps): events as they come, a listener's endless loop.
        if lp.iteration == loops::Iteration::PerItem
            && let Some(call) = lp.iter.map(Expr::unawaited).and_then(Expr::as_call)
            && let Some(target) = self.project_target(call)
            && let function = self.project.index.function(target)
            && function.is_generator
            && loops::polls(&function.body)
        {
            lp.iteration = loops::Iteration::Endless;
        }
        // `pending = [root_id]; for node in pending: pending.extend(children)`:
        // a work list the loop grows as it goes, one iteration per item
        // found, however few it starts with.
        if lp.iteration == loops::Iteration::Literal
            && let Some(name) = lp.iter.and_then(Expr::as_name)
            && grows(lp.body, name)
        {
            lp.iteration = loops::Iteration::PerItem;
        }
        lp.iterates_query_rows = lp.iter.is_some_and(|iter| self.is_query_result(iter));
        // The loop rebinds its target: whatever a name held before
        // (`variant = Variant.objects.get_or_create(…)[0]`, no prefetch) says
        // nothing of the rows it now walks (`for variant in
        // qs.prefetch_related("defining_units")`).
        if let Some(target) = lp.target {
            let mut names = Vec::new();
            bound_names(target, &mut names);
            for name in names {
                self.fetched.remove(name);
                self.row_eager.remove(name);
                self.facts.entities.remove(name);
                self.instances.remove(name);
            }
        }
        // Rows a project function returns first (`for o in await
        // repo.recent()`): its own query says what they are, where the
        // names in the call's arguments would not. Then a relation of a
        // known row: following `order` in `order.lines.all()` to its query
        // would give the rows `Order`.
        let returned = lp.iter.and_then(|iter| self.rows_returned_by(iter, 0));
        if returned.is_some() {
            lp.iterates_query_rows = true;
        }
        lp.rows = returned.or_else(|| {
            let iter = lp.iter?;
            self.related_rows(iter).or_else(|| {
                // `challenge.files`, `user.get_solves()` on one row whose
                // relation is not known: not the rows of that row's query.
                if self.on_single_row(iter) {
                    return None;
                }
                // A project function not known to return rows
                // (`match_tags(doc, user)`): what it returns is its own
                // business, not the rows of the query an argument came from.
                // Its receiver still says (`Order.objects.open()`, a custom
                // manager method). A generator of the project's most often
                // hands on what it is given (`yield from queryset` behind a
                // progress callback): its arguments' rows stay.
                // Also through a local bound to such a call
                // (`matched = match_tags_by_name(names, user)`).
                let bound = super::returns::collected(iter)
                    .as_name()
                    .and_then(|n| self.assigned.get(n).copied())
                    .unwrap_or(iter);
                let source = match super::returns::collected(bound).as_call() {
                    Some(call)
                        if self
                            .project_target(call)
                            .is_some_and(|f| !self.project.index.function(f).is_generator) =>
                    {
                        &call.callee
                    }
                    _ => iter,
                };
                super::rows::refined_row_source(
                    source,
                    &self.assigned,
                    Some(&self.refined),
                    self.module,
                    &self.project.models,
                )
            })
        });
        // `_pages = Pages.query.all(); for p in _pages:`: a name that reads
        // as chunks ("pages", "batches") bound to the rows of one query of
        // a model holds rows, one item each (a CMS page, an import batch),
        // not chunks of a collection.
        if lp.iteration == loops::Iteration::Batch
            && lp.rows.is_some()
            && let Some(name) = lp.iter.and_then(Expr::as_name)
            && let Some(value) = self.assigned.get(name)
            && self.facts.calls.iter().any(|c| {
                matches!(c.effect, Some(Effect::Query(_))) && c.expr.span == value.unawaited().span
            })
        {
            lp.iteration = loops::Iteration::PerItem;
        }
        if let (Some(rows), Some(name)) = (&lp.rows, lp.target.and_then(Expr::as_name)) {
            self.facts
                .entities
                .insert(name.to_string(), rows.model.clone());
            self.row_eager.insert(name.to_string(), rows.eager.clone());
            // Each item is an instance of the project's model: its methods
            // (`order.line_count()`) run once per row, queries and all. Not
            // in a migration, whose rows are historical models without the
            // model's custom methods.
            if self.facts.context != crate::facts::ExecContext::Migration
                && let Some(class) = self.project.index.canonical_class(&rows.model)
            {
                self.instances.insert(name.to_string(), class);
            }
        }
        if let Some(target) = lp.target {
            let names: Vec<String> = match &target.kind {
                ExprKind::Collection { elements, .. } => {
                    elements.iter().filter_map(Expr::dotted).collect()
                }
                _ => target.dotted().into_iter().collect(),
            };
            for name in &names {
                self.facts.bindings.push((name.clone(), lp.span));
                self.env.remove(name);
                self.facts.strings.remove(name);
            }
            if let (Some(name), Some(iter)) = (target.as_name(), lp.iter) {
                // `qs.iterator()` and `qs.aiterator()` stream the rows of `qs`.
                let streamed = iter
                    .as_call()
                    .filter(|c| matches!(c.method_name(), Some("iterator" | "aiterator")))
                    .and_then(weir_ir::Call::receiver)
                    .unwrap_or(iter);
                let iter_kind = self.kind_of(streamed);
                let is_queryset = iter_kind.is_some_and(|t| t.kind == ObjKind::QuerySet);
                let django = self.project.knowledge.is_active("django");
                // Forms, formsets and admin panels also have `save()`; they are not rows.
                let names_a_form = [Some(name.to_string()), iter.dotted()]
                    .iter()
                    .flatten()
                    .any(|n| {
                        NOT_MODELS
                            .iter()
                            .any(|w| n.to_ascii_lowercase().contains(w))
                    });
                // Rows of a queryset, or of a related manager (`order.lines.all()`).
                let related_manager = iter.as_call().is_some_and(|c| {
                    matches!(
                        c.method_name(),
                        Some("all" | "filter" | "exclude" | "order_by")
                    ) && c
                        .receiver()
                        .is_some_and(|r| matches!(r.kind, ExprKind::Attribute { .. }))
                });
                // Whole rows of a Django model a project function returned
                // (`jobs = ExportJob.jobs_requiring_cleanup(now)`, a
                // static method returning `ExportJob.objects.filter(…)`),
                // whose `save()`/`delete()` are Django's own: a model's
                // own methods are followed as project code instead.
                let returned_models = lp.rows.as_ref().is_some_and(|rows| {
                    rows.from_callee
                        && !rows.narrowed
                        && self.project.models.get(&rows.model).is_some_and(|m| {
                            m.orm == crate::project::Orm::Django
                                && !self.project.writes_run_model_logic(&m.class, "save")
                                && !self.project.writes_run_model_logic(&m.class, "delete")
                        })
                });
                if is_queryset
                    || (django && iter_kind.is_none() && related_manager && !names_a_form)
                    || (django && iter_kind.is_none() && returned_models && !names_a_form)
                {
                    self.env
                        .insert(name.to_string(), Typed::hinted(ObjKind::DjangoModel));
                }
            }
        }
        self.facts.loops.push(lp);
        self.facts.loops.len() - 1
    }

    /// `session.scalars(q).all()`, or a local assigned from one.
    fn is_query_result(&self, expr: &Expr) -> bool {
        let source = expr
            .as_name()
            .and_then(|n| self.assigned.get(n).copied())
            .map_or(expr.span, |v| v.span);
        self.facts
            .calls
            .iter()
            .any(|c| matches!(c.effect, Some(Effect::Query(_))) && source.contains(&c.site.span))
    }

    /// How many loops (and comprehension clauses) enclose the code walked.
    fn loop_depth(&self) -> usize {
        self.scopes
            .iter()
            .filter(|s| matches!(s, Scope::Loop(_)))
            .count()
    }

    fn scoped(&mut self, scope: Scope<'ir>, body: &'ir [Stmt]) {
        self.scopes.push(scope);
        self.block(body);
        self.scopes.pop();
    }

    fn assign(
        &mut self,
        stmt: &'ir Stmt,
        targets: &'ir [Expr],
        value: Option<&'ir Expr>,
        annotation: Option<&'ir Expr>,
        op: Option<Operator>,
    ) {
        let flags = Flags::default();
        let Some(value) = value else { return };
        self.expr(value, flags);
        for target in targets {
            if !matches!(target.kind, ExprKind::Name { .. }) {
                self.expr(target, flags);
                // Stored on an object or in a container: no longer ours to close.
                self.mark_escapes(value);
            }
        }
        if let Some(op) = op {
            // `keys += [r.key for r in rows]`: grown by what the value holds.
            if let Some(var) = targets.first().and_then(Expr::as_name) {
                self.literal_names.remove(var);
                self.appended_lists.remove(var);
            }
            // `found += Listing.objects.filter(…)`: a list grown by a lazy
            // query iterates it (a QuerySet has no `+`).
            if op == Operator::Add {
                self.evaluate_if_lazy(value, flags, false, ITERATION);
            }
            if let (Some(var), Operator::Add) = (targets.first().and_then(Expr::dotted), op) {
                let bound_at = self.facts.binding_before(&var, stmt.span.start);
                self.facts.accumulations.push(Accumulation {
                    var,
                    value,
                    site: self.site(value, flags, false),
                    bound_at,
                });
            }
            // `qs = Model.objects.none()` then `qs |= Model.objects.filter(…)`:
            // the union holds the rows of what is OR-ed in.
            if op == Operator::BitOr
                && let Some(var) = targets.first().and_then(Expr::as_name)
                && self.assigned.get(var).is_some_and(|v| {
                    v.as_call()
                        .is_some_and(|c| c.method_name() == Some("none") && c.args.is_empty())
                })
            {
                self.assigned.insert(var.to_string(), value);
            }
            return;
        }
        let kind = annotation
            .and_then(|a| {
                self.project
                    .types
                    .annotation_kind(self.module, &self.project.knowledge, a)
            })
            .map(Typed::certain)
            .or_else(|| self.kind_of(value));
        if value.as_name().is_some() {
            // `other = conn`: an alias now shares the lifetime.
            self.mark_escapes(value);
        }
        for target in targets {
            if let ExprKind::Subscript {
                value: container,
                index,
            } = &target.kind
                && let Some(name) = container.as_name()
                && self.keyed_dicts.contains(name)
            {
                if index.is_constant() {
                    self.literal_names.insert(name.to_string());
                } else {
                    // `by_id[row.id] = row`: keyed by data, as many entries as rows.
                    self.keyed_dicts.remove(name);
                    self.literal_names.remove(name);
                }
            }
            let Some(var) = target.dotted() else {
                self.declare_destructured(target);
                // `plan, created = Plan.objects.get_or_create(…)`: the first
                // of the pair is the model's instance.
                if let ExprKind::Collection { elements, .. } = &target.kind
                    && let [first, _] = elements.as_slice()
                    && let Some(name) = first.as_name()
                    && let Some(class) = self.single_instance_class(value, DJANGO_PAIR_OF_INSTANCE)
                {
                    self.instances.insert(name.to_string(), class);
                }
                continue;
            };
            if value.chain_root() == Some(var.as_str()) {
                if let Some(before) = self
                    .assigned
                    .get(&var)
                    .copied()
                    .filter(|b| b.chain_root() != Some(var.as_str()))
                {
                    self.refined.insert(var.clone(), before);
                }
            } else {
                self.refined.remove(&var);
            }
            self.assigned.insert(var.clone(), value);
            match self.instance_class(value) {
                Some(class) => self.instances.insert(var.clone(), class),
                None => self.instances.remove(&var),
            };
            let is_display = matches!(&value.kind, ExprKind::Collection { elements, .. } if !elements.is_empty())
                || matches!(&value.kind, ExprKind::Dict { entries } if !entries.is_empty());
            if is_display {
                self.literal_names.insert(var.clone());
            } else {
                self.literal_names.remove(&var);
            }
            if matches!(&value.kind, ExprKind::Dict { entries } if entries.is_empty()) {
                self.keyed_dicts.insert(var.clone());
            } else {
                self.keyed_dicts.remove(&var);
            }
            if matches!(&value.kind, ExprKind::Collection { kind: weir_ir::expr::CollectionKind::List, elements } if elements.is_empty())
            {
                let depth = self.loop_depth();
                self.appended_lists.insert(var.clone(), depth);
            } else {
                self.appended_lists.remove(&var);
            }
            match kind {
                Some(kind) => {
                    self.env.insert(var.clone(), kind);
                }
                // `lock = None` once handed off or closed: a later
                // `if lock: lock.close()` still means the object held before.
                None if matches!(value.kind, ExprKind::Literal(weir_ir::Literal::Null)) => {}
                None => {
                    self.env.remove(&var);
                }
            }
            let annotated_str = annotation
                .and_then(Expr::dotted)
                .is_some_and(|a| a == "str");
            if is_collection_expr(value) && !self.facts.mixed_collections.contains(&var) {
                self.facts.collections.insert(var.clone());
            } else if self.facts.collections.remove(&var) || !is_collection_expr(value) {
                self.facts.mixed_collections.insert(var.clone());
            }
            if annotated_str || is_string_expr(value, &self.facts.strings) {
                self.facts.strings.insert(var.clone(), stmt.span.line);
            } else if let Some(add) = self_concatenation(&var, value) {
                let bound_at = self.facts.binding_before(&var, stmt.span.start);
                self.facts.accumulations.push(Accumulation {
                    var: var.clone(),
                    value: add,
                    site: self.site(value, flags, false),
                    bound_at,
                });
            } else {
                self.facts.strings.remove(&var);
            }
            self.facts.bindings.push((var.clone(), stmt.span));
            if kind.is_some_and(|k| k.kind.is_lazy_query()) {
                self.facts.lazy_query_vars.insert(var.clone());
            } else {
                self.facts.lazy_query_vars.remove(&var);
            }
            if let Some(rows) = self.rows_returned_by(value, 0).or_else(|| {
                (!self.on_single_row(value))
                    .then(|| {
                        super::rows::refined_row_source(
                            value,
                            &self.assigned,
                            Some(&self.refined),
                            self.module,
                            &self.project.models,
                        )
                    })
                    .flatten()
            }) {
                // `last = tasks.order_by("finished_at").last()` on a queryset
                // `tasks` judged on its own: its options are not this value's.
                let derived = value
                    .chain_root()
                    .is_some_and(|root| self.facts.eager_rows.iter().any(|(v, _, _)| v == root));
                if !rows.options.is_empty()
                    && !rows.narrowed
                    && !derived
                    && super::rows::is_query_chain(value)
                {
                    self.facts
                        .eager_rows
                        .push((var.clone(), stmt.span, rows.clone()));
                }
                self.fetched.insert(var.clone(), rows.eager.clone());
                if !self.instances.contains_key(&var)
                    && let Some(class) = self.single_instance_class(value, DJANGO_ONE_INSTANCE)
                {
                    self.instances.insert(var.clone(), class);
                }
                self.facts.entities.insert(var.clone(), rows.model);
            } else {
                self.fetched.remove(&var);
                self.facts.entities.remove(&var);
            }
            let acquired = kind
                .filter(|k| k.kind.is_resource())
                .filter(|_| is_acquiring_call(value) && !self.borrowed_from_session(value));
            if let (Some(kind), ExprKind::Name { .. }) = (acquired, &target.kind) {
                let label = value
                    .unawaited()
                    .as_call()
                    .and_then(|c| c.callee.dotted())
                    .unwrap_or_default();
                self.facts.acquisitions.push(Acquisition {
                    var,
                    kind: kind.kind,
                    site: self.site(value, flags, false),
                    label,
                });
            }
        }
    }

    /// `session.connection()` hands out the connection the session holds for
    /// its transaction; the session releases it on commit or close, so the
    /// caller never owns it (SQLAlchemy `Session.connection`). Likewise
    /// `object_session(obj)`: the session `obj` is attached to.
    fn borrowed_from_session(&self, value: &Expr) -> bool {
        let Some(call) = value.unawaited().as_call() else {
            return false;
        };
        // `object_session(obj)`, `Session.object_session(obj)`,
        // `async_object_session(obj)`: the session `obj` already belongs to,
        // owned by whoever opened it.
        if is_object_session(call) {
            return true;
        }
        // A project helper that hands back a session it does not open
        // (`def orm_session_from_obj(obj) -> Session: return
        // object_session(obj)`): the caller borrows it, like the helper did.
        // Nor does a project `@contextmanager` that yields a session
        // (`ctx = create_session()` … `with ctx as session:`): the call
        // makes the context manager, whose exit closes what it yields.
        if self.project_target(call).is_some_and(|t| {
            let function = self.project.index.function(t);
            lends_borrowed(function) || super::types::is_context_manager(function)
        }) {
            return true;
        }
        let ExprKind::Attribute {
            value: receiver, ..
        } = &call.callee.kind
        else {
            return false;
        };
        self.kind_of(receiver).is_some_and(|t| t.kind.is_session())
    }

    fn declare_destructured(&mut self, target: &Expr) {
        if let ExprKind::Collection { elements, .. } = &target.kind {
            for element in elements {
                if let Some(name) = element.dotted() {
                    self.env.remove(&name);
                    self.facts.strings.remove(&name);
                    self.facts.bindings.push((name, element.span));
                }
            }
        }
    }

    /// Names that leave the function through `value`. A name used only as
    /// a receiver (`session.scalar(q)`) does not leave; its result does.
    fn mark_escapes(&mut self, value: &Expr) {
        escaping_names(value, &mut self.facts.escapes);
    }

    fn expr(&mut self, expr: &'ir Expr, flags: Flags) {
        match &expr.kind {
            ExprKind::Await { value } => match &value.kind {
                ExprKind::Call(call) => self.call(value, call, flags, true),
                _ => self.expr(value, flags),
            },
            ExprKind::Call(call) => self.call(expr, call, flags, false),
            ExprKind::Lambda { body, .. } => self.expr(
                body,
                Flags {
                    in_lambda: true,
                    ..flags
                },
            ),
            ExprKind::Yield {
                value: Some(value),
                delegate,
            } => {
                self.expr(value, flags);
                // `yield from queryset` iterates it.
                if *delegate {
                    self.evaluate_if_lazy(value, flags, false, ITERATION);
                }
                self.mark_escapes(value);
            }
            ExprKind::Comprehension(comp) => {
                let weir_ir::Comprehension {
                    element, clauses, ..
                } = &**comp;
                let depth = self.scopes.len();
                for clause in clauses {
                    self.expr(&clause.iter, flags);
                    self.evaluate_if_lazy(&clause.iter, flags, clause.is_async, ITERATION);
                    let index = self.push_loop(LoopRef {
                        kind: LoopKind::ForEach,
                        iter: Some(&clause.iter),
                        target: Some(&clause.target),
                        body: &[],
                        span: expr.span,
                        is_comprehension: true,
                        iteration: self.iteration(Some(&clause.iter), Some(&clause.target)),
                        iterates_query_rows: false,
                        rows: None,
                        element: Some(element),
                        conditions: &clause.conditions,
                    });
                    self.scopes.push(Scope::Loop(index));
                    for condition in &clause.conditions {
                        self.expr(condition, flags);
                    }
                }
                self.expr(element, flags);
                self.scopes.truncate(depth);
            }
            ExprKind::Compare(cmp) => {
                weir_ir::visit::child_exprs(expr, &mut |child| self.expr(child, flags));
                // `key in queryset` iterates it: Python falls back to
                // `__iter__` for a class without `__contains__`, as Django's
                // QuerySet and SQLAlchemy's legacy Query are.
                for (op, right) in cmp.ops.iter().zip(&cmp.comparators) {
                    if matches!(op, weir_ir::Operator::In | weir_ir::Operator::NotIn) {
                        self.evaluate_if_lazy(
                            right,
                            flags,
                            false,
                            "membership test on a lazy query",
                        );
                    }
                }
            }
            _ => weir_ir::visit::child_exprs(expr, &mut |child| self.expr(child, flags)),
        }
    }

    fn call(&mut self, expr: &'ir Expr, call: &'ir Call, flags: Flags, awaited: bool) {
        let (mut info, known_target) = self.classify_and_target(call);
        // `os.kill(os.getpid(), sig); time.sleep(10)`: the sleep waits for
        // the signal to end the process (a crash simulation, a forced
        // exit), it holds up no work the loop still has to do.
        if self.ending_process && info.effect == Some(Effect::Sleep) {
            info.effect = None;
        }
        if info.effect == Some(Effect::Query(QueryOp::Update)) && self.saves_new_row(call, &info) {
            info.effect = Some(Effect::Query(QueryOp::Insert));
        }
        let offloads = info.effect == Some(Effect::Offload);
        // Receiver chain first (it runs first), then the arguments.
        self.expr(&call.callee, flags);
        let arg_flags = Flags {
            offloaded: flags.offloaded || offloads,
            ..flags
        };
        for arg in &call.args {
            self.expr(&arg.value, arg_flags);
        }
        self.note_argument_escapes(call, info.effect);
        // `collect_more(keys)`: a callee may grow the list by data.
        for arg in &call.args {
            if let Some(name) = arg.value.as_name()
                && self.appended_lists.remove(name).is_some()
            {
                self.literal_names.remove(name);
            }
        }
        // A list filled at run time is no longer a fixed literal.
        if matches!(
            call.method_name(),
            Some("append" | "extend" | "insert" | "add" | "update" | "setdefault")
        ) && let Some(name) = call.receiver().and_then(Expr::as_name)
        {
            // `lane_filters.append(f)` outside any loop the list was not
            // bound in: one more item, written in the code.
            let one_item = call.method_name() == Some("append")
                && call.args.len() == 1
                && call.args[0].spread == weir_ir::ArgSpread::None
                && call.args[0].name.is_none()
                && self
                    .appended_lists
                    .get(name)
                    .is_some_and(|&depth| depth == self.loop_depth());
            if one_item {
                self.literal_names.insert(name.to_string());
            } else {
                self.appended_lists.remove(name);
                if call.method_name() != Some("setdefault") || self.keyed_dicts.contains(name) {
                    self.literal_names.remove(name);
                }
            }
            self.keyed_dicts.remove(name);
        }
        // `list(qs)`, `len(qs)`; `rows.extend(qs)` iterates its argument
        // into the list (`extend` is no QuerySet method); so does a
        // string's `", ".join(qs.values_list("name", flat=True))`.
        if (call
            .qualified
            .as_deref()
            .is_some_and(|q| EVALUATING_BUILTINS.contains(&q))
            || (call.method_name() == Some("extend") && call.args.len() == 1)
            || (call.method_name() == Some("join")
                && call.args.len() == 1
                && call.receiver().and_then(Expr::as_str).is_some()))
            && let Some(arg) = call.positional(0)
        {
            self.evaluate_if_lazy(arg, flags, false, ITERATION);
        }
        // `ProjectSerializer(projects, many=True)`: DRF's list serializer
        // iterates the objects it is given to serialize them.
        if let Some(objects) = serialized_list(call) {
            self.evaluate_if_lazy(objects, flags, false, "serialization of a lazy query");
        }
        let target = match known_target {
            TargetLookup::Done(target) => target,
            TargetLookup::NotDone => self.project_target(call),
        };
        if target.is_none()
            && let Some(job) = queued_job(call)
                .and_then(|job| match job.as_str() {
                    Some(path) => Some(path.to_string()),
                    None => self.module.resolve_expr(job),
                })
                .and_then(|q| self.project.index.resolve_function(&q))
        {
            self.facts.queued_jobs.push(job);
        }
        if info.effect.is_none() && info.returns.is_none() && target.is_none() {
            return;
        }
        let op = match info.effect {
            Some(Effect::Query(QueryOp::FromArgument)) => {
                Some(self.statement_op(call).unwrap_or(QueryOp::Select))
            }
            Some(Effect::Query(op) | Effect::Stage(op)) => Some(op),
            _ => None,
        };
        let receiver = match info.effect {
            // `pool.release(conn)` releases its argument.
            Some(Effect::Close)
                if info
                    .receiver_kind
                    .is_some_and(|t| t.kind == ObjKind::AsyncPool) =>
            {
                call.positional(0).and_then(Expr::dotted)
            }
            _ => call.receiver().and_then(Expr::dotted),
        };
        let statement = statement_arg(call).map(|s| match s.as_name() {
            Some(name) => self.assigned.get(name).copied().unwrap_or(s),
            None => s,
        });
        let from_argument = info.effect == Some(Effect::Query(QueryOp::FromArgument));
        let statement_base = statement_arg(call)
            .and_then(Expr::as_name)
            .filter(|name| from_argument && statement.and_then(Expr::chain_root) == Some(*name))
            .and_then(|name| self.refined.get(name).copied());
        self.facts.calls.push(CallFact {
            site: self.site(expr, flags, awaited),
            expr,
            call: Some(call),
            statement: statement.filter(|_| from_argument),
            statement_base,
            first_arg: call.positional(0).map(|a| match a.as_name() {
                Some(name) => self.assigned.get(name).copied().unwrap_or(a),
                None => a,
            }),
            effect: info.effect,
            op,
            receiver,
            receiver_kind: info.receiver_kind,
            returns: info.returns,
            target,
            model: matches!(info.effect, Some(Effect::Query(_)))
                .then(|| {
                    super::rows::row_source(expr, &self.assigned, self.module, &self.project.models)
                })
                .flatten()
                .map(|r| r.model),
            // Only calls that become facts pay for their label.
            label: call
                .qualified
                .clone()
                .or_else(|| call.callee.dotted())
                .unwrap_or_else(|| "call".into()),
        });
    }

    /// Django `obj.save()` that INSERTs: `save(force_insert=True)`, or a
    /// save after the code cleared the primary key (`obj.pk = None`, the
    /// documented way to copy a model instance) since `obj` was last bound.
    fn saves_new_row(&self, call: &Call, info: &CallInfo) -> bool {
        if !matches!(call.method_name(), Some("save" | "asave"))
            || info.receiver_kind.map(|t| t.kind) != Some(ObjKind::DjangoModel)
        {
            return false;
        }
        if call
            .keyword("force_insert")
            .is_some_and(|v| matches!(v.kind, ExprKind::Literal(weir_ir::Literal::Bool(true))))
        {
            return true;
        }
        let Some(receiver) = call.receiver().and_then(Expr::dotted) else {
            return false;
        };
        let bound = self.facts.binding_before(&receiver, call.callee.span.start);
        ["pk", "id"].iter().any(|key| {
            self.assigned
                .get(&format!("{receiver}.{key}"))
                .is_some_and(|value| {
                    matches!(value.kind, ExprKind::Literal(weir_ir::Literal::Null))
                        && value.span.start < call.callee.span.start
                        && bound.is_none_or(|b| value.span.start > b.start)
                })
        })
    }

    /// Values passed to a call are the callee's business from then on,
    /// except for the calls that only use them.
    fn note_argument_escapes(&mut self, call: &Call, effect: Option<Effect>) {
        if matches!(effect, Some(Effect::Close | Effect::Offload)) {
            return;
        }
        for arg in &call.args {
            if arg.spread == ArgSpread::None
                && let Some(name) = arg.value.as_name()
            {
                self.facts.escapes.insert(name.to_string());
            }
        }
    }

    /// Iterating a lazy query (Django `QuerySet`, legacy Query) runs it.
    /// `awaited`: an `async for` over the query (Django's async iteration);
    /// `label`: how the evaluation reads in a finding.
    fn evaluate_if_lazy(
        &mut self,
        iter: &'ir Expr,
        flags: Flags,
        awaited: bool,
        label: &'static str,
    ) {
        let Some(kind) = self.kind_of(iter).filter(|t| t.kind.is_lazy_query()) else {
            return;
        };
        let mut site = self.site(iter, flags, awaited);
        // A Django QuerySet held in a local caches its rows on the first
        // evaluation: iterating it again in a later loop reads the cache. It
        // runs once, in the scope where it was bound.
        if kind.kind == ObjKind::QuerySet
            && let Some(name) = iter.as_name()
            && let Some(bound) = self.facts.binding_before(name, iter.span.start)
        {
            // Evaluated already since that binding (`for a in matches` in a
            // comprehension, then `found.extend(matches)`; iteration, `list()`,
            // `len()`, `in` and a list serializer all fill the cache):
            // whichever of the two runs first queries, the other reads the
            // cache. The first stands for both.
            if self.facts.calls.iter().any(|c| {
                c.call.is_none()
                    && c.receiver_kind.is_some_and(|k| k.kind == ObjKind::QuerySet)
                    && !c.site.in_lambda
                    && c.expr.as_name() == Some(name)
                    && c.expr.span.start > bound.start
                    && c.expr.span.start < iter.span.start
            }) {
                return;
            }
            let loops = &self.facts.loops;
            site.scopes.retain(|s| match s {
                Scope::Loop(i) => loops[*i].span.start <= bound.start,
                _ => true,
            });
        }
        self.facts.calls.push(CallFact {
            site,
            expr: iter,
            call: None,
            statement: None,
            statement_base: None,
            first_arg: None,
            effect: Some(Effect::Query(QueryOp::Select)),
            op: Some(QueryOp::Select),
            receiver: iter.dotted(),
            receiver_kind: Some(kind),
            returns: None,
            target: None,
            model: None,
            label: label.into(),
        });
    }

    fn statement_op(&self, call: &'ir Call) -> Option<QueryOp> {
        let statement = statement_arg(call)?;
        let module = self.module;
        let (assigned, refined, params) = (&self.assigned, &self.refined, &self.facts.params);
        sql::statement_op(
            statement,
            &|e| module.resolve_expr(e),
            // `stmt = insert(M).values(…); stmt = stmt.returning(M)`: the
            // operation is the one `stmt` held before it was refined.
            &|name| match assigned.get(name).copied() {
                Some(value) if value.chain_root() == Some(name) => refined.get(name).copied(),
                Some(value) => Some(value),
                // `UPSERT_SQL = "INSERT …"` at the top of the module.
                None if !params.contains(name) => module_constant(module, name),
                None => None,
            },
            0,
        )
    }

    fn classify(&self, call: &Call) -> CallInfo {
        self.classify_and_target(call).0
    }

    /// `classify`, and the project function the call reaches when finding
    /// the class needed it (a declared return type), so that the walker does
    /// not resolve the same call twice.
    fn classify_and_target(&self, call: &Call) -> (CallInfo, TargetLookup) {
        // A bound method or an aliased function held in a local:
        // `read = path.read_text; read()`, `nap = time.sleep; nap(1)`.
        if let Some(bound) = call
            .callee
            .as_name()
            .and_then(|n| self.assigned.get(n).copied())
            && matches!(bound.kind, ExprKind::Attribute { .. })
            && !self
                .following_aliases
                .borrow()
                .iter()
                .any(|b| std::ptr::eq(*b, bound))
        {
            self.following_aliases.borrow_mut().push(bound);
            let qualified = self.module.resolve_expr(bound);
            let info = self.classify_callee(bound, qualified.as_deref());
            self.following_aliases.borrow_mut().pop();
            if info.effect.is_some() || info.returns.is_some() {
                return (info, TargetLookup::NotDone);
            }
        }
        let info = self.classify_callee_with(&call.callee, call.qualified.as_deref(), Some(call));
        if info.effect.is_some() || info.returns.is_some() {
            return (info, TargetLookup::NotDone);
        }
        // A project function that declares what it returns:
        // `async def get_client() -> aiohttp.ClientSession`.
        if !self.project.types.has_declared_returns() {
            return (info, TargetLookup::NotDone);
        }
        let target = self.project_target(call);
        match target.and_then(|t| self.declared_return(t)) {
            Some(kind) => (
                CallInfo {
                    effect: None,
                    returns: Some(kind),
                    receiver_kind: None,
                },
                TargetLookup::Done(target),
            ),
            None => (info, TargetLookup::Done(target)),
        }
    }

    /// How a loop iterates ([`loops::classify`]), and a loop over the
    /// project's configured databases (`django.db.connections.all()`) or
    /// over a class attribute written as a display in the code
    /// ([`super::class_constants`]) as a fixed one: the import that names
    /// the connections is needed to tell them apart from any other
    /// `connections`.
    fn iteration(&self, iter: Option<&'ir Expr>, target: Option<&'ir Expr>) -> loops::Iteration {
        let iteration = loops::classify(iter, target, &self.literal_names);
        // `if len(realms) == 1: for key in realms:` runs once.
        if iteration == loops::Iteration::PerItem
            && let Some(name) = iter
                .map(|i| loops::dict_view_of(i).unwrap_or(i))
                .and_then(Expr::as_name)
            && self
                .scopes
                .iter()
                .any(|s| matches!(s, Scope::If(test, _) if loops::tests_single_item(test, name)))
        {
            return loops::Iteration::Once;
        }
        if iteration == loops::Iteration::PerItem
            && iter.is_some_and(|i| {
                self.project.class_constants.chunks(i.unawaited())
                    || loops::is_grouper(i, |name| self.assigned.get(name).copied())
            })
        {
            return loops::Iteration::Batch;
        }
        if iteration == loops::Iteration::PerItem
            && let Some(iter) = iter
        {
            let iterable = iter.as_call().map_or(iter, |c| &c.callee);
            if self
                .module
                .resolve_expr(iterable)
                .is_some_and(|q| loops::CONFIGURED_DATABASES.contains(&q.as_str()))
                || self
                    .project
                    .class_constants
                    .iterated(iter, |receiver| self.is_class_object(receiver))
            {
                return loops::Iteration::Literal;
            }
        }
        // `for pair in settings.DEFAULT_CONTENT_TYPES`, `for code in
        // constants.LANGUAGES`: an upper-case attribute of an imported module
        // or object (Django's `settings`) is a constant of the configuration,
        // as fixed as a constant of this module. (`request.POST` is no import.)
        if iteration == loops::Iteration::PerItem
            && let Some(dotted) = iter.and_then(|i| loops::dict_view_of(i).unwrap_or(i).dotted())
            && let Some((head, last)) = dotted.split_once('.')
            && !last.contains('.')
            && last.len() > 1
            && last
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && last.chars().any(|c| c.is_ascii_uppercase())
            && !self.facts.params.contains(head)
            && !self.assigned.contains_key(head)
            && self.module.resolve(head).is_some()
        {
            return loops::Iteration::Literal;
        }
        // `for item in [x for x in self.personal_items if x in ids]`: a
        // comprehension over a fixed collection yields at most its items.
        if iteration == loops::Iteration::PerItem
            && let Some(ExprKind::Comprehension(comp)) = iter.map(|i| &i.kind)
            && let [clause] = comp.clauses.as_slice()
            && self.iteration(Some(&clause.iter), Some(&clause.target)) == loops::Iteration::Literal
        {
            return loops::Iteration::Literal;
        }
        iteration
    }

    /// `receiver` evaluates to a class: `type(self)`, `self.__class__`, a
    /// local bound to one of them (`model = type(self)`), or a name that
    /// resolves to a class of the project (`JobTemplate`).
    fn is_class_object(&self, receiver: &Expr) -> bool {
        let of_self = |e: &Expr| match &e.kind {
            ExprKind::Call(call) => {
                call.callee.as_name() == Some("type")
                    && call.args.len() == 1
                    && call.positional(0).and_then(Expr::as_name) == Some("self")
            }
            ExprKind::Attribute { value, attr } => {
                attr == "__class__" && value.as_name() == Some("self")
            }
            _ => false,
        };
        if of_self(receiver) {
            return true;
        }
        let Some(name) = receiver.as_name() else {
            return false;
        };
        if let Some(bound) = self.assigned.get(name) {
            return of_self(bound);
        }
        !self.facts.params.contains(name)
            && self
                .module
                .resolve_expr(receiver)
                .is_some_and(|q| self.project.index.class_ref(&q).is_some())
    }

    /// `Project.objects.public(user).filter(…)`: a method the packs do not
    /// know, called on a Django manager or QuerySet, is a custom manager or
    /// QuerySet method; narrowed right away with a QuerySet method
    /// (`attr`), what it returned is a QuerySet. `values()` without
    /// arguments is a dict's as much as a QuerySet's
    /// (`ContentType.objects.get_for_models(*models).values()`).
    fn custom_queryset_method(
        &self,
        value: &Expr,
        attr: &str,
        call: Option<&Call>,
    ) -> Option<Typed> {
        let narrows = crate::knowledge::DJANGO_QUERYSET_ONLY.contains(&attr)
            || (attr == "values" && call.is_some_and(|c| !c.args.is_empty()));
        if !narrows {
            return None;
        }
        let call = value.unawaited().as_call()?;
        let ExprKind::Attribute { value: owner, .. } = &call.callee.kind else {
            return None;
        };
        // Only a plain name or attribute chain (`Project.objects`, `qs`), or
        // a method the packs know called on one (`Method.objects.using(db)`):
        // typing any call here again would classify the chain below it
        // once more per link, exponential in a long chain of unknown calls.
        let cheap = |e: &Expr| e.dotted().is_some();
        let bounded = cheap(owner)
            || owner.as_call().is_some_and(|c| match &c.callee.kind {
                ExprKind::Attribute { value, attr } => {
                    cheap(value)
                        && self
                            .project
                            .knowledge
                            .method(ObjKind::QuerySet, attr)
                            .is_some()
                }
                _ => false,
            });
        if !bounded {
            return None;
        }
        self.kind_of(owner).filter(|t| t.kind == ObjKind::QuerySet)
    }

    fn declared_return(&self, target: FnRef) -> Option<ObjKind> {
        let index = &self.project.index;
        let function = index.function(target);
        self.project
            .types
            .declared_return(&index.module(target).name, &function.qualname)
    }

    fn classify_callee(&self, callee: &Expr, qualified: Option<&str>) -> CallInfo {
        self.classify_callee_with(callee, qualified, None)
    }

    fn classify_callee_with(
        &self,
        callee: &Expr,
        qualified: Option<&str>,
        call: Option<&Call>,
    ) -> CallInfo {
        let knowledge = &self.project.knowledge;
        if let Some(entry) = qualified.and_then(|q| knowledge.func(q)) {
            return CallInfo {
                effect: entry.effect,
                returns: entry.returns,
                receiver_kind: None,
            };
        }
        if let ExprKind::Attribute { value, attr } = &callee.kind {
            if self.overridden_manager_method(value, attr).is_some() {
                return CallInfo {
                    effect: None,
                    returns: None,
                    receiver_kind: None,
                };
            }
            let receiver_kind = if self.unserved_related_manager(value, attr, call) {
                Some(Typed::certain(ObjKind::QuerySet))
            } else {
                self.kind_of(value)
                    .or_else(|| self.custom_queryset_method(value, attr, call))
            };
            if let Some(recv) = receiver_kind {
                // `Session.get(Model, pk)` takes a mapped class: `session.get("user_id")`
                // on a name that only looks like a session reads a dict.
                if attr == "get"
                    && recv.kind.is_session()
                    && call
                        .and_then(|c| c.positional(0))
                        .is_some_and(|a| a.as_str().is_some())
                {
                    return CallInfo {
                        effect: None,
                        returns: None,
                        receiver_kind: None,
                    };
                }
                if let Some(entry) = knowledge.method(recv.kind, attr) {
                    return CallInfo {
                        effect: entry.effect,
                        returns: entry.returns,
                        receiver_kind,
                    };
                }
                // `SessionLocal.begin()` on a factory opens a session.
                if attr == "begin" && recv.kind.called().is_some() {
                    return CallInfo {
                        effect: None,
                        returns: recv.kind.called(),
                        receiver_kind,
                    };
                }
                return CallInfo {
                    effect: None,
                    returns: None,
                    receiver_kind,
                };
            }
            if let Some(entry) = knowledge.any_receiver_method(attr) {
                return CallInfo {
                    effect: entry.effect,
                    returns: entry.returns,
                    receiver_kind: None,
                };
            }
        }
        // Calling a factory: `SessionLocal()`. For `x.attr(...)` the receiver
        // is of unknown kind by now (known kinds returned above).
        let callee_kind = match &callee.kind {
            ExprKind::Attribute { value, attr } => self.attribute_kind(callee, value, attr, true),
            _ => self.kind_of(callee),
        };
        let returns = callee_kind.and_then(|t| t.kind.called());
        CallInfo {
            effect: None,
            returns,
            receiver_kind: None,
        }
    }

    /// The kind of object an expression evaluates to, if known.
    fn kind_of(&self, expr: &Expr) -> Option<Typed> {
        let knowledge = &self.project.knowledge;
        match &expr.kind {
            ExprKind::Await { value } => self.kind_of(value),
            // `super().get(…)` in a Manager or QuerySet subclass.
            ExprKind::Call(call)
                if call.args.is_empty() && call.callee.as_name() == Some("super") =>
            {
                self.env.get("self").copied()
            }
            ExprKind::Call(call) => {
                let info = self.classify(call);
                info.returns.map(|kind| Typed {
                    kind,
                    certain: info.receiver_kind.is_none_or(|r| r.certain),
                })
            }
            ExprKind::Name { id } => {
                if let Some(t) = self.env.get(id.as_str()) {
                    return Some(*t);
                }
                if self.facts.params.contains(id.as_str())
                    || self.assigned.contains_key(id.as_str())
                {
                    return knowledge.hint(id).map(Typed::hinted);
                }
                // A plain name resolves through its own binding: no allocation.
                match self.module.scope.get(id) {
                    Some(q) => self
                        .project
                        .types
                        .global(q)
                        .or_else(|| knowledge.type_kind(q).map(Typed::certain)),
                    None => knowledge.hint(id).map(Typed::hinted),
                }
            }
            ExprKind::Attribute { value, attr } => self.attribute_kind(expr, value, attr, false),
            // `base / "name"` on a Path is a Path.
            ExprKind::Binary {
                op: Operator::Div,
                left,
                ..
            } => self.kind_of(left).filter(|t| t.kind == ObjKind::Path),
            // `Entry.objects.filter(…)[:10]`: slicing a QuerySet adds
            // LIMIT/OFFSET to a new, still lazy QuerySet (a slice lowers to
            // `Other`). Not a local's slice: once the local is evaluated,
            // its slices read the result cache.
            ExprKind::Subscript { value, index }
                if matches!(index.kind, ExprKind::Other { .. }) && value.as_name().is_none() =>
            {
                self.kind_of(value).filter(|t| t.kind == ObjKind::QuerySet)
            }
            // `connections["default"]`
            ExprKind::Subscript { value, .. } => {
                let q = self.module.resolve_expr(value)?;
                knowledge.type_kind(&format!("{q}[]")).map(Typed::certain)
            }
            _ => None,
        }
    }

    /// The project function a call runs: a function or class by qualified
    /// name, or a method of a project class instance (`self.helper()`,
    /// `self.repo.get(...)`, `JobRepository(s).get(...)`).
    fn project_target(&self, call: &Call) -> Option<FnRef> {
        let index = &self.project.index;
        if let ExprKind::Attribute { value, attr } = &call.callee.kind
            && let Some(target) = self.overridden_manager_method(value, attr)
        {
            return Some(target);
        }
        if let ExprKind::Attribute { value, attr } = &call.callee.kind
            && let Some(class) = self.instance_class(value)
        {
            let target = index.method(&class, attr)?;
            // On a row (`for native_filter in config.get(…)`, rows only by
            // the chain's source), a class or static method of the model is
            // more likely a same-named method of what the value really is
            // (`dict.get`) than a row calling it through itself.
            let on_row = value
                .as_name()
                .is_some_and(|n| self.facts.entities.contains_key(n));
            if on_row && !index.function(target).is_instance_method() {
                return None;
            }
            return Some(target);
        }
        index.resolve_function(call.qualified.as_deref()?)
    }

    /// The project model class of the one object a Django QuerySet call
    /// hands out (`Plan.objects.create(…)`, `plans.filter(…).first()`),
    /// `methods` naming the calls: its methods (`plan.add_tag(tag)`) run
    /// as the model's. Not in a migration, whose historical models have
    /// none of the model's custom methods.
    fn single_instance_class(&self, value: &Expr, methods: &[&str]) -> Option<String> {
        if self.facts.context == crate::facts::ExecContext::Migration {
            return None;
        }
        let call = value.unawaited().as_call()?;
        if !call.method_name().is_some_and(|m| methods.contains(&m)) {
            return None;
        }
        // On a manager (`Plan.objects`, a declared one) or a local holding
        // a lazy query, through QuerySet methods: not `cache.get(key)` or
        // a dict's `get` that happens to hold rows.
        let mut spine = call.receiver()?;
        loop {
            match &spine.kind {
                ExprKind::Call(inner) => spine = inner.receiver()?,
                ExprKind::Attribute { attr, .. }
                    if attr == "objects"
                        || attr == "_default_manager"
                        || self.project.models.declares_manager(attr) =>
                {
                    break;
                }
                ExprKind::Name { id } if self.facts.lazy_query_vars.contains(id.as_str()) => break,
                _ => return None,
            }
        }
        let rows = super::rows::refined_row_source(
            value,
            &self.assigned,
            Some(&self.refined),
            self.module,
            &self.project.models,
        )?;
        self.project
            .models
            .get(&rows.model)
            .filter(|m| m.orm == crate::project::Orm::Django)?;
        self.project.index.canonical_class(&rows.model)
    }

    /// The project class of the object an expression evaluates to.
    fn instance_class(&self, expr: &Expr) -> Option<String> {
        let index = &self.project.index;
        match &expr.kind {
            ExprKind::Await { value } => self.instance_class(value),
            ExprKind::Name { id } if id == "self" || id == "cls" => self.enclosing_class(),
            ExprKind::Name { id } => self.instances.get(id.as_str()).cloned().or_else(|| {
                // Only a name not bound in the function can be the module's.
                if self.assigned.contains_key(id.as_str())
                    || self.facts.params.contains(id.as_str())
                {
                    return None;
                }
                let q = self.module.scope.get(id)?;
                index.module_instance_class(q).map(ToString::to_string)
            }),
            // `self.repo`, and `db.scripts` on an instance of a project
            // class whose methods store `self.scripts = ScriptsRepository(…)`.
            ExprKind::Attribute { value, attr } => index
                .attribute_class(&self.instance_class(value)?, attr)
                .map(ToString::to_string),
            // `(conn or db).fetchone(…)`, `(conn if conn else db)`: the
            // object is one of the operands, and each is the project's
            // (a given connection, else the module's database).
            ExprKind::Binary {
                op: Operator::Or,
                left,
                right,
            } => self
                .instance_class(left)
                .or_else(|| self.instance_class(right)),
            ExprKind::Conditional { body, orelse, .. } => self
                .instance_class(body)
                .or_else(|| self.instance_class(orelse)),
            ExprKind::Call(call) => {
                if call.callee.as_name() == Some("super") {
                    return None;
                }
                if let Some(model) = self.registry_model(call) {
                    return Some(model);
                }
                index.canonical_class(&self.module.resolve_expr(&call.callee)?)
            }
            _ => None,
        }
    }

    /// The project model class Django's app registry returns:
    /// `apps.get_model("library.Shelf")`, `apps.get_model("library", "Shelf")`.
    /// Not in a migration, whose `apps` holds historical models without
    /// the model's custom methods.
    fn registry_model(&self, call: &Call) -> Option<String> {
        if call.method_name() != Some("get_model")
            || self.facts.context == crate::facts::ExecContext::Migration
        {
            return None;
        }
        let receiver = call.receiver()?;
        let registry = self
            .module
            .resolve_expr(receiver)
            .is_some_and(|q| q == "django.apps.apps")
            || receiver.as_name() == Some("apps");
        if !registry {
            return None;
        }
        let name = match (call.positional(0)?.as_str(), call.positional(1)) {
            (Some(label), None) => label.rsplit_once('.')?.1,
            (Some(_), Some(model)) => model.as_str()?,
            _ => return None,
        };
        self.project.models.get(name).map(|m| m.class.clone())
    }

    /// The model an instance named here belongs to, known without a query
    /// in this function: `self` in a model's method, or a parameter typed
    /// as one and never rebound.
    fn owner_model(&self, owner: &str) -> Option<String> {
        if owner == "self" {
            self.enclosing_class()
        } else if self.facts.params.contains(owner) && !self.assigned.contains_key(owner) {
            self.facts.entities.get(owner).cloned()
        } else {
            None
        }
    }

    /// The class of the method this function is (or is nested in).
    fn enclosing_class(&self) -> Option<String> {
        self.enclosing_class
            .get_or_init(|| {
                let mut function = self.facts.function;
                loop {
                    if function.class.is_some() {
                        return self.project.index.class_of(self.module, function);
                    }
                    function = self.module.function(function.parent.filter(|&p| p != 0)?);
                }
            })
            .clone()
    }

    /// The kind of `value.attr`. `value_unknown`: the caller already found
    /// `value` of unknown kind; asking again would make a call chain
    /// (`q.a().b().c()…`) cost 2^length.
    fn attribute_kind(
        &self,
        expr: &Expr,
        value: &Expr,
        attr: &str,
        value_unknown: bool,
    ) -> Option<Typed> {
        let knowledge = &self.project.knowledge;
        if let Some(path) = expr.dotted() {
            if let Some(t) = self.env.get(&path) {
                return Some(*t);
            }
            if let Some(t) = self.class_attribute(&path) {
                return Some(t);
            }
            if let Some(t) = self
                .module
                .resolve(&path)
                .and_then(|q| self.project.types.global(&q))
            {
                return Some(t);
            }
        }
        if self.is_django_related_manager(value, attr) || self.is_django_manager(value, attr) {
            return Some(Typed::certain(ObjKind::QuerySet));
        }
        if attr == "query" && self.query_property_model(value).is_some() {
            return Some(Typed::certain(ObjKind::LegacyQuery));
        }
        if let Some(kind) = knowledge.attribute(attr) {
            if self.made_by_other_library(value) {
                return None;
            }
            return Some(Typed::hinted(kind));
        }
        // `self.session`, `db.session`: a hint on the attribute name,
        // unless the base is a known object with its own API.
        if value_unknown || self.kind_of(value).is_none() {
            return knowledge.hint(attr).map(Typed::hinted);
        }
        None
    }

    /// An object a library with a look-alike API made, read directly or
    /// through the local it was bound to: boto3's S3 `Bucket` has an
    /// `objects` collection with `all()`, `filter()` and `delete()`
    /// (`bucket = boto3.resource("s3").Bucket(name)`, `for obj in
    /// bucket.objects.all(): obj.delete()`), S3 requests rather than a
    /// Django manager's queries.
    fn made_by_other_library(&self, value: &Expr) -> bool {
        let mut current = value.unawaited();
        if let Some(bound) = current.as_name().and_then(|n| self.assigned.get(n)) {
            current = bound.unawaited();
        }
        loop {
            match &current.kind {
                ExprKind::Call(call) => current = call.callee.unawaited(),
                ExprKind::Attribute { value, .. } => current = value.unawaited(),
                ExprKind::Name { .. } => break,
                _ => return false,
            }
        }
        self.module.resolve_expr(current).is_some_and(|q| {
            NOT_ORM_LIBRARIES
                .iter()
                .any(|lib| q == *lib || q.strip_prefix(lib).is_some_and(|r| r.starts_with('.')))
        })
    }

    /// `for line in order.lines.all()` with `order` a row fetched in this
    /// function or a loop variable over rows (see [`super::rows::related_rows`]),
    /// also through the local that holds the QuerySet (`lines =
    /// order.lines.all()`, then `for line in lines`).
    fn related_rows(&self, iter: &Expr) -> Option<super::rows::RowSource> {
        let owner = |name: &str| {
            let model = self.facts.entities.get(name)?;
            let loaded = self
                .fetched
                .get(name)
                .or_else(|| self.row_eager.get(name))?;
            Some((model.as_str(), loaded.as_slice()))
        };
        let mut expr = iter;
        // A few hops: `lines = order.lines.all()`, `rows = lines`.
        for _ in 0..4 {
            if let Some(rows) = super::rows::related_rows(expr, &owner, &self.project.models) {
                return Some(rows);
            }
            if let Some(rows) = self.fresh_related_rows(expr) {
                return Some(rows);
            }
            let name = expr.unawaited().as_name()?;
            expr = self.assigned.get(name).copied()?;
        }
        None
    }

    /// `for dep in project.dependencies.filter(…)` on an object whose rows
    /// were not fetched here (a parameter, `self` in a model method, an
    /// object of unknown model when the accessor names one to-many
    /// relation of the project's Django models): a chained `filter`,
    /// `exclude`, `order_by` or `annotate` runs a new query, which no
    /// caller's `prefetch_related` serves (Django, "prefetch_related"), so
    /// the rows load only what the chain asks for, and each row's reference
    /// back to the owner, which the related manager sets.
    fn fresh_related_rows(&self, iter: &Expr) -> Option<super::rows::RowSource> {
        const NEW_QUERY: &[&str] = &["filter", "exclude", "order_by", "annotate"];
        let chain = super::rows::related_chain(iter)?;
        if !chain.called {
            return None;
        }
        let mut fresh = false;
        let mut narrowed = false;
        let mut e = iter.unawaited();
        while let Some(call) = e.as_call() {
            let method = call.method_name().unwrap_or_default();
            fresh |= NEW_QUERY.contains(&method);
            narrowed |= matches!(method, "only" | "defer");
            e = call.receiver()?;
        }
        if !fresh || !self.project.knowledge.is_active("django") {
            return None;
        }
        let owner = chain.owner.as_name()?;
        if self.fetched.contains_key(owner) || self.row_eager.contains_key(owner) {
            return None;
        }
        let models = &self.project.models;
        let known = self.owner_model(owner);
        let target = match known {
            Some(model) => {
                let model = models.get(&model)?;
                let rel = model
                    .relationships
                    .get(chain.accessor)
                    .filter(|r| r.many && model.orm == crate::project::Orm::Django)?;
                models.related(rel)?
            }
            None if owner != "self"
                && !self.facts.entities.contains_key(owner)
                && self.kind_of(chain.owner).is_none()
                && (self.facts.params.contains(owner) || self.assigned.contains_key(owner)) =>
            {
                models.to_many_target(chain.accessor)?
            }
            None => return None,
        };
        let mut eager = chain.eager;
        if chain.all_foreign_keys {
            eager.extend(target.foreign_keys_followed_by_default());
        }
        // The row's foreign key to a model whose accessor of this name
        // leads back to the rows' model: the owner, set by the manager.
        eager.extend(
            target
                .relationships
                .iter()
                .filter(|(_, r)| !r.many)
                .filter(|(_, r)| {
                    models.related(r).is_some_and(|back| {
                        back.relationships
                            .get(chain.accessor)
                            .filter(|b| b.many)
                            .and_then(|b| models.related(b))
                            .is_some_and(|m| m.class == target.class)
                    })
                })
                .map(|(name, _)| name.clone()),
        );
        Some(super::rows::RowSource {
            model: target.class.clone(),
            eager,
            narrowed,
            options: Vec::new(),
            from_callee: false,
        })
    }

    /// The rows a call of a project function returns (see
    /// [`super::returns`]): `await repo.recent()`, `list(svc.open_orders())`,
    /// or a local bound to one.
    fn rows_returned_by(&self, expr: &Expr, depth: u8) -> Option<super::rows::RowSource> {
        let returned = &self.project.returned_rows;
        if returned.is_empty() || depth > 6 {
            return None;
        }
        // `list(await repo.recent())`: the collecting wrappers hold the same rows.
        let expr = super::returns::collected(expr);
        if let Some(name) = expr.as_name() {
            return self
                .assigned
                .get(name)
                .and_then(|value| self.rows_returned_by(value, depth + 1));
        }
        let call = expr.as_call()?;
        // `svc.open_incidents(db).filter(...).all()`
        if let Some(method) = call.method_name()
            && super::returns::ROW_KEEPING.binary_search(&method).is_ok()
            && let Some(receiver) = call.receiver().map(Expr::unawaited)
            && receiver.as_call().is_some()
            && let Some(rows) = self.rows_returned_by(receiver, depth + 1)
        {
            return Some(rows);
        }
        // The call was classified when the walk visited it.
        let target = self
            .facts
            .calls
            .iter()
            .rev()
            .find(|c| c.site.span == expr.span)
            .map_or_else(|| self.project_target(call), |c| c.target)?;
        returned.get(target).cloned()
    }

    /// `Issue.issue_objects` with `issue_objects = IssueManager()` declared
    /// on the model or an abstract parent: a manager, as `Issue.objects`.
    fn is_django_manager(&self, value: &Expr, attr: &str) -> bool {
        if !matches!(
            value.kind,
            ExprKind::Name { .. } | ExprKind::Attribute { .. }
        ) {
            return false;
        }
        let models = &self.project.models;
        if !models.declares_manager(attr) {
            return false;
        }
        // `UserModel = get_user_model()` … `UserModel.objects` too.
        super::rows::class_model(value, &self.assigned, self.module, models).is_some_and(|m| {
            m.orm == crate::project::Orm::Django && m.managers.iter().any(|x| x == attr)
        })
    }

    /// `Settings.objects.get()` where `objects = SettingsManager()` and the
    /// project's `SettingsManager` (or the QuerySet behind it) defines
    /// `get`: Python runs that method, not Django's.
    fn overridden_manager_method(&self, value: &Expr, attr: &str) -> Option<FnRef> {
        let ExprKind::Attribute {
            value: class,
            attr: manager,
        } = &value.kind
        else {
            return None;
        };
        let models = &self.project.models;
        if !models.declares_manager(manager) {
            return None;
        }
        let model = super::rows::class_model(class, &self.assigned, self.module, models)?;
        let index = &self.project.index;
        model
            .manager_classes
            .iter()
            .filter(|(m, _)| m == manager)
            .find_map(|(_, c)| index.method(&index.canonical_class(c)?, attr))
    }

    /// `iter` reads an attribute or calls a method of a local bound to one
    /// row (`challenge = Challenge.query.filter_by(id=i).first_or_404()`):
    /// `challenge.files`, `user.team.get_solves()`.
    fn on_single_row(&self, iter: &Expr) -> bool {
        self.on_single_row_at(iter, 0)
    }

    /// `on_single_row` through at most a few locals: refinements can refer
    /// to each other in a cycle (`a = b.filter(…)`, `b = a.exclude(…)`).
    fn on_single_row_at(&self, iter: &Expr, depth: u8) -> bool {
        if depth > 8 {
            return false;
        }
        // `all_solves = user.get_solves()` … `for s in all_solves`; also
        // through refinements: `entries = shelf.entries.filter(…)` then
        // `entries = entries.order_by(…)`.
        if let Some(name) = iter.unawaited().as_name() {
            let value = match self.assigned.get(name) {
                Some(v) if v.chain_root() == Some(name) => self.refined.get(name),
                other => other,
            };
            return value.is_some_and(|v| {
                v.unawaited().as_name().is_none() && self.on_single_row_at(v, depth + 1)
            });
        }
        if let Some(root) = iter.chain_root()
            && self.assigned.get(root).and_then(|v| v.chain_root()) == Some(root)
        {
            return self
                .refined
                .get(root)
                .is_some_and(|base| self.on_single_row_at(base, depth + 1));
        }
        // `ti = result[0]`, `product = matches[0]`: one row of a result.
        if iter
            .chain_root()
            .and_then(|n| self.assigned.get(n))
            .is_some_and(|v| {
                matches!(&v.unawaited().kind, ExprKind::Subscript { index, .. }
                    if matches!(index.kind, ExprKind::Literal(weir_ir::Literal::Int(_))))
            })
        {
            return true;
        }
        iter.chain_root()
            .and_then(|n| self.assigned.get(n))
            .and_then(|v| v.unawaited().as_call())
            .and_then(weir_ir::Call::method_name)
            .is_some_and(|m| SINGLE_ROW_METHODS.contains(&m) || SINGLE_ROW_OR_404.contains(&m))
    }

    /// The SQLAlchemy model whose query property `value.query` is:
    /// `User.query` (Flask-SQLAlchemy, or `Base.query =
    /// Session.query_property()`), also `cls.query` in the model's own
    /// class methods.
    fn query_property_model(&self, value: &Expr) -> Option<&crate::project::Model> {
        let models = &self.project.models;
        let qualified = match &value.kind {
            ExprKind::Name { id } if id == "cls" => self.enclosing_class()?,
            ExprKind::Name { id }
                if self.assigned.contains_key(id.as_str())
                    || self.facts.params.contains(id.as_str()) =>
            {
                return None;
            }
            ExprKind::Name { .. } | ExprKind::Attribute { .. } => {
                self.module.resolve_expr(value).or_else(|| value.dotted())?
            }
            _ => return None,
        };
        models.query_property_model(&qualified)
    }

    /// `author.books` on a Django model instance fetched in this function
    /// whose model has that to-many relation (a reverse foreign key or a
    /// many-to-many) and that was not prefetched: a related manager, whose
    /// `count()`, `exists()`, `first()` run a query and whose `all()` and
    /// `filter()` are lazy QuerySets, as on `Model.objects`.
    fn is_django_related_manager(&self, value: &Expr, attr: &str) -> bool {
        let Some(name) = value.as_name() else {
            return false;
        };
        let Some(model) = self.facts.entities.get(name) else {
            return false;
        };
        let served = match self.fetched.get(name) {
            Some(eager) => eager.iter().any(|e| e == attr),
            // The object a serializer's per-object method receives: the
            // view's queryset may prefetch the relation, unless the project
            // prefetches no relation of that name anywhere.
            None if self.facts.per_object_param() == Some(name)
                && !self.assigned.contains_key(name) =>
            {
                match self.facts.per_object().and_then(|p| p.prefetched.as_ref()) {
                    Some(known) => known.iter().any(|r| r == attr),
                    None => self.project.per_object.prefetched_anywhere(attr),
                }
            }
            None => return false,
        };
        !served
            && self
                .project
                .models
                .get(model)
                .filter(|model| model.orm == crate::project::Orm::Django)
                .and_then(|model| model.relationships.get(attr))
                .is_some_and(|rel| rel.many)
    }

    /// `self.translation_set.get_or_create(…)` in a method of a Django
    /// model, `component.translation_set.filter(…)` on a parameter annotated
    /// with one: a related manager (a reverse foreign key or a many-to-many
    /// of the model) asked for something no prefetch holds. A caller's
    /// `prefetch_related` fills the cache that `all()` reads; a chained
    /// method that implies a different query (`filter`, `get`,
    /// `get_or_create`…) ignores it and runs a fresh one (Django,
    /// "prefetch_related"). Locals fetched here are judged by
    /// [`Self::is_django_related_manager`], with their own eager loads.
    fn unserved_related_manager(&self, manager: &Expr, method: &str, call: Option<&Call>) -> bool {
        if !UNSERVED_BY_PREFETCH.contains(&method) {
            return false;
        }
        let ExprKind::Attribute {
            value: owner,
            attr: rel,
        } = &manager.kind
        else {
            return false;
        };
        let owner_expr = owner;
        let Some(owner) = owner.as_name() else {
            return false;
        };
        if self.fetched.contains_key(owner) {
            return false;
        }
        let model = self.owner_model(owner);
        if let Some(model) = model.and_then(|model| self.project.models.get(&model)) {
            return model.orm == crate::project::Orm::Django
                && model
                    .relationships
                    .get(rel.as_str())
                    .is_some_and(|rel| rel.many);
        }
        // An object whose model is not known here (`instance =
        // super().create_instance(…)`, a parameter without annotation): the
        // accessor names a to-many relation that the project's Django
        // models declare (`related_name="menu_items"`, `entry_set`), all to
        // one model, and the method is one of the QuerySet API that other
        // objects do not share: not `create` (API clients' `files.create`),
        // nor `values` or a `get(key)` with a positional key (a mapping's).
        let queryset_only = match method {
            "create" | "values" => false,
            "get" => call.is_some_and(|c| c.positional(0).is_none() && !c.args.is_empty()),
            _ => true,
        };
        let local = self.facts.params.contains(owner) || self.assigned.contains_key(owner);
        queryset_only
            && !matches!(owner, "self" | "cls")
            && (local || self.module.resolve(owner).is_none())
            && !self.facts.entities.contains_key(owner)
            && self.kind_of(owner_expr).is_none()
            && self.project.knowledge.is_active("django")
            && self.project.models.to_many_target(rel).is_some()
    }

    /// `self.engine` in a method, when some method of the class assigns it
    /// a known kind (`self.engine = engine` with `engine: Engine`).
    fn class_attribute(&self, path: &str) -> Option<Typed> {
        let attr = path.strip_prefix("self.")?;
        let class = self.facts.function.class.map(|c| &self.module.classes[c])?;
        self.project
            .types
            .class_attribute(&self.module.name, &class.qualname, attr)
    }
}

/// The local names a `for` target binds: `row`, `(key, row)`, `[a, (b, c)]`
/// (not the base of `obj.attr` or `items[i]`, which are stores into objects).
fn bound_names<'e>(target: &'e Expr, names: &mut Vec<&'e str>) {
    match &target.kind {
        ExprKind::Name { id } => names.push(id),
        ExprKind::Collection { elements, .. } => {
            for element in elements {
                bound_names(element, names);
            }
        }
        _ => {}
    }
}

/// Related-manager methods that build a new query, which the cache of a
/// `prefetch_related` never answers (`all()`, `count()`, iteration may be).
const UNSERVED_BY_PREFETCH: &[&str] = &[
    "get",
    "get_or_create",
    "update_or_create",
    "create",
    "filter",
    "exclude",
    "order_by",
    "values",
    "values_list",
    "annotate",
    "aggregate",
    "latest",
    "earliest",
    "in_bulk",
    "update",
];

/// The function a call hands to a job queue to run later:
/// `background_tasks.add_task(f, …)` (Starlette's `BackgroundTasks`), RQ's
/// `queue.enqueue(f, …)`, `enqueue_call(func=f)`, `enqueue_in(delay, f)`,
/// `enqueue_at(when, f)`; a reference or a dotted path. (A project method
/// of these names is the caller's to resolve first: it runs inline.)
fn queued_job(call: &Call) -> Option<&Expr> {
    match call.method_name()? {
        "add_task" | "enqueue" | "enqueue_call" => {
            call.keyword("func").or_else(|| call.positional(0))
        }
        "enqueue_in" | "enqueue_at" => call.keyword("func").or_else(|| call.positional(1)),
        _ => None,
    }
}

/// The objects a DRF serializer is built to serialize as a list:
/// `ProjectSerializer(projects, many=True)` (also `instance=projects`).
/// A class named like a serializer; `data=` (input to validate) is not
/// serialized from the database.
fn serialized_list(call: &Call) -> Option<&Expr> {
    if !super::per_object::many(call)
        || !call
            .callee
            .dotted_last()
            .is_some_and(|name| name.ends_with("Serializer"))
    {
        return None;
    }
    call.positional(0).or_else(|| call.keyword("instance"))
}

/// The statement a call runs: its first argument, `statement=`
/// (SQLAlchemy), or `query=` (encode/databases' `database.execute(query=…,
/// values=…)`).
fn statement_arg(call: &Call) -> Option<&Expr> {
    call.positional(0)
        .or_else(|| call.keyword("statement"))
        .or_else(|| call.keyword("query"))
}

/// `object_session(obj)`, `Session.object_session(obj)`,
/// `async_object_session(obj)`: the session `obj` already belongs to.
fn is_object_session(call: &Call) -> bool {
    matches!(
        call.callee.dotted_last(),
        Some("object_session" | "async_object_session")
    )
}

/// Whether every value `function` returns is a session it borrows rather
/// than opens: `object_session(obj)`, a parameter, an attribute
/// (`self.session`, `request.db`), or a local bound only to those; `None`
/// may be returned too, but at least one return must hand a borrowed value.
fn lends_borrowed(function: &Function) -> bool {
    let params: HashSet<&str> = function.params.iter().map(|p| p.name.as_str()).collect();
    let body = &function.body;
    let direct = |value: &Expr| match &value.unawaited().kind {
        ExprKind::Call(call) => is_object_session(call),
        ExprKind::Name { id } => params.contains(id.as_str()),
        ExprKind::Attribute { .. } => true,
        _ => false,
    };
    let borrowed = |value: &Expr| {
        if direct(value) {
            return true;
        }
        let Some(name) = value.as_name() else {
            return false;
        };
        let mut bound = 0;
        let mut all = true;
        weir_ir::visit::walk_stmts(body, &mut |stmt| {
            if let StmtKind::Assign { targets, value, .. } = &stmt.kind
                && targets.iter().any(|t| t.as_name() == Some(name))
            {
                bound += 1;
                all &= targets.len() == 1 && value.as_ref().is_some_and(direct);
            }
        });
        bound > 0 && all
    };
    let mut lent = false;
    let mut other = false;
    weir_ir::visit::walk_stmts(body, &mut |stmt| {
        if let StmtKind::Return { value } = &stmt.kind {
            match value {
                None => {}
                Some(v) if matches!(v.kind, ExprKind::Literal(Literal::Null)) => {}
                Some(v) if borrowed(v) => lent = true,
                Some(_) => other = true,
            }
        }
    });
    lent && !other
}

/// `Session()`, `engine.connect()`, `await pool.acquire()`: a call that hands
/// out a fresh resource (not a lookup such as `get_session_from(x)`).
fn is_acquiring_call(value: &Expr) -> bool {
    matches!(value.unawaited().kind, ExprKind::Call(_))
}

/// A string-valued expression: a literal, an f-string, `str(...)`,
/// `"".join(...)`, a `%`-format of a string, or a known string variable.
/// Methods that return a new string (on `str`; on `bytes` they return
/// bytes, which grow just as badly).
const STRING_METHODS: &[&str] = &[
    "join",
    "format",
    "format_map",
    "strip",
    "lstrip",
    "rstrip",
    "lower",
    "upper",
    "title",
    "capitalize",
    "casefold",
    "replace",
    "center",
    "ljust",
    "rjust",
    "zfill",
    "expandtabs",
    "removeprefix",
    "removesuffix",
    "decode",
];

fn is_string_expr(value: &Expr, strings: &HashMap<String, u32>) -> bool {
    match &value.kind {
        ExprKind::Literal(Literal::Str(_)) | ExprKind::Template { .. } => true,
        ExprKind::Call(call) => {
            matches!(
                call.qualified.as_deref(),
                Some("builtins.str" | "builtins.repr" | "json.dumps")
            ) || call
                .method_name()
                .is_some_and(|m| STRING_METHODS.contains(&m))
                && call.receiver().is_some()
        }
        ExprKind::Binary {
            op: Operator::Add | Operator::Mod,
            left,
            ..
        } => is_string_expr(left, strings),
        ExprKind::Name { id } => strings.contains_key(id.as_str()),
        _ => false,
    }
}

/// A fresh list, dict or set: a display, a comprehension, or a copy.
fn is_collection_expr(value: &Expr) -> bool {
    let fresh = |kind: &weir_ir::expr::CollectionKind| {
        !matches!(
            kind,
            weir_ir::expr::CollectionKind::Generator | weir_ir::expr::CollectionKind::Tuple
        )
    };
    match &value.kind {
        ExprKind::Collection { kind, .. } => fresh(kind),
        ExprKind::Comprehension(comp) => fresh(&comp.kind),
        ExprKind::Dict { .. } => true,
        ExprKind::Call(call) => matches!(
            call.qualified.as_deref(),
            Some("builtins.list" | "builtins.dict" | "builtins.set" | "builtins.sorted")
        ),
        _ => false,
    }
}

/// `list[int]`, `dict`, `Set[str]`, `typing.List[...]`.
fn is_collection_annotation(annotation: &Expr) -> bool {
    let base = match &annotation.kind {
        ExprKind::Subscript { value, .. } => value.dotted(),
        _ => annotation.dotted(),
    };
    base.is_some_and(|b| {
        matches!(
            b.rsplit('.').next().unwrap_or(&b),
            "list" | "dict" | "set" | "List" | "Dict" | "Set" | "DefaultDict" | "defaultdict"
        )
    })
}

/// `s = s + x` → `x`.
fn self_concatenation<'a>(var: &str, value: &'a Expr) -> Option<&'a Expr> {
    match &value.kind {
        ExprKind::Binary {
            op: Operator::Add,
            left,
            right,
        } if left.dotted().as_deref() == Some(var) => Some(right),
        _ => None,
    }
}

fn escaping_names(value: &Expr, out: &mut HashSet<String>) {
    match &value.kind {
        ExprKind::Name { id } => {
            out.insert(id.to_string());
        }
        // `return conn.cursor()`: a DB-API cursor keeps its connection
        // (`cursor.connection`, PEP 249), so handing on the cursor hands on
        // the connection, and closing it is the receiver's job.
        ExprKind::Call(call) if call.method_name() == Some("cursor") => {
            if let Some(name) = call.receiver().and_then(Expr::as_name) {
                out.insert(name.to_string());
            }
            weir_ir::visit::child_exprs(value, &mut |child| escaping_names(child, out));
        }
        ExprKind::Attribute { value: base, .. } => {
            if base.as_name().is_none() {
                escaping_names(base, out);
            }
        }
        _ => weir_ir::visit::child_exprs(value, &mut |child| escaping_names(child, out)),
    }
}

/// The first statement of a block that leaves loops unconditionally, and
/// which of the enclosing loops (positions from..to): `return` and `raise`
/// leave them all, `break` the innermost. The loop depth is counted only
/// for the few blocks that have such a statement.
fn leaving(stmts: &[Stmt], depth: impl FnOnce() -> usize) -> Option<(usize, (usize, usize))> {
    let (i, breaks) = stmts
        .iter()
        .enumerate()
        .find_map(|(i, stmt)| match stmt.kind {
            StmtKind::Return { .. } | StmtKind::Raise { .. } => Some((i, false)),
            StmtKind::Break => Some((i, true)),
            _ => None,
        })?;
    let depth = depth();
    if depth == 0 {
        return None;
    }
    Some((i, (if breaks { depth - 1 } else { 0 }, depth)))
}

/// The value of `name` when the module's top level assigns it exactly once
/// (`INSERT_ROW = "INSERT INTO …"`): a constant of the module.
fn module_constant<'m>(module: &'m Module, name: &str) -> Option<&'m Expr> {
    let mut found = None;
    for stmt in &module.top_level()?.body {
        if let StmtKind::Assign { targets, value, .. } = &stmt.kind
            && targets.iter().any(|t| t.as_name() == Some(name))
        {
            if found.is_some() || targets.len() != 1 {
                return None;
            }
            found = value.as_ref();
        }
    }
    found
}

/// `os.kill(os.getpid(), sig)`, `os.killpg(os.getpgid(0), sig)`,
/// `signal.raise_signal(sig)`: a statement that signals this very process.
fn signals_own_process(module: &Module, stmt: &Stmt) -> bool {
    let StmtKind::Expr { value } = &stmt.kind else {
        return false;
    };
    let Some(call) = value.as_call() else {
        return false;
    };
    let qualified = |c: &Call| {
        c.qualified
            .clone()
            .or_else(|| module.resolve_expr(&c.callee))
    };
    match qualified(call).as_deref() {
        Some("signal.raise_signal") => true,
        Some("os.kill" | "os.killpg") => call
            .positional(0)
            .and_then(Expr::as_call)
            .and_then(qualified)
            .is_some_and(|q| matches!(q.as_str(), "os.getpid" | "os.getpgid" | "os.getpgrp")),
        _ => false,
    }
}

/// Whether a `continue` anywhere in `stmt` could skip the exit after it
/// (one of a nested loop counts too: rare, and erring that way only keeps
/// a finding).
fn continues(stmt: &Stmt) -> bool {
    if matches!(stmt.kind, StmtKind::Continue) {
        return true;
    }
    let mut found = false;
    weir_ir::visit::each_child_block(stmt, &mut |block: &[Stmt]| {
        found = found || block.iter().any(continues);
    });
    found
}

/// `block` adds items to the list `name`: `name.append(x)`,
/// `name.extend(xs)`, `name.insert(i, x)`, `name += xs`.
fn grows(block: &[weir_ir::Stmt], name: &str) -> bool {
    let mut found = false;
    weir_ir::visit::walk_block_exprs(block, &mut |e| {
        if let ExprKind::Call(call) = &e.kind
            && matches!(call.method_name(), Some("append" | "extend" | "insert"))
            && call.receiver().and_then(Expr::as_name) == Some(name)
        {
            found = true;
        }
    });
    weir_ir::visit::walk_stmts(block, &mut |stmt| {
        if let StmtKind::Assign {
            targets,
            op: Some(weir_ir::Operator::Add),
            ..
        } = &stmt.kind
            && targets.first().and_then(Expr::as_name) == Some(name)
        {
            found = true;
        }
    });
    found
}
