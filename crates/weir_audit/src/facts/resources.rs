//! Resource tracking: for each resource a function acquires, where it is
//! released and whether every exit path between the two — a call that may
//! raise, an early `return`/`raise`, a `yield` the caller may never resume —
//! passes through a release (`finally`, a handler that closes, a context
//! manager). Helpers that close a resource handed to them count as releases.
//!
//! Built on demand from the function's facts and IR; the walk records the
//! acquisitions and calls, this module only reads them.

use weir_ir::{Expr, ExprKind, Span, Stmt, StmtKind};

use super::{Acquisition, CallFact, FunctionFacts, Scope, TryPart};
use crate::knowledge::{Effect, ObjKind};
use crate::project::{FnRef, Summaries};

/// Why a release can be skipped.
#[derive(Debug, Clone)]
pub enum LeakCause {
    /// A call that may raise runs while the resource is held.
    Call { span: Span, label: String },
    /// An early `return` or a `raise` leaves before the release.
    Exit { span: Span, raise: bool },
    /// A generator suspends while holding it: the consumer may never resume
    /// it (or throws into it), so code after the `yield` may never run.
    Yield { span: Span },
}

impl LeakCause {
    pub fn span(&self) -> Span {
        match self {
            LeakCause::Call { span, .. }
            | LeakCause::Exit { span, .. }
            | LeakCause::Yield { span } => *span,
        }
    }
}

/// A resource released on the normal path only.
#[derive(Debug, Clone)]
pub struct Leak<'a, 'ir> {
    pub acquisition: &'a Acquisition<'ir>,
    /// The first release on the normal path (`None`: a generator hands the
    /// resource out with `yield` and nothing releases it).
    pub release: Option<Span>,
    pub cause: LeakCause,
}

/// The acquisitions of `facts` that some path leaves without releasing.
/// Acquisitions never released at all (and not handed out by `yield`) are
/// not here: that is a missing cleanup, not an error path.
pub fn error_path_leaks<'a, 'ir>(
    facts: &'a FunctionFacts<'ir>,
    summaries: &Summaries,
) -> Vec<Leak<'a, 'ir>> {
    let mut out = Vec::new();
    for acq in &facts.acquisitions {
        if let Some(leak) = leak_of(facts, summaries, acq) {
            out.push(leak);
        }
    }
    out
}

fn leak_of<'a, 'ir>(
    facts: &'a FunctionFacts<'ir>,
    summaries: &Summaries,
    acq: &'a Acquisition<'ir>,
) -> Option<Leak<'a, 'ir>> {
    let var = acq.var.as_str();
    // A cursor goes with its connection; the connection is what the pool misses.
    if facts.managed.contains(var) || acq.kind == ObjKind::Cursor {
        return None;
    }
    let start = acq.site.span.end;
    // The resource's lifetime ends where the variable is bound again.
    let rebound = facts
        .bindings
        .iter()
        .filter(|(n, s)| n == var && s.start > start)
        .map(|(_, s)| s.start)
        .min()
        .unwrap_or(u32::MAX);
    let releases: Vec<Span> = release_sites(facts, var)
        .into_iter()
        .filter(|s| s.start > start && s.start < rebound)
        .collect();
    let mut points = Vec::new();
    collect_points(&facts.function.body, &mut Vec::new(), &mut points);
    let yielded = facts.function.is_generator
        && points
            .iter()
            .any(|p| matches!(p.kind, PointKind::Yield(Some(v)) if mentions(v, var)));
    if releases.is_empty() && !yielded {
        return None;
    }
    let end = releases
        .iter()
        .map(|s| s.start)
        .max()
        .filter(|_| !yielded || !releases.is_empty())
        .unwrap_or(rebound)
        .min(rebound);
    // A `finally` or `except` that closes the name covers the calls of its
    // `try` even past a later rebinding (`lock = None` once handed off): an
    // exception raised before the rebinding finds the resource still there.
    let guards: Vec<Span> = release_sites(facts, var)
        .into_iter()
        .filter(|s| s.start > start)
        .collect();
    let covered = |scopes: &[Scope<'_>]| {
        scopes.iter().any(|s| protects(s, var, acq, &guards)) || before_acquired(scopes, acq)
    };
    let in_range = |span: Span| span.start > start && span.start < end;

    let mut causes: Vec<LeakCause> = Vec::new();
    for call in &facts.calls {
        let span = call.site.span;
        if !in_range(span)
            || releases
                .iter()
                .any(|r| r.contains(&span) || span.contains(r))
            || call.site.in_lambda
            || covered(&call.site.scopes)
            || released_before(&facts.function.body, span, &releases)
            || !may_raise(call, summaries)
        {
            continue;
        }
        causes.push(LeakCause::Call {
            span,
            label: call.text(),
        });
    }
    for point in &points {
        if !in_range(point.span) || covered(&point.scopes) {
            continue;
        }
        match point.kind {
            PointKind::Yield(_) if facts.function.is_generator => {
                causes.push(LeakCause::Yield { span: point.span });
            }
            PointKind::Exit { raise, value } => {
                let hands_out = value.is_some_and(|v| mentions(v, var));
                let released_before = point
                    .earlier_in_block
                    .iter()
                    .any(|s| releases.iter().any(|r| s.contains(r)));
                if !hands_out && !released_before {
                    causes.push(LeakCause::Exit {
                        span: point.span,
                        raise,
                    });
                }
            }
            PointKind::Yield(_) => {}
        }
    }
    let cause = causes.into_iter().min_by_key(|c| c.span().start)?;
    Some(Leak {
        acquisition: acq,
        release: releases.first().copied(),
        cause,
    })
}

/// Code in an `except` handler of the `try` whose body ends with the
/// acquisition (`try: engine = create_engine(url); session =
/// Session(engine)() except Exception: return -1`): the handler runs only
/// when the acquisition (or what came before it) raised, so there is no
/// resource to release.
fn before_acquired(scopes: &[Scope<'_>], acq: &Acquisition<'_>) -> bool {
    scopes.iter().any(|scope| {
        let Scope::Try(stmt, TryPart::Handler(_)) = scope else {
            return false;
        };
        let StmtKind::Try { body, .. } = &stmt.kind else {
            return false;
        };
        acq.site
            .scopes
            .iter()
            .any(|s| matches!(s, Scope::Try(t, TryPart::Body) if std::ptr::eq(*t, *stmt)))
            && body.last().is_some_and(|last| {
                matches!(last.kind, StmtKind::Assign { .. } | StmtKind::Expr { .. })
                    && last.span.contains(&acq.site.span)
            })
    })
}

/// A release runs before `span` on every path that reaches it: a plain
/// statement that releases comes earlier in one of the blocks around it
/// (`except: conn.close(); path.unlink(); raise`). Releases nested in an
/// `if` or a loop of their own are conditional and do not count.
fn released_before(block: &[Stmt], span: Span, releases: &[Span]) -> bool {
    let Some(i) = block.iter().position(|s| s.span.contains(&span)) else {
        return false;
    };
    let simple = |s: &Stmt| {
        matches!(
            s.kind,
            StmtKind::Expr { .. } | StmtKind::Assign { .. } | StmtKind::Delete { .. }
        )
    };
    if block[..i]
        .iter()
        .any(|s| simple(s) && releases.iter().any(|r| s.span.contains(r)))
    {
        return true;
    }
    let mut found = false;
    weir_ir::visit::each_child_block(&block[i], &mut |child| {
        found |= released_before(child, span, releases);
    });
    found
}

/// Calls that release `var`: `var.close()`, `pool.release(var)`, and
/// project helpers that close the argument they are given.
fn release_sites(facts: &FunctionFacts<'_>, var: &str) -> Vec<Span> {
    let mut out = Vec::new();
    for call in &facts.calls {
        if call.effect == Some(Effect::Close) && call.receiver.as_deref() == Some(var) {
            out.push(call.site.span);
            continue;
        }
        let (Some(target), Some(c)) = (call.target, call.call) else {
            continue;
        };
        let position = c.args.iter().position(|a| a.value.as_name() == Some(var));
        if let Some(i) = position
            && helper_closes(facts, target, i, c.args[i].name.as_deref())
        {
            out.push(call.site.span);
        }
    }
    out.sort_by_key(|s| s.start);
    out
}

/// The project function `target` closes the parameter that receives
/// argument `index` (or keyword `keyword`).
pub fn helper_closes(
    facts: &FunctionFacts<'_>,
    target: FnRef,
    index: usize,
    keyword: Option<&str>,
) -> bool {
    let function = facts.project.index.function(target);
    let skip = usize::from(
        function.class.is_some()
            && function
                .params
                .first()
                .is_some_and(|p| p.name == "self" || p.name == "cls"),
    );
    let param = match keyword {
        Some(k) => Some(k),
        None => function.params.get(index + skip).map(|p| p.name.as_str()),
    };
    let Some(param) = param else { return false };
    let mut closes = false;
    weir_ir::visit::walk_block_exprs(&function.body, &mut |e| {
        let Some(call) = e.as_call() else { return };
        let on_param = call.receiver().and_then(Expr::as_name) == Some(param)
            && matches!(call.method_name(), Some("close" | "aclose" | "release"));
        let released = call.method_name() == Some("release")
            && call.positional(0).and_then(Expr::as_name) == Some(param);
        closes |= on_param || released;
    });
    closes
}

/// Calls that may raise: database and network I/O, blocking I/O, and
/// project helpers that do any of it.
fn may_raise(call: &CallFact<'_>, summaries: &Summaries) -> bool {
    match call.effect {
        Some(
            Effect::Query(_)
            | Effect::Commit
            | Effect::Flush
            | Effect::Begin
            | Effect::Blocking(_)
            | Effect::Network,
        ) => true,
        Some(_) => false,
        None => summaries.of_call(call).is_some_and(|s| {
            s.reads.is_some()
                || !s.flag_reads.is_empty()
                || s.memo_reads.is_some()
                || s.writes.is_some()
                || s.commits_at(call).is_some()
                || s.blocks.is_some()
                || s.network.is_some()
        }),
    }
}

/// A `try` whose `finally` (or an `except`) releases `var`, or a `with`
/// that closes it (`with closing(conn)`, `with session:`).
fn protects(scope: &Scope<'_>, var: &str, acq: &Acquisition<'_>, releases: &[Span]) -> bool {
    match scope {
        Scope::Try(stmt, part) => {
            let StmtKind::Try {
                handlers, finally, ..
            } = &stmt.kind
            else {
                return false;
            };
            let releases_in = |block: &[Stmt]| {
                block
                    .iter()
                    .any(|s| releases.iter().any(|r| s.span.contains(r)))
            };
            match part {
                TryPart::Finally => false,
                _ if releases_in(finally) => true,
                TryPart::Body => handlers.iter().any(|h| releases_in(&h.body)),
                _ => false,
            }
        }
        Scope::With(stmt) => {
            let StmtKind::With { items, .. } = &stmt.kind else {
                return false;
            };
            items.iter().any(|item| {
                let context = item.context.unawaited();
                let closing = context.as_call().is_some_and(|c| {
                    c.qualified
                        .as_deref()
                        .is_some_and(|q| q.ends_with("closing") || q.ends_with("aclosing"))
                        && c.positional(0).and_then(Expr::as_name) == Some(var)
                });
                closing || (context.as_name() == Some(var) && acq.kind.is_session())
            })
        }
        _ => false,
    }
}

/// True when `expr` refers to the name `var` anywhere inside.
pub fn mentions(expr: &Expr, var: &str) -> bool {
    let mut found = false;
    weir_ir::visit::walk_expr(expr, &mut |e| found |= e.as_name() == Some(var));
    found
}

#[derive(Debug, Clone, Copy)]
enum PointKind<'ir> {
    Exit {
        raise: bool,
        value: Option<&'ir Expr>,
    },
    Yield(Option<&'ir Expr>),
}

/// A place where control may leave the function (or suspend it), with
/// the `try`/`with` scopes around it.
#[derive(Debug, Clone)]
struct Point<'ir> {
    span: Span,
    kind: PointKind<'ir>,
    scopes: Vec<Scope<'ir>>,
    /// Spans of the statements before it in its own block.
    earlier_in_block: Vec<Span>,
}

fn collect_points<'ir>(
    block: &'ir [Stmt],
    scopes: &mut Vec<Scope<'ir>>,
    out: &mut Vec<Point<'ir>>,
) {
    for (i, stmt) in block.iter().enumerate() {
        let earlier = || block[..i].iter().map(|s| s.span).collect::<Vec<_>>();
        match &stmt.kind {
            StmtKind::Return { value } | StmtKind::Raise { value } => out.push(Point {
                span: stmt.span,
                kind: PointKind::Exit {
                    raise: matches!(stmt.kind, StmtKind::Raise { .. }),
                    value: value.as_ref(),
                },
                scopes: scopes.clone(),
                earlier_in_block: earlier(),
            }),
            StmtKind::FunctionDef { .. } | StmtKind::ClassDef { .. } => continue,
            _ => {}
        }
        weir_ir::visit::stmt_exprs(stmt, &mut |e| {
            weir_ir::visit::walk_expr(e, &mut |y| {
                if let ExprKind::Yield { value, .. } = &y.kind {
                    out.push(Point {
                        span: y.span,
                        kind: PointKind::Yield(value.as_deref()),
                        scopes: scopes.clone(),
                        earlier_in_block: Vec::new(),
                    });
                }
            });
        });
        match &stmt.kind {
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            } => {
                let parts = std::iter::once((TryPart::Body, body.as_slice()))
                    .chain(
                        handlers
                            .iter()
                            .enumerate()
                            .map(|(i, h)| (TryPart::Handler(i), h.body.as_slice())),
                    )
                    .chain([
                        (TryPart::Else, orelse.as_slice()),
                        (TryPart::Finally, finally.as_slice()),
                    ]);
                for (part, block) in parts {
                    scopes.push(Scope::Try(stmt, part));
                    collect_points(block, scopes, out);
                    scopes.pop();
                }
            }
            StmtKind::With { body, .. } => {
                scopes.push(Scope::With(stmt));
                collect_points(body, scopes, out);
                scopes.pop();
            }
            _ => {
                weir_ir::visit::each_child_block(stmt, &mut |child| {
                    collect_points(child, scopes, out);
                });
            }
        }
    }
}

/// Where a session the handler holds comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A request-scoped dependency (`Depends(get_db)`): it lives until the
    /// response (or the WebSocket) is finished.
    Injected,
    /// Opened by the handler itself (`SessionLocal()`, `async with …`).
    Opened,
}

/// A session or connection a handler holds.
#[derive(Debug, Clone)]
pub struct Held<'ir> {
    pub var: String,
    pub span: Span,
    pub origin: Origin,
    /// For `with`-bound sessions: the statement whose body holds it.
    pub with_stmt: Option<&'ir Stmt>,
}

fn is_depends(expr: &Expr) -> bool {
    expr.as_call().is_some_and(|c| {
        c.callee
            .dotted()
            .is_some_and(|d| d == "Depends" || d.ends_with(".Depends"))
    })
}

/// `Annotated[Session, Depends(get_db)]`.
fn annotated_depends(annotation: &Expr) -> bool {
    let ExprKind::Subscript { value, index } = &annotation.kind else {
        return false;
    };
    value.dotted().is_some_and(|v| v.ends_with("Annotated"))
        && matches!(&index.kind, ExprKind::Collection { elements, .. } if elements.iter().any(is_depends))
}

/// Sessions and connections injected into the function's parameters:
/// `db: Session = Depends(get_db)`, `Annotated[AsyncSession, Depends(…)]`,
/// or an alias of it (`session: SessionDep`).
pub fn injected_sessions<'ir>(facts: &FunctionFacts<'ir>) -> Vec<Held<'ir>> {
    let project = facts.project;
    let mut out = Vec::new();
    for param in &facts.function.params {
        let kind = param.annotation.as_ref().and_then(|a| {
            project
                .types
                .annotation_kind(facts.module, &project.knowledge, a)
        });
        let depends = param.default.as_ref().is_some_and(is_depends)
            || param.annotation.as_ref().is_some_and(annotated_depends);
        let provider = param
            .default
            .as_ref()
            .and_then(Expr::as_call)
            .and_then(|c| c.positional(0))
            .and_then(Expr::dotted)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let sessionish = kind.is_some_and(|k| k.is_resource() && k != ObjKind::Cursor)
            || (depends
                && kind.is_none()
                && (["db", "session", "conn"]
                    .iter()
                    .any(|w| provider.contains(w) || param.name.contains(w))));
        // A session-typed parameter of a route is injected one way or another.
        if sessionish && (depends || facts.context == super::ExecContext::RequestHandler) {
            out.push(Held {
                var: param.name.clone(),
                span: param.span,
                origin: Origin::Injected,
                with_stmt: None,
            });
        }
    }
    out
}

/// Every session or connection the function holds: injected, acquired
/// into a local, or bound by `with`.
pub fn held_sessions<'ir>(facts: &FunctionFacts<'ir>) -> Vec<Held<'ir>> {
    let mut out = injected_sessions(facts);
    for acq in &facts.acquisitions {
        if acq.kind != ObjKind::Cursor {
            out.push(Held {
                var: acq.var.clone(),
                span: acq.site.span,
                origin: Origin::Opened,
                with_stmt: None,
            });
        }
    }
    weir_ir::visit::walk_stmts(&facts.function.body, &mut |stmt| {
        let StmtKind::With { items, .. } = &stmt.kind else {
            return;
        };
        for item in items {
            let context = item.context.unawaited();
            let opens = facts.calls.iter().any(|c| {
                c.site.span == context.span
                    && c.returns
                        .is_some_and(|k| k.is_resource() && k != ObjKind::Cursor)
            });
            if let (true, Some(var)) = (opens, item.target.as_ref().and_then(Expr::as_name)) {
                out.push(Held {
                    var: var.to_string(),
                    span: context.span,
                    origin: Origin::Opened,
                    with_stmt: Some(stmt),
                });
            }
        }
    });
    out
}

/// The function serves a WebSocket: a `WebSocket` parameter or a
/// `.websocket(…)` route.
pub fn is_websocket_handler(function: &weir_ir::Function) -> bool {
    function.params.iter().any(|p| {
        p.annotation
            .as_ref()
            .and_then(Expr::dotted)
            .is_some_and(|a| a == "WebSocket" || a.ends_with(".WebSocket"))
    }) || function.decorators.iter().any(|d| {
        d.as_call()
            .and_then(|c| c.method_name())
            .is_some_and(|m| m == "websocket" || m == "websocket_route")
    })
}

const STREAM_RESPONSES: &[&str] = &["StreamingResponse", "EventSourceResponse"];

/// A streaming response built in the function, with the generator that
/// feeds it.
#[derive(Debug, Clone)]
pub struct Stream<'ir> {
    pub call: &'ir Expr,
    pub content: Option<&'ir Expr>,
}

pub fn streams<'ir>(facts: &FunctionFacts<'ir>) -> Vec<Stream<'ir>> {
    let mut out = Vec::new();
    facts.call_exprs().iter().for_each(|&e| {
        let Some(call) = e.as_call() else { return };
        let Some(last) = call.callee.dotted_last() else {
            return;
        };
        if STREAM_RESPONSES.contains(&last) {
            out.push(Stream {
                call: e,
                content: call.positional(0).or_else(|| call.keyword("content")),
            });
        }
    });
    out
}

/// The stream's generator uses `var`: it is passed to the generator call,
/// or the generator (a nested function or expression) closes over it.
pub fn stream_uses(facts: &FunctionFacts<'_>, content: &Expr, var: &str) -> bool {
    let content = resolve_local(facts, content).unwrap_or(content);
    if let Some(call) = content.unawaited().as_call() {
        if call.args.iter().any(|a| mentions(&a.value, var)) {
            return true;
        }
        return call
            .callee
            .as_name()
            .and_then(|n| nested_function(facts, n))
            .is_some_and(|f| body_mentions(&f.body, var));
    }
    if let Some(name) = content.as_name() {
        return nested_function(facts, name).is_some_and(|f| body_mentions(&f.body, var));
    }
    mentions(content, var)
}

/// `gen = stream_rows(db)` → the assigned value of a local name.
fn resolve_local<'ir>(facts: &FunctionFacts<'ir>, expr: &Expr) -> Option<&'ir Expr> {
    let name = expr.as_name()?;
    let mut found = None;
    weir_ir::visit::walk_stmts(&facts.function.body, &mut |stmt| {
        if let StmtKind::Assign {
            targets,
            value: Some(value),
            ..
        } = &stmt.kind
            && targets.iter().any(|t| t.as_name() == Some(name))
        {
            found = Some(value);
        }
    });
    found
}

/// A function defined inside this one, by name.
pub fn nested_function<'ir>(
    facts: &FunctionFacts<'ir>,
    name: &str,
) -> Option<&'ir weir_ir::Function> {
    let id = facts.function.id;
    facts
        .module
        .functions
        .iter()
        .find(|f| f.parent == Some(id) && f.name == name)
}

pub fn body_mentions(body: &[Stmt], var: &str) -> bool {
    let mut found = false;
    weir_ir::visit::walk_block_exprs(body, &mut |e| found |= e.as_name() == Some(var));
    found
}

/// Long-lived work a call starts: a background task, a task on the event
/// loop, a thread or an executor job. Returns a label.
pub fn starts_long_lived_work(call: &weir_ir::Call) -> Option<&'static str> {
    let method = call.method_name().unwrap_or("");
    if method == "add_task" {
        return Some("a background task");
    }
    if matches!(method, "create_task" | "ensure_future" | "start_soon") {
        return Some("a task on the event loop");
    }
    if matches!(
        method,
        "submit" | "run_in_executor" | "apply_async" | "delay" | "enqueue" | "send_task"
    ) {
        return Some("work outside the request");
    }
    // By name: `create_task(…)` imported from asyncio, `Thread(target=…)`.
    // Most calls end otherwise, and need no path built.
    let last = call
        .qualified
        .as_deref()
        .or_else(|| call.callee.dotted_last())?;
    if !["create_task", "ensure_future", "Thread", "Process"]
        .iter()
        .any(|end| last.ends_with(end))
    {
        return None;
    }
    let name;
    let qualified = if let Some(q) = call.qualified.as_deref() {
        q
    } else {
        name = call.callee.dotted().unwrap_or_default();
        &name
    };
    if qualified.ends_with("asyncio.create_task") || qualified.ends_with("asyncio.ensure_future") {
        return Some("a task on the event loop");
    }
    if qualified.ends_with("threading.Thread") || qualified.ends_with("Process") {
        return Some("a thread");
    }
    None
}

/// The call runs a function defined in the project (resolved across files).
fn runs_project_function(facts: &FunctionFacts<'_>, call: &weir_ir::Call) -> bool {
    facts
        .calls
        .iter()
        .any(|c| c.target.is_some() && c.call.is_some_and(|k| std::ptr::eq(k, call)))
}

/// One way a handler keeps a session for the lifetime of a stream or of
/// long-lived work: where, and a sentence for the message.
#[derive(Debug, Clone)]
pub struct Facet {
    pub span: Span,
    pub text: String,
}

/// The loop a WebSocket connection lives in: `while True:`, an `async
/// for` over a stream or the socket (`websocket.iter_text()`), or a loop
/// that receives from the client (`await websocket.receive_text()`). A
/// session block around one is held for the whole connection; a block
/// around a bounded loop (paging a backfill out, `while page:`) is held as
/// long as that loop only.
fn is_message_loop(lp: &weir_ir::Loop) -> bool {
    let endless = lp
        .test
        .as_ref()
        .is_some_and(|t| matches!(t.kind, ExprKind::Literal(weir_ir::Literal::Bool(true))));
    let mut receives = false;
    let mut check = |e: &Expr| {
        receives |= e
            .as_call()
            .and_then(weir_ir::Call::method_name)
            .is_some_and(|m| {
                matches!(
                    m,
                    "receive"
                        | "receive_text"
                        | "receive_json"
                        | "receive_bytes"
                        | "iter_text"
                        | "iter_json"
                        | "iter_bytes"
                        | "recv"
                )
            });
    };
    if let Some(iter) = &lp.iter {
        weir_ir::visit::walk_expr(iter, &mut check);
    }
    weir_ir::visit::walk_block_exprs(&lp.body, &mut check);
    endless || lp.is_async || receives
}

/// Sessions held for the whole of a stream: fed to (or closed over by) the
/// generator of a `StreamingResponse`/`EventSourceResponse`, or held by a
/// WebSocket handler across its message loop.
pub fn stream_holds(facts: &FunctionFacts<'_>) -> Vec<Facet> {
    let mut out = Vec::new();
    let streams = streams(facts);
    let websocket = is_websocket_handler(facts.function);
    // Most functions stream nothing: no need to find their sessions.
    if !websocket && streams.iter().all(|s| s.content.is_none()) {
        return out;
    }
    let held = held_sessions(facts);
    for stream in streams {
        let Some(content) = stream.content else {
            continue;
        };
        for h in held.iter().filter(|h| stream_uses(facts, content, &h.var)) {
            out.push(Facet {
                span: stream.call.span,
                text: format!(
                    "the stream's generator uses {} session `{}` for as long as the client reads",
                    describe_origin(h.origin),
                    h.var
                ),
            });
        }
    }
    if websocket {
        for h in &held {
            let holds = match (h.origin, h.with_stmt) {
                (Origin::Injected, _) => body_mentions(&facts.function.body, &h.var),
                (Origin::Opened, Some(stmt)) => {
                    let mut has_loop = false;
                    weir_ir::visit::walk_stmts(std::slice::from_ref(stmt), &mut |s| {
                        has_loop |= matches!(&s.kind, StmtKind::Loop(lp) if is_message_loop(lp))
                            && body_mentions(std::slice::from_ref(s), &h.var);
                    });
                    has_loop
                }
                (Origin::Opened, None) => facts.loops.iter().any(|lp| {
                    !lp.is_comprehension
                        && lp.span.start > h.span.start
                        && body_mentions(lp.body, &h.var)
                }),
            };
            if holds {
                out.push(Facet {
                    span: h.span,
                    text: format!(
                        "the WebSocket handler holds {} session `{}` for the whole connection",
                        describe_origin(h.origin),
                        h.var
                    ),
                });
            }
        }
    }
    out.sort_by_key(|f| f.span.start);
    out
}

fn describe_origin(origin: Origin) -> &'static str {
    match origin {
        Origin::Injected => "the request-scoped",
        Origin::Opened => "the handler's",
    }
}

/// A request-scoped (injected) session handed to work that outlives the
/// request: `background_tasks.add_task(f, db)`, `asyncio.create_task(f(db))`,
/// threads, executors, task queues.
pub fn long_lived_handoffs(facts: &FunctionFacts<'_>) -> Vec<Facet> {
    let injected = injected_sessions(facts);
    let mut out = Vec::new();
    if injected.is_empty() {
        return out;
    }
    facts.call_exprs().iter().for_each(|&e| {
        let Some(call) = e.as_call() else { return };
        let Some(what) = starts_long_lived_work(call) else {
            return;
        };
        // `submit`, `enqueue`, `delay`… are also common names for the
        // project's own service methods (`feedback_service.submit(session,
        // …)`), which run inside the request: only a call that does not
        // resolve to a project function hands the session to a queue.
        if runs_project_function(facts, call) {
            return;
        }
        for h in &injected {
            if call.args.iter().any(|a| mentions(&a.value, &h.var)) {
                out.push(Facet {
                    span: e.span,
                    text: format!("the request-scoped session `{}` is handed to {what}", h.var),
                });
            }
        }
    });
    out.sort_by_key(|f| f.span.start);
    out
}
