use crate::declare_rule;
use crate::facts::resources::{is_websocket_handler, long_lived_handoffs, stream_holds, streams};
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};

declare_rule! {
    /// ## What it does
    /// Finds a request-scoped session (injected with FastAPI `Depends`)
    /// handed to work that outlives the request:
    /// `background_tasks.add_task(f, db)`, `asyncio.create_task(f(db))`,
    /// threads, executors and task queues. Streams and WebSocket loops that
    /// hold the session are RL-02; an endpoint gets one finding.
    ///
    /// ## Why is this bad
    /// The dependency closes the session when the response is sent (or,
    /// depending on the FastAPI version, keeps it open until the background
    /// work ends). Either the task uses a closed session, or the request's
    /// connection stays checked out for the task's whole run; a session is
    /// also not safe to share with concurrently running code.
    ///
    /// ## Example
    /// ```python
    /// from fastapi import APIRouter, BackgroundTasks, Depends
    /// from sqlalchemy.orm import Session
    ///
    /// from app.db import get_db
    /// from app.reports import build_report
    ///
    /// router = APIRouter()
    ///
    /// @router.post("/reports")
    /// def request_report(tasks: BackgroundTasks, db: Session = Depends(get_db)):
    ///     tasks.add_task(build_report, db)
    ///     return {"status": "queued"}
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from fastapi import APIRouter, BackgroundTasks
    ///
    /// from app.reports import build_report_with_own_session
    ///
    /// router = APIRouter()
    ///
    /// @router.post("/reports")
    /// def request_report(tasks: BackgroundTasks):
    ///     tasks.add_task(build_report_with_own_session)
    ///     return {"status": "queued"}
    /// ```
    ///
    /// ## Known limitations
    /// Only sessions injected as parameters are tracked; a session reached
    /// through `request.state` is not. The task is assumed to use the
    /// session it is given.
    pub struct InjectedSessionInLongLivedWork;
    id: "RL-06",
    name: "injected-session-in-long-lived-work",
    category: Category::ResourceLifecycle,
    summary: "request-scoped session handed to background tasks, streams or WebSockets",
    severity: Severity::High,
    job: None,
    init: None,
    effort: Effort::M,
    languages: PYTHON,
    sources: &[
        Source { title: "FastAPI: Background Tasks", url: "https://fastapi.tiangolo.com/tutorial/background-tasks/", pack: None },
        Source { title: "FastAPI: Dependencies with yield and background tasks", url: "https://fastapi.tiangolo.com/tutorial/dependencies/dependencies-with-yield/", pack: None },
    ],
}

impl Rule for InjectedSessionInLongLivedWork {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        let handoffs = long_lived_handoffs(cx.facts);
        // One finding per endpoint: a stream that holds the session is RL-02.
        let Some(first) = handoffs.first() else {
            return;
        };
        if !stream_holds(cx.facts).is_empty() {
            return;
        }
        let path = cx.module.path.as_str();
        let mut f = finding(&Self::META, cx.facts, first.span, first.text.clone())
            .why("The dependency's session belongs to the request: the work either runs on a closed session or keeps the request's connection checked out for its whole run.")
            .help("Pass ids, not the session, and let the task open its own short-lived session (`with SessionLocal() as s:`).");
        if is_websocket_handler(cx.function) || !streams(cx.facts).is_empty() {
            f = f.severity(Severity::Critical);
        }
        for other in handoffs.iter().skip(1) {
            f = f.evidence(path, other.span.line, other.text.clone());
        }
        out.push(f);
    }
}
