use crate::declare_rule;
use crate::facts::resources::{LeakCause, error_path_leaks};
use crate::knowledge::ObjKind;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};

declare_rule! {
    /// ## What it does
    /// Finds a session, connection or cursor that is closed on the normal
    /// path only: between the acquisition and the `close()` a call that may
    /// raise (a query, a commit, network or file I/O, a helper that does
    /// any of it), an early `return` or a `raise` leaves the function
    /// without the release, and no `finally`, closing `except` or context
    /// manager covers it. Also finds generators that `yield` while holding
    /// a session without `try`/`finally`, such as the FastAPI dependency
    /// `db = SessionLocal(); yield db; db.close()`.
    ///
    /// ## Why is this bad
    /// Errors are exactly when pools run dry: a failing query or a timeout
    /// leaves the connection checked out, with its transaction open, until
    /// garbage collection. A yield dependency without `finally` skips its
    /// cleanup whenever the endpoint raises (the exception is thrown into
    /// the generator at the `yield`).
    ///
    /// ## Example
    /// ```python
    /// from collections.abc import Iterator
    ///
    /// from sqlalchemy.orm import Session, sessionmaker
    ///
    /// SessionLocal = sessionmaker()
    ///
    /// def get_db() -> Iterator[Session]:
    ///     db = SessionLocal()
    ///     yield db
    ///     db.close()
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from collections.abc import Iterator
    ///
    /// from sqlalchemy.orm import Session, sessionmaker
    ///
    /// SessionLocal = sessionmaker()
    ///
    /// def get_db() -> Iterator[Session]:
    ///     db = SessionLocal()
    ///     try:
    ///         yield db
    ///     finally:
    ///         db.close()
    /// ```
    ///
    /// ## Known limitations
    /// A resource never closed at all is RL-03, not this rule. Only calls
    /// known to do I/O (from the knowledge packs and the project summaries)
    /// count as calls that may raise; calls between the acquisition and the
    /// `try:` that protects the rest are not reported when they do no I/O.
    /// Cursors are left to their connection.
    pub struct LeakOnErrorPath;
    id: "RL-05",
    name: "leak-on-error-path",
    category: Category::ResourceLifecycle,
    summary: "resource closed on the normal path only; an exception or early exit skips the close",
    severity: Severity::High,
    job: Some(Severity::Medium),
    init: None,
    effort: Effort::S,
    languages: PYTHON,
    sources: &[
        Source { title: "SQLAlchemy: Opening and Closing a Session", url: "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#opening-and-closing-a-session", pack: Some("sqlalchemy") },
        Source { title: "FastAPI: Dependencies with yield", url: "https://fastapi.tiangolo.com/tutorial/dependencies/dependencies-with-yield/", pack: None },
        Source { title: "Python: The try statement (finally)", url: "https://docs.python.org/3/reference/compound_stmts.html#the-try-statement", pack: None },
    ],
}

impl Rule for LeakOnErrorPath {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        if cx.function.kind == weir_ir::FunctionKind::Module {
            return;
        }
        let path = cx.module.path.as_str();
        for leak in error_path_leaks(cx.facts, cx.summaries) {
            let acq = leak.acquisition;
            let what = format!("{} `{}` from `{}`", acq.kind.describe(), acq.var, acq.label);
            let (message, at) = match &leak.cause {
                LeakCause::Call { label, span } => (
                    format!("{what} is not closed if {label} raises"),
                    (span.line, format!("{label} may raise before the release")),
                ),
                LeakCause::Exit { raise: true, span } => (
                    format!("{what} is not closed when this function raises"),
                    (span.line, "raises before the release".to_string()),
                ),
                LeakCause::Exit { raise: false, span } => (
                    format!("{what} is not closed on an early return"),
                    (span.line, "returns before the release".to_string()),
                ),
                LeakCause::Yield { span } => (
                    format!("{what} is held across a `yield` without `try`/`finally`"),
                    (
                        span.line,
                        "suspends here; the code after it may never run".to_string(),
                    ),
                ),
            };
            let mut f = finding(&Self::META, cx.facts, acq.site.span, message)
                .why("On the error path the connection stays checked out of the pool, with its transaction open, until garbage collection; failures then exhaust the pool.")
                .help(format!(
                    "Open it with `{}with {}(…) as {}:`, or move the release into a `finally:` block.",
                    if matches!(acq.kind, ObjKind::AsyncSession | ObjKind::AsyncConnection) { "async " } else { "" },
                    acq.label,
                    acq.var
                ))
                .evidence(path, at.0, at.1);
            if let Some(release) = leak.release {
                f = f.evidence(path, release.line, "released here on the normal path only");
            }
            out.push(f);
        }
    }
}
