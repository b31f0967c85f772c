use weir_ir::ExprKind;

use crate::context::{ConfigValue, EngineConfig, ProjectContext};
use crate::declare_rule;
use crate::facts::ExecContext;
use crate::facts::context::{is_cli_command, is_script_path};
use crate::knowledge::ObjKind;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::call_text;

declare_rule! {
    /// ## What it does
    /// Checks the pool of every `create_engine(...)` / `create_async_engine(...)`
    /// and reports one finding per engine listing all its gaps, at the
    /// severity of the worst:
    /// - neither `pool_pre_ping` nor `pool_recycle` (HIGH);
    /// - in a web service, `max_overflow=-1`, an unbounded pool (HIGH);
    /// - in a web service, no `pool_size` keyword: the default of 5 (LOW);
    /// - in a web service, `poolclass=NullPool` (MEDIUM), unless the project
    ///   runs serverless (AWS Lambda, Mangum, Zappa, Chalice, a `lambda_handler`);
    /// - once per project, on the first engine: the sum over engines of
    ///   `pool_size + max_overflow` (defaults 5 and 10) times the worker
    ///   processes (`gunicorn -w`/`uvicorn --workers` in compose commands, or
    ///   `workers` in a `gunicorn.conf.py`; else 1) exceeds the database's
    ///   `max_connections` from the compose command (HIGH), with the engines,
    ///   the worker count and the setting as evidence.
    ///
    ///
    /// Migrations, tests and one-off scripts (`scripts/`, `bin/`, `cli/`, Django
    /// `management/commands/`, a top-level module nothing imports that
    /// defines no function or class, an engine created inside a click/typer
    /// command or a management command's `handle`) are skipped: their processes are short-lived,
    /// so no pooled connection goes stale and no pool serves concurrent
    /// requests.
    ///
    /// ## Why is this bad
    /// Pooled connections die silently: the database restarts, a proxy or
    /// firewall drops idle connections, a failover happens. Without a
    /// pre-ping or a recycle age, the next request to check out such a
    /// connection fails with "server closed the connection unexpectedly".
    /// Pools that together can open more connections than the server allows
    /// fail under load with "too many clients"; a `NullPool` in a
    /// long-running process pays connection setup on every request.
    ///
    /// ## Example
    /// ```python
    /// from sqlalchemy import create_engine
    ///
    /// engine = create_engine(DATABASE_URL, pool_size=10)
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from sqlalchemy import create_engine
    ///
    /// engine = create_engine(DATABASE_URL, pool_size=10, pool_pre_ping=True, pool_recycle=1800)
    /// ```
    ///
    /// ## Known limitations
    /// Settings passed through `**kwargs` or read from configuration files
    /// are not checked. SQLite engines are skipped: a `sqlite` URL, or a URL
    /// variable in a function named for SQLite or with SQLite-only arguments
    /// (`connect_args={"check_same_thread": False}`, a `sqlite_...` creator).
    /// A project's own `create_engine` wrapper is checked where it calls
    /// SQLAlchemy's, not at its callers. An engine that its function
    /// disposes of (`engine = create_engine(url)` … `engine.dispose()`) lives
    /// for one task and is not checked, nor is one bound to a local that
    /// never leaves its function and is used outside any loop (a version
    /// probe, a connection test: the pool is dropped on return). `NullPool` and
    /// `StaticPool` engines are only checked for the NullPool gap. A "web
    /// service" is a project whose stack has a web framework. The connection
    /// budget needs literal (or environment-default) pool sizes and a
    /// `max_connections` from a compose command; other processes sharing the
    /// database (workers, cron, replicas) are not counted.
    pub struct PoolConfigGaps;
    id: "RL-04",
    name: "pool-config-gaps",
    category: Category::ResourceLifecycle,
    summary: "engine pool gaps: no pre-ping/recycle, unbounded overflow, default size, NullPool, pools over max_connections",
    severity: Severity::High,
    job: None,
    init: Some(Severity::High),
    effort: Effort::S,
    languages: PYTHON,
    sources: &[Source { title: "SQLAlchemy: Dealing with Disconnects", url: "https://docs.sqlalchemy.org/en/20/core/pooling.html#dealing-with-disconnects", pack: Some("sqlalchemy") }],
}

/// The literal start of a URL: a string, an f-string, `"sqlite:///%s" % path`,
/// `"sqlite:///{}".format(path)`, `"sqlite:///" + path`.
fn url_prefix(url: &weir_ir::Expr) -> Option<&str> {
    match &url.kind {
        ExprKind::Literal(weir_ir::Literal::Str(s)) => Some(s),
        ExprKind::Template(template) => Some(&template.text),
        ExprKind::Binary { left, .. } => url_prefix(left),
        ExprKind::Call(call) if call.method_name() == Some("format") => {
            url_prefix(call.receiver()?)
        }
        _ => None,
    }
}

/// An engine whose URL is a variable but that is SQLite all the same: the
/// function building it says so (`def aio_sqlite_engine(url)`), or its
/// arguments do (`creator=sqlite_connection_factory(path)`, or
/// `connect_args={"check_same_thread": False}`, an option only the sqlite3
/// driver has). A file database has no server to drop pooled connections.
fn names_sqlite(facts: &Cx<'_, '_>, call: &weir_ir::Call) -> bool {
    // Names and keys only: a string default (`getenv("DATABASE_URL",
    // "sqlite:///dev.db")`) says what runs in development, and a conditional
    // (`{...} if url.startswith("sqlite") else {}`) that SQLite is one case.
    fn visit(expr: &weir_ir::Expr, found: &mut bool) {
        match &expr.kind {
            ExprKind::Conditional { .. } => return,
            ExprKind::Name { id } => *found |= id.to_ascii_lowercase().contains("sqlite"),
            ExprKind::Attribute { attr, .. } => {
                *found |= attr.to_ascii_lowercase().contains("sqlite");
            }
            ExprKind::Literal(weir_ir::Literal::Str(s)) => *found |= s == "check_same_thread",
            _ => {}
        }
        weir_ir::visit::child_exprs(expr, &mut |child| visit(child, found));
    }
    let mut found = facts.function.name.to_ascii_lowercase().contains("sqlite");
    for arg in &call.args {
        visit(&arg.value, &mut found);
    }
    found
}

/// `engine = create_engine(url)` and `engine.dispose()` in the same
/// function: an engine opened for one task and closed again (a migration
/// lock, a version probe). Its pool never holds a connection long enough to
/// go stale, nor serves concurrent requests.
fn disposed_here(facts: &Cx<'_, '_>, engine: &crate::facts::CallFact<'_>) -> bool {
    let mut bound = None;
    weir_ir::visit::walk_stmts(&facts.function.body, &mut |stmt| {
        if let Some(([target], value)) = stmt.plain_assign()
            && value.unawaited().span == engine.site.span
        {
            bound = target.as_name();
        }
    });
    bound.is_some_and(|name| {
        facts.call_exprs().iter().any(|e| {
            e.as_call().is_some_and(|c| {
                c.method_name() == Some("dispose")
                    && c.receiver().and_then(weir_ir::Expr::as_name) == Some(name)
            })
        })
    })
}

/// An engine that lives for one call of its function: bound to a local
/// name (`connectable = create_engine(url)`) that never leaves the
/// function (not returned, stored, handed to a call such as
/// `sessionmaker(bind=…)`, nor captured by a closure), used outside any
/// loop of the function, and not a module global (no top-level binding of
/// the name, no other function of the module naming it: `global engine`).
/// A version probe or a connection test opens its connections fresh and
/// drops the pool on return, so none sits idle long enough to go stale;
/// a loop using the engine (a poller) keeps it alive and is checked.
fn lives_for_one_call(facts: &Cx<'_, '_>, engine: &crate::facts::CallFact<'_>) -> bool {
    if facts.function.kind == weir_ir::FunctionKind::Module {
        return false;
    }
    let mut bound = None;
    weir_ir::visit::walk_stmts(&facts.function.body, &mut |stmt| {
        if let Some(([target], value)) = stmt.plain_assign()
            && value.unawaited().span == engine.site.span
        {
            bound = target.as_name();
        }
    });
    let Some(name) = bound else {
        return false;
    };
    if facts.escapes.contains(name) {
        return false;
    }
    let mut in_loop = false;
    weir_ir::visit::walk_block_exprs(&facts.function.body, &mut |e| {
        if e.as_name() == Some(name) {
            in_loop |= facts.loops.iter().any(|lp| lp.span.contains(&e.span));
        }
    });
    if in_loop {
        return false;
    }
    !facts.module.functions.iter().any(|f| {
        if std::ptr::eq(f, facts.function) {
            return false;
        }
        if f.kind == weir_ir::FunctionKind::Module {
            let mut assigned = false;
            weir_ir::visit::walk_stmts(&f.body, &mut |stmt| {
                if let weir_ir::StmtKind::Assign { targets, .. } = &stmt.kind {
                    assigned |= targets.iter().any(|t| t.as_name() == Some(name));
                }
            });
            return assigned;
        }
        // A name another function reads without binding it itself is the
        // module's global; its own local of the same name is not.
        let mut named = false;
        weir_ir::visit::walk_block_exprs(&f.body, &mut |e| {
            named |= e.as_name() == Some(name);
        });
        named && !f.params.iter().any(|p| p.name == name) && !binds(&f.body, name)
    })
}

/// `name = …`, `for name in …` or `with … as name` somewhere in `block`.
fn binds(block: &[weir_ir::Stmt], name: &str) -> bool {
    let mut found = false;
    weir_ir::visit::walk_stmts(block, &mut |stmt| match &stmt.kind {
        weir_ir::StmtKind::Assign { targets, .. } => {
            found |= targets.iter().any(|t| t.as_name() == Some(name));
        }
        weir_ir::StmtKind::Loop(lp) => {
            found |= lp.target.as_ref().and_then(weir_ir::Expr::as_name) == Some(name);
        }
        weir_ir::StmtKind::With { items, .. } => {
            found |= items
                .iter()
                .any(|i| i.target.as_ref().and_then(weir_ir::Expr::as_name) == Some(name));
        }
        _ => {}
    });
    found
}

/// One pool-configuration gap of an engine.
struct Gap {
    severity: Severity,
    text: String,
    why: &'static str,
    help: &'static str,
}

/// Import roots and names that mark a serverless deployment, where a
/// `NullPool` is the right choice.
const SERVERLESS_IMPORTS: &[&str] = &[
    "mangum",
    "aws_lambda_powertools",
    "awslambdaric",
    "serverless_wsgi",
    "apig_wsgi",
    "zappa",
    "chalice",
];

/// The project runs on AWS Lambda or another serverless platform: a Lambda
/// adapter is imported, or a module defines a `lambda_handler`/`handler`.
fn is_serverless(cx: &Cx<'_, '_>) -> bool {
    if cx.project.context.tech_stack.components().any(|c| {
        SERVERLESS_IMPORTS.contains(&c.id.as_str())
            || c.id.contains("lambda")
            || c.id == "serverless"
    }) {
        return true;
    }
    cx.project.index.modules().iter().any(|m| {
        m.imports.iter().any(|i| {
            let root = i.target.split('.').next().unwrap_or(&i.target);
            SERVERLESS_IMPORTS.contains(&root)
        }) || m.functions.iter().any(|f| f.name == "lambda_handler")
            || m.path.contains("lambda")
    })
}

fn is_minus_one(expr: &weir_ir::Expr) -> bool {
    match &expr.kind {
        ExprKind::Literal(weir_ir::Literal::Int(-1)) => true,
        ExprKind::Unary { operand, .. } => {
            matches!(operand.kind, ExprKind::Literal(weir_ir::Literal::Int(1)))
        }
        _ => false,
    }
}

/// Evidence lines: (path, line, label).
type EvidenceList = Vec<(String, u32, String)>;

/// An engine counted in the connection budget: its size and overflow.
struct Budget<'a> {
    engine: &'a EngineConfig,
    size: i64,
    overflow: i64,
}

/// A value from the context as a number: a literal, or the default of an
/// environment variable.
fn int_of(value: Option<&ConfigValue>, default: i64) -> Option<i64> {
    match value {
        None | Some(ConfigValue::Null) => Some(default),
        Some(ConfigValue::Int(n)) => Some(*n),
        Some(ConfigValue::Env {
            default: Some(d), ..
        }) => d.trim().parse().ok(),
        Some(_) => None,
    }
}

fn not_application_code(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.starts_with("alembic/")
        || lower.contains("/alembic/")
        || lower.contains("migrations/")
        || lower.starts_with("tests/")
        || lower.contains("/tests/")
        || is_script_path(path)
        || lower
            .rsplit('/')
            .next()
            .is_some_and(|n| n.starts_with("test_") || n == "conftest.py")
}

/// The project's connection demand against the server's `max_connections`:
/// the engine the finding goes on, its gap, and the evidence. `None` when a
/// number is not known statically or the budget holds.
fn connection_budget(ctx: &ProjectContext) -> Option<(&EngineConfig, Gap, EvidenceList)> {
    let db = &ctx.db_config;
    let limit = db
        .server_settings
        .iter()
        .find(|s| s.name == "max_connections")?;
    let max_connections: i64 = limit.value.trim().parse().ok()?;
    let mut engines = Vec::new();
    for engine in &db.engines {
        let sqlite = engine
            .dialect
            .as_deref()
            .is_some_and(|d| d.starts_with("sqlite"));
        let unpooled = engine
            .poolclass
            .as_ref()
            .and_then(ConfigValue::as_str)
            .is_some_and(|p| p.ends_with("NullPool") || p.ends_with("StaticPool"));
        if sqlite || unpooled || not_application_code(&engine.file) {
            continue;
        }
        let size = int_of(engine.pool_size.as_ref(), 5)?;
        let overflow = int_of(engine.max_overflow.as_ref(), 10)?;
        if overflow < 0 || size < 0 {
            return None;
        }
        engines.push(Budget {
            engine,
            size,
            overflow,
        });
    }
    let first = engines.iter().min_by(|a, b| {
        (a.engine.file.as_str(), a.engine.line).cmp(&(b.engine.file.as_str(), b.engine.line))
    })?;
    let compose: Vec<_> = db
        .app_workers
        .iter()
        .filter(|w| !w.service.is_empty())
        .collect();
    let workers_from: Vec<_> = if compose.is_empty() {
        db.app_workers.iter().take(1).collect()
    } else {
        compose
    };
    let workers: i64 = if workers_from.is_empty() {
        1
    } else {
        workers_from.iter().map(|w| i64::from(w.workers)).sum()
    };
    let per_process: i64 = engines.iter().map(|b| b.size + b.overflow).sum();
    let demand = per_process * workers;
    if demand <= max_connections {
        return None;
    }
    let mut evidence: EvidenceList = engines
        .iter()
        .map(|b| {
            (
                b.engine.file.clone(),
                b.engine.line,
                format!(
                    "`{}`: pool_size {} + max_overflow {}",
                    b.engine.name.as_deref().unwrap_or(&b.engine.factory),
                    b.size,
                    b.overflow
                ),
            )
        })
        .collect();
    for w in &workers_from {
        evidence.push((
            w.file.clone(),
            w.line,
            format!("{} workers: {}", w.server, w.workers),
        ));
    }
    evidence.push((
        limit.file.clone(),
        limit.line,
        format!(
            "max_connections={max_connections} (service `{}`)",
            limit.service
        ),
    ));
    let gap = Gap {
        severity: Severity::High,
        why: "When every worker process fills its pools the database runs out of connection slots and refuses new connections.",
        help: "Lower `pool_size`/`max_overflow`, reduce workers, raise `max_connections`, or put PgBouncer in front so that (pool_size + max_overflow) × engines × workers stays below `max_connections`.",
        text: format!(
            "the pools can open {demand} connections ({per_process} per process × {workers} worker process(es)) but the database allows max_connections={max_connections}"
        ),
    };
    Some((first.engine, gap, evidence))
}

/// A file run as a program (`wait_for_db.py` at the top of the repository):
/// outside any package, it defines no function or class and nothing in the
/// project imports it, so its engine lives only as long as the script. A
/// `database.py` that holds the application's engine defines nothing
/// either, but the application imports it (or it sits in a package).
fn is_standalone_script(facts: &Cx<'_, '_>) -> bool {
    let module = facts.module;
    if module.path.contains('/') || module.functions.len() > 1 || !module.classes.is_empty() {
        return false;
    }
    let name = module.name.as_str();
    let imports_it = |target: &str| {
        target
            .strip_prefix(name)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    };
    !facts
        .project
        .index
        .modules()
        .iter()
        .any(|m| m.imports.iter().any(|i| imports_it(&i.target)))
}

impl Rule for PoolConfigGaps {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        // Most functions create no engine: asked first, as the path checks
        // below split the module's path for every function of the project.
        if !facts
            .calls
            .iter()
            .any(|f| matches!(f.returns, Some(ObjKind::Engine | ObjKind::AsyncEngine)))
        {
            return;
        }
        // Migrations, tests and one-off scripts are short-lived processes:
        // no pooled connection sits idle long enough to go stale, and the
        // pool never serves concurrent requests.
        if matches!(facts.context, ExecContext::Migration | ExecContext::Test)
            || is_script_path(&facts.module.path)
            || is_cli_command(facts.module, facts.function)
            || is_standalone_script(facts)
        {
            return;
        }
        let ctx = &facts.project.context;
        let web = !ctx.tech_stack.web_frameworks.is_empty();
        let mut budget: Option<Option<_>> = None;
        for fact in &facts.calls {
            let (Some(call), Some(ObjKind::Engine | ObjKind::AsyncEngine)) =
                (fact.call, fact.returns)
            else {
                continue;
            };
            let Some(name) = call.qualified.as_deref() else {
                continue;
            };
            // A project's own `create_engine(...)` wrapper is checked where it
            // calls SQLAlchemy's, not at each call of the wrapper.
            if !(name.ends_with(".create_engine") || name.ends_with(".create_async_engine"))
                || facts.project.index.resolve_function(name).is_some()
            {
                continue;
            }
            if call.has_kwargs_spread()
                || disposed_here(facts, fact)
                || lives_for_one_call(facts, fact)
            {
                continue;
            }
            let url = call.positional(0).or_else(|| call.keyword("url"));
            let is_sqlite = url
                .and_then(url_prefix)
                .is_some_and(|s| s.starts_with("sqlite"))
                || names_sqlite(facts, call);
            if is_sqlite {
                continue;
            }
            let poolclass = call.keyword("poolclass").and_then(weir_ir::Expr::dotted);
            let null_pool = poolclass
                .as_deref()
                .is_some_and(|p| p.ends_with("NullPool"));
            let unpooled = null_pool
                || poolclass
                    .as_deref()
                    .is_some_and(|p| p.ends_with("StaticPool"));
            let config = ctx
                .db_config
                .engines
                .iter()
                .find(|e| e.file == facts.module.path && e.line == fact.site.span.line);
            let mut gaps = Vec::new();
            if !unpooled {
                if call.keyword("pool_pre_ping").is_none() && call.keyword("pool_recycle").is_none()
                {
                    gaps.push(Gap {
                        severity: Severity::High,
                        text: "sets neither `pool_pre_ping` nor `pool_recycle`".to_string(),
                        why: "Pooled connections that the server or a proxy closed are handed out as if alive; the next request fails with a disconnect error.",
                        help: "Pass `pool_pre_ping=True` (checks each connection on checkout) and `pool_recycle=<seconds below the server's idle timeout>`, e.g. `pool_recycle=1800`.",
                    });
                }
                let unbounded = call.keyword("max_overflow").is_some_and(is_minus_one)
                    || config.is_some_and(|c| c.max_overflow == Some(ConfigValue::Int(-1)));
                if web && unbounded {
                    gaps.push(Gap {
                        severity: Severity::High,
                        text: "`max_overflow=-1` lets the pool grow without bound under load"
                            .to_string(),
                        why: "Under a traffic spike every request opens another connection until the database refuses new ones, failing every service that shares it.",
                        help: "Bound the overflow (`max_overflow=10`) so that requests wait for `pool_timeout` instead of exhausting `max_connections`.",
                    });
                }
                if web && call.keyword("pool_size").is_none() {
                    gaps.push(Gap {
                        severity: Severity::Low,
                        text: "keeps the default `pool_size` (5)".to_string(),
                        why: "The default pool holds 5 connections (plus 10 overflow); a web service under concurrent load queues requests or churns overflow connections.",
                        help: "Size the pool for the service's concurrency: `pool_size=<concurrent requests per process>`, with `max_overflow` set explicitly.",
                    });
                }
            } else if null_pool && web && !is_serverless(facts) {
                gaps.push(Gap {
                    severity: Severity::Medium,
                    text: "uses `NullPool` in a long-running web service: every checkout opens a new connection".to_string(),
                        why: "A long-running process with `NullPool` opens and closes a database connection for every checkout: connection setup (TCP, TLS, auth) on every request.",
                        help: "Use the default `QueuePool` with `pool_pre_ping`; keep `NullPool` for serverless handlers, migrations and external poolers (PgBouncer).",
                });
            }
            let mut evidence = Vec::new();
            let budget = budget.get_or_insert_with(|| connection_budget(ctx));
            if let Some((engine, _, _)) = budget.as_ref()
                && engine.file == facts.module.path
                && engine.line == fact.site.span.line
                && let Some((_, gap, ev)) = budget.take()
            {
                gaps.push(gap);
                evidence = ev;
            }
            let Some(worst) = gaps.iter().map(|g| g.severity).min() else {
                continue;
            };
            let message = format!(
                "{} {}",
                call_text(fact),
                gaps.iter()
                    .map(|g| g.text.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            let join = |part: fn(&Gap) -> &'static str| {
                gaps.iter().map(part).collect::<Vec<_>>().join(" ")
            };
            let mut f = finding(&Self::META, facts, fact.site.span, message)
                .severity(worst)
                .why(join(|g| g.why))
                .help(join(|g| g.help));
            for (path, line, label) in evidence {
                f = f.evidence(&path, line, label);
            }
            out.push(f);
        }
    }
}
