//! aiosql: SQL kept in `.sql` files, loaded as an object whose methods are
//! the named statements (`queries = aiosql.from_path("sql", "asyncpg")`,
//! then `await queries.get_user_by_username(conn, username=name)`). Every
//! method of that object runs its statement on the connection it is given.
//! <https://nackjicholson.github.io/aiosql/getting-started.html>

use super::{
    Effect::Query,
    MethodEntry,
    ObjKind::SqlQueries,
    Pack,
    QueryOp::{Delete, Insert, Select, Update},
    ctor, method,
};

const QUERIES: &[super::ObjKind] = &[SqlQueries];

pub const PACK: Pack = Pack {
    name: "aiosql",
    roots: &["aiosql"],
    funcs: &[
        ctor("aiosql.from_path", SqlQueries),
        ctor("aiosql.from_str", SqlQueries),
        ctor("aiosql.aiosql.from_path", SqlQueries),
        ctor("aiosql.aiosql.from_str", SqlQueries),
    ],
    types: &[("aiosql.queries.Queries", SqlQueries)],
    methods: &[],
    hints: &[],
    attributes: &[],
};

/// The method of a statement named `name`: every name is one. The
/// operation is read from the name the project gave the statement (the
/// `-- name:` line of the `.sql` file), as the SQL itself is not read:
/// `create_…`/`insert_…`/`add_…` insert, `update_…`/`set_…` update,
/// `delete_…`/`remove_…` delete, anything else reads.
pub fn statement(name: &str) -> &'static MethodEntry {
    const INSERT: MethodEntry = method(QUERIES, "*", Query(Insert));
    const UPDATE: MethodEntry = method(QUERIES, "*", Query(Update));
    const DELETE: MethodEntry = method(QUERIES, "*", Query(Delete));
    const SELECT: MethodEntry = method(QUERIES, "*", Query(Select));
    let verb = name.split('_').next().unwrap_or(name);
    match verb {
        "create" | "insert" | "add" => &INSERT,
        "update" | "set" => &UPDATE,
        "delete" | "remove" => &DELETE,
        _ => &SELECT,
    }
}
