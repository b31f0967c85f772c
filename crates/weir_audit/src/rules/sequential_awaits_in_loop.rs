use weir_ir::{ExprKind, StmtKind};

use crate::declare_rule;
use crate::facts::{CallFact, Iteration, LoopRef};
use crate::knowledge::Effect;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::{call_text, describe_loop, through};

declare_rule! {
    /// ## What it does
    /// Finds network calls awaited one at a time in a `for` loop (or an
    /// async comprehension) of an `async def`, when the iterations do not
    /// depend on each other: `await client.get(url)` per URL, or an awaited
    /// project coroutine that makes such a call.
    ///
    /// ## Why is this bad
    /// The loop waits for each round trip before starting the next: N
    /// requests take N times the latency, although the event loop could
    /// have all of them in flight at once.
    ///
    /// ## Example
    /// ```python
    /// import httpx
    ///
    /// async def fetch_all(urls):
    ///     results = []
    ///     async with httpx.AsyncClient() as client:
    ///         for url in urls:
    ///             results.append(await client.get(url))
    ///     return results
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// import asyncio
    ///
    /// import httpx
    ///
    /// async def fetch_all(urls):
    ///     async with httpx.AsyncClient() as client:
    ///         return await asyncio.gather(*(client.get(url) for url in urls))
    /// ```
    /// Bound the concurrency with an `asyncio.Semaphore` when the remote
    /// side needs it.
    ///
    /// ## Known limitations
    /// Database calls are not reported: one session or connection cannot run
    /// statements concurrently. Loops that `break`/`return`, sleep between
    /// calls (pacing), or feed one iteration's result into the next are
    /// treated as deliberately sequential.
    pub struct SequentialAwaitsInLoop;
    id: "RT-07",
    name: "sequential-awaits-in-loop",
    category: Category::RuntimePerformance,
    summary: "independent awaited network calls made one at a time in a loop",
    severity: Severity::Medium,
    job: None,
    init: Some(Severity::Low),
    effort: Effort::S,
    languages: PYTHON,
    sources: &[
        Source { title: "asyncio.gather", url: "https://docs.python.org/3/library/asyncio-task.html#asyncio.gather", pack: None },
        Source { title: "asyncio.TaskGroup", url: "https://docs.python.org/3/library/asyncio-task.html#task-groups", pack: None },
    ],
}

impl Rule for SequentialAwaitsInLoop {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        if !facts.function.is_async {
            return;
        }
        let mut reported_loops = Vec::new();
        for call in &facts.calls {
            if !call.site.awaited || call.site.in_lambda {
                continue;
            }
            let via = match call.effect {
                Some(Effect::Network) => String::new(),
                None => match facts
                    .summaries
                    .of_call(call)
                    .and_then(|s| s.network.as_ref().filter(|_| s.is_async))
                {
                    Some(witness) => through(witness),
                    None => continue,
                },
                _ => continue,
            };
            let Some(lp) = concurrent_candidate_loop(facts, call) else {
                continue;
            };
            if reported_loops.contains(&lp.span) || is_deliberately_sequential(facts, lp, call) {
                continue;
            }
            reported_loops.push(lp.span);
            out.push(
                finding(&Self::META, facts, call.site.span, format!("{} is awaited one item at a time in the {}{via}", call_text(call), describe_loop(lp)))
                    .why("Each iteration waits for its round trip before the next starts: N independent requests take N times the latency.")
                    .help("Run the calls concurrently: `await asyncio.gather(*(f(x) for x in items))` or an `asyncio.TaskGroup`, bounded by an `asyncio.Semaphore` if needed.")
                    .evidence(&facts.module.path, lp.span.line, describe_loop(lp)),
            );
        }
    }
}

/// The innermost loop over items — data or a fixed list: N sequential
/// round trips cost N latencies either way. Retries, batches and endless
/// loops are sequential by design.
fn concurrent_candidate_loop<'a>(
    cx: &'a Cx<'_, '_>,
    call: &CallFact<'_>,
) -> Option<&'a LoopRef<'a>> {
    let innermost = cx.facts.loops.get(call.site.innermost_loop()?)?;
    let fits = innermost.kind == weir_ir::LoopKind::ForEach
        && matches!(innermost.iteration, Iteration::PerItem | Iteration::Literal);
    fits.then_some(innermost)
}

/// `break`/`return` in the body, an awaited sleep (pacing), or an argument
/// of the call assigned later in the body (the next iteration depends on
/// this one: `cursor = page.next`).
fn is_deliberately_sequential(cx: &Cx<'_, '_>, lp: &LoopRef<'_>, call: &CallFact<'_>) -> bool {
    let mut sequential = false;
    weir_ir::visit::walk_stmts(lp.body, &mut |stmt| {
        if matches!(stmt.kind, StmtKind::Break | StmtKind::Return { .. }) {
            sequential = true;
        }
    });
    let paced = cx.facts.calls.iter().any(|c| {
        c.effect == Some(Effect::AsyncSleep) && c.site.awaited && lp.span.contains(&c.site.span)
    });
    let mut arg_names = Vec::new();
    if let Some(c) = call.call {
        for arg in &c.args {
            weir_ir::visit::walk_expr(&arg.value, &mut |e| {
                if let ExprKind::Name { id } = &e.kind {
                    arg_names.push(id.clone());
                }
            });
        }
    }
    let carried = cx.facts.bindings.iter().any(|(name, span)| {
        arg_names.iter().any(|a| a == name)
            && lp.span.contains(span)
            && *span != lp.span
            && span.end >= call.site.span.start
    });
    sequential || paced || carried
}
