use crate::declare_rule;
use crate::knowledge::IoKind;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::{call_text, through, with_path};

declare_rule! {
    /// ## What it does
    /// Finds blocking I/O called directly inside an `async def`: file I/O
    /// (`open`, `Path.read_bytes`, `os.open`/`os.write`/`os.fsync`…), synchronous HTTP (`requests`, `urllib`,
    /// `httpx` module functions and `httpx.Client`), `subprocess` and
    /// `os.system`, `input()`, and synchronous database drivers and sessions
    /// (`psycopg2.connect`, `sqlite3`, a sync SQLAlchemy `Session`).
    /// File-system metadata calls (`os.path.exists`, `Path.stat()`,
    /// `Path.resolve()`, `os.makedirs`, `Path.unlink()`, `os.rename`) are
    /// one system call each on a directory entry, quick on a local disk:
    /// they are reported one level lower than reading or writing a file.
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
    /// Sync helpers are followed across files, and the finding shows the
    /// path to the blocking call; helpers that are memoised (`@cache`) or
    /// that block only behind a first-use guard (or a cache reloaded only
    /// when its key changed, `if stamp != _seen: … _seen = stamp`) or in an
    /// error handler are not reported. A bound method stored in a local and called later is
    /// resolved; one passed through containers or attributes is not.
    /// Database calls count when the session is known to be synchronous
    /// (by its type or constructor), or when they run a legacy
    /// `session.query(…)`, which only the synchronous Session has: a
    /// `db.session.execute(…)` on a session known only by its name is not
    /// reported.
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

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        if !facts.function.is_async {
            return;
        }
        for call in &facts.calls {
            if call.site.awaited || call.site.offloaded || call.site.in_lambda {
                continue;
            }
            let Some(kind) = call.blocking_io() else {
                continue;
            };
            let help = match kind {
                IoKind::File | IoKind::FileMetadata => {
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
            out.push(metadata_lower(
                kind,
                finding(&Self::META, facts, call.site.span, format!("{} is {} inside `async def {}`", call_text(call), kind.describe(), facts.function.name))
                    .why("A blocking call stalls the event loop: every other request and task waits until it returns.")
                    .help(help)
                    .evidence(&facts.module.path, facts.function.span.line, format!("`async def {}`", facts.function.name)),
            ));
        }
        for call in &facts.calls {
            if call.effect.is_some()
                || call.site.awaited
                || call.site.offloaded
                || call.site.in_lambda
            {
                continue;
            }
            let Some(summary) = facts.summaries.of_call(call) else {
                continue;
            };
            let Some((kind, witness)) = summary
                .blocks
                .as_ref()
                .filter(|_| !summary.is_async && !summary.memoized)
            else {
                continue;
            };
            let f = finding(&Self::META, facts, call.site.span, format!("{} does {} inside `async def {}`{}", call_text(call), kind.describe(), facts.function.name, through(witness)))
                .why("A blocking call stalls the event loop: every other request and task waits until it returns, even when it hides in a sync helper.")
                .help("Offload the helper with `await asyncio.to_thread(helper, ...)`, or make it async with an async library.")
                .evidence(&facts.module.path, facts.function.span.line, format!("`async def {}`", facts.function.name));
            out.push(metadata_lower(*kind, with_path(f, witness)));
        }
    }
}

/// A file-system metadata call (`exists()`, `stat()`, `resolve()`,
/// `mkdir()`, `unlink()`, `rename()`) is one system call, microseconds on a local disk: reported one level lower
/// than reading or writing a file, and said so.
fn metadata_lower(kind: IoKind, finding: Finding) -> Finding {
    if kind != IoKind::FileMetadata {
        return finding;
    }
    let severity = finding.severity.down();
    let why = format!(
        "{} A metadata call is one system call, quick on a local disk but blocking for as long as a slow or network file system takes: one level lower than reading or writing a file.",
        finding.why
    );
    finding.severity(severity).why(why)
}
