use weir_ir::{Stmt, StmtKind};

use crate::declare_rule;
use crate::facts::{CallFact, FunctionFacts, Scope, TryPart};
use crate::knowledge::Effect;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::call_text;

declare_rule! {
    /// ## What it does
    /// Finds commits with no rollback on the error path: a session the
    /// function opened itself (without `with`) committed outside any
    /// `try` that rolls back or closes it; and an `except` that swallows a
    /// failed commit and goes on using the same session.
    ///
    /// ## Why is this bad
    /// After a failed flush or commit the session is unusable until it is
    /// rolled back (`PendingRollbackError`), and the connection stays
    /// checked out with its transaction open. The next request or loop
    /// iteration fails in confusing ways, or the pool drains.
    ///
    /// ## Example
    /// ```python
    /// from sqlalchemy.orm import sessionmaker
    ///
    /// SessionLocal = sessionmaker()
    ///
    /// def requeue(job_ids):
    ///     session = SessionLocal()
    ///     for job_id in job_ids:
    ///         session.get(Job, job_id).status = "queued"
    ///     session.commit()
    ///     session.close()
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from sqlalchemy.orm import sessionmaker
    ///
    /// SessionLocal = sessionmaker()
    ///
    /// def requeue(job_ids):
    ///     with SessionLocal() as session, session.begin():
    ///         for job_id in job_ids:
    ///             session.get(Job, job_id).status = "queued"
    /// ```
    ///
    /// ## Known limitations
    /// Sessions received as parameters belong to the caller and are not
    /// reported for the first case.
    pub struct MissingRollback;
    id: "TX-04",
    name: "missing-rollback",
    category: Category::TransactionCorrectness,
    summary: "commit with no rollback on the error path",
    severity: Severity::Medium,
    job: None,
    init: None,
    effort: Effort::S,
    languages: PYTHON,
    sources: &[
        Source { title: "SQLAlchemy: Managing Transactions", url: "https://docs.sqlalchemy.org/en/20/orm/session_transaction.html", pack: Some("sqlalchemy") },
        Source { title: "SQLAlchemy FAQ: This Session's transaction has been rolled back due to a previous exception", url: "https://docs.sqlalchemy.org/en/20/faq/sessions.html#this-session-s-transaction-has-been-rolled-back-due-to-a-previous-exception-during-flush-or-similar", pack: Some("sqlalchemy") },
    ],
}

impl Rule for MissingRollback {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        for commit in facts.calls_with(|e| e == Effect::Commit) {
            let Some(var) = commit.receiver.as_deref() else {
                continue;
            };
            if let Some(acquired) = facts.acquisitions.iter().find(|a| a.var == var)
                && !is_covered(commit, var)
            {
                out.push(
                        finding(&Self::META, facts, commit.site.span, format!("{} has no rollback if it fails: `{var}` was opened here without `with` or `try`", call_text(commit)))
                            .why("A failed commit leaves the session in a failed transaction; without a rollback the connection stays checked out and the session unusable.")
                            .help(format!("Open the session with `with {}() as {var}, {var}.begin():`, or wrap the work in `try: … except: {var}.rollback(); raise` with `finally: {var}.close()`.", acquired.label))
                            .evidence(&facts.module.path, acquired.site.span.line, format!("`{var}` opened here")),
                    );
                continue;
            }
            if let Some(handler) = swallowing_handler(facts, commit, var) {
                let managed = facts.managed.contains(var);
                let mut f = finding(&Self::META, facts, commit.site.span, format!("the `except` at line {} swallows a failed {} and `{var}` is used again without a rollback", handler.span.line, call_text(commit)))
                    .why("After a failed commit the session must be rolled back before it is used again; otherwise every later statement fails with PendingRollbackError.")
                    .help(format!("Call `{var}.rollback()` in the `except` block (or re-raise)."))
                    .evidence(&facts.module.path, handler.span.line, "error swallowed here");
                if managed {
                    f = f.severity(Severity::Low);
                }
                out.push(f);
            }
        }
    }
}

/// True when an enclosing `try` rolls the session back in a handler or
/// closes/rolls it back in `finally`.
fn is_covered(commit: &CallFact<'_>, var: &str) -> bool {
    commit.site.scopes.iter().any(|scope| {
        let Scope::Try(stmt, TryPart::Body | TryPart::Else) = scope else {
            return false;
        };
        let StmtKind::Try {
            handlers, finally, ..
        } = &stmt.kind
        else {
            return false;
        };
        handlers
            .iter()
            .any(|h| calls_method_on(&h.body, var, &["rollback"]))
            || calls_method_on(finally, var, &["close", "rollback"])
    })
}

/// The handler of an enclosing `try` that neither rolls back nor re-raises,
/// when the session is used again after it.
fn swallowing_handler<'a>(
    facts: &FunctionFacts<'a>,
    commit: &CallFact<'a>,
    var: &str,
) -> Option<&'a weir_ir::Handler> {
    for (depth, scope) in commit.site.scopes.iter().enumerate() {
        let Scope::Try(stmt, TryPart::Body) = scope else {
            continue;
        };
        let StmtKind::Try { handlers, .. } = &stmt.kind else {
            continue;
        };
        for handler in handlers {
            if !catches_database_errors(handler)
                || calls_method_on(&handler.body, var, &["rollback", "close"])
                || leaves(&handler.body)
            {
                continue;
            }
            let in_loop = commit.site.scopes[..depth]
                .iter()
                .any(|s| matches!(s, Scope::Loop(_)));
            // A later `with SessionLocal() as session:` binds a new session.
            let used_after = facts.calls.iter().any(|c| {
                c.receiver.as_deref() == Some(var)
                    && c.site.span.start > stmt.span.end
                    && !facts.rebound_between(var, stmt.span.end, c.site.span.start)
            });
            if in_loop || used_after {
                return Some(handler);
            }
        }
    }
    None
}

/// A bare `except:`, `except Exception`, or a database error class: the
/// handlers a failed commit can land in. `except NotImplementedError:` is not.
fn catches_database_errors(handler: &weir_ir::Handler) -> bool {
    let Some(types) = &handler.types else {
        return true;
    };
    let names: Vec<String> = match &types.kind {
        weir_ir::ExprKind::Collection { elements, .. } => {
            elements.iter().filter_map(weir_ir::Expr::dotted).collect()
        }
        _ => types.dotted().into_iter().collect(),
    };
    names.iter().any(|n| {
        let last = n.rsplit('.').next().unwrap_or(n);
        matches!(last, "Exception" | "BaseException")
            || (last.ends_with("Error") && DB_ERROR_WORDS.iter().any(|w| last.contains(w)))
    })
}

const DB_ERROR_WORDS: &[&str] = &[
    "SQLAlchemy",
    "DBAPI",
    "Database",
    "Integrity",
    "Operational",
    "Data",
    "Interface",
    "Internal",
    "Programming",
    "Statement",
    "InvalidRequest",
    "PendingRollback",
    "Psycopg",
    "Postgres",
    "Transaction",
    "Serialization",
    "Deadlock",
];

/// `var.method(...)` for one of `methods`, anywhere in `block`.
fn calls_method_on(block: &[Stmt], var: &str, methods: &[&str]) -> bool {
    let mut found = false;
    weir_ir::visit::walk_block_exprs(block, &mut |e| {
        if let Some(call) = e.as_call()
            && call.method_name().is_some_and(|m| methods.contains(&m))
            && call.receiver().and_then(weir_ir::Expr::dotted).as_deref() == Some(var)
        {
            found = true;
        }
    });
    found
}

/// The handler re-raises or leaves the function.
fn leaves(block: &[Stmt]) -> bool {
    let mut found = false;
    weir_ir::visit::walk_stmts(block, &mut |s| {
        if matches!(s.kind, StmtKind::Raise { .. } | StmtKind::Return { .. }) {
            found = true;
        }
    });
    found
}
