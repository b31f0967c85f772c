//! Engine and session configuration from the IR: the keyword arguments of
//! `create_engine` / `create_async_engine` / `*engine_from_config`,
//! `sessionmaker` / `async_sessionmaker`, and `Session(...)` /
//! `AsyncSession(...)` constructed with settings. Which callee is which
//! comes from the SQLAlchemy knowledge pack; values are resolved through
//! [`Project`].

use rayon::prelude::*;
use weir_audit::context::{ConfigValue, EngineConfig, SessionConfig};
use weir_audit::knowledge::{Knowledge, ObjKind};
use weir_ir::visit::{stmt_exprs, walk_expr, walk_stmts};
use weir_ir::{Call, Expr, ExprKind, Function, Module, StmtKind};

use super::resolve::{Project, qualify};

/// Session keywords that make a `Session(...)` call worth recording.
const SESSION_SETTINGS: &[&str] = &["expire_on_commit", "autoflush", "autobegin", "class_"];

#[derive(Default)]
pub struct EngineFacts {
    pub engines: Vec<EngineConfig>,
    pub sessions: Vec<SessionConfig>,
    /// URL schemes seen (`postgresql+asyncpg`), with their file and line.
    pub dialects: Vec<(String, String, u32)>,
}

pub fn collect(project: &Project<'_>, modules: &[Module]) -> EngineFacts {
    let knowledge = Knowledge::all();
    let roots = knowledge.roots_of_funcs_returning(&[
        ObjKind::Engine,
        ObjKind::AsyncEngine,
        ObjKind::SessionFactory,
        ObjKind::AsyncSessionFactory,
        ObjKind::Session,
        ObjKind::AsyncSession,
    ]);
    // Each module only adds to the lists: scanned in parallel, merged in
    // module order (the sorts below are stable), as a serial scan would.
    let per_module: Vec<EngineFacts> = modules
        .par_iter()
        .map(|module| {
            let mut out = EngineFacts::default();
            if may_make_engines(module, &roots) {
                scan_module(project, &knowledge, module, &mut out);
            }
            out
        })
        .collect();
    let mut out = EngineFacts::default();
    for facts in per_module {
        out.engines.extend(facts.engines);
        out.sessions.extend(facts.sessions);
        out.dialects.extend(facts.dialects);
    }
    out.engines
        .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    out.sessions
        .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    inherit_isolation(&mut out);
    out
}

/// A call's qualified name starts with an import's target, the module's
/// own name (its top-level definitions) or `builtins`: a module none of
/// whose names start like an engine or session factory makes neither, and
/// its bodies need no scan.
fn may_make_engines(module: &Module, roots: &[&str]) -> bool {
    let known = |name: &str| roots.contains(&name.split('.').next().unwrap_or(name));
    known(&module.name) || known("builtins") || module.imports.iter().any(|i| known(&i.target))
}

fn scan_module<'m>(
    project: &Project<'m>,
    knowledge: &Knowledge,
    module: &'m Module,
    out: &mut EngineFacts,
) {
    {
        for function in &module.functions {
            let scope = (function.id != 0).then_some(function);
            let bind = |target: &str| binding_name(module, function, target);
            let block = Block {
                project,
                knowledge,
                module,
                scope,
                binding: &bind,
            };
            block.scan(&function.body, out);
        }
        for class in &module.classes {
            let bind = |target: &str| format!("{}.{}.{target}", module.name, class.qualname);
            let block = Block {
                project,
                knowledge,
                module,
                scope: None,
                binding: &bind,
            };
            block.scan(&class.body, out);
        }
    }
}

/// One body of statements to scan, and how to name what it binds.
struct Block<'a, 'm> {
    project: &'a Project<'m>,
    knowledge: &'a Knowledge,
    module: &'m Module,
    scope: Option<&'m Function>,
    binding: &'a dyn Fn(&str) -> String,
}

impl<'m> Block<'_, 'm> {
    fn scan(&self, body: &'m [weir_ir::Stmt], out: &mut EngineFacts) {
        walk_stmts(body, &mut |stmt| {
            // The name a call's result is bound to goes to the first engine
            // or factory in the statement (`scoped_session(sessionmaker(...))`).
            // Named only when a call is recorded (most statements hold none).
            let mut target = match &stmt.kind {
                StmtKind::Assign {
                    targets, op: None, ..
                } if targets.len() == 1 => Some(&targets[0]),
                _ => None,
            };
            stmt_exprs(stmt, &mut |root| {
                walk_expr(root, &mut |expr| {
                    if self.record(expr, target, out) {
                        target = None;
                    }
                });
            });
        });
    }

    fn record(&self, expr: &'m Expr, target: Option<&Expr>, out: &mut EngineFacts) -> bool {
        let Some(call) = expr.as_call() else {
            return false;
        };
        let Some(qualified) = call.qualified.as_deref() else {
            return false;
        };
        let Some(kind) = self.knowledge.func(qualified).and_then(|f| f.returns) else {
            return false;
        };
        let target = || target.and_then(Expr::dotted).map(|t| (self.binding)(&t));
        let site = Site {
            project: self.project,
            module: self.module,
            scope: self.scope,
            call,
            expr,
            factory: qualified.rsplit('.').next().unwrap_or(qualified),
        };
        match kind {
            ObjKind::Engine | ObjKind::AsyncEngine => {
                site.engine(kind == ObjKind::AsyncEngine, target(), out)
            }
            ObjKind::SessionFactory | ObjKind::AsyncSessionFactory
                if !site.factory.contains("scoped") =>
            {
                site.session(kind == ObjKind::AsyncSessionFactory, target(), out)
            }
            ObjKind::Session | ObjKind::AsyncSession
                if SESSION_SETTINGS.iter().any(|k| call.keyword(k).is_some()) =>
            {
                site.session(kind == ObjKind::AsyncSession, target(), out)
            }
            _ => false,
        }
    }
}

/// `SessionLocal` at module level → `app.db.SessionLocal`; `self.engine`
/// in `Database.__init__` → `app.db.Database.engine`; a local → qualified
/// by its function.
fn binding_name(module: &Module, function: &Function, target: &str) -> String {
    if let Some(attr) = target.strip_prefix("self.")
        && let Some(class) = function.class
    {
        return format!("{}.{}.{attr}", module.name, module.classes[class].qualname);
    }
    if function.id == 0 {
        format!("{}.{target}", module.name)
    } else {
        format!("{}.{}.{target}", module.name, function.qualname)
    }
}

struct Site<'a, 'm> {
    project: &'a Project<'m>,
    module: &'m Module,
    scope: Option<&'m Function>,
    call: &'m Call,
    expr: &'m Expr,
    factory: &'a str,
}

impl Site<'_, '_> {
    fn kw(&self, name: &str) -> Option<ConfigValue> {
        self.call
            .keyword(name)
            .map(|v| self.project.value(self.module, self.scope, v))
    }

    fn engine(&self, is_async: bool, name: Option<String>, out: &mut EngineFacts) -> bool {
        let url = if self.factory.ends_with("from_config") {
            None
        } else {
            self.call.positional(0).or_else(|| self.call.keyword("url"))
        };
        let dialect = url.and_then(|u| match self.project.value(self.module, self.scope, u) {
            ConfigValue::Str(s) => scheme(&s),
            ConfigValue::Env {
                default: Some(d), ..
            } => scheme(&d),
            _ => None,
        });
        if let Some(dialect) = &dialect {
            out.dialects.push((
                dialect.clone(),
                self.module.path.clone(),
                self.expr.span.line,
            ));
        }
        out.engines.push(EngineConfig {
            name,
            factory: self.factory.to_string(),
            is_async,
            file: self.module.path.clone(),
            line: self.expr.span.line,
            dialect,
            pool_size: self.kw("pool_size"),
            max_overflow: self.kw("max_overflow"),
            pool_pre_ping: self.kw("pool_pre_ping"),
            pool_recycle: self.kw("pool_recycle"),
            pool_timeout: self.kw("pool_timeout"),
            poolclass: self.kw("poolclass"),
            isolation_level: self.kw("isolation_level"),
        });
        true
    }

    fn session(&self, is_async: bool, name: Option<String>, out: &mut EngineFacts) -> bool {
        let bind = self
            .call
            .keyword("bind")
            .or_else(|| self.call.positional(0));
        // `bind=engine.execution_options(isolation_level="SERIALIZABLE")`
        let (bind_expr, isolation) = match bind.map(|b| &b.kind) {
            Some(ExprKind::Call(inner)) if inner.method_name() == Some("execution_options") => (
                inner.receiver(),
                inner
                    .keyword("isolation_level")
                    .map(|v| self.project.value(self.module, self.scope, v)),
            ),
            _ => (bind, None),
        };
        out.sessions.push(SessionConfig {
            name,
            factory: self.factory.to_string(),
            is_async,
            file: self.module.path.clone(),
            line: self.expr.span.line,
            bind: bind_expr.and_then(|b| qualify(self.module, b)),
            expire_on_commit: self.kw("expire_on_commit"),
            autoflush: self.kw("autoflush"),
            isolation_level: isolation,
            class_: self.kw("class_"),
        });
        true
    }
}

/// `postgresql+asyncpg://user@host/db` → `postgresql+asyncpg`; no credentials.
fn scheme(url: &str) -> Option<String> {
    let (scheme, _) = url.split_once("://")?;
    (!scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '_'))
    .then(|| scheme.to_string())
}

/// A session without its own isolation level runs at its engine's.
fn inherit_isolation(facts: &mut EngineFacts) {
    for session in &mut facts.sessions {
        if session.isolation_level.is_some() {
            continue;
        }
        let Some(bind) = session.bind.as_deref() else {
            continue;
        };
        session.isolation_level = facts
            .engines
            .iter()
            .find(|e| e.name.as_deref() == Some(bind))
            .and_then(|e| e.isolation_level.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_and_factories_across_files() {
        let modules: Vec<Module> = [
            (
                "app/db.py",
                r#"from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine, AsyncSession
from sqlalchemy.orm import Session, scoped_session, sessionmaker

DATABASE_URL = "postgresql+asyncpg://app:secret@db:5432/app"

engine = create_async_engine(DATABASE_URL, pool_size=10, max_overflow=0, pool_pre_ping=True)
SessionLocal = async_sessionmaker(engine, expire_on_commit=False, class_=AsyncSession)

sync_engine = create_engine("postgresql+psycopg2://app@db/app", isolation_level="REPEATABLE READ")
ScopedSession = scoped_session(sessionmaker(bind=sync_engine, autoflush=False))
ReportSession = sessionmaker(bind=sync_engine.execution_options(isolation_level="AUTOCOMMIT"))


def one_off():
    with Session(sync_engine, expire_on_commit=False) as session:
        return session
"#,
            ),
            ("app/plain.py", "from sqlalchemy.orm import Session\n\ndef f(engine):\n    with Session(engine) as s:\n        pass\n"),
        ]
        .iter()
        .map(|(p, s)| weir_lang::lower(p, s).unwrap())
        .collect();
        let project = Project::new(&modules);
        let facts = collect(&project, &modules);
        assert_eq!(facts.engines.len(), 2);
        let engine = &facts.engines[0];
        assert_eq!(engine.name.as_deref(), Some("app.db.engine"));
        assert_eq!(engine.factory, "create_async_engine");
        assert!(engine.is_async);
        assert_eq!(engine.line, 7);
        assert_eq!(engine.dialect.as_deref(), Some("postgresql+asyncpg"));
        assert_eq!(engine.pool_size, Some(ConfigValue::Int(10)));
        assert_eq!(engine.max_overflow, Some(ConfigValue::Int(0)));
        assert_eq!(engine.pool_pre_ping, Some(ConfigValue::Bool(true)));
        assert_eq!(engine.pool_recycle, None);

        let names: Vec<(Option<&str>, &str, u32)> = facts
            .sessions
            .iter()
            .map(|s| (s.name.as_deref(), s.factory.as_str(), s.line))
            .collect();
        assert_eq!(
            names,
            vec![
                (Some("app.db.SessionLocal"), "async_sessionmaker", 8),
                (Some("app.db.ScopedSession"), "sessionmaker", 11),
                (Some("app.db.ReportSession"), "sessionmaker", 12),
                (None, "Session", 16),
            ]
        );
        let local = &facts.sessions[0];
        assert_eq!(local.bind.as_deref(), Some("app.db.engine"));
        assert_eq!(local.expire_on_commit, Some(ConfigValue::Bool(false)));
        assert_eq!(
            local.class_,
            Some(ConfigValue::Symbol {
                symbol: "sqlalchemy.ext.asyncio.AsyncSession".into()
            })
        );
        let scoped = &facts.sessions[1];
        assert_eq!(scoped.autoflush, Some(ConfigValue::Bool(false)));
        assert_eq!(
            scoped.isolation_level,
            Some(ConfigValue::Str("REPEATABLE READ".into())),
            "inherited from the engine"
        );
        assert_eq!(
            facts.sessions[2].isolation_level,
            Some(ConfigValue::Str("AUTOCOMMIT".into()))
        );
        assert_eq!(
            facts.sessions[2].bind.as_deref(),
            Some("app.db.sync_engine")
        );
        assert_eq!(
            facts
                .dialects
                .iter()
                .map(|d| d.0.as_str())
                .collect::<Vec<_>>(),
            vec!["postgresql+asyncpg", "postgresql+psycopg2"]
        );
    }
}
