use weir_ir::FunctionKind;

use crate::declare_rule;
use crate::facts::{Scope, TryPart};
use crate::knowledge::{Effect, ObjKind};
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};

declare_rule! {
    /// ## What it does
    /// Finds a session, connection or cursor opened into a local variable
    /// (`Session()`, `SessionLocal()`, `engine.connect()`, `psycopg2.connect()`,
    /// `await pool.acquire()`, `conn.cursor()`) that is never released: no
    /// `with`, no `close()`, and the object is not returned or handed on (a
    /// returned `conn.cursor()` hands on its connection: `cursor.connection`).
    /// A cursor is also released when the function closes the connection
    /// that made it in a `finally:` block (DB-API: closing a connection
    /// closes its cursors).
    ///
    /// ## Why is this bad
    /// The connection stays checked out of the pool (with its transaction
    /// open) until garbage collection, if ever. Under load the pool runs dry
    /// and requests queue for `pool_timeout` seconds, then fail.
    ///
    /// ## Example
    /// ```python
    /// from sqlalchemy.orm import sessionmaker
    ///
    /// SessionLocal = sessionmaker()
    ///
    /// def count_jobs():
    ///     session = SessionLocal()
    ///     return session.query(Job).count()
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from sqlalchemy.orm import sessionmaker
    ///
    /// SessionLocal = sessionmaker()
    ///
    /// def count_jobs():
    ///     with SessionLocal() as session:
    ///         return session.query(Job).count()
    /// ```
    ///
    /// ## Known limitations
    /// A `close()` that is skipped on an error path is a different finding
    /// (RL-05). Objects handed to other functions are assumed released there.
    /// `session.connection()` is not an acquisition: the session releases
    /// the connection it holds when its transaction ends; nor is
    /// `object_session(obj)` / `async_object_session(obj)`, the session an
    /// object already belongs to.
    pub struct MissingCleanup;
    id: "RL-03",
    name: "missing-cleanup",
    category: Category::ResourceLifecycle,
    summary: "session, connection or cursor opened without with/finally/close",
    severity: Severity::High,
    job: None,
    init: None,
    effort: Effort::S,
    languages: PYTHON,
    sources: &[
        Source { title: "SQLAlchemy: Opening and Closing a Session", url: "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#opening-and-closing-a-session", pack: Some("sqlalchemy") },
        Source { title: "psycopg2: connection.close and with statement", url: "https://www.psycopg.org/docs/usage.html#with-statement", pack: Some("dbapi") },
    ],
}

impl Rule for MissingCleanup {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        // Module-level connections are process-lifetime by design.
        if facts.function.kind == FunctionKind::Module {
            return;
        }
        for acq in &facts.acquisitions {
            let var = acq.var.as_str();
            if facts.managed.contains(var) || facts.escapes.contains(var) {
                continue;
            }
            let closes = |name: &str| {
                facts
                    .calls_with(|e| e == Effect::Close)
                    .any(|c| c.receiver.as_deref() == Some(name))
            };
            if closes(var) {
                continue;
            }
            // DB-API: closing the connection closes the cursors it made
            // (`cursor = conn.cursor()` … `finally: conn.close()`). Only a
            // close in `finally` runs on every path.
            let closed_finally = |owner: &str| {
                facts.calls_with(|e| e == Effect::Close).any(|c| {
                    c.receiver.as_deref() == Some(owner)
                        && c.site
                            .scopes
                            .iter()
                            .any(|s| matches!(s, Scope::Try(_, TryPart::Finally)))
                })
            };
            if acq.kind == ObjKind::Cursor
                && acq
                    .label
                    .strip_suffix(".cursor")
                    .is_some_and(closed_finally)
            {
                continue;
            }
            let mut f = finding(&Self::META, facts, acq.site.span, format!("{} `{var}` from `{}` is never closed", acq.kind.describe(), acq.label))
                .why("An unreleased session or connection stays checked out of the pool, with its transaction open, until garbage collection; under load the pool runs dry.")
                .help(format!(
                    "Use `{}with {}(…) as {var}:`, or close it in a `finally:` block.",
                    if matches!(acq.kind, ObjKind::AsyncSession | ObjKind::AsyncConnection) { "async " } else { "" },
                    acq.label
                ));
            // A cursor is one level below a session or connection (SPEC:
            // HIGH session/conn, MEDIUM cursor), wherever the code runs: a
            // migration's cursor is one level below a migration's
            // connection, LOW.
            if acq.kind == ObjKind::Cursor {
                let lower = f.severity.down();
                f = f.severity(lower);
            }
            out.push(f);
        }
    }
}
