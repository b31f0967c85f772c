//! The SQL side of the IR: the few statements stack discovery cares about
//! (triggers, trigger functions, what drops them, LISTEN/NOTIFY), read from
//! migrations, `.sql` files and SQL strings in code. Everything else in a
//! script is skipped.

use serde::Serialize;

/// What a SQL frontend read from one script.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SqlScript {
    pub statements: Vec<SqlStatement>,
    /// Statements that looked relevant but could not be read, even by the
    /// tolerant fallback.
    pub unreadable: Vec<SqlProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SqlStatement {
    pub kind: SqlStatementKind,
    /// 1-based line within the script text.
    pub line: u32,
    /// Read by the tolerant fallback because the SQL parser rejected it
    /// (`DO $$ … $$` blocks, string-literal trigger arguments).
    pub recovered: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SqlStatementKind {
    CreateTrigger(CreateTrigger),
    /// `CREATE [OR REPLACE] FUNCTION name(...) ... AS $$ body $$`: only what
    /// its body notifies is kept.
    CreateFunction {
        name: String,
        or_replace: bool,
        notifies: Vec<NotifyTarget>,
    },
    DropTrigger {
        name: String,
        table: Option<String>,
    },
    DropFunction {
        names: Vec<String>,
        cascade: bool,
    },
    DropTable {
        names: Vec<String>,
    },
    Listen {
        channel: String,
    },
    Notify {
        channel: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreateTrigger {
    pub name: String,
    /// Table name as written, schema included (`public.jobs`), lower-cased
    /// unless quoted.
    pub table: String,
    /// `BEFORE`, `AFTER` or `INSTEAD OF`.
    pub timing: String,
    /// `INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`.
    pub events: Vec<String>,
    /// `ROW` or `STATEMENT`.
    pub level: String,
    pub function: String,
    /// Literal arguments passed to the function (`TG_ARGV`).
    pub args: Vec<String>,
    pub or_replace: bool,
}

/// The channel a `pg_notify(...)` / `NOTIFY` in a function body sends to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum NotifyTarget {
    /// A literal channel name.
    Channel(String),
    /// `pg_notify(TG_ARGV[n], ...)`: the trigger's n-th argument.
    TriggerArg(usize),
    /// Computed at run time.
    Dynamic,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SqlProblem {
    pub line: u32,
    pub message: String,
}
