//! Transaction regions: where, in one function, a database transaction is
//! open, what opened it and what ends it. A model, not a list of patterns:
//!
//! - **Block**: `with session.begin():`, `async with engine.begin() as conn:`,
//!   `with transaction.atomic():` — open for the block, committed at its end,
//!   rolled back on error. One atomic unit by design.
//! - **Function**: `@transaction.atomic` on the function — open for the
//!   whole body. **Request**: a Django view when `ATOMIC_REQUESTS` is on.
//! - **Explicit**: `session.begin()` / `conn.begin()` called as a statement,
//!   open until commit or rollback.
//! - **Autobegin**: SQLAlchemy 2.0 (and DB-API drivers) begin implicitly on
//!   the first statement of a session or connection; the transaction lasts
//!   until `commit()`/`rollback()`/`close()` — here, or in a project helper
//!   that commits the session it is given (its summary says so) — or past
//!   the end of the function (`left_open`: the caller's, or for a FastAPI
//!   session dependency the request's).
//!
//! Django's ORM outside `atomic` autocommits each statement: no region.
//! Regions are computed in source order, per receiver (`session`,
//! `self.db`); a commit inside a loop closes the region opened in the same
//! iteration. Rules ask "which region is open at this call" through
//! [`Regions::at`].

use weir_ir::{Expr, ExprKind, Span, Stmt, StmtKind};

use super::{CallFact, ExecContext, FunctionFacts};
use crate::context::ConfigValue;
use crate::knowledge::{Effect, ObjKind};
use crate::project::Summaries;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionKind {
    Block,
    Function,
    Explicit,
    Autobegin,
    /// Django `ATOMIC_REQUESTS`: the whole view, implicitly.
    Request,
}

#[derive(Debug, Clone)]
pub struct TxRegion {
    pub kind: RegionKind,
    /// The session or connection (`session`, `self.db`); `None` for
    /// `atomic` regions, which cover every database call.
    pub receiver: Option<String>,
    /// The `with`, the decorator, the `begin()` or the first statement.
    pub opened_at: Span,
    /// Byte range the transaction is open over.
    pub start: u32,
    pub end: u32,
    /// The commit, rollback or close that ends it, when one does.
    pub closed_by: Option<Span>,
    /// Still open when the function returns.
    pub left_open: bool,
}

impl TxRegion {
    pub fn contains(&self, span: Span) -> bool {
        self.start <= span.start && span.start <= self.end
    }

    /// Opened by a block or decorator that makes the work one atomic unit.
    pub fn is_atomic_by_design(&self) -> bool {
        matches!(self.kind, RegionKind::Block | RegionKind::Function)
    }

    /// The last line the transaction is open on: the commit that ends it,
    /// the end of its block, or the end of the function.
    pub fn end_line(&self, facts: &FunctionFacts<'_>) -> u32 {
        match (self.closed_by, self.kind) {
            (Some(s), _) => s.line,
            (None, RegionKind::Block) => self.opened_at.end_line,
            (None, _) => facts.function.span.end_line,
        }
    }

    /// The lines of code the transaction is open over, from the line that
    /// opens it to [`Self::end_line`]: the lines of the statements that run
    /// in it, not blank lines and comments. A compound statement counts its
    /// header line (its body counts for itself), a nested `def` or `class`
    /// its header only: defining it does no work.
    pub fn code_lines(&self, facts: &FunctionFacts<'_>) -> u32 {
        let first = self.opened_at.line;
        let last = self.end_line(facts);
        if last < first {
            return 0;
        }
        let mut covered = vec![false; (last - first + 1) as usize];
        let mut mark = |from: u32, to: u32| {
            for line in from.max(first)..=to.min(last) {
                covered[(line - first) as usize] = true;
            }
        };
        mark(first, first);
        weir_ir::visit::walk_stmts(&facts.function.body, &mut |stmt: &Stmt| {
            if stmt.span.start < self.start || stmt.span.start > self.end {
                return;
            }
            let header_only = matches!(
                stmt.kind,
                StmtKind::If { .. }
                    | StmtKind::Loop(_)
                    | StmtKind::With { .. }
                    | StmtKind::Try { .. }
                    | StmtKind::Switch { .. }
                    | StmtKind::FunctionDef { .. }
                    | StmtKind::ClassDef { .. }
            );
            let to = if header_only {
                stmt.span.line
            } else {
                stmt.span.end_line
            };
            mark(stmt.span.line, to);
        });
        covered.iter().map(|c| u32::from(*c)).sum()
    }

    pub fn describe(&self) -> &'static str {
        match self.kind {
            RegionKind::Block => "the transaction block",
            RegionKind::Function => "the atomic function",
            RegionKind::Explicit => "the transaction begun here",
            RegionKind::Autobegin => "the transaction begun implicitly by this statement",
            RegionKind::Request => "the request's transaction (`ATOMIC_REQUESTS`)",
        }
    }
}

pub struct Regions {
    pub regions: Vec<TxRegion>,
}

impl FunctionFacts<'_> {
    /// The function's transaction regions, built once for every rule that
    /// asks. A run has one set of summaries, so the first caller's is
    /// everyone's.
    pub fn regions(&self, summaries: &Summaries) -> &Regions {
        self.regions.get_or_init(|| Regions::build(self, summaries))
    }
}

impl Regions {
    /// The innermost region open at `span`.
    pub fn at(&self, span: Span) -> Option<&TxRegion> {
        self.regions
            .iter()
            .filter(|r| r.contains(span))
            .min_by_key(|r| r.end - r.start)
    }
}

/// Kinds whose statements run in a transaction SQLAlchemy or the driver
/// begins implicitly.
fn autobegins(kind: Option<ObjKind>) -> bool {
    kind.is_none_or(|k| {
        matches!(
            k,
            ObjKind::Session
                | ObjKind::AsyncSession
                | ObjKind::Connection
                | ObjKind::AsyncConnection
                | ObjKind::Cursor
        )
    })
}

/// `session.begin()`, `engine.begin()`, `conn.begin_nested()`,
/// `transaction.atomic()`, and the drivers' transaction blocks: asyncpg's
/// and psycopg 3's `conn.transaction()`, encode/databases'
/// `database.transaction()` (a method: a bare `transaction()` is not read).
pub fn is_begin_context(expr: &Expr) -> bool {
    let Some(call) = expr.unawaited().as_call() else {
        return is_atomic(expr);
    };
    matches!(call.method_name(), Some("begin" | "begin_nested"))
        || (call.method_name() == Some("transaction") && call.receiver().is_some())
        || is_atomic(&call.callee)
}

fn is_atomic(expr: &Expr) -> bool {
    let target = expr.as_call().map_or(expr, |c| &c.callee);
    target
        .dotted()
        .is_some_and(|d| d == "atomic" || d.ends_with("transaction.atomic"))
}

/// `with atomic(path) as fp:` where `atomic` is the project's own
/// generator context manager (`@contextmanager`: a file written and renamed
/// into place) whose body manages no transaction: no `begin()`,
/// `begin_nested()`, `atomic`, `commit()` or `rollback()` call in it. A
/// generator's body is the whole context manager; a plain function returns
/// an object whose `__enter__` is not read here (Django's own `atomic()`
/// returns an `Atomic`), so it keeps its name's meaning. A project wrapper
/// around `transaction.atomic()`, `session.begin()` or a commit on exit
/// still opens one.
fn own_helper_without_transaction(facts: &FunctionFacts<'_>, expr: &Expr) -> bool {
    let Some(call) = expr.unawaited().as_call() else {
        return false;
    };
    let index = &facts.project.index;
    let Some(target) = call
        .qualified
        .as_deref()
        .and_then(|q| index.resolve_function(q))
    else {
        return false;
    };
    let helper = index.function(target);
    if !helper.is_generator {
        return false;
    }
    let mut begins = false;
    weir_ir::visit::walk_block_exprs(&helper.body, &mut |e| {
        if let Some(inner) = e.as_call() {
            begins |= matches!(
                inner.method_name().or_else(|| inner.callee.dotted_last()),
                Some("begin" | "begin_nested" | "atomic" | "commit" | "rollback")
            );
        }
    });
    !begins
}

/// Django `ATOMIC_REQUESTS = True` for a database of the project.
fn atomic_requests(facts: &FunctionFacts<'_>) -> bool {
    facts
        .project
        .context
        .db_config
        .django_databases
        .iter()
        .any(|d| d.atomic_requests == Some(ConfigValue::Bool(true)))
}

/// `@transaction.non_atomic_requests` (also called: `(using="other")`).
const NON_ATOMIC_REQUESTS: &str = "non_atomic_requests";

/// The view opts out of `ATOMIC_REQUESTS`: `@transaction.non_atomic_requests`
/// on the function view, on the `dispatch` of its class or of a project base
/// class (`as_view()` copies the attributes of `dispatch` onto the view it
/// returns, where Django looks for the opt-out), or
/// `@method_decorator(transaction.non_atomic_requests, name="dispatch")` on
/// the class.
fn non_atomic_view(facts: &FunctionFacts<'_>) -> bool {
    let function = facts.function;
    if function.decorated_with(NON_ATOMIC_REQUESTS) {
        return true;
    }
    let Some(class) = function.class.and_then(|c| facts.module.classes.get(c)) else {
        return false;
    };
    let on_class = class.decorators.iter().any(|d| {
        d.as_call().is_some_and(|c| {
            c.callee.dotted_last() == Some("method_decorator")
                && c.positional(0)
                    .map(|d| d.as_call().map_or(d, |called| &called.callee))
                    .and_then(Expr::dotted_last)
                    == Some(NON_ATOMIC_REQUESTS)
                && c.keyword("name").and_then(Expr::as_str) == Some("dispatch")
        })
    });
    if on_class {
        return true;
    }
    let index = &facts.project.index;
    index
        .class_of(facts.module, function)
        .and_then(|q| index.method(&q, "dispatch"))
        .is_some_and(|dispatch| index.function(dispatch).decorated_with(NON_ATOMIC_REQUESTS))
}

impl Regions {
    pub fn build(facts: &FunctionFacts<'_>, summaries: &Summaries) -> Self {
        let function = facts.function;
        let mut regions = Vec::new();
        let whole = |kind| TxRegion {
            kind,
            receiver: None,
            opened_at: function.span,
            start: function.span.start,
            end: function.span.end,
            closed_by: None,
            left_open: false,
        };
        if function.decorators.iter().any(is_atomic) {
            regions.push(whole(RegionKind::Function));
        } else if facts.context == ExecContext::RequestHandler
            && facts.project.knowledge.is_active("django")
            && atomic_requests(facts)
            && !non_atomic_view(facts)
        {
            regions.push(whole(RegionKind::Request));
        }
        // `with SessionLocal() as session:` closes the session (and ends its
        // transaction) at the end of the block. One walk finds both kinds
        // of `with`.
        let mut managed: Vec<(String, Span)> = Vec::new();
        weir_ir::visit::walk_stmts(&function.body, &mut |stmt: &Stmt| {
            let StmtKind::With { items, .. } = &stmt.kind else {
                return;
            };
            for item in items {
                if let Some(target) = item.target.as_ref().and_then(Expr::dotted) {
                    managed.push((target, stmt.span));
                }
            }
            if let Some(item) = items.iter().find(|i| {
                is_begin_context(&i.context) && !own_helper_without_transaction(facts, &i.context)
            }) {
                let receiver = item
                    .context
                    .unawaited()
                    .as_call()
                    .and_then(|c| c.receiver())
                    .and_then(Expr::dotted)
                    .filter(|_| !is_atomic(&item.context));
                regions.push(TxRegion {
                    kind: RegionKind::Block,
                    receiver,
                    opened_at: stmt.span,
                    start: stmt.span.start,
                    end: stmt.span.end,
                    closed_by: None,
                    left_open: false,
                });
            }
        });
        let scope_end = |region: &TxRegion| {
            managed
                .iter()
                .filter(|(name, span)| {
                    region.receiver.as_deref() == Some(name.as_str())
                        && span.contains(&region.opened_at)
                })
                .map(|(_, span)| *span)
                .min_by_key(|span| span.end - span.start)
        };
        let end_scope = |mut region: TxRegion, with: Span| {
            region.end = with.end;
            region.closed_by = Some(Span {
                start: with.end,
                end: with.end,
                line: with.end_line,
                col: 0,
                end_line: with.end_line,
            });
            region.left_open = false;
            region
        };
        let blocks: Vec<(u32, u32)> = regions.iter().map(|r| (r.start, r.end)).collect();
        let in_block = |s: Span| blocks.iter().any(|(a, b)| *a <= s.start && s.start <= *b);

        let mut calls: Vec<&CallFact<'_>> = facts
            .calls
            .iter()
            .filter(|c| !c.site.in_lambda && !c.site.offloaded)
            .collect();
        calls.sort_by_key(|c| c.site.span.start);
        let mut open: Vec<TxRegion> = Vec::new();
        for call in calls {
            let mut i = 0;
            while i < open.len() {
                match scope_end(&open[i]) {
                    Some(with) if with.end < call.site.span.start => {
                        let region = open.remove(i);
                        regions.push(end_scope(region, with));
                    }
                    _ => i += 1,
                }
            }
            if in_block(call.site.span) {
                continue;
            }
            let kind = call.receiver_kind.map(|t| t.kind);
            // A project helper that commits the session it is handed.
            let helper_commits = call.effect.is_none()
                && summaries
                    .of_call(call)
                    .is_some_and(|s| s.commits_at(call).is_some());
            if helper_commits {
                for mut region in open.drain(..) {
                    region.end = call.site.span.end;
                    region.closed_by = Some(call.site.span);
                    regions.push(region);
                }
                continue;
            }
            let Some(effect) = call.effect else { continue };
            let Some(receiver) = call.receiver.clone() else {
                continue;
            };
            if !autobegins(kind) {
                continue;
            }
            let index = open
                .iter()
                .position(|r| r.receiver.as_deref() == Some(receiver.as_str()));
            match effect {
                Effect::Begin | Effect::Query(_) | Effect::Stage(_) | Effect::Flush
                    if index.is_none() =>
                {
                    open.push(TxRegion {
                        kind: if effect == Effect::Begin {
                            RegionKind::Explicit
                        } else {
                            RegionKind::Autobegin
                        },
                        receiver: Some(receiver),
                        opened_at: call.site.span,
                        start: call.site.span.start,
                        end: function.span.end,
                        closed_by: None,
                        left_open: true,
                    });
                }
                Effect::Commit | Effect::Rollback | Effect::Close => {
                    if let Some(i) = index {
                        let mut region = open.remove(i);
                        region.end = call.site.span.end;
                        region.closed_by = Some(call.site.span);
                        region.left_open = false;
                        regions.push(region);
                    }
                }
                _ => {}
            }
        }
        for region in open {
            match scope_end(&region) {
                Some(with) => regions.push(end_scope(region, with)),
                None => regions.push(region),
            }
        }
        regions.sort_by_key(|r| (r.start, r.end));
        Regions { regions }
    }
}

/// `job.progress = value`: an attribute of a local object written, with the
/// statement's span.
#[derive(Debug, Clone)]
pub struct AttrWrite {
    pub var: String,
    pub attr: String,
    /// The assignment statement.
    pub span: Span,
    /// The `name.attr` target itself.
    pub target: Span,
    /// `name.attr += …`: the old value is read first.
    pub augmented: bool,
}

/// Every `name.attr = …` (also in a tuple target, `a.x, a.y = …`) and
/// `name.attr += …` of the function, `self` and `cls` excluded.
pub fn attribute_writes(facts: &FunctionFacts<'_>) -> Vec<AttrWrite> {
    let mut out = Vec::new();
    weir_ir::visit::walk_stmts(&facts.function.body, &mut |stmt: &Stmt| {
        let StmtKind::Assign { targets, op, .. } = &stmt.kind else {
            return;
        };
        for target in targets {
            let elements = match &target.kind {
                ExprKind::Collection { elements, .. } => elements.as_slice(),
                _ => std::slice::from_ref(target),
            };
            for element in elements {
                if let ExprKind::Attribute { value, attr } = &element.kind
                    && let Some(var) = value.as_name()
                    && var != "self"
                    && var != "cls"
                {
                    out.push(AttrWrite {
                        var: var.to_string(),
                        attr: attr.to_string(),
                        span: stmt.span,
                        target: element.span,
                        augmented: op.is_some(),
                    });
                }
            }
        }
    });
    out
}

/// Indices of the loops (of `facts.loops`) whose body contains `span`, outermost first.
pub fn loops_around(facts: &FunctionFacts<'_>, span: Span) -> Vec<usize> {
    let mut found: Vec<usize> = facts
        .loops
        .iter()
        .enumerate()
        .filter(|(_, lp)| !lp.is_comprehension && lp.span.contains(&span) && lp.span != span)
        .map(|(i, _)| i)
        .collect();
    found.sort_by_key(|i| std::cmp::Reverse(facts.loops[*i].span.end - facts.loops[*i].span.start));
    found
}
