//! Engine and session configuration from the IR: the keyword arguments of
//! `create_engine` / `create_async_engine` / `*engine_from_config`,
//! `sessionmaker` / `async_sessionmaker`, and `Session(...)` /
//! `AsyncSession(...)` constructed with settings. Which callee is which
//! comes from the SQLAlchemy knowledge pack; values are resolved through
//! [`Project`].

use weir_audit::context::{ConfigValue, EngineConfig, SessionConfig};
use weir_audit::knowledge::{Knowledge, ObjKind};
use weir_ir::{Call, Class, Expr, ExprKind, Function, Module, Stmt, StmtKind};

use super::resolve::{Project, qualify};

/// Session keywords that make a `Session(...)` call worth recording.
const SESSION_SETTINGS: &[&str] = &["expire_on_commit", "autoflush", "autobegin", "class_"];

/// What engine and session factories return.
const FACTORY_KINDS: &[ObjKind] = &[
    ObjKind::Engine,
    ObjKind::AsyncEngine,
    ObjKind::SessionFactory,
    ObjKind::AsyncSessionFactory,
    ObjKind::Session,
    ObjKind::AsyncSession,
];

#[derive(Default)]
pub struct EngineFacts {
    pub engines: Vec<EngineConfig>,
    pub sessions: Vec<SessionConfig>,
    /// URL schemes seen (`postgresql+asyncpg`), with their file and line.
    pub dialects: Vec<(String, String, u32)>,
}

/// The knowledge engines are read with, and the first segments of every
/// factory's qualified name.
pub struct Factories {
    knowledge: Knowledge,
    roots: Vec<&'static str>,
}

impl Factories {
    pub fn new() -> Self {
        let knowledge = Knowledge::all();
        let roots = knowledge.roots_of_funcs_returning(FACTORY_KINDS);
        Factories { knowledge, roots }
    }

    fn is_root(&self, name: &str) -> bool {
        self.roots.contains(&name.split('.').next().unwrap_or(name))
    }

    /// The expressions the engine reader records: calls of an engine
    /// factory, of a session factory (not `scoped_session`, which wraps
    /// one), and of a session class given settings; with their qualified
    /// name and what they return.
    pub fn called<'m>(&self, expr: &'m Expr) -> Option<(&'m Call, &'m str, ObjKind)> {
        let call = expr.as_call()?;
        let qualified = call.qualified.as_deref()?;
        // Every factory's name starts with one of the roots: most calls
        // are told apart without hashing their name.
        if !self.is_root(qualified) {
            return None;
        }
        let kind = self.knowledge.func(qualified)?.returns?;
        let recorded = match kind {
            ObjKind::Engine | ObjKind::AsyncEngine => true,
            ObjKind::SessionFactory | ObjKind::AsyncSessionFactory => {
                !factory_name(qualified).contains("scoped")
            }
            ObjKind::Session | ObjKind::AsyncSession => {
                SESSION_SETTINGS.iter().any(|k| call.keyword(k).is_some())
            }
            _ => false,
        };
        recorded.then_some((call, qualified, kind))
    }

    /// A call's qualified name starts with an import's target, the module's
    /// own name (its top-level definitions) or `builtins`: a module none of
    /// whose names start like an engine or session factory makes neither,
    /// and its bodies need no scan.
    pub fn may_make_engines(&self, module: &Module) -> bool {
        self.is_root(&module.name)
            || self.is_root("builtins")
            || module.imports.iter().any(|i| self.is_root(&i.target))
    }
}

/// Modules' facts in module order (each only adds to the lists, so this is
/// what one serial scan would find), sorted (stably) and completed.
pub fn merge(per_module: impl IntoIterator<Item = EngineFacts>) -> EngineFacts {
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

/// The body being read, which names what it binds.
#[derive(Clone, Copy)]
enum Binder<'m> {
    Function(&'m Function),
    Class(&'m Class),
}

/// Reads one module's engines and sessions, one body at a time, fed by
/// the code walk (`scan`): `body`, then each statement (`stmt`) followed
/// by its expressions (`expr`).
pub struct Reader<'a, 'm> {
    project: &'a Project<'m>,
    factories: &'a Factories,
    module: &'m Module,
    binder: Option<Binder<'m>>,
    /// The name a call's result is bound to goes to the first engine or
    /// factory in the statement (`scoped_session(sessionmaker(...))`).
    target: Option<&'m Expr>,
    pub out: EngineFacts,
}

impl<'a, 'm> Reader<'a, 'm> {
    pub fn new(project: &'a Project<'m>, factories: &'a Factories, module: &'m Module) -> Self {
        Reader {
            project,
            factories,
            module,
            binder: None,
            target: None,
            out: EngineFacts::default(),
        }
    }

    pub fn function(&mut self, function: &'m Function) {
        self.binder = Some(Binder::Function(function));
    }

    pub fn class(&mut self, class: &'m Class) {
        self.binder = Some(Binder::Class(class));
    }

    pub fn stmt(&mut self, stmt: &'m Stmt) {
        self.target = match &stmt.kind {
            StmtKind::Assign {
                targets, op: None, ..
            } if targets.len() == 1 => Some(&targets[0]),
            _ => None,
        };
    }

    pub fn expr(&mut self, expr: &'m Expr) {
        if self.record(expr) {
            self.target = None;
        }
    }

    fn record(&mut self, expr: &'m Expr) -> bool {
        let Some((call, qualified, kind)) = self.factories.called(expr) else {
            return false;
        };
        let Some(binder) = self.binder else {
            return false;
        };
        let module = self.module;
        let target = || {
            self.target
                .and_then(Expr::dotted)
                .map(|t| binding_name(module, binder, &t))
        };
        let site = Site {
            project: self.project,
            module,
            scope: match binder {
                Binder::Function(f) => (f.id != 0).then_some(f),
                Binder::Class(_) => None,
            },
            call,
            expr,
            factory: factory_name(qualified),
        };
        let out = &mut self.out;
        match kind {
            ObjKind::Engine | ObjKind::AsyncEngine => {
                site.engine(kind == ObjKind::AsyncEngine, target(), out)
            }
            ObjKind::SessionFactory | ObjKind::Session => site.session(false, target(), out),
            ObjKind::AsyncSessionFactory | ObjKind::AsyncSession => {
                site.session(true, target(), out)
            }
            _ => false,
        }
    }
}

/// `sqlalchemy.orm.sessionmaker` → `sessionmaker`.
fn factory_name(qualified: &str) -> &str {
    qualified.rsplit('.').next().unwrap_or(qualified)
}

/// `SessionLocal` at module level → `app.db.SessionLocal`; `self.engine`
/// in `Database.__init__` → `app.db.Database.engine`; a local → qualified
/// by its function; a class attribute → qualified by its class.
fn binding_name(module: &Module, binder: Binder<'_>, target: &str) -> String {
    let function = match binder {
        Binder::Class(class) => return format!("{}.{}.{target}", module.name, class.qualname),
        Binder::Function(function) => function,
    };
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
        let facts = crate::discovery::scan::read_all(&project, &modules).engines;
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
