use std::collections::BTreeMap;

use weir_ir::{Expr, ExprKind, Span, Stmt, StmtKind};

use crate::declare_rule;
use crate::facts::FunctionFacts;
use crate::knowledge::{Effect, ObjKind};
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};

declare_rule! {
    /// ## What it does
    /// Finds three hazards of SQLAlchemy's `AsyncSession` in `async def`
    /// code: an attribute of an ORM object read after `await
    /// session.commit()` while the session expires objects on commit; a lazy
    /// relationship read from query rows that did not eager-load it; one
    /// session handed to several coroutines that run concurrently
    /// (`asyncio.gather`, `create_task`, `TaskGroup`), also one coroutine per
    /// item (`gather(*(f(session, x) for x in xs))`, `create_task` in a
    /// loop), or the session's own coroutines gathered together
    /// (`gather(session.scalar(a), session.scalar(b))`,
    /// `gather(*(session.get(M, i) for i in ids))`). In Django async code,
    /// a foreign key read from a row of the async API (`await
    /// Model.objects.aget(…)`, `afirst()`, `async for`) that the query did
    /// not `select_related`.
    ///
    /// ## Why is this bad
    /// With `expire_on_commit=True` (the default) every object is expired by
    /// the commit, and the next attribute read must load it again: in async
    /// code that implicit I/O is not allowed and raises `MissingGreenlet`
    /// (or, at best, runs an unplanned query). A lazy relationship raises the
    /// same error. An `AsyncSession` is not safe for concurrent use: two
    /// tasks sharing one interleave their statements on one connection and
    /// fail with "another operation is in progress" or corrupt the unit of
    /// work. Django fetches an unloaded related object with a synchronous
    /// query, which async code refuses with `SynchronousOnlyOperation`.
    ///
    /// ## Example
    /// ```python
    /// from sqlalchemy.ext.asyncio import AsyncSession
    /// from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
    ///
    /// class Base(DeclarativeBase):
    ///     pass
    ///
    /// class Order(Base):
    ///     __tablename__ = "orders"
    ///     id: Mapped[int] = mapped_column(primary_key=True)
    ///     total: Mapped[int]
    ///
    /// async def create(session: AsyncSession, total: int):
    ///     order = Order(total=total)
    ///     session.add(order)
    ///     await session.commit()
    ///     return {"id": order.id}
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from sqlalchemy.ext.asyncio import AsyncSession
    /// from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
    ///
    /// class Base(DeclarativeBase):
    ///     pass
    ///
    /// class Order(Base):
    ///     __tablename__ = "orders"
    ///     id: Mapped[int] = mapped_column(primary_key=True)
    ///     total: Mapped[int]
    ///
    /// async def create(session: AsyncSession, total: int):
    ///     order = Order(total=total)
    ///     session.add(order)
    ///     await session.commit()
    ///     await session.refresh(order)
    ///     return {"id": order.id}
    /// ```
    /// Or create the factory with `async_sessionmaker(engine,
    /// expire_on_commit=False)`; eager-load relationships
    /// (`selectinload(Order.lines)`); give each concurrent task its own
    /// session from the factory.
    ///
    /// ## Known limitations
    /// A `Result` (`result = await session.execute(update(M)…)`, then
    /// `result.rowcount`) is not an ORM object and is not expired.
    /// Only objects bound to a local of the function are followed (not
    /// attributes of `self`, not objects returned by helpers). The session's
    /// factory is known when the session is opened in the function
    /// (`async with SessionLocal() as session`); an injected session uses the
    /// project's async factories (expiring unless they all say otherwise).
    /// Branches are not told apart: a read after a commit in another branch
    /// counts, unless the commit's block ends with `return` or `raise` and
    /// the read lies after that block.
    pub struct AsyncSessionHazards;
    id: "TX-08",
    name: "async-session-hazards",
    category: Category::TransactionCorrectness,
    summary: "expired attribute, lazy load or shared session in async code",
    severity: Severity::High,
    job: None,
    init: None,
    effort: Effort::S,
    languages: PYTHON,
    sources: &[
        Source { title: "SQLAlchemy: Asynchronous I/O (asyncio) — Preventing Implicit IO when Using AsyncSession", url: "https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html#preventing-implicit-io-when-using-asyncsession", pack: Some("sqlalchemy") },
        Source { title: "Django: Asynchronous queries", url: "https://docs.djangoproject.com/en/stable/topics/db/queries/#asynchronous-queries", pack: Some("django") },
        Source { title: "SQLAlchemy: Using AsyncSession with Concurrent Tasks", url: "https://docs.sqlalchemy.org/en/20/orm/extensions/asyncio.html#using-asyncsession-with-concurrent-tasks", pack: Some("sqlalchemy") },
    ],
}

const EAGER_LOADERS: &[&str] = &[
    "selectinload",
    "joinedload",
    "subqueryload",
    "immediateload",
    "contains_eager",
];

impl Rule for AsyncSessionHazards {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        if !facts.function.is_async {
            return;
        }
        let reads = attribute_reads(&facts.function.body);
        expired_reads(self, facts, &reads, out);
        lazy_reads(facts, &reads, out);
        shared_sessions(facts, out);
    }
}

/// `var.attr` read (not assigned, not called) in the body: (var, attr, span).
/// Borrowed from the IR: every async function is read, and most of its
/// attribute reads concern no session.
fn attribute_reads(body: &[Stmt]) -> Vec<(&str, &str, Span)> {
    let mut skip: Vec<Span> = Vec::new();
    weir_ir::visit::walk_stmts(body, &mut |s: &Stmt| {
        if let StmtKind::Assign { targets, .. } = &s.kind {
            skip.extend(targets.iter().map(|t| t.span));
        }
    });
    // Callees and candidate reads in one walk; a callee is never inside
    // the read it is the callee of, so the order does not matter.
    let mut out = Vec::new();
    weir_ir::visit::walk_block_exprs(body, &mut |e: &Expr| match &e.kind {
        ExprKind::Call(call) => skip.push(call.callee.span),
        ExprKind::Attribute { value, attr } => {
            if let Some(var) = value.as_name()
                && !attr.starts_with("__")
                && attr != "awaitable_attrs"
            {
                out.push((var, attr.as_str(), e.span));
            }
        }
        _ => {}
    });
    // Searched once per attribute read: sorted, not scanned.
    skip.sort_unstable_by_key(|s| (s.start, s.end));
    out.retain(|(_, _, span)| {
        skip.binary_search_by_key(&(span.start, span.end), |s| (s.start, s.end))
            .is_err()
    });
    out.sort_by_key(|(_, _, s)| s.start);
    out.dedup_by_key(|(_, _, s)| s.start);
    out
}

/// The expression last bound to `var` before `offset` (`x = …`, `with … as x`).
fn bound_value<'a>(facts: &'a FunctionFacts<'_>, var: &str, offset: u32) -> Option<&'a Expr> {
    let bound = facts.binding_before(var, offset)?;
    let mut value = None;
    weir_ir::visit::walk_stmts(&facts.function.body, &mut |s: &Stmt| {
        if s.span != bound || value.is_some() {
            return;
        }
        match &s.kind {
            StmtKind::Assign { value: Some(v), .. } => value = Some(v),
            StmtKind::With { items, .. } => {
                value = items
                    .iter()
                    .find(|i| i.target.as_ref().and_then(Expr::as_name) == Some(var))
                    .map(|i| &i.context);
            }
            _ => {}
        }
    });
    value
}

/// The value bound to `var` and the values of the locals it names (one
/// level: `stmt = select(…)…; rows = await session.scalars(stmt)`).
fn origin_exprs<'a>(facts: &'a FunctionFacts<'_>, var: &str, offset: u32) -> Vec<&'a Expr> {
    let Some(value) = bound_value(facts, var, offset) else {
        return Vec::new();
    };
    let mut out = vec![value];
    let mut names = Vec::new();
    weir_ir::visit::walk_expr(value, &mut |e| {
        if let Some(n) = e.as_name() {
            names.push(n.to_string());
        }
    });
    for name in names {
        if name != var
            && let Some(v) = bound_value(facts, &name, value.span.start)
        {
            out.push(v);
        }
    }
    out
}

fn contains_call(exprs: &[&Expr], pred: &dyn Fn(&weir_ir::Call) -> bool) -> bool {
    let mut found = false;
    for expr in exprs {
        weir_ir::visit::walk_expr(expr, &mut |e| {
            if let Some(c) = e.as_call()
                && pred(c)
            {
                found = true;
            }
        });
    }
    found
}

/// The origin runs a query (as opposed to constructing a new object).
fn is_query(exprs: &[&Expr]) -> bool {
    contains_call(exprs, &|c| {
        matches!(
            c.method_name(),
            Some("get" | "scalars" | "scalar" | "execute" | "scalar_one" | "get_one" | "merge")
        ) && c.receiver().is_some()
    })
}

/// `await session.execute(…)` / `session.scalars(…)` itself: the bound
/// value is a `Result` (its `rowcount`, its rows), not an ORM object.
fn is_result(value: &Expr) -> bool {
    value.unawaited().as_call().is_some_and(|c| {
        c.receiver().is_some()
            && matches!(
                c.method_name(),
                Some("execute" | "scalars" | "stream" | "stream_scalars")
            )
    })
}

/// Whether the session in `receiver` expires objects on commit.
fn expires_on_commit(facts: &FunctionFacts<'_>, receiver: &str, offset: u32) -> bool {
    let sessions = &facts.project.context.db_config.sessions;
    let factory = bound_value(facts, receiver, offset)
        .map(Expr::unawaited)
        .and_then(Expr::as_call)
        .and_then(|c| match c.receiver() {
            // `SessionLocal.begin()`
            Some(r) if c.method_name() == Some("begin") => r.dotted(),
            _ => c.callee.dotted(),
        });
    if let Some(factory) = factory {
        let last = factory.rsplit('.').next().unwrap_or(&factory).to_string();
        if let Some(cfg) = sessions.iter().find(|s| {
            s.name
                .as_deref()
                .is_some_and(|n| n == factory || n.rsplit('.').next() == Some(last.as_str()))
        }) {
            return cfg.effective_expire_on_commit() != Some(false);
        }
    }
    let asyncs: Vec<_> = sessions.iter().filter(|s| s.is_async).collect();
    asyncs.is_empty()
        || asyncs
            .iter()
            .any(|s| s.effective_expire_on_commit() != Some(false))
}

fn expired_reads(
    rule: &AsyncSessionHazards,
    facts: &Cx<'_, '_>,
    reads: &[(&str, &str, Span)],
    out: &mut Vec<Finding>,
) {
    let _ = rule;
    let commits: Vec<_> = facts
        .calls_with(|e| matches!(e, Effect::Commit))
        .filter(|c| c.site.awaited && !c.site.in_lambda)
        .collect();
    let mut reported: Vec<&str> = Vec::new();
    for commit in &commits {
        let Some(session) = commit.receiver.as_deref() else {
            continue;
        };
        let at = commit.site.span;
        if !expires_on_commit(facts, session, at.start) {
            continue;
        }
        for (var, attr, span) in reads {
            if span.start <= at.end || reported.contains(var) {
                continue;
            }
            if facts.binding_before(var, at.start).is_none()
                || facts.rebound_between(var, at.end, span.start)
            {
                continue;
            }
            // The next commit re-expires; a read after a later commit is
            // that commit's.
            if commits
                .iter()
                .any(|c| c.site.span.start > at.end && c.site.span.start < span.start)
            {
                continue;
            }
            // `result = await session.execute(update(M)…)`: a `Result`,
            // whose `rowcount` the commit does not expire.
            if bound_value(facts, var, at.start).is_some_and(is_result) {
                continue;
            }
            let refreshed = facts.calls.iter().any(|c| {
                c.site.span.start > at.end
                    && c.site.span.start < span.start
                    && c.call.is_some_and(|call| {
                        call.method_name() == Some("refresh")
                            && call.positional(0).and_then(Expr::as_name) == Some(*var)
                    })
            });
            if refreshed || exits_after(&facts.function.body, at, *span, false, false) {
                continue;
            }
            let exprs = origin_exprs(facts, var, at.start);
            let Some(model) = exprs
                .iter()
                .find_map(|e| facts.project.tables.mentioned(facts.module, e))
            else {
                continue;
            };
            reported.push(var);
            out.push(
                finding(&AsyncSessionHazards::META, facts, *span, format!("`{var}.{attr}` is read after `await {session}.commit()` expired `{var}` ({})", model.name))
                    .why("The session expires every object on commit (`expire_on_commit=True`, the default): the next attribute read loads it again, implicit I/O that raises `MissingGreenlet` in async code.")
                    .help(format!("`await {session}.refresh({var})` after the commit, read what you need before committing, or create the session factory with `expire_on_commit=False`."))
                    .evidence(&facts.module.path, at.line, format!("`await {session}.commit()`")),
            );
        }
    }
}

/// The block holding the commit at `commit` ends with `return` (or
/// `raise`) and `read` lies outside it: `if existing is None: …; await
/// session.commit(); return created`, then `existing.status` after the
/// `if`, a read the commit never reaches. Not when a `finally` of an
/// enclosing `try` would still run (`return`), or a handler could catch
/// (`raise`): the read may be there.
fn exits_after(
    block: &[Stmt],
    commit: Span,
    read: Span,
    in_finally_try: bool,
    in_try: bool,
) -> bool {
    let Some(stmt) = block.iter().find(|s| s.span.contains(&commit)) else {
        return false;
    };
    if let (Some(first), Some(last)) = (block.first(), block.last()) {
        let terminal = match last.kind {
            StmtKind::Return { .. } => !in_finally_try,
            StmtKind::Raise { .. } => !in_try,
            _ => false,
        };
        let whole = Span {
            start: first.span.start,
            end: last.span.end,
            ..first.span
        };
        if terminal && !whole.contains(&read) {
            return true;
        }
    }
    let (finally_try, any_try) = match &stmt.kind {
        StmtKind::Try {
            handlers, finally, ..
        } => (
            in_finally_try || !finally.is_empty(),
            in_try || !handlers.is_empty() || !finally.is_empty(),
        ),
        _ => (in_finally_try, in_try),
    };
    let mut found = false;
    weir_ir::visit::each_child_block(stmt, &mut |child| {
        found = found || exits_after(child, commit, read, finally_try, any_try);
    });
    found
}

fn lazy_reads(facts: &Cx<'_, '_>, reads: &[(&str, &str, Span)], out: &mut Vec<Finding>) {
    use crate::project::models::{Loading, Orm};
    let mut reported: Vec<(&str, &str)> = Vec::new();
    for &(var, attr, span) in reads {
        if reported.contains(&(var, attr)) {
            continue;
        }
        let Some(bound) = facts.binding_before(var, span.start) else {
            continue;
        };
        let orm = if let Some(lp) = facts.loops.iter().find(|l| l.span == bound) {
            let Some(rows) = &lp.rows else { continue };
            let Some(model) = facts.project.models.get(&rows.model) else {
                continue;
            };
            let lazy = model.relationships.get(attr).is_some_and(|r| {
                r.loading == Loading::Lazy && !(model.orm == Orm::Django && r.many)
            }) && !rows.eager.iter().any(|e| e == attr);
            if !lazy {
                continue;
            }
            model.orm
        } else {
            let exprs = origin_exprs(facts, var, span.start);
            if django_lazy_fk(facts, var, attr, &exprs) {
                Orm::Django
            } else {
                if !is_query(&exprs) {
                    continue;
                }
                let Some(model) = exprs
                    .iter()
                    .find_map(|e| facts.project.tables.mentioned(facts.module, e))
                else {
                    continue;
                };
                let lazy = model.lazy_relationship(attr)
                    && !contains_call(&exprs, &|c| {
                        c.method_name().is_some_and(|m| EAGER_LOADERS.contains(&m))
                            && c.args.iter().any(|a| {
                                a.value
                                    .dotted()
                                    .is_some_and(|d| d.ends_with(&format!(".{attr}")))
                                    || a.value.as_str() == Some(attr)
                            })
                    });
                if !lazy {
                    continue;
                }
                Orm::SqlAlchemy
            }
        };
        reported.push((var, attr));
        let found = finding(
            &AsyncSessionHazards::META,
            facts,
            span,
            format!("`{var}.{attr}` loads a lazy relationship in async code"),
        );
        out.push(match orm {
            Orm::SqlAlchemy => found
                .why("A lazy relationship runs a query on first access; an `AsyncSession` cannot do implicit I/O, so the read raises `MissingGreenlet`.")
                .help(format!("Eager-load it in the query (`.options(selectinload(….{attr}))`), or `await {var}.awaitable_attrs.{attr}`.")),
            Orm::Django => found
                .why("A related object that was not loaded with the row is fetched by a synchronous query on first access; in async code Django refuses it with `SynchronousOnlyOperation`.")
                .help(format!("Load it with the row (`.select_related(\"{attr}\")`), or read it in a sync function wrapped in `sync_to_async`.")),
        });
    }
}

/// Django's async fetches of one row (`await Order.objects.aget(…)`,
/// `afirst()`…): the row's forward relation (a `ForeignKey`, a
/// `OneToOneField`) is not cached unless the query selected it, and reading
/// it in async code raises `SynchronousOnlyOperation`. A sync `get()` in
/// async code already fails at the query (RT-01).
fn django_lazy_fk(facts: &Cx<'_, '_>, var: &str, attr: &str, exprs: &[&Expr]) -> bool {
    use crate::project::models::{Loading, Orm};
    let Some(model) = facts
        .entities
        .get(var)
        .and_then(|m| facts.project.models.get(m))
        .filter(|m| m.orm == Orm::Django)
    else {
        return false;
    };
    let forward = model
        .relationships
        .get(attr)
        .is_some_and(|r| r.loading == Loading::Lazy && !r.many);
    let async_fetch = contains_call(exprs, &|c| {
        matches!(
            c.method_name(),
            Some("aget" | "afirst" | "alast" | "aearliest" | "alatest")
        )
    });
    // A path that is not a plain string (`Prefetch("setting", …)`, a name
    // bound to one) may load the relation: the read is given the benefit.
    let selected = contains_call(exprs, &|c| {
        matches!(c.method_name(), Some("select_related" | "prefetch_related"))
            && (c.args.is_empty()
                || c.args.iter().any(|a| {
                    a.value
                        .as_str()
                        .is_none_or(|p| p.split("__").next() == Some(attr))
                }))
    });
    forward && async_fetch && !selected
}

/// A local that holds a session (not a factory).
fn is_session_var(facts: &FunctionFacts<'_>, name: &str) -> bool {
    !is_http_session(facts, name)
        && (is_declared_session(facts, name)
            || name == "session"
            || name == "db"
            || name.ends_with("_session"))
}

/// An HTTP client session (`aiohttp.ClientSession`, `httpx.AsyncClient`,
/// `requests.Session`), which is meant to be shared by concurrent requests:
/// annotated with, or bound to, a type the HTTP knowledge pack knows.
fn is_http_session(facts: &FunctionFacts<'_>, name: &str) -> bool {
    let knowledge = &facts.project.knowledge;
    let http = |kind: Option<ObjKind>| {
        matches!(kind, Some(ObjKind::HttpClient | ObjKind::AsyncHttpClient))
    };
    let annotated = facts.function.params.iter().any(|p| {
        p.name == name
            && p.annotation
                .as_ref()
                .and_then(|a| facts.module.resolve_expr(a))
                .is_some_and(|q| http(knowledge.type_kind(&q)))
    });
    let bound = bound_value(facts, name, u32::MAX)
        .and_then(|v| v.unawaited().as_call())
        .and_then(|c| c.qualified.as_deref())
        .is_some_and(|q| http(knowledge.func(q).and_then(|f| f.returns)));
    annotated || bound
}

/// A local known to hold a session by its type or its annotation, not only
/// by its name (`db` is also the name of handles that are safe to share,
/// such as a Motor database). Asked of locals `is_session_var` accepted,
/// so HTTP client sessions are already left out.
fn is_declared_session(facts: &FunctionFacts<'_>, name: &str) -> bool {
    let typed = facts.calls.iter().any(|c| {
        c.receiver.as_deref() == Some(name)
            && c.receiver_kind
                .is_some_and(|t| matches!(t.kind, ObjKind::Session | ObjKind::AsyncSession))
    });
    let annotated = facts.function.params.iter().any(|p| {
        p.name == name
            && p.annotation
                .as_ref()
                .and_then(Expr::dotted)
                .is_some_and(|a| a.ends_with("Session"))
    });
    typed || annotated
}

/// Session locals passed to a coroutine call `f(session, …)`.
fn sessions_passed(facts: &FunctionFacts<'_>, arg: &Expr) -> Vec<String> {
    let Some(call) = arg.as_call() else {
        return Vec::new();
    };
    // The session's own coroutine (`session.get(Order, i)`,
    // `session.execute(stmt)`) runs on it as much as a helper handed it.
    let receiver = call.receiver().and_then(Expr::as_name);
    call.args
        .iter()
        .filter_map(|a| a.value.as_name())
        .chain(receiver)
        .filter(|n| is_session_var(facts, n))
        .map(str::to_string)
        .collect()
}

/// The element of a comprehension spread into a call: the comprehension
/// itself, or the local it was assigned to.
fn comprehension_element<'a>(
    facts: &'a FunctionFacts<'_>,
    value: &'a Expr,
    offset: u32,
) -> Option<&'a Expr> {
    let value = match value.as_name() {
        Some(name) => bound_value(facts, name, offset)?,
        None => value,
    };
    match &value.kind {
        ExprKind::Comprehension(c) => Some(&c.element),
        _ => None,
    }
}

fn shared_sessions(facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
    let mut tasks: BTreeMap<String, Vec<(Span, bool)>> = BTreeMap::new();
    let mut gathers = Vec::new();
    facts.call_exprs().iter().for_each(|&e| {
        let Some(call) = e.as_call() else { return };
        // asyncio's, under any alias (`from asyncio import gather as
        // run_together`). A `gather` of the function's own (a sequential
        // `async def gather(*aws)` nested in a view) has no qualified name
        // and runs its coroutines one after another.
        let qualified = call.qualified.as_deref();
        if qualified == Some("asyncio.gather")
            || (qualified.is_some() && call.method_name() == Some("gather"))
        {
            gathers.push((e.span, call));
        } else if matches!(
            call.method_name(),
            Some("create_task" | "ensure_future" | "start_soon")
        ) {
            // One call in a loop starts a task per item.
            let in_loop = facts
                .loops
                .iter()
                .any(|l| l.span.start < e.span.start && e.span.end <= l.span.end);
            if let Some(arg) = call.positional(0) {
                for s in sessions_passed(facts, arg) {
                    if in_loop && !is_declared_session(facts, &s) {
                        continue;
                    }
                    tasks.entry(s).or_default().push((e.span, in_loop));
                }
            }
        }
    });
    for (span, call) in gathers {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut per_item: Option<String> = None;
        for arg in call.args.iter().filter(|a| a.name.is_none()) {
            // `gather(*(sync_one(session, t) for t in tasks))`, or the list
            // of coroutines built first: one coroutine per item, each
            // given the session.
            if arg.spread == weir_ir::ArgSpread::Positional
                && let Some(element) = comprehension_element(facts, &arg.value, span.start)
            {
                per_item = per_item.or(sessions_passed(facts, element)
                    .into_iter()
                    .find(|s| is_declared_session(facts, s)));
                continue;
            }
            for s in sessions_passed(facts, &arg.value) {
                *seen.entry(s).or_default() += 1;
            }
        }
        let shared = match per_item {
            Some(session) => Some(format!("one session `{session}` is shared by the coroutines `gather` runs concurrently, one per item")),
            None => seen
                .into_iter()
                .find(|(_, n)| *n >= 2)
                .map(|(session, n)| format!("one session `{session}` is shared by {n} coroutines run concurrently by `gather`")),
        };
        if let Some(message) = shared {
            out.push(
                finding(&AsyncSessionHazards::META, facts, span, message)
                    .why("An `AsyncSession` is not safe for concurrent use: the tasks interleave statements on one connection (\"another operation is in progress\") and corrupt its unit of work.")
                    .help("Open a session per task from the factory (`async with SessionLocal() as s:` inside each coroutine), or await the calls one after another."),
            );
        }
    }
    for (session, spans) in tasks {
        let finding = if let Some((span, _)) = spans.iter().find(|(_, in_loop)| *in_loop) {
            finding(
                &AsyncSessionHazards::META,
                facts,
                *span,
                format!(
                    "one session `{session}` is shared by the tasks started in the loop, one per item"
                ),
            )
        } else if let [(first, _), (second, _), ..] = spans.as_slice() {
            finding(
                &AsyncSessionHazards::META,
                facts,
                *second,
                format!(
                    "one session `{session}` is shared by {} concurrently running tasks",
                    spans.len()
                ),
            )
            .evidence(
                &facts.module.path,
                first.line,
                "first task given the session",
            )
        } else {
            continue;
        };
        out.push(
            finding
                .why("An `AsyncSession` is not safe for concurrent use: the tasks interleave statements on one connection (\"another operation is in progress\") and corrupt its unit of work.")
                .help("Open a session per task from the factory inside each task, or await the work one task after another."),
        );
    }
}
