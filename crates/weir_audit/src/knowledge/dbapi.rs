//! DB-API drivers (psycopg 2/3, sqlite3, `PyMySQL`, mysqlclient) and asyncio
//! drivers (asyncpg, psycopg async, aiosqlite).
//! <https://peps.python.org/pep-0249/>, <https://magicstack.github.io/asyncpg/current/api/>

use super::{
    Effect::{Blocking, Close, Commit, Query, Rollback},
    FuncEntry, IoKind, NameHint,
    ObjKind::{AsyncConnection, AsyncPool, Connection, Cursor},
    Pack,
    QueryOp::{FromArgument, Insert, Select},
    ctor, method, returns,
};

const SYNC_CONNECT: Option<super::Effect> = Some(Blocking(IoKind::Database));
const CONN: &[super::ObjKind] = &[Connection, AsyncConnection];
const CURSOR: &[super::ObjKind] = &[Cursor];

const fn connect(name: &'static str) -> FuncEntry {
    FuncEntry {
        name,
        effect: SYNC_CONNECT,
        returns: Some(Connection),
    }
}

pub const PACK: Pack = Pack {
    name: "dbapi",
    roots: &[
        "psycopg2",
        "psycopg",
        "sqlite3",
        "pymysql",
        "MySQLdb",
        "mysql",
        "asyncpg",
        "aiosqlite",
        "aiomysql",
        "aiopg",
        // Django's `connection.cursor()` is DB-API too.
        "django",
    ],
    funcs: &[
        connect("psycopg2.connect"),
        connect("psycopg.connect"),
        connect("psycopg.Connection.connect"),
        connect("sqlite3.connect"),
        connect("pymysql.connect"),
        connect("MySQLdb.connect"),
        connect("mysql.connector.connect"),
        ctor("asyncpg.connect", AsyncConnection),
        ctor("asyncpg.create_pool", AsyncPool),
        ctor("psycopg.AsyncConnection.connect", AsyncConnection),
        ctor("aiosqlite.connect", AsyncConnection),
        ctor("aiomysql.connect", AsyncConnection),
        ctor("aiopg.connect", AsyncConnection),
    ],
    types: &[
        ("psycopg2.extensions.connection", Connection),
        ("psycopg.Connection", Connection),
        ("sqlite3.Connection", Connection),
        ("psycopg2.extensions.cursor", Cursor),
        ("psycopg.Cursor", Cursor),
        ("sqlite3.Cursor", Cursor),
        ("asyncpg.Connection", AsyncConnection),
        ("asyncpg.connection.Connection", AsyncConnection),
        ("asyncpg.Pool", AsyncPool),
        ("asyncpg.pool.Pool", AsyncPool),
        ("psycopg.AsyncConnection", AsyncConnection),
    ],
    methods: &[
        returns(CONN, "cursor", Cursor),
        method(CONN, "commit", Commit),
        method(CONN, "rollback", Rollback),
        method(CONN, "close", Close),
        method(CONN, "executemany", Query(FromArgument)),
        method(CONN, "executescript", Query(FromArgument)),
        method(CONN, "fetch", Query(Select)),
        method(CONN, "fetchrow", Query(Select)),
        method(CONN, "fetchval", Query(Select)),
        method(CONN, "copy_records_to_table", Query(Insert)),
        method(CURSOR, "execute", Query(FromArgument)),
        method(CURSOR, "executemany", Query(FromArgument)),
        method(CURSOR, "close", Close),
        returns(&[AsyncPool], "acquire", AsyncConnection),
        method(&[AsyncPool], "release", Close),
        method(&[AsyncPool], "execute", Query(FromArgument)),
        method(&[AsyncPool], "fetch", Query(Select)),
        method(&[AsyncPool], "fetchrow", Query(Select)),
        method(&[AsyncPool], "fetchval", Query(Select)),
    ],
    hints: &[
        NameHint {
            names: &["cursor", "cur", "curs"],
            kind: Cursor,
        },
        NameHint {
            names: &["conn", "connection", "db_conn", "dbconn", "con"],
            kind: Connection,
        },
        NameHint {
            names: &["pool", "db_pool"],
            kind: AsyncPool,
        },
    ],
    attributes: &[],
};
