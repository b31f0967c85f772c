use weir_ir::{Expr, ExprKind};

use crate::declare_rule;
use crate::facts::CallFact;
use crate::knowledge::Effect;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::{call_text, through, with_path};

declare_rule! {
    /// ## What it does
    /// Finds CPU-bound work done directly on the event loop inside an
    /// `async def`: password hashing (`bcrypt`, `passlib`, `argon2`,
    /// `hashlib.pbkdf2_hmac`/`scrypt`), image processing (`PIL`, `cv2`),
    /// XML/HTML parsing (`lxml`, `ElementTree`, `BeautifulSoup`), and
    /// `json.loads` of a request or response body read in full — directly
    /// or through synchronous helpers.
    ///
    /// ## Why is this bad
    /// The event loop runs one thing at a time. A bcrypt hash takes a
    /// deliberate 100–300 ms; resizing an image or parsing a large document
    /// takes as long. Every other request on the worker waits.
    ///
    /// ## Example
    /// ```python
    /// import bcrypt
    ///
    /// async def register(payload):
    ///     hashed = bcrypt.hashpw(payload.password.encode(), bcrypt.gensalt())
    ///     return hashed
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// import asyncio
    ///
    /// import bcrypt
    ///
    /// async def register(payload):
    ///     hashed = await asyncio.to_thread(bcrypt.hashpw, payload.password.encode(), bcrypt.gensalt())
    ///     return hashed
    /// ```
    /// For heavy, parallelisable work use a process pool
    /// (`loop.run_in_executor(ProcessPoolExecutor(), ...)`).
    ///
    /// ## Known limitations
    /// The size of JSON payloads is not known statically: `json.loads` is
    /// reported only for a body read in full just before (`await request.body()`).
    pub struct CpuBoundInAsync;
    id: "RT-05",
    name: "cpu-bound-in-async",
    category: Category::RuntimePerformance,
    summary: "CPU-bound work (hashing, image or XML parsing) on the event loop",
    severity: Severity::Medium,
    job: None,
    init: Some(Severity::Low),
    effort: Effort::S,
    languages: PYTHON,
    sources: &[
        Source { title: "asyncio: Running Blocking Code", url: "https://docs.python.org/3/library/asyncio-dev.html#running-blocking-code", pack: None },
        Source { title: "asyncio: loop.run_in_executor", url: "https://docs.python.org/3/library/asyncio-eventloop.html#asyncio.loop.run_in_executor", pack: None },
    ],
}

impl Rule for CpuBoundInAsync {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        if !facts.function.is_async {
            return;
        }
        let async_def = format!("`async def {}`", facts.function.name);
        for call in &facts.calls {
            if call.site.awaited || call.site.offloaded || call.site.in_lambda {
                continue;
            }
            let heavy = match call.effect {
                Some(Effect::CpuHeavy) => true,
                Some(Effect::Deserialize) => parses_full_body(call),
                _ => false,
            };
            if heavy {
                out.push(
                    finding(&Self::META, facts, call.site.span, format!("{} is CPU-bound work on the event loop inside {async_def}", call_text(call)))
                        .why("CPU-bound work holds the event loop: no other request or task runs until it finishes.")
                        .help("Offload it: `await asyncio.to_thread(...)`, or a process pool for heavy work.")
                        .evidence(&facts.module.path, facts.function.span.line, async_def.clone()),
                );
                continue;
            }
            if call.effect.is_some() {
                continue;
            }
            let Some(summary) = facts.summaries.of_call(call) else {
                continue;
            };
            let Some(witness) = summary
                .cpu
                .as_ref()
                .filter(|_| !summary.is_async && !summary.memoized)
            else {
                continue;
            };
            let f = finding(&Self::META, facts, call.site.span, format!("{} does CPU-bound work on the event loop inside {async_def}{}", call_text(call), through(witness)))
                .why("CPU-bound work holds the event loop: no other request or task runs until it finishes.")
                .help("Offload the helper: `await asyncio.to_thread(helper, ...)`.")
                .evidence(&facts.module.path, facts.function.span.line, async_def.clone());
            out.push(with_path(f, witness));
        }
    }
}

/// `json.loads(await request.body())`, `json.loads(await resp.read())`.
fn parses_full_body(call: &CallFact<'_>) -> bool {
    let Some(arg) = call.first_arg else {
        return false;
    };
    let mut found = false;
    weir_ir::visit::walk_expr(arg, &mut |e: &Expr| {
        if let ExprKind::Await { value } = &e.kind
            && value
                .as_call()
                .and_then(|c| c.method_name())
                .is_some_and(|m| matches!(m, "body" | "read" | "aread" | "text" | "content"))
        {
            found = true;
        }
    });
    found
}
