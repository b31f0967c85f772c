use crate::declare_rule;
use crate::knowledge::Effect;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::{call_text, through, with_path};

declare_rule! {
    /// ## What it does
    /// Finds `time.sleep(...)` inside an `async def` (also imported as
    /// `from time import sleep` or under an alias).
    ///
    /// ## Why is this bad
    /// `time.sleep` blocks the whole event loop for the duration: no other
    /// request or task makes progress while this one waits.
    ///
    /// ## Example
    /// ```python
    /// import time
    ///
    /// async def poll(client):
    ///     while not await client.ready():
    ///         time.sleep(1)
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// import asyncio
    ///
    /// async def poll(client):
    ///     while not await client.ready():
    ///         await asyncio.sleep(1)
    /// ```
    ///
    /// ## Known limitations
    /// Sync helpers are followed across files; a sleep that a helper reaches
    /// only in an error handler (retry after failure) is not reported. Nor
    /// is a sleep after the code signalled its own process (`os.kill(os.getpid(),
    /// sig); time.sleep(10)`, a crash hook): it waits for the process to end.
    pub struct SyncSleepInAsync;
    id: "RT-03",
    name: "sync-sleep-in-async",
    category: Category::RuntimePerformance,
    summary: "time.sleep inside an async function",
    severity: Severity::High,
    job: Some(Severity::Medium),
    init: Some(Severity::Low),
    effort: Effort::S,
    languages: PYTHON,
    sources: &[Source { title: "asyncio.sleep", url: "https://docs.python.org/3/library/asyncio-task.html#asyncio.sleep", pack: None }],
}

impl Rule for SyncSleepInAsync {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        if !facts.function.is_async {
            return;
        }
        for call in facts.calls_with(|e| e == Effect::Sleep) {
            if call.site.awaited || call.site.offloaded || call.site.in_lambda {
                continue;
            }
            out.push(
                finding(&Self::META, facts, call.site.span, format!("{} blocks the event loop inside `async def {}`", call_text(call), facts.function.name))
                    .why("A synchronous sleep stops every other task on the event loop for its whole duration.")
                    .help("Use `await asyncio.sleep(...)` (or `await anyio.sleep(...)`).")
                    .evidence(&facts.module.path, facts.function.span.line, format!("`async def {}`", facts.function.name)),
            );
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
            let Some(witness) = summary
                .sleeps
                .as_ref()
                .filter(|_| !summary.is_async && !summary.memoized)
            else {
                continue;
            };
            let f = finding(&Self::META, facts, call.site.span, format!("{} sleeps synchronously inside `async def {}`{}", call_text(call), facts.function.name, through(witness)))
                .why("A synchronous sleep stops every other task on the event loop for its whole duration.")
                .help("Make the helper async and use `await asyncio.sleep(...)`, or offload it with `await asyncio.to_thread(...)`.")
                .evidence(&facts.module.path, facts.function.span.line, format!("`async def {}`", facts.function.name));
            out.push(with_path(f, witness));
        }
    }
}
