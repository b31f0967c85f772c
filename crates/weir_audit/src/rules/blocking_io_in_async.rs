use crate::declare_rule;
use crate::facts::{CallFact, FunctionFacts};
use crate::knowledge::{Effect, IoKind};
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::call_text;

declare_rule! {
    /// ## What it does
    /// Finds blocking I/O called directly inside an `async def`: file I/O
    /// (`open`, `Path.read_bytes`…), synchronous HTTP (`requests`, `urllib`,
    /// `httpx` module functions and `httpx.Client`), `subprocess` and
    /// `os.system`, `input()`, and synchronous database drivers and sessions
    /// (`psycopg2.connect`, `sqlite3`, a sync SQLAlchemy `Session`).
    ///
    /// ## Why is this bad
    /// An event loop runs one thing at a time. A blocking call stops every
    /// other request and task on that loop until it returns: one slow file
    /// read or HTTP call becomes latency for all concurrent users.
    ///
    /// ## Example
    /// ```python
    /// from pathlib import Path
    ///
    /// async def checksum(job):
    ///     data = Path(job.payload_path).read_bytes()
    ///     return hash(data)
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// import asyncio
    /// from pathlib import Path
    ///
    /// async def checksum(job):
    ///     data = await asyncio.to_thread(Path(job.payload_path).read_bytes)
    ///     return hash(data)
    /// ```
    /// Or use an async library (`aiofiles`, `httpx.AsyncClient`, `asyncpg`,
    /// `AsyncSession`).
    ///
    /// ## Known limitations
    /// Blocking calls inside sync helpers called from async code are not
    /// followed yet.
    pub struct BlockingIoInAsync;
    id: "RT-01",
    name: "blocking-io-in-async",
    category: Category::RuntimePerformance,
    summary: "blocking I/O inside an async function",
    severity: Severity::High,
    job: Some(Severity::Medium),
    init: Some(Severity::Low),
    effort: Effort::S,
    languages: PYTHON,
    sources: &[
        Source { title: "asyncio: Running Blocking Code", url: "https://docs.python.org/3/library/asyncio-dev.html#running-blocking-code", pack: None },
        Source { title: "asyncio.to_thread", url: "https://docs.python.org/3/library/asyncio-task.html#asyncio.to_thread", pack: None },
        Source { title: "SQLAlchemy: Asynchronous I/O (asyncio)", url: "https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html", pack: Some("sqlalchemy") },
    ],
}

impl Rule for BlockingIoInAsync {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &FunctionFacts<'_>, out: &mut Vec<Finding>) {
        if !facts.function.is_async {
            return;
        }
        for call in &facts.calls {
            if call.site.awaited || call.site.offloaded || call.site.in_lambda {
                continue;
            }
            let Some(kind) = blocking_kind(call) else {
                continue;
            };
            let help = match kind {
                IoKind::File => {
                    "Offload it with `await asyncio.to_thread(...)`, or use `aiofiles` / `anyio.Path`."
                }
                IoKind::Http => {
                    "Use an async client (`httpx.AsyncClient`, `aiohttp`), or offload with `await asyncio.to_thread(...)`."
                }
                IoKind::Subprocess => {
                    "Use `asyncio.create_subprocess_exec(...)`, or offload with `await asyncio.to_thread(...)`."
                }
                IoKind::Database => {
                    "Use the async driver or session (`asyncpg`, `psycopg.AsyncConnection`, `AsyncSession`), or offload with `await asyncio.to_thread(...)`."
                }
                IoKind::Socket | IoKind::Input => {
                    "Use asyncio streams, or offload with `await asyncio.to_thread(...)`."
                }
            };
            out.push(
                finding(&Self::META, facts, call.site.span, format!("{} is {} inside `async def {}`", call_text(call), kind.describe(), facts.function.name))
                    .why("A blocking call stalls the event loop: every other request and task waits until it returns.")
                    .help(help)
                    .evidence(&facts.module.path, facts.function.span.line, format!("`async def {}`", facts.function.name)),
            );
        }
    }
}

/// What kind of blocking I/O the call does, if any: a known blocking API, or
/// a database call on an object known for certain to be synchronous.
fn blocking_kind(call: &CallFact<'_>) -> Option<IoKind> {
    match call.effect? {
        Effect::Blocking(kind) => Some(kind),
        Effect::Query(_) | Effect::Commit | Effect::Rollback | Effect::Flush | Effect::Stage(_) => {
            let receiver = call.receiver_kind?;
            // `session.add` only stages; it does no I/O by itself.
            let is_io = !matches!(call.effect, Some(Effect::Stage(_)));
            (receiver.certain && receiver.kind.is_sync_db() && is_io).then_some(IoKind::Database)
        }
        _ => None,
    }
}
