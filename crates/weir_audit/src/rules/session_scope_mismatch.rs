use weir_ir::Span;

use crate::declare_rule;
use crate::facts::resources::{injected_sessions, mentions};
use crate::knowledge::{Effect, IoKind};
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};

declare_rule! {
    /// ## What it does
    /// Finds a request-scoped session (injected with `Depends`) used only in
    /// a small part of a long handler: its first-to-last use covers less
    /// than 20 % of the body, and after the last use the handler makes
    /// external calls (HTTP, sleeps, file I/O, directly or through helpers)
    /// or runs more than 50 lines of non-database work. Handlers shorter
    /// than 10 lines are not considered. Network calls and sleeps are HIGH;
    /// file I/O alone (a template read from disk) is MEDIUM.
    ///
    /// ## Why is this bad
    /// The dependency keeps the session, and the connection it checked out,
    /// until the response is sent. Slow work after the last query holds a
    /// pooled connection that does nothing, so the pool is exhausted at a
    /// fraction of the load it could serve.
    ///
    /// ## Example
    /// ```python
    /// import httpx
    /// from fastapi import APIRouter, Depends
    /// from sqlalchemy.orm import Session
    ///
    /// from app.db import get_db
    ///
    /// router = APIRouter()
    ///
    /// @router.post("/orders/{order_id}/ship")
    /// def ship(order_id: int, db: Session = Depends(get_db)):
    ///     order = db.get(Order, order_id)
    ///     address = order.address
    ///     label = httpx.post("https://carrier.example/labels", json={"to": address})
    ///     tracking = label.json()["tracking"]
    ///     httpx.post("https://mail.example/send", json={"tracking": tracking})
    ///     summary = {"order": order_id, "tracking": tracking}
    ///     summary["carrier"] = "example"
    ///     summary["status"] = "shipped"
    ///     summary["label"] = label.status_code
    ///     return summary
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// import httpx
    /// from fastapi import APIRouter
    ///
    /// from app.db import SessionLocal
    ///
    /// router = APIRouter()
    ///
    /// @router.post("/orders/{order_id}/ship")
    /// def ship(order_id: int):
    ///     with SessionLocal() as db:
    ///         address = db.get(Order, order_id).address
    ///     label = httpx.post("https://carrier.example/labels", json={"to": address})
    ///     tracking = label.json()["tracking"]
    ///     httpx.post("https://mail.example/send", json={"tracking": tracking})
    ///     summary = {"order": order_id, "tracking": tracking}
    ///     summary["carrier"] = "example"
    ///     summary["status"] = "shipped"
    ///     summary["label"] = label.status_code
    ///     return summary
    /// ```
    ///
    /// ## Known limitations
    /// Lines are counted, not statements; a commit or close before the slow
    /// work is not taken as the end of the session's use. An object built
    /// around the session (`service = OrderService(session)`, a CapWords
    /// class given it) uses the session wherever it is used.
    pub struct SessionScopeMismatch;
    id: "RL-01",
    name: "session-scope-mismatch",
    category: Category::ResourceLifecycle,
    summary: "request-scoped session used in a small part of a long handler with slow work after it",
    severity: Severity::High,
    job: None,
    init: None,
    effort: Effort::M,
    languages: PYTHON,
    sources: &[
        Source { title: "FastAPI: Dependencies with yield", url: "https://fastapi.tiangolo.com/tutorial/dependencies/dependencies-with-yield/", pack: None },
        Source { title: "SQLAlchemy: When do I construct a Session, when do I commit it, and when do I close it?", url: "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#session-faq-whentocreate", pack: Some("sqlalchemy") },
    ],
}

/// Locals holding an object built around the session: `service =
/// IntegrationService(session, role=role)`, a class (by its CapWords name)
/// given the session. Its methods use the session, so using it is using the
/// session. A plain function's result (`keys = list_keys(session)`) is data.
fn session_holders(body: &[weir_ir::Stmt], var: &str) -> Vec<String> {
    let mut holders = Vec::new();
    weir_ir::visit::walk_stmts(body, &mut |stmt| {
        if let Some(([target], value)) = stmt.plain_assign()
            && let Some(name) = target.as_name()
            && let Some(call) = value.unawaited().as_call()
            && call
                .callee
                .dotted()
                .and_then(|d| d.rsplit('.').next().and_then(|n| n.chars().next()))
                .is_some_and(char::is_uppercase)
            && call.args.iter().any(|a| mentions(&a.value, var))
        {
            holders.push(name.to_string());
        }
    });
    holders
}

const MIN_BODY_LINES: u32 = 10;
const LONG_TAIL_LINES: u32 = 50;

impl Rule for SessionScopeMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        let body = &cx.function.body;
        let (Some(first), Some(last)) = (body.first(), body.last()) else {
            return;
        };
        let body_span = Span {
            end: last.span.end,
            end_line: last.span.end_line,
            ..first.span
        };
        let body_lines = last.span.end_line.saturating_sub(first.span.line) + 1;
        if body_lines < MIN_BODY_LINES {
            return;
        }
        for held in injected_sessions(cx.facts) {
            let holders = session_holders(body, &held.var);
            let mut uses: Vec<Span> = Vec::new();
            weir_ir::visit::walk_block_exprs(body, &mut |e| {
                if e.as_name()
                    .is_some_and(|n| n == held.var || holders.iter().any(|h| h == n))
                {
                    uses.push(e.span);
                }
            });
            let (Some(first_use), Some(last_use)) = (
                uses.iter().map(|s| s.line).min(),
                uses.iter().map(|s| s.end_line).max(),
            ) else {
                continue;
            };
            let used = last_use - first_use + 1;
            if f64::from(used) >= 0.2 * f64::from(body_lines) {
                continue;
            }
            // Calls after the last use that wait on something else: the
            // network or a sleep (`Some(true)`), or the local disk
            // (`Some(false)`).
            let waits = |c: &crate::facts::CallFact<'_>| -> Option<bool> {
                let direct = match c.effect {
                    Some(Effect::Blocking(IoKind::File | IoKind::FileMetadata)) => Some(false),
                    Some(Effect::Blocking(kind)) if kind != IoKind::Database => Some(true),
                    Some(Effect::Sleep | Effect::Network) => Some(true),
                    Some(Effect::AsyncSleep) if c.site.awaited => Some(true),
                    _ => None,
                };
                direct.or_else(|| {
                    let s = cx.summaries.of_call(c)?;
                    match &s.blocks {
                        _ if s.network.is_some() || s.sleeps.is_some() => Some(true),
                        Some((IoKind::File | IoKind::FileMetadata, _)) => Some(false),
                        Some((kind, _)) if *kind != IoKind::Database => Some(true),
                        _ => None,
                    }
                })
            };
            let after: Vec<(&crate::facts::CallFact<'_>, bool)> = cx
                .calls
                .iter()
                .filter(|c| {
                    c.site.span.line > last_use
                        && body_span.contains(&c.site.span)
                        && !c.call.is_some_and(|call| {
                            call.args.iter().any(|a| mentions(&a.value, &held.var))
                        })
                })
                .filter_map(|c| waits(c).map(|remote| (c, remote)))
                .collect();
            // The network call is the one to show; local file reads (a
            // template, a config file) hold the connection for less, as
            // TX-02 weighs them (HIGH network, MEDIUM file I/O).
            let external = after
                .iter()
                .find(|(_, remote)| *remote)
                .or_else(|| after.first())
                .copied();
            let tail = last.span.end_line.saturating_sub(last_use);
            let path = cx.module.path.as_str();
            let f = match external {
                Some((call, remote)) => {
                    let f = finding(&Self::META, cx.facts, held.span, format!(
                        "the request-scoped session `{}` is used on {used} of {body_lines} lines, then {} runs while it stays open",
                        held.var, call.text()
                    ))
                    .evidence(path, call.site.span.line, "external call after the last use of the session");
                    if remote {
                        f
                    } else {
                        f.severity(Severity::Medium.max(Self::META.severity_in(cx.context)))
                    }
                }
                None if tail > LONG_TAIL_LINES => finding(&Self::META, cx.facts, held.span, format!(
                    "the request-scoped session `{}` is used on {used} of {body_lines} lines, then {tail} lines of other work follow while it stays open",
                    held.var
                ))
                .severity(Severity::Medium.max(Self::META.severity_in(cx.context))),
                None => continue,
            };
            out.push(
                f.evidence(path, last_use, "last use of the session")
                    .why("The dependency keeps the session and its pooled connection until the response is sent; slow work after the last query holds a connection that does nothing.")
                    .help("Open a short-lived session for the database part (`with SessionLocal() as db:`) instead of injecting one, or move the slow work to a background job after the response."),
            );
        }
    }
}
