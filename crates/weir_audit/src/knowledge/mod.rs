//! Knowledge packs: what library APIs do, as data. One file per ecosystem.
//! A rule never names an API; it asks the packs what a call does.
//!
//! Adding an ORM API is a one-line edit of a table here (plus a fixture).

mod aiosql;
mod cpu;
mod databases;
mod dbapi;
mod django;
pub mod django_admin;
pub mod drf;
mod guardian;
pub use django::{
    ASYNC_API as DJANGO_ASYNC_API, ONE_INSTANCE as DJANGO_ONE_INSTANCE,
    PAIR_OF_INSTANCE as DJANGO_PAIR_OF_INSTANCE, QUERYSET_ONLY as DJANGO_QUERYSET_ONLY,
    SAME_ROWS as DJANGO_SAME_ROWS, library_base_overrides as django_library_base_overrides,
};
mod http;
mod mail;
pub mod notes;
mod redis;
mod sqlalchemy;

pub use sqlalchemy::{SINGLE_ROW_METHODS, SINGLE_ROW_OR_404, STATEMENT_BUILDERS};
mod stdlib;
pub mod units_of_work;

use crate::collections::HashMap;

/// Kinds of runtime objects the analysis tracks through variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjKind {
    /// `SQLAlchemy` `Session` (sync) or a Flask-SQLAlchemy/SQLModel session.
    Session,
    AsyncSession,
    /// `sessionmaker(...)`: calling it opens a `Session`.
    SessionFactory,
    AsyncSessionFactory,
    Engine,
    AsyncEngine,
    /// A sync DB-API or `SQLAlchemy` connection.
    Connection,
    /// asyncpg / psycopg async / `SQLAlchemy` async connection.
    AsyncConnection,
    Cursor,
    AsyncPool,
    /// `SQLAlchemy`'s legacy `session.query(M)`: runs when a terminal method
    /// (`all`, `first`, `update`…) is called or when it is iterated.
    LegacyQuery,
    /// Django `QuerySet` or manager: runs when evaluated (iterated, `get`,
    /// `count`, `list(qs)`…).
    QuerySet,
    HttpClient,
    AsyncHttpClient,
    /// The synchronous `redis.Redis` client.
    RedisClient,
    /// `passlib.CryptContext`, `argon2.PasswordHasher`: deliberately slow hashing.
    PasswordHasher,
    /// A `PIL.Image`: its transformations are CPU-bound.
    Image,
    /// A Django model instance (`save()` and `delete()` run SQL).
    DjangoModel,
    /// `pathlib.Path`: its I/O methods block.
    Path,
    /// aiosql's queries object: each method runs one named SQL statement.
    SqlQueries,
    /// A python-emails `Message`: `send()` talks to an SMTP server.
    MailMessage,
    /// `SQLAlchemy`'s schema `Inspector` (`inspect(engine)`): its
    /// reflection methods query the database's catalog.
    SchemaInspector,
}

impl ObjKind {
    /// What calling an object of this kind returns (`SessionLocal()`).
    pub fn called(self) -> Option<ObjKind> {
        match self {
            ObjKind::SessionFactory => Some(ObjKind::Session),
            ObjKind::AsyncSessionFactory => Some(ObjKind::AsyncSession),
            _ => None,
        }
    }

    /// Lazy query objects, evaluated when iterated.
    pub fn is_lazy_query(self) -> bool {
        matches!(self, ObjKind::LegacyQuery | ObjKind::QuerySet)
    }

    /// Objects that hold a database connection until released.
    pub fn is_resource(self) -> bool {
        matches!(
            self,
            ObjKind::Session
                | ObjKind::AsyncSession
                | ObjKind::Connection
                | ObjKind::AsyncConnection
                | ObjKind::Cursor
        )
    }

    pub fn is_session(self) -> bool {
        matches!(self, ObjKind::Session | ObjKind::AsyncSession)
    }

    /// Sync objects whose every database call blocks the calling thread.
    pub fn is_sync_db(self) -> bool {
        matches!(
            self,
            ObjKind::Session | ObjKind::Connection | ObjKind::Cursor | ObjKind::Engine
        )
    }

    pub fn describe(self) -> &'static str {
        match self {
            ObjKind::Session | ObjKind::AsyncSession => "session",
            ObjKind::SessionFactory | ObjKind::AsyncSessionFactory => "session factory",
            ObjKind::Engine | ObjKind::AsyncEngine => "engine",
            ObjKind::Connection | ObjKind::AsyncConnection => "connection",
            ObjKind::Cursor => "cursor",
            ObjKind::AsyncPool => "pool",
            ObjKind::LegacyQuery | ObjKind::QuerySet => "query",
            ObjKind::HttpClient | ObjKind::AsyncHttpClient => "HTTP client",
            ObjKind::PasswordHasher => "password hasher",
            ObjKind::RedisClient => "Redis client",
            ObjKind::Image => "image",
            ObjKind::DjangoModel => "model instance",
            ObjKind::Path => "path",
            ObjKind::SqlQueries => "SQL queries",
            ObjKind::MailMessage => "mail message",
            ObjKind::SchemaInspector => "schema inspector",
        }
    }
}

/// What a statement sent to the database does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryOp {
    Select,
    Insert,
    Update,
    Delete,
    /// DDL and session statements (`CREATE`, `DROP`, `TRUNCATE`, `SET`…):
    /// not row operations.
    Other,
    /// Decided from the statement argument (`session.execute(stmt)`).
    FromArgument,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IoKind {
    File,
    /// A file-system metadata call (`os.path.exists`, `Path.stat()`,
    /// `Path.resolve()`, `os.makedirs`, `Path.unlink()`, `os.rename`): one
    /// system call on a directory entry or an inode, no file content,
    /// microseconds on a local disk, blocking only on a slow or network
    /// file system.
    FileMetadata,
    Http,
    Subprocess,
    Socket,
    Database,
    Input,
}

impl IoKind {
    pub fn describe(self) -> &'static str {
        match self {
            IoKind::File => "file I/O",
            IoKind::FileMetadata => "a file-system metadata call",
            IoKind::Http => "a synchronous HTTP request",
            IoKind::Subprocess => "a subprocess call",
            IoKind::Socket => "socket I/O",
            IoKind::Database => "a synchronous database call",
            IoKind::Input => "reading standard input",
        }
    }
}

/// What a call does, as far as the auditors care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    Query(QueryOp),
    /// ORM unit-of-work staging: `session.add(x)` / `session.delete(x)`.
    Stage(QueryOp),
    Commit,
    Rollback,
    Flush,
    Begin,
    /// Releases the receiver (or the first argument, for `pool.release(conn)`).
    Close,
    Blocking(IoKind),
    /// A synchronous sleep (`time.sleep`): blocks the calling thread.
    Sleep,
    /// A coroutine that sleeps (`asyncio.sleep`): never blocks. Awaited, it
    /// waits (and paces a loop on purpose, RT-07); not awaited, it is only a
    /// coroutine object handed to `ensure_future`/`gather` or returned.
    AsyncSleep,
    /// Runs its callable arguments off the event loop (`asyncio.to_thread`).
    Offload,
    /// CPU-bound work that holds the event loop: password hashing, image
    /// processing, XML/HTML parsing.
    CpuHeavy,
    /// Parsing a payload (`json.loads`): CPU-bound when the payload is large,
    /// which the rule decides from where the payload comes from.
    Deserialize,
    /// Awaited network I/O (`await client.get(url)`): the calls RT-07 could
    /// run concurrently.
    Network,
}

/// A function or constructor known by its qualified name.
pub struct FuncEntry {
    pub name: &'static str,
    pub effect: Option<Effect>,
    pub returns: Option<ObjKind>,
}

/// A method known by the kind of its receiver.
pub struct MethodEntry {
    pub on: &'static [ObjKind],
    pub name: &'static str,
    pub effect: Option<Effect>,
    pub returns: Option<ObjKind>,
}

/// Receiver names that, when nothing better is known, stand for an object kind.
pub struct NameHint {
    pub names: &'static [&'static str],
    pub kind: ObjKind,
}

pub struct Pack {
    pub name: &'static str,
    /// Top-level import roots that switch the pack on.
    pub roots: &'static [&'static str],
    pub funcs: &'static [FuncEntry],
    /// Qualified type names usable in annotations.
    pub types: &'static [(&'static str, ObjKind)],
    pub methods: &'static [MethodEntry],
    pub hints: &'static [NameHint],
    /// Attribute names that turn any receiver into a kind (`Model.objects`).
    pub attributes: &'static [(&'static str, ObjKind)],
}

pub const PACKS: &[&Pack] = &[
    &sqlalchemy::PACK,
    &django::PACK,
    &dbapi::PACK,
    &http::PACK,
    &stdlib::PACK,
    &cpu::PACK,
    &redis::PACK,
    &drf::PACK,
    &aiosql::PACK,
    &databases::PACK,
    &mail::PACK,
    &guardian::PACK,
];

/// The packs switched on for one project, indexed for lookup.
pub struct Knowledge {
    funcs: HashMap<&'static str, &'static FuncEntry>,
    types: HashMap<&'static str, ObjKind>,
    methods: HashMap<(ObjKind, &'static str), &'static MethodEntry>,
    /// Methods known whatever the receiver (`Path.read_bytes`, `run_in_executor`).
    any_receiver: HashMap<&'static str, &'static MethodEntry>,
    hints: HashMap<&'static str, ObjKind>,
    attributes: HashMap<&'static str, ObjKind>,
    active: Vec<&'static str>,
}

impl Knowledge {
    /// Switches on every pack whose import roots appear in `imported_roots`
    /// (packs with no roots, like the standard library, are always on).
    pub fn for_imports(imported_roots: &[&str]) -> Self {
        let mut k = Knowledge {
            funcs: HashMap::default(),
            types: HashMap::default(),
            methods: HashMap::default(),
            any_receiver: HashMap::default(),
            hints: HashMap::default(),
            attributes: HashMap::default(),
            active: Vec::new(),
        };
        for pack in PACKS {
            let on = pack.roots.is_empty() || imported_roots.iter().any(|r| pack.roots.contains(r));
            if on {
                k.add(pack);
            }
        }
        k
    }

    /// Switches on the packs of the libraries the code imports or a
    /// manifest declares (SPEC §5): a project that lists `psycopg2` gets the
    /// DB-API pack even where a file reaches it only through a helper.
    pub fn for_project(imported_roots: &[&str], stack: &crate::context::TechStack) -> Self {
        let mut roots = imported_roots.to_vec();
        roots.extend(stack.declared_import_roots());
        Self::for_imports(&roots)
    }

    /// Every pack on: for tests and single-file runs.
    pub fn all() -> Self {
        let roots: Vec<&str> = PACKS.iter().flat_map(|p| p.roots.iter().copied()).collect();
        Self::for_imports(&roots)
    }

    fn add(&mut self, pack: &'static Pack) {
        self.active.push(pack.name);
        for f in pack.funcs {
            self.funcs.insert(f.name, f);
        }
        for (name, kind) in pack.types {
            self.types.insert(name, *kind);
        }
        for m in pack.methods {
            if m.on.is_empty() {
                self.any_receiver.insert(m.name, m);
            }
            for on in m.on {
                self.methods.insert((*on, m.name), m);
            }
        }
        for hint in pack.hints {
            for name in hint.names {
                self.hints.insert(name, hint.kind);
            }
        }
        for (attr, kind) in pack.attributes {
            self.attributes.insert(attr, *kind);
        }
    }

    pub fn is_active(&self, pack: &str) -> bool {
        self.active.contains(&pack)
    }

    pub fn active_packs(&self) -> &[&'static str] {
        &self.active
    }

    /// The first segments (`sqlalchemy`) of the known functions that return
    /// one of `kinds`: a module that reaches none of them calls none.
    pub fn roots_of_funcs_returning(&self, kinds: &[ObjKind]) -> Vec<&'static str> {
        let mut roots: Vec<&'static str> = self
            .funcs
            .iter()
            .filter(|(_, f)| f.returns.is_some_and(|k| kinds.contains(&k)))
            .map(|(name, _)| name.split('.').next().unwrap_or(name))
            .collect();
        roots.sort_unstable();
        roots.dedup();
        roots
    }

    pub fn func(&self, qualified: &str) -> Option<&'static FuncEntry> {
        self.funcs.get(qualified).copied()
    }

    pub fn type_kind(&self, qualified: &str) -> Option<ObjKind> {
        self.types.get(qualified).copied()
    }

    pub fn method(&self, on: ObjKind, name: &str) -> Option<&'static MethodEntry> {
        if on == ObjKind::SqlQueries {
            // Every method of aiosql's queries object is a statement.
            return (!name.starts_with('_')).then(|| aiosql::statement(name));
        }
        self.methods.get(&(on, name)).copied()
    }

    /// A method that means the same on any receiver, when the receiver's
    /// kind is unknown.
    pub fn any_receiver_method(&self, name: &str) -> Option<&'static MethodEntry> {
        self.any_receiver.get(name).copied()
    }

    pub fn hint(&self, name: &str) -> Option<ObjKind> {
        self.hints.get(name).copied()
    }

    pub fn attribute(&self, attr: &str) -> Option<ObjKind> {
        self.attributes.get(attr).copied()
    }
}

/// Shorthands that keep the pack tables one line per API.
pub(crate) const fn func(name: &'static str, effect: Effect) -> FuncEntry {
    FuncEntry {
        name,
        effect: Some(effect),
        returns: None,
    }
}

pub(crate) const fn ctor(name: &'static str, returns: ObjKind) -> FuncEntry {
    FuncEntry {
        name,
        effect: None,
        returns: Some(returns),
    }
}

pub(crate) const fn method(
    on: &'static [ObjKind],
    name: &'static str,
    effect: Effect,
) -> MethodEntry {
    MethodEntry {
        on,
        name,
        effect: Some(effect),
        returns: None,
    }
}

pub(crate) const fn returns(
    on: &'static [ObjKind],
    name: &'static str,
    kind: ObjKind,
) -> MethodEntry {
    MethodEntry {
        on,
        name,
        effect: None,
        returns: Some(kind),
    }
}
