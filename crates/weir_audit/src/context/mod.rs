//! The context store (SPEC §1 step 2, §5): what stack discovery learned
//! about the project — its stack, database configuration, triggers and
//! event subscribers — and the best-practice notes that apply to it. Built
//! once per run (by `weir_cli`'s discovery), read-only afterwards, shared by
//! every auditor through [`crate::facts::ProjectFacts`], printed by
//! `weir context` and embedded in the JSON report.
//!
//! Pure data with stable, versioned field names: fields are only ever added
//! within a [`CONTEXT_SCHEMA_VERSION`].

pub mod catalog;

use serde::Serialize;

pub use catalog::{Role, Technology};

use crate::knowledge::notes::Note;

pub const CONTEXT_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectContext {
    pub schema_version: u32,
    /// The audited directory, as given on the command line.
    pub codebase_root: String,
    pub tech_stack: TechStack,
    pub db_config: DbConfig,
    /// Triggers as they stand after every migration, in table order.
    pub triggers: Vec<Trigger>,
    pub event_subscribers: Vec<EventSubscriber>,
    /// Code that publishes on a channel: SQL `NOTIFY` / `pg_notify(...)`
    /// sent through a driver, SQLAlchemy `func.pg_notify`, Redis `publish`.
    /// Trigger functions are in `triggers`, not here.
    pub event_publishers: Vec<EventPublisher>,
    /// The notes of SPEC §6 for the technologies of `tech_stack`.
    pub best_practices: Vec<&'static Note>,
}

impl Default for ProjectContext {
    fn default() -> Self {
        ProjectContext {
            schema_version: CONTEXT_SCHEMA_VERSION,
            codebase_root: String::new(),
            tech_stack: TechStack::default(),
            db_config: DbConfig::default(),
            triggers: Vec::new(),
            event_subscribers: Vec::new(),
            event_publishers: Vec::new(),
            best_practices: Vec::new(),
        }
    }
}

impl ProjectContext {
    /// The notes (of the discovered stack) on `topic`.
    pub fn notes_on<'a>(&'a self, topic: &'a str) -> impl Iterator<Item = &'static Note> + 'a {
        self.best_practices
            .iter()
            .copied()
            .filter(move |n| n.topic == topic)
    }

    /// Triggers that send a NOTIFY, on `table` (schema-qualified or not).
    pub fn notify_triggers_on<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a Trigger> {
        self.triggers
            .iter()
            .filter(move |t| t.notifies && same_table(&t.table, table))
    }

    /// Subscribers listening on `channel`.
    pub fn subscribers_of<'a>(
        &'a self,
        channel: &'a str,
    ) -> impl Iterator<Item = &'a EventSubscriber> {
        self.event_subscribers
            .iter()
            .filter(move |s| s.channel.as_deref() == Some(channel))
    }
}

/// `public.jobs` and `jobs` name the same table for a project that does not
/// use schemas.
fn same_table(a: &str, b: &str) -> bool {
    let strip = |t: &str| t.strip_prefix("public.").unwrap_or(t).to_ascii_lowercase();
    strip(a) == strip(b)
}

/// What the project is built with, by role. Each list is sorted by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TechStack {
    pub databases: Vec<Component>,
    pub orms: Vec<Component>,
    pub async_frameworks: Vec<Component>,
    pub web_frameworks: Vec<Component>,
    pub drivers: Vec<Component>,
}

impl TechStack {
    pub fn role(&self, role: Role) -> &[Component] {
        match role {
            Role::Database => &self.databases,
            Role::Orm => &self.orms,
            Role::AsyncFramework => &self.async_frameworks,
            Role::WebFramework => &self.web_frameworks,
            Role::Driver => &self.drivers,
        }
    }

    pub fn role_mut(&mut self, role: Role) -> &mut Vec<Component> {
        match role {
            Role::Database => &mut self.databases,
            Role::Orm => &mut self.orms,
            Role::AsyncFramework => &mut self.async_frameworks,
            Role::WebFramework => &mut self.web_frameworks,
            Role::Driver => &mut self.drivers,
        }
    }

    pub fn components(&self) -> impl Iterator<Item = &Component> {
        Role::ALL.into_iter().flat_map(|r| self.role(r))
    }

    /// Whether the project uses the technology `id` (`"sqlalchemy"`).
    pub fn has(&self, id: &str) -> bool {
        self.components().any(|c| c.id == id)
    }

    pub fn component(&self, id: &str) -> Option<&Component> {
        self.components().find(|c| c.id == id)
    }

    /// Import roots of the technologies a manifest declares: the knowledge
    /// packs for them switch on even in files that import nothing yet.
    pub fn declared_import_roots(&self) -> Vec<&'static str> {
        let mut roots: Vec<&'static str> = self
            .components()
            .filter(|c| c.sources.iter().any(|s| s.kind == OriginKind::Manifest))
            .filter_map(|c| catalog::by_id(&c.id))
            .flat_map(|t| t.import_roots.iter().copied())
            .collect();
        roots.sort_unstable();
        roots.dedup();
        roots
    }
}

/// One technology of the stack, with every place it was learned from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Component {
    /// Stable id from the catalogue (`postgresql`, `sqlalchemy`, `asyncpg`).
    pub id: String,
    /// Display name (`PostgreSQL`, `SQLAlchemy`, `Django ORM`).
    pub name: String,
    /// The version of the most authoritative source that states one: a
    /// compose image or a manifest (its pinned version, or the lower bound
    /// of its requirement), then the docs.
    pub version: Option<String>,
    /// Where it was learned, most authoritative first. Sources that
    /// disagree on the version are all kept.
    pub sources: Vec<Origin>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub file: String,
    pub line: u32,
    pub kind: OriginKind,
    /// What was read there: `sqlalchemy[asyncio]>=2.0.29`, `image: postgres:16-alpine`.
    pub text: String,
    /// The version this source states, if any.
    pub version: Option<String>,
}

/// Kinds of sources, most authoritative first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OriginKind {
    /// A container image in a compose file.
    Compose,
    /// A dependency manifest (`requirements.txt`, `pyproject.toml`, …).
    Manifest,
    /// Code that configures it (`create_engine("postgresql+asyncpg://…")`,
    /// Django `ENGINE`).
    Code,
    /// `docs/project/tech_stack.md`.
    Docs,
    /// An import in the code.
    Import,
    /// Implied by another component (asyncpg → PostgreSQL, FastAPI → asyncio).
    Implied,
}

/// Database configuration from code and deployment files.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DbConfig {
    pub engines: Vec<EngineConfig>,
    pub sessions: Vec<SessionConfig>,
    pub django_databases: Vec<DjangoDatabase>,
    /// Server settings from deployment files (`postgres -c max_connections=100`).
    pub server_settings: Vec<ServerSetting>,
    /// Worker processes of the application servers (`gunicorn -w 4`,
    /// `uvicorn --workers 2`, `workers = 4` in a `gunicorn.conf.py`).
    pub app_workers: Vec<AppWorkers>,
}

/// How many worker processes an application server runs, and where that is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppWorkers {
    /// `gunicorn`, `uvicorn`, `hypercorn`.
    pub server: String,
    /// The compose service; empty for a config file.
    pub service: String,
    pub workers: u32,
    pub file: String,
    pub line: u32,
}

impl DbConfig {
    /// The engine a session factory is bound to.
    pub fn engine_of(&self, session: &SessionConfig) -> Option<&EngineConfig> {
        let bind = session.bind.as_deref()?;
        self.engines
            .iter()
            .find(|e| e.name.as_deref() == Some(bind))
    }
}

/// A value from configuration code, resolved through literal constants and
/// settings attributes where possible. `null` means not set (the library
/// default applies) or `None`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ConfigValue {
    Bool(bool),
    Int(i64),
    Str(String),
    Null,
    /// A library object by qualified name (`sqlalchemy.pool.NullPool`).
    Symbol {
        symbol: String,
    },
    /// Read from the environment at run time (`os.getenv("POOL_SIZE", "10")`).
    Env {
        env: String,
        default: Option<String>,
    },
    /// Computed at run time; the expression, shortened.
    Unresolved {
        expr: String,
    },
}

impl ConfigValue {
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            ConfigValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            ConfigValue::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            ConfigValue::Str(s) => Some(s),
            ConfigValue::Symbol { symbol } => Some(symbol),
            _ => None,
        }
    }
}

/// `create_engine(...)` / `create_async_engine(...)` and friends.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EngineConfig {
    /// Qualified name of the variable it is assigned to (`app.db.engine`).
    pub name: Option<String>,
    /// `create_async_engine`
    pub factory: String,
    pub is_async: bool,
    pub file: String,
    pub line: u32,
    /// Dialect and driver of the URL when it is known (`postgresql+asyncpg`);
    /// never credentials.
    pub dialect: Option<String>,
    pub pool_size: Option<ConfigValue>,
    pub max_overflow: Option<ConfigValue>,
    pub pool_pre_ping: Option<ConfigValue>,
    pub pool_recycle: Option<ConfigValue>,
    pub pool_timeout: Option<ConfigValue>,
    pub poolclass: Option<ConfigValue>,
    pub isolation_level: Option<ConfigValue>,
}

/// `sessionmaker(...)`, `async_sessionmaker(...)`, or a `Session(...)`
/// constructed with settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionConfig {
    /// Qualified name of the factory (`app.db.SessionLocal`).
    pub name: Option<String>,
    pub factory: String,
    pub is_async: bool,
    pub file: String,
    pub line: u32,
    /// Qualified name of the bound engine (`app.db.engine`).
    pub bind: Option<String>,
    /// SQLAlchemy's default is `True`.
    pub expire_on_commit: Option<ConfigValue>,
    /// SQLAlchemy's default is `True`.
    pub autoflush: Option<ConfigValue>,
    /// From `bind=engine.execution_options(isolation_level=…)`, or the bound
    /// engine's `isolation_level`.
    pub isolation_level: Option<ConfigValue>,
    pub class_: Option<ConfigValue>,
}

impl SessionConfig {
    /// `expire_on_commit` with SQLAlchemy's default applied; `None` when it
    /// is set to something not known statically.
    pub fn effective_expire_on_commit(&self) -> Option<bool> {
        match &self.expire_on_commit {
            None => Some(true),
            Some(value) => value.as_bool(),
        }
    }
}

/// One entry of Django's `DATABASES`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DjangoDatabase {
    pub alias: String,
    pub file: String,
    pub line: u32,
    pub engine: Option<ConfigValue>,
    /// Django's default is 0: a new connection per request.
    pub conn_max_age: Option<ConfigValue>,
    pub conn_health_checks: Option<ConfigValue>,
    pub atomic_requests: Option<ConfigValue>,
    pub autocommit: Option<ConfigValue>,
    /// `OPTIONS` entries (`isolation_level`, `pool`, …), sorted by key.
    pub options: Vec<(String, ConfigValue)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerSetting {
    /// Catalogue id of the database (`postgresql`).
    pub database: String,
    /// The compose service.
    pub service: String,
    pub name: String,
    pub value: String,
    pub file: String,
    pub line: u32,
}

/// A trigger as it stands after all migrations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trigger {
    pub name: String,
    pub table: String,
    /// `BEFORE`, `AFTER`, `INSTEAD OF`.
    pub timing: String,
    /// `INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`.
    pub events: Vec<String>,
    /// `ROW` or `STATEMENT`.
    pub level: String,
    pub function: String,
    /// The function sends a NOTIFY (to a channel known or not).
    pub notifies: bool,
    /// The first channel known statically; `null` when it does not notify
    /// or the channel is computed.
    pub channel: Option<String>,
    /// Every channel known statically.
    pub channels: Vec<String>,
    pub file: String,
    pub line: u32,
    /// Where the trigger function was (last) defined.
    pub function_defined_at: Option<Location>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    pub file: String,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventSubscriber {
    /// `null` when the channel is computed at run time.
    pub channel: Option<String>,
    /// A pattern subscription (Redis `psubscribe`).
    pub pattern: bool,
    /// For a channel built at run time (`f"job_{job_id}"`,
    /// `"job_{}".format(i)`, `"job_" + key`): its shape, `{}` where values
    /// go (`job_{}`). Two names with the same template come from the same
    /// code shape; `null` otherwise.
    pub template: Option<String>,
    /// `postgresql` (SQL `LISTEN`), `asyncpg`, `psycopg`, `redis`.
    pub technology: String,
    pub file: String,
    pub line: u32,
    /// Qualified name of the enclosing function.
    pub function: String,
}

/// A place in the code that sends on a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventPublisher {
    /// `null` when the channel is computed at run time.
    pub channel: Option<String>,
    /// As for [`EventSubscriber::template`].
    pub template: Option<String>,
    /// `postgresql` (`NOTIFY`, `pg_notify`) or `redis`.
    pub technology: String,
    pub file: String,
    pub line: u32,
    /// Qualified name of the enclosing function.
    pub function: String,
}

impl EventSubscriber {
    /// PostgreSQL (`LISTEN`, asyncpg, psycopg) or Redis: channels of one
    /// family never reach the other.
    pub fn family(&self) -> ChannelFamily {
        ChannelFamily::of(&self.technology)
    }
}

impl EventPublisher {
    pub fn family(&self) -> ChannelFamily {
        ChannelFamily::of(&self.technology)
    }
}

/// The namespace a channel name lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelFamily {
    Postgres,
    Redis,
}

impl ChannelFamily {
    pub fn of(technology: &str) -> Self {
        if technology == "redis" {
            ChannelFamily::Redis
        } else {
            ChannelFamily::Postgres
        }
    }
}
