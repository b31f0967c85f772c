use crate::declare_rule;
use crate::facts::FunctionFacts;
use crate::knowledge::Effect;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::call_text;

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
    /// Sleeps inside sync helpers called from async code are not followed yet.
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

    fn check(&self, facts: &FunctionFacts<'_>, out: &mut Vec<Finding>) {
        if !facts.function.is_async {
            return;
        }
        for call in facts.calls_with(|e| e == Effect::Sleep) {
            if call.site.offloaded || call.site.in_lambda {
                continue;
            }
            out.push(
                finding(&Self::META, facts, call.site.span, format!("{} blocks the event loop inside `async def {}`", call_text(call), facts.function.name))
                    .why("A synchronous sleep stops every other task on the event loop for its whole duration.")
                    .help("Use `await asyncio.sleep(...)` (or `await anyio.sleep(...)`).")
                    .evidence(&facts.module.path, facts.function.span.line, format!("`async def {}`", facts.function.name)),
            );
        }
    }
}
