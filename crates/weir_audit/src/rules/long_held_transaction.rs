use crate::declare_rule;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::tx_common::{LONG_BODY_LINES, slow_work};
use crate::rules::with_path;

declare_rule! {
    /// ## What it does
    /// Finds transactions held open across sleeps (`asyncio.sleep`,
    /// `time.sleep`, directly or through helpers) or over a long body (more
    /// than 50 lines of statements, blank lines and comments aside, from the
    /// statement that begins the transaction to the commit that ends it, the
    /// end of its `with` block, or the end of the function).
    ///
    /// ## Why is this bad
    /// An open transaction pins a pooled connection, keeps its row locks and
    /// holds back VACUUM for every table; idle-in-transaction sessions are
    /// the classic cause of lock queues and bloat.
    ///
    /// A transaction that also makes network calls or file I/O is reported
    /// once, as TX-02, with the sleep and the length as evidence.
    ///
    /// ## Example
    /// ```python
    /// import asyncio
    /// from sqlalchemy.ext.asyncio import AsyncSession
    ///
    /// async def wait_for_stock(session: AsyncSession, item_id: int):
    ///     item = await session.get(Item, item_id)
    ///     while item.stock == 0:
    ///         await asyncio.sleep(5)
    ///         await session.refresh(item)
    ///     await session.commit()
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// import asyncio
    /// from sqlalchemy.ext.asyncio import AsyncSession
    ///
    /// async def wait_for_stock(session: AsyncSession, item_id: int):
    ///     while True:
    ///         item = await session.get(Item, item_id)
    ///         stock = item.stock
    ///         await session.commit()
    ///         if stock:
    ///             return
    ///         await asyncio.sleep(5)
    /// ```
    ///
    /// ## Known limitations
    /// The 50-line threshold is a constant, and a long body counts only for
    /// transactions opened on purpose (`begin()`, `atomic`): an implicit
    /// transaction over a long function that does database work only is
    /// not reported. Sleeps inside a transaction the caller opened are not
    /// seen. A sleep (or I/O, for TX-02) in a branch that only runs in
    /// development or under tests is not counted, here or in helpers: `if
    /// settings.DEBUG:`, an `and` with it, or `if "flag" in
    /// debug_flags.get():` on a value named for debugging or imported from
    /// the project's test utilities (`testutils`, `testing`, `tests`).
    pub struct LongHeldTransaction;
    id: "TX-05",
    name: "long-held-transaction",
    category: Category::TransactionCorrectness,
    summary: "a transaction held across sleeps or a long body",
    severity: Severity::High,
    job: None,
    init: None,
    effort: Effort::M,
    languages: PYTHON,
    sources: &[
        Source { title: "PostgreSQL: idle_in_transaction_session_timeout", url: "https://www.postgresql.org/docs/current/runtime-config-client.html", pack: None },
        Source { title: "SQLAlchemy: Transactions and Connection Management (Session)", url: "https://docs.sqlalchemy.org/en/20/orm/session_transaction.html", pack: Some("sqlalchemy") },
    ],
}

impl Rule for LongHeldTransaction {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        for work in slow_work(cx) {
            if !work.io.is_empty() {
                continue; // reported once, as TX-02
            }
            let region = &work.region;
            let long = work.lines > LONG_BODY_LINES;
            let (span, message, mut severity) = match work.sleeps.first() {
                Some((span, what)) => (
                    *span,
                    format!("{what} while a transaction is open ({})", region.describe()),
                    Severity::High,
                ),
                None if long => (
                    region.opened_at,
                    format!(
                        "a transaction is held open for {} lines ({})",
                        work.lines,
                        region.describe()
                    ),
                    Severity::Medium,
                ),
                None => continue,
            };
            if matches!(
                cx.context,
                crate::facts::ExecContext::Init
                    | crate::facts::ExecContext::Migration
                    | crate::facts::ExecContext::Test
            ) {
                severity = severity.down();
            }
            let mut f = finding(&Self::META, cx, span, message)
                .severity(severity)
                .why("An open transaction pins a pooled connection, keeps its locks and holds back VACUUM while nothing happens.")
                .help("Commit (or do not begin) before waiting; split long work into short transactions around the database statements.")
                .evidence(&cx.module.path, region.opened_at.line, format!("transaction opened: {}", region.describe()));
            if long {
                f = f.evidence(
                    &cx.module.path,
                    region.end_line(cx),
                    format!("held for {} lines", work.lines),
                );
            }
            if let Some(w) = &work.witness {
                f = with_path(f, w);
            }
            out.push(f);
        }
    }
}
