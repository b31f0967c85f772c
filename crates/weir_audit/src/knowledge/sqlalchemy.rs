//! `SQLAlchemy` 1.4/2.0 (ORM and Core, sync and asyncio), `SQLModel` and
//! Flask-SQLAlchemy. <https://docs.sqlalchemy.org/en/20/>

use super::{
    Effect::{Begin, Blocking, Close, Commit, Flush, Query, Rollback, Stage},
    IoKind, NameHint,
    ObjKind::{
        AsyncConnection, AsyncEngine, AsyncSession, AsyncSessionFactory, Connection, Engine,
        LegacyQuery, SchemaInspector, Session, SessionFactory,
    },
    Pack,
    QueryOp::{Delete, FromArgument, Insert, Other, Select, Update},
    ctor, method, returns,
};

const SESSIONS: &[super::ObjKind] = &[Session, AsyncSession, SessionFactory, AsyncSessionFactory];
const CONNECTIONS: &[super::ObjKind] = &[Connection, AsyncConnection];
const ENGINES: &[super::ObjKind] = &[Engine];
const ASYNC_ENGINES: &[super::ObjKind] = &[AsyncEngine];
const QUERY: &[super::ObjKind] = &[LegacyQuery];
const INSPECTOR: &[super::ObjKind] = &[SchemaInspector];
/// A reflection call of the `Inspector`: a query of the database catalog
/// on a connection of the engine, blocking the calling thread.
const REFLECT: super::Effect = Blocking(IoKind::Database);

pub const PACK: Pack = Pack {
    name: "sqlalchemy",
    roots: &["sqlalchemy", "sqlmodel", "flask_sqlalchemy"],
    funcs: &[
        ctor("sqlalchemy.create_engine", Engine),
        ctor("sqlalchemy.engine.create_engine", Engine),
        ctor("sqlmodel.create_engine", Engine),
        ctor("sqlalchemy.engine_from_config", Engine),
        ctor("sqlalchemy.ext.asyncio.create_async_engine", AsyncEngine),
        ctor(
            "sqlalchemy.ext.asyncio.async_engine_from_config",
            AsyncEngine,
        ),
        ctor("sqlalchemy.orm.sessionmaker", SessionFactory),
        ctor("sqlalchemy.orm.scoped_session", SessionFactory),
        ctor(
            "sqlalchemy.ext.asyncio.async_sessionmaker",
            AsyncSessionFactory,
        ),
        ctor(
            "sqlalchemy.ext.asyncio.async_scoped_session",
            AsyncSessionFactory,
        ),
        ctor("sqlalchemy.orm.Session", Session),
        ctor("sqlalchemy.orm.session.Session", Session),
        ctor("sqlmodel.Session", Session),
        ctor("sqlalchemy.ext.asyncio.AsyncSession", AsyncSession),
        ctor("sqlmodel.ext.asyncio.session.AsyncSession", AsyncSession),
        // `inspect(engine)` / `inspect(connection)`: the schema Inspector.
        // On a mapped object or class it gives an `InstanceState` or a
        // `Mapper`, which have none of the reflection methods below.
        ctor("sqlalchemy.inspect", SchemaInspector),
        ctor("sqlalchemy.inspection.inspect", SchemaInspector),
        ctor(
            "sqlalchemy.engine.reflection.Inspector.from_engine",
            SchemaInspector,
        ),
    ],
    types: &[
        ("sqlalchemy.orm.Session", Session),
        ("sqlalchemy.orm.session.Session", Session),
        ("sqlalchemy.orm.scoped_session", Session),
        ("sqlmodel.Session", Session),
        ("sqlalchemy.ext.asyncio.AsyncSession", AsyncSession),
        ("sqlalchemy.ext.asyncio.async_scoped_session", AsyncSession),
        ("sqlmodel.ext.asyncio.session.AsyncSession", AsyncSession),
        ("sqlalchemy.engine.Engine", Engine),
        ("sqlalchemy.Engine", Engine),
        ("sqlalchemy.ext.asyncio.AsyncEngine", AsyncEngine),
        ("sqlalchemy.engine.Connection", Connection),
        ("sqlalchemy.Connection", Connection),
        ("sqlalchemy.ext.asyncio.AsyncConnection", AsyncConnection),
        ("sqlalchemy.orm.sessionmaker", SessionFactory),
        // The legacy `Query` a helper hands out (`-> Query`).
        ("sqlalchemy.engine.reflection.Inspector", SchemaInspector),
        ("sqlalchemy.engine.Inspector", SchemaInspector),
        ("sqlalchemy.Inspector", SchemaInspector),
        ("sqlalchemy.orm.Query", LegacyQuery),
        ("sqlalchemy.orm.query.Query", LegacyQuery),
        ("flask_sqlalchemy.query.Query", LegacyQuery),
        (
            "sqlalchemy.ext.asyncio.async_sessionmaker",
            AsyncSessionFactory,
        ),
    ],
    methods: &[
        // Session / AsyncSession (and scoped_session, which proxies them).
        method(SESSIONS, "execute", Query(FromArgument)),
        method(SESSIONS, "scalars", Query(FromArgument)),
        method(SESSIONS, "scalar", Query(FromArgument)),
        method(SESSIONS, "stream", Query(FromArgument)),
        method(SESSIONS, "stream_scalars", Query(FromArgument)),
        // SQLModel's `Session.exec` / `AsyncSession.exec`: `execute` that
        // returns scalars for a single-entity select.
        method(SESSIONS, "exec", Query(FromArgument)),
        method(SESSIONS, "get", Query(Select)),
        method(SESSIONS, "get_one", Query(Select)),
        method(SESSIONS, "refresh", Query(Select)),
        // SELECTs by primary key unless the object is already in the session.
        method(SESSIONS, "merge", Query(Select)),
        returns(SESSIONS, "query", LegacyQuery),
        method(SESSIONS, "add", Stage(Insert)),
        method(SESSIONS, "delete", Stage(Delete)),
        method(SESSIONS, "commit", Commit),
        method(SESSIONS, "rollback", Rollback),
        method(SESSIONS, "flush", Flush),
        method(SESSIONS, "close", Close),
        method(SESSIONS, "begin", Begin),
        method(SESSIONS, "begin_nested", Begin),
        returns(&[Session], "connection", Connection),
        returns(&[AsyncSession], "connection", AsyncConnection),
        // Engines hand out connections.
        returns(ENGINES, "connect", Connection),
        returns(ENGINES, "begin", Connection),
        returns(ENGINES, "raw_connection", Connection),
        returns(ASYNC_ENGINES, "connect", AsyncConnection),
        returns(ASYNC_ENGINES, "begin", AsyncConnection),
        // Core connections (DB-API connections share the kind; see dbapi.rs).
        method(CONNECTIONS, "execute", Query(FromArgument)),
        method(CONNECTIONS, "exec_driver_sql", Query(FromArgument)),
        method(CONNECTIONS, "scalar", Query(FromArgument)),
        method(CONNECTIONS, "scalars", Query(FromArgument)),
        method(CONNECTIONS, "stream", Query(FromArgument)),
        method(CONNECTIONS, "commit", Commit),
        method(CONNECTIONS, "rollback", Rollback),
        method(CONNECTIONS, "close", Close),
        method(CONNECTIONS, "begin", Begin),
        method(CONNECTIONS, "begin_nested", Begin),
        // The Inspector's reflection methods (Reflecting Database Objects).
        method(INSPECTOR, "get_schema_names", REFLECT),
        method(INSPECTOR, "get_table_names", REFLECT),
        method(INSPECTOR, "get_view_names", REFLECT),
        method(INSPECTOR, "get_materialized_view_names", REFLECT),
        method(INSPECTOR, "get_sequence_names", REFLECT),
        method(INSPECTOR, "get_temp_table_names", REFLECT),
        method(INSPECTOR, "get_sorted_table_and_fkc_names", REFLECT),
        method(INSPECTOR, "get_columns", REFLECT),
        method(INSPECTOR, "get_pk_constraint", REFLECT),
        method(INSPECTOR, "get_foreign_keys", REFLECT),
        method(INSPECTOR, "get_indexes", REFLECT),
        method(INSPECTOR, "get_unique_constraints", REFLECT),
        method(INSPECTOR, "get_check_constraints", REFLECT),
        method(INSPECTOR, "get_table_comment", REFLECT),
        method(INSPECTOR, "get_view_definition", REFLECT),
        method(INSPECTOR, "get_multi_columns", REFLECT),
        method(INSPECTOR, "has_table", REFLECT),
        method(INSPECTOR, "has_schema", REFLECT),
        method(INSPECTOR, "has_index", REFLECT),
        method(INSPECTOR, "has_sequence", REFLECT),
        method(INSPECTOR, "reflect_table", REFLECT),
        // Legacy Query: builders stay lazy, terminal methods run SQL.
        returns(QUERY, "filter", LegacyQuery),
        returns(QUERY, "filter_by", LegacyQuery),
        returns(QUERY, "join", LegacyQuery),
        returns(QUERY, "outerjoin", LegacyQuery),
        returns(QUERY, "options", LegacyQuery),
        returns(QUERY, "order_by", LegacyQuery),
        returns(QUERY, "group_by", LegacyQuery),
        returns(QUERY, "having", LegacyQuery),
        returns(QUERY, "limit", LegacyQuery),
        returns(QUERY, "offset", LegacyQuery),
        returns(QUERY, "distinct", LegacyQuery),
        returns(QUERY, "with_entities", LegacyQuery),
        returns(QUERY, "with_for_update", LegacyQuery),
        returns(QUERY, "select_from", LegacyQuery),
        returns(QUERY, "execution_options", LegacyQuery),
        returns(QUERY, "populate_existing", LegacyQuery),
        returns(QUERY, "yield_per", LegacyQuery),
        method(QUERY, "all", Query(Select)),
        method(QUERY, "first", Query(Select)),
        method(QUERY, "one", Query(Select)),
        method(QUERY, "one_or_none", Query(Select)),
        method(QUERY, "scalar", Query(Select)),
        method(QUERY, "count", Query(Select)),
        method(QUERY, "get", Query(Select)),
        // Flask-SQLAlchemy's Query (what `Model.query` returns) adds these.
        method(QUERY, "first_or_404", Query(Select)),
        method(QUERY, "one_or_404", Query(Select)),
        method(QUERY, "get_or_404", Query(Select)),
        method(QUERY, "paginate", Query(Select)),
        method(QUERY, "update", Query(Update)),
        method(QUERY, "delete", Query(Delete)),
    ],
    hints: &[NameHint {
        names: &[
            "session",
            "db_session",
            "dbsession",
            "sess",
            "db",
            "orm_session",
            "sa_session",
        ],
        kind: Session,
    }],
    attributes: &[],
};

/// Result and Query methods that return one row (or `None`), not rows:
/// `session.scalars(q).first()`, `query.one_or_none()`.
pub const SINGLE_ROW_METHODS: &[&str] = &[
    "first",
    "one",
    "one_or_none",
    "scalar_one",
    "scalar_one_or_none",
];

/// Flask-SQLAlchemy's single-row loads that answer 404 when there is none:
/// `User.query.get_or_404(pk)`, `query.first_or_404()`.
pub const SINGLE_ROW_OR_404: &[&str] = &["first_or_404", "one_or_404", "get_or_404"];

/// `update(M)`, `delete(M)`, `insert(M)` constructors of Core statements.
pub const STATEMENT_BUILDERS: &[(&str, super::QueryOp)] = &[
    ("sqlalchemy.select", Select),
    ("sqlalchemy.future.select", Select),
    ("sqlmodel.select", Select),
    ("sqlalchemy.update", Update),
    ("sqlalchemy.sql.expression.update", Update),
    ("sqlalchemy.delete", Delete),
    ("sqlalchemy.sql.expression.delete", Delete),
    ("sqlalchemy.insert", Insert),
    ("sqlalchemy.sql.expression.insert", Insert),
    ("sqlalchemy.dialects.postgresql.insert", Insert),
    ("sqlalchemy.dialects.sqlite.insert", Insert),
    ("sqlalchemy.dialects.mysql.insert", Insert),
    // DDL constructs (`connection.execute(DropTable(table))`): schema
    // changes, not row operations.
    ("sqlalchemy.schema.CreateTable", Other),
    ("sqlalchemy.schema.DropTable", Other),
    ("sqlalchemy.schema.AddConstraint", Other),
    ("sqlalchemy.schema.DropConstraint", Other),
    ("sqlalchemy.schema.CreateIndex", Other),
    ("sqlalchemy.schema.DropIndex", Other),
    ("sqlalchemy.schema.CreateSequence", Other),
    ("sqlalchemy.schema.DropSequence", Other),
    ("sqlalchemy.schema.CreateSchema", Other),
    ("sqlalchemy.schema.DropSchema", Other),
    ("sqlalchemy.sql.ddl.CreateTable", Other),
    ("sqlalchemy.sql.ddl.DropTable", Other),
    ("sqlalchemy.sql.ddl.DropConstraint", Other),
    ("sqlalchemy.DDL", Other),
    ("sqlalchemy.schema.DDL", Other),
];
