use weir_ir::{Expr, ExprKind, Operator};

use crate::declare_rule;
use crate::facts::{CallFact, FunctionFacts, LoopRef, Scope};
use crate::knowledge::Effect;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::{call_text, calls_through_at, describe_loop, through, with_path};

declare_rule! {
    /// ## What it does
    /// Finds `commit()` or `flush()` called on every iteration of a `for`
    /// loop.
    ///
    /// ## Why is this bad
    /// Every commit is a durable write (an fsync of the WAL) and a round trip;
    /// a thousand items become a thousand transactions. A failure halfway
    /// leaves half the batch committed, which is rarely what the caller wants.
    ///
    /// ## Example
    /// ```python
    /// from sqlalchemy.orm import Session
    ///
    /// def archive(session: Session, jobs):
    ///     for job in jobs:
    ///         job.archived = True
    ///         session.commit()
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from sqlalchemy.orm import Session
    ///
    /// def archive(session: Session, jobs):
    ///     for job in jobs:
    ///         job.archived = True
    ///     session.commit()
    /// ```
    /// For very large batches, commit every N items (`if i % 500 == 0:`).
    ///
    /// ## Known limitations
    /// Commits inside helpers called from the loop are followed across
    /// files; a helper that commits only under a boolean parameter
    /// (`if commit: await self.session.commit()`) commits when the call
    /// passes it true or leaves it at a true default, not when it passes
    /// `commit=False`. Not reported: commits under a batching condition (`%`,
    /// `len(...)` comparisons), commits per chunk or per retry attempt,
    /// loops over a collection under a test that it holds one item (`if
    /// len(realms) == 1: for name in realms:`),
    /// commits in `while` worker loops, commits per definition of a module
    /// (`vars(migrations).items()`: one migration step each), sessions
    /// opened per item inside the loop (a unit of work per item by design),
    /// a helper handed a session opened for the item (`with
    /// get_organization_session(slug) as s:`: one transaction per tenant
    /// database or schema), and a flush that isolates one row's constraint violation (in a `try`
    /// that catches `IntegrityError`, or in a `begin_nested()` savepoint):
    /// the transaction still ends once, after the loop.
    pub struct CommitInLoop;
    id: "TX-07",
    name: "commit-in-loop",
    category: Category::TransactionCorrectness,
    summary: "commit or flush once per loop item",
    severity: Severity::High,
    job: None,
    init: None,
    effort: Effort::S,
    languages: PYTHON,
    sources: &[
        Source { title: "SQLAlchemy: Transactions and Connection Management (Session)", url: "https://docs.sqlalchemy.org/en/20/orm/session_transaction.html", pack: Some("sqlalchemy") },
        Source { title: "PostgreSQL: Populating a Database", url: "https://www.postgresql.org/docs/current/populate.html", pack: None },
    ],
}

impl Rule for CommitInLoop {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        for call in facts.calls_with(|e| matches!(e, Effect::Commit | Effect::Flush)) {
            let Some(index) = call.site.innermost_loop() else {
                continue;
            };
            // Followed by `break`/`return`: once, not once per item.
            if call.site.leaves_innermost_loop() {
                continue;
            }
            let lp = &facts.loops[index];
            if lp.is_comprehension || !lp.is_per_item() {
                continue;
            }
            // A flush or commit in an error handler runs for failing items only.
            let in_handler = call
                .site
                .scopes_in_innermost_loop()
                .iter()
                .any(|s| matches!(s, Scope::Try(_, crate::facts::TryPart::Handler(_))));
            if in_handler {
                continue;
            }
            if call.effect == Some(Effect::Flush) && isolates_row_errors(call) {
                continue;
            }
            let batched = call.site.scopes_in_innermost_loop().iter().any(
                |s| matches!(s, Scope::If(test, _) | Scope::Else(test) if is_batch_condition(test)),
            );
            if batched || is_unit_of_work_per_item(facts, call, lp) {
                continue;
            }
            let verb = if call.effect == Some(Effect::Flush) {
                "flushes"
            } else {
                "commits"
            };
            out.push(
                finding(&Self::META, facts, call.site.span, format!("{} {verb} once per item of the {}", call_text(call), describe_loop(lp)))
                    .why("One transaction per item: a durable write and a round trip each, and a failure leaves the batch half applied.")
                    .help("Commit once after the loop, or every N items for very large batches (`if i % 500 == 0: session.commit()`).")
                    .evidence(&facts.module.path, lp.span.line, describe_loop(lp)),
            );
        }
        for (call, witness) in calls_through_at(facts, |s, c| s.commits_at(c)) {
            if call.effect.is_some() {
                continue;
            }
            let Some(index) = call.site.innermost_loop() else {
                continue;
            };
            // Followed by `break`/`return`: once, not once per item.
            if call.site.leaves_innermost_loop() {
                continue;
            }
            let lp = &facts.loops[index];
            let batched = call.site.scopes_in_innermost_loop().iter().any(
                |s| matches!(s, Scope::If(test, _) | Scope::Else(test) if is_batch_condition(test)),
            );
            // A helper handed this item's own session (`with
            // get_organization_session(slug) as s: purge(db_session=s)`)
            // commits once per database, the only way to reach them all.
            if lp.is_comprehension
                || !lp.is_per_item()
                || batched
                || crate::rules::runs_on_item_connection(
                    facts,
                    call,
                    call.site.scopes_in_innermost_loop(),
                    lp,
                )
            {
                continue;
            }
            let f = finding(&Self::META, facts, call.site.span, format!("{} commits once per item of the {}{}", call_text(call), describe_loop(lp), through(witness)))
                .why("One transaction per item: a durable write and a round trip each, and a failure leaves the batch half applied.")
                .help("Move the commit out of the helper into the caller, after the loop (or every N items).")
                .evidence(&facts.module.path, lp.span.line, describe_loop(lp));
            out.push(with_path(f, witness));
        }
    }
}

/// The session is opened inside the loop body (`with SessionLocal() as s:`
/// per item): each item is its own unit of work by design.
fn is_unit_of_work_per_item(
    facts: &FunctionFacts<'_>,
    call: &CallFact<'_>,
    lp: &LoopRef<'_>,
) -> bool {
    let Some(var) = call.receiver.as_deref() else {
        return false;
    };
    facts
        .binding_before(var, call.site.span.start)
        .is_some_and(|bound| {
            bound.start > lp.span.start && bound.start < lp.span.end && bound.start != lp.span.start
        })
}

/// The flush sends one row on its own to learn whether that row breaks a
/// constraint: it is in the body of a `try` that catches `IntegrityError`,
/// or in a savepoint (`with session.begin_nested():`), SQLAlchemy's
/// documented way to skip or retry one failing row without losing the
/// transaction. The transaction still ends once, after the loop.
fn isolates_row_errors(call: &CallFact<'_>) -> bool {
    use weir_ir::StmtKind;
    call.site
        .scopes_in_innermost_loop()
        .iter()
        .any(|s| match s {
            Scope::Try(stmt, crate::facts::TryPart::Body) => {
                matches!(&stmt.kind, StmtKind::Try { handlers, .. } if handlers.iter().any(|h| {
                    h.types.as_ref().is_some_and(catches_integrity_error)
                }))
            }
            Scope::With(stmt) => {
                matches!(&stmt.kind, StmtKind::With { items, .. } if items.iter().any(|item| {
                    item.context
                        .as_call()
                        .is_some_and(|c| c.method_name() == Some("begin_nested"))
                }))
            }
            _ => false,
        })
}

/// `except IntegrityError`, `except (IntegrityError, UniqueViolation)`,
/// `except sqlalchemy.exc.IntegrityError`.
fn catches_integrity_error(types: &Expr) -> bool {
    let mut found = false;
    weir_ir::visit::walk_expr(types, &mut |e| {
        found |= e
            .dotted()
            .is_some_and(|d| d.rsplit('.').next() == Some("IntegrityError"));
    });
    found
}

/// `i % 100 == 0`, `len(batch) >= size`: the commit happens every N items.
fn is_batch_condition(test: &Expr) -> bool {
    let mut found = false;
    weir_ir::visit::walk_expr(test, &mut |e| match &e.kind {
        ExprKind::Binary {
            op: Operator::Mod, ..
        } => found = true,
        ExprKind::Compare(cmp) => {
            let weir_ir::Compare {
                left, comparators, ..
            } = &**cmp;
            let is_len = |x: &Expr| {
                x.as_call()
                    .is_some_and(|c| c.callee.as_name() == Some("len"))
            };
            if is_len(left) || comparators.iter().any(is_len) {
                found = true;
            }
        }
        _ => {}
    });
    found
}
