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
    /// (`asyncio.gather`, `create_task`, `TaskGroup`).
    ///
    /// ## Why is this bad
    /// With `expire_on_commit=True` (the default) every object is expired by
    /// the commit, and the next attribute read must load it again: in async
    /// code that implicit I/O is not allowed and raises `MissingGreenlet`
    /// (or, at best, runs an unplanned query). A lazy relationship raises the
    /// same error. An `AsyncSession` is not safe for concurrent use: two
    /// tasks sharing one interleave their statements on one connection and
    /// fail with "another operation is in progress" or corrupt the unit of
    /// work.
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
    /// counts.
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
fn attribute_reads(body: &[Stmt]) -> Vec<(String, String, Span)> {
    let mut skip: Vec<Span> = Vec::new();
    weir_ir::visit::walk_stmts(body, &mut |s: &Stmt| {
        if let StmtKind::Assign { targets, .. } = &s.kind {
            skip.extend(targets.iter().map(|t| t.span));
        }
    });
    weir_ir::visit::walk_block_exprs(body, &mut |e: &Expr| {
        if let ExprKind::Call(call) = &e.kind {
            skip.push(call.callee.span);
        }
    });
    let mut out = Vec::new();
    weir_ir::visit::walk_block_exprs(body, &mut |e: &Expr| {
        if let ExprKind::Attribute { value, attr } = &e.kind
            && let Some(var) = value.as_name()
            && !skip.contains(&e.span)
            && !attr.starts_with("__")
            && attr != "awaitable_attrs"
        {
            out.push((var.to_string(), attr.to_string(), e.span));
        }
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
    reads: &[(String, String, Span)],
    out: &mut Vec<Finding>,
) {
    let _ = rule;
    let commits: Vec<_> = facts
        .calls_with(|e| matches!(e, Effect::Commit))
        .filter(|c| c.site.awaited && !c.site.in_lambda)
        .collect();
    let mut reported: Vec<String> = Vec::new();
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
                            && call.positional(0).and_then(Expr::as_name) == Some(var.as_str())
                    })
            });
            if refreshed {
                continue;
            }
            let exprs = origin_exprs(facts, var, at.start);
            let Some(model) = exprs
                .iter()
                .find_map(|e| facts.project.tables.mentioned(facts.module, e))
            else {
                continue;
            };
            reported.push(var.clone());
            out.push(
                finding(&AsyncSessionHazards::META, facts, *span, format!("`{var}.{attr}` is read after `await {session}.commit()` expired `{var}` ({})", model.name))
                    .why("The session expires every object on commit (`expire_on_commit=True`, the default): the next attribute read loads it again, implicit I/O that raises `MissingGreenlet` in async code.")
                    .help(format!("`await {session}.refresh({var})` after the commit, read what you need before committing, or create the session factory with `expire_on_commit=False`."))
                    .evidence(&facts.module.path, at.line, format!("`await {session}.commit()`")),
            );
        }
    }
}

fn lazy_reads(facts: &Cx<'_, '_>, reads: &[(String, String, Span)], out: &mut Vec<Finding>) {
    let mut reported: Vec<(String, String)> = Vec::new();
    for (var, attr, span) in reads {
        if reported.contains(&(var.clone(), attr.clone())) {
            continue;
        }
        let Some(bound) = facts.binding_before(var, span.start) else {
            continue;
        };
        let lazy = if let Some(lp) = facts.loops.iter().find(|l| l.span == bound) {
            let Some(rows) = &lp.rows else { continue };
            let Some(model) = facts.project.models.get(&rows.model) else {
                continue;
            };
            model
                .relationships
                .get(attr)
                .is_some_and(|r| r.loading == crate::project::models::Loading::Lazy)
                && !rows.eager.iter().any(|e| e == attr)
        } else {
            let exprs = origin_exprs(facts, var, span.start);
            if !is_query(&exprs) {
                continue;
            }
            let Some(model) = exprs
                .iter()
                .find_map(|e| facts.project.tables.mentioned(facts.module, e))
            else {
                continue;
            };
            model.lazy_relationship(attr)
                && !contains_call(&exprs, &|c| {
                    c.method_name().is_some_and(|m| EAGER_LOADERS.contains(&m))
                        && c.args.iter().any(|a| {
                            a.value
                                .dotted()
                                .is_some_and(|d| d.ends_with(&format!(".{attr}")))
                                || a.value.as_str() == Some(attr.as_str())
                        })
                })
        };
        if !lazy {
            continue;
        }
        reported.push((var.clone(), attr.clone()));
        out.push(
            finding(&AsyncSessionHazards::META, facts, *span, format!("`{var}.{attr}` loads a lazy relationship in async code"))
                .why("A lazy relationship runs a query on first access; an `AsyncSession` cannot do implicit I/O, so the read raises `MissingGreenlet`.")
                .help(format!("Eager-load it in the query (`.options(selectinload(….{attr}))`), or `await {var}.awaitable_attrs.{attr}`.")),
        );
    }
}

/// A local that holds a session (not a factory).
fn is_session_var(facts: &FunctionFacts<'_>, name: &str) -> bool {
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
    typed || annotated || name == "session" || name == "db" || name.ends_with("_session")
}

/// Session locals passed to a coroutine call `f(session, …)`.
fn sessions_passed(facts: &FunctionFacts<'_>, arg: &Expr) -> Vec<String> {
    let Some(call) = arg.as_call() else {
        return Vec::new();
    };
    call.args
        .iter()
        .filter_map(|a| a.value.as_name())
        .filter(|n| is_session_var(facts, n))
        .map(str::to_string)
        .collect()
}

fn shared_sessions(facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
    let mut tasks: BTreeMap<String, Vec<Span>> = BTreeMap::new();
    let mut gathers = Vec::new();
    facts.call_exprs().iter().for_each(|&e| {
        let Some(call) = e.as_call() else { return };
        match call.method_name() {
            Some("gather") => gathers.push((e.span, call)),
            Some("create_task" | "ensure_future" | "start_soon") => {
                if let Some(arg) = call.positional(0) {
                    for s in sessions_passed(facts, arg) {
                        tasks.entry(s).or_default().push(e.span);
                    }
                }
            }
            _ => {}
        }
    });
    for (span, call) in gathers {
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for arg in call.args.iter().filter(|a| a.name.is_none()) {
            for s in sessions_passed(facts, &arg.value) {
                *seen.entry(s).or_default() += 1;
            }
        }
        if let Some((session, n)) = seen.into_iter().find(|(_, n)| *n >= 2) {
            out.push(
                finding(&AsyncSessionHazards::META, facts, span, format!("one session `{session}` is shared by {n} coroutines run concurrently by `gather`"))
                    .why("An `AsyncSession` is not safe for concurrent use: the tasks interleave statements on one connection (\"another operation is in progress\") and corrupt its unit of work.")
                    .help("Open a session per task from the factory (`async with SessionLocal() as s:` inside each coroutine), or await the calls one after another."),
            );
        }
    }
    for (session, spans) in tasks {
        if spans.len() < 2 {
            continue;
        }
        out.push(
            finding(&AsyncSessionHazards::META, facts, spans[1], format!("one session `{session}` is shared by {} concurrently running tasks", spans.len()))
                .why("An `AsyncSession` is not safe for concurrent use: the tasks interleave statements on one connection (\"another operation is in progress\") and corrupt its unit of work.")
                .help("Open a session per task from the factory inside each task, or await the work one task after another.")
                .evidence(&facts.module.path, spans[0].line, "first task given the session"),
        );
    }
}
