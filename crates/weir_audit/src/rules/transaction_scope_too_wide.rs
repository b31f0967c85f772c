use crate::declare_rule;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::tx_common::{LONG_BODY_LINES, slow_work};
use crate::rules::with_path;

declare_rule! {
    /// ## What it does
    /// Finds HTTP or gRPC calls and file I/O made while a database
    /// transaction is open: inside `with session.begin():`/`atomic()` (not
    /// a project's own `atomic` that manages no transaction, such as a
    /// write-then-rename file helper), or between the first statement of a
    /// session (which begins a transaction implicitly) and its commit —
    /// directly or through project helpers.
    ///
    /// ## Why is this bad
    /// The transaction holds its row locks, its snapshot and a pooled
    /// connection for as long as the slow call takes; a slow or hanging
    /// upstream stalls writers on the same rows, keeps VACUUM from cleaning
    /// up and drains the pool. A failure of the remote call also rolls back
    /// database work that did not depend on it.
    ///
    /// One finding per transaction: when the same transaction also sleeps
    /// or runs longer than 50 lines, those facets are listed as evidence of
    /// this finding instead of a separate TX-05.
    ///
    /// ## Example
    /// ```python
    /// import httpx
    /// from sqlalchemy.ext.asyncio import AsyncSession
    ///
    /// async def charge(session: AsyncSession, client: httpx.AsyncClient, order_id: int):
    ///     order = await session.get(Order, order_id)
    ///     response = await client.post("https://payments/charge", json={"id": order_id})
    ///     order.status = "paid"
    ///     await session.commit()
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// import httpx
    /// from sqlalchemy.ext.asyncio import AsyncSession
    ///
    /// async def charge(session: AsyncSession, client: httpx.AsyncClient, order_id: int):
    ///     response = await client.post("https://payments/charge", json={"id": order_id})
    ///     order = await session.get(Order, order_id)
    ///     order.status = "paid"
    ///     await session.commit()
    /// ```
    /// Make the remote call before the transaction begins or after it
    /// commits (with an outbox row if it must happen exactly once).
    ///
    /// ## Known limitations
    /// A transaction is seen from the first statement on the session in this
    /// function: one already opened by the caller is not. Helpers that only
    /// query through a session they are handed do not open a region yet.
    pub struct TransactionScopeTooWide;
    id: "TX-02",
    name: "transaction-scope-too-wide",
    category: Category::TransactionCorrectness,
    summary: "HTTP/gRPC calls or file I/O inside an open transaction",
    severity: Severity::High,
    job: None,
    init: None,
    effort: Effort::M,
    languages: PYTHON,
    sources: &[
        Source { title: "SQLAlchemy: Transactions and Connection Management (Session)", url: "https://docs.sqlalchemy.org/en/20/orm/session_transaction.html", pack: Some("sqlalchemy") },
        Source { title: "PostgreSQL: Routine Vacuuming (long transactions)", url: "https://www.postgresql.org/docs/current/routine-vacuuming.html", pack: None },
    ],
}

impl Rule for TransactionScopeTooWide {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        for work in slow_work(cx) {
            let Some((span, what, _)) = work.io.first() else {
                continue;
            };
            let network = work.io.iter().any(|(_, _, net)| *net);
            let mut severity = if network {
                Severity::High
            } else {
                Severity::Medium
            };
            if matches!(
                cx.context,
                crate::facts::ExecContext::Init
                    | crate::facts::ExecContext::Migration
                    | crate::facts::ExecContext::Test
            ) {
                severity = severity.down();
            }
            let region = &work.region;
            let mut f = finding(&Self::META, cx, *span, format!("{what} while a transaction is open ({})", region.describe()))
                .severity(severity)
                .why("The transaction keeps its locks, snapshot and pooled connection for as long as the slow call takes, and a remote failure rolls back unrelated database work.")
                .help("Move the call before the first statement or after the commit; keep the transaction to the database work.")
                .evidence(&cx.module.path, region.opened_at.line, format!("transaction opened: {}", region.describe()));
            for (s, text, _) in work.io.iter().skip(1) {
                f = f.evidence(&cx.module.path, s.line, text.clone());
            }
            for (s, text) in &work.sleeps {
                f = f.evidence(&cx.module.path, s.line, text.clone());
            }
            if work.lines > LONG_BODY_LINES {
                f = f.evidence(
                    &cx.module.path,
                    region.end_line(cx),
                    format!("held for {} lines", work.lines),
                );
            }
            f = match region.closed_by {
                Some(s) => f.evidence(&cx.module.path, s.line, "transaction ends here"),
                None => f,
            };
            if let Some(w) = &work.witness {
                f = with_path(f, w);
            }
            out.push(f);
        }
    }
}
