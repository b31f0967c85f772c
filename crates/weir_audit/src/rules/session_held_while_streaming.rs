use crate::declare_rule;
use crate::facts::resources::{long_lived_handoffs, stream_holds};
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};

declare_rule! {
    /// ## What it does
    /// Finds streaming endpoints that hold a database session for the whole
    /// stream: a `StreamingResponse` or sse-starlette `EventSourceResponse`
    /// whose generator uses a session injected with `Depends` or opened by
    /// the handler outside the generator, and WebSocket handlers
    /// (`@router.websocket`, a `WebSocket` parameter) that keep a session
    /// across their message loop. One finding per endpoint; a session also
    /// handed to background work is listed as evidence.
    ///
    /// ## Why is this bad
    /// A stream lives as long as the client keeps reading: minutes or hours
    /// for SSE and WebSockets. The session keeps its pooled connection (and
    /// often an open transaction) all that time, so a few dozen listeners
    /// exhaust the pool and every other request waits for `pool_timeout`.
    ///
    /// ## Example
    /// ```python
    /// from fastapi import APIRouter, Depends
    /// from fastapi.responses import StreamingResponse
    /// from sqlalchemy.orm import Session
    ///
    /// from app.db import get_db
    ///
    /// router = APIRouter()
    ///
    /// @router.get("/export")
    /// def export(db: Session = Depends(get_db)):
    ///     def rows():
    ///         for order in db.query(Order).yield_per(500):
    ///             yield f"{order.id},{order.total}\n"
    ///     return StreamingResponse(rows(), media_type="text/csv")
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from fastapi import APIRouter
    /// from fastapi.responses import StreamingResponse
    ///
    /// from app.db import SessionLocal
    ///
    /// router = APIRouter()
    ///
    /// @router.get("/export")
    /// def export():
    ///     def rows():
    ///         with SessionLocal() as db:
    ///             for order in db.query(Order).yield_per(500):
    ///                 yield f"{order.id},{order.total}\n"
    ///     return StreamingResponse(rows(), media_type="text/csv")
    /// ```
    ///
    /// ## Known limitations
    /// Generators are followed when they are nested in the handler or called
    /// with the session as an argument; a generator defined elsewhere that
    /// reaches the session through a global is not seen. A WebSocket handler
    /// that uses an injected session anywhere is reported: the dependency
    /// keeps it until the connection ends.
    pub struct SessionHeldWhileStreaming;
    id: "RL-02",
    name: "session-held-while-streaming",
    category: Category::ResourceLifecycle,
    summary: "SSE/WebSocket/streaming handler holds a DB session for the whole stream",
    severity: Severity::Critical,
    job: None,
    init: None,
    effort: Effort::M,
    languages: PYTHON,
    sources: &[
        Source { title: "FastAPI: Dependencies with yield and StreamingResponse", url: "https://fastapi.tiangolo.com/tutorial/dependencies/dependencies-with-yield/", pack: None },
        Source { title: "SQLAlchemy: When do I construct a Session, when do I commit it, and when do I close it?", url: "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#session-faq-whentocreate", pack: Some("sqlalchemy") },
    ],
}

impl Rule for SessionHeldWhileStreaming {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        let holds = stream_holds(cx.facts);
        let Some(first) = holds.first() else { return };
        let path = cx.module.path.as_str();
        let mut f = finding(&Self::META, cx.facts, first.span, first.text.clone())
            .why("A stream lasts as long as the client reads; the session keeps its pooled connection (and often a transaction) open all that time, so a few listeners exhaust the pool.")
            .help("Open a short-lived session inside the generator or per message (`async with SessionLocal() as s:`) and close it before waiting on the client; load what the stream needs up front when possible.");
        for other in holds.iter().skip(1) {
            f = f.evidence(path, other.span.line, other.text.clone());
        }
        for handoff in long_lived_handoffs(cx.facts) {
            f = f.evidence(
                path,
                handoff.span.line,
                format!("also RL-06: {}", handoff.text),
            );
        }
        out.push(f);
    }
}
