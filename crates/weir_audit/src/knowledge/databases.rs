//! encode/databases: async database access over SQLAlchemy Core
//! statements or raw SQL (`database = Database(url)`, then `await
//! database.fetch_all(query=notes.select())`). The `Database` is the
//! application's pool, connected at startup; each call borrows a
//! connection for one statement, committed on its own outside
//! `database.transaction()`.
//! <https://www.encode.io/databases/database_queries/>

use super::{
    Effect::Query,
    ObjKind::{AsyncConnection, AsyncPool},
    Pack,
    QueryOp::{FromArgument, Select},
    ctor, method,
};

const DATABASE: &[super::ObjKind] = &[AsyncPool, AsyncConnection];

pub const PACK: Pack = Pack {
    name: "databases",
    roots: &["databases"],
    funcs: &[
        ctor("databases.Database", AsyncPool),
        ctor("databases.core.Database", AsyncPool),
    ],
    types: &[
        ("databases.Database", AsyncPool),
        ("databases.core.Database", AsyncPool),
        ("databases.core.Connection", AsyncConnection),
    ],
    methods: &[
        method(DATABASE, "fetch_all", Query(Select)),
        method(DATABASE, "fetch_one", Query(Select)),
        method(DATABASE, "fetch_val", Query(Select)),
        method(DATABASE, "iterate", Query(Select)),
        method(DATABASE, "execute", Query(FromArgument)),
        method(DATABASE, "execute_many", Query(FromArgument)),
    ],
    hints: &[],
    attributes: &[],
};
