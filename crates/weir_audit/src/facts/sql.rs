//! Deciding what a statement argument does: `execute(update(M)...)` is an
//! UPDATE, `execute("DELETE FROM ...")` a DELETE, `execute(select(M))` a read.

use weir_ir::{Expr, ExprKind, Literal};

use crate::knowledge::{QueryOp, STATEMENT_BUILDERS};

/// The operation of raw SQL text, from its first keyword.
pub fn sql_text_op(text: &str) -> Option<QueryOp> {
    let word: String = text
        .trim_start()
        .trim_start_matches('(')
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_uppercase();
    match word.as_str() {
        "SELECT" | "WITH" | "SHOW" | "VALUES" => Some(QueryOp::Select),
        "UPDATE" => Some(QueryOp::Update),
        "DELETE" => Some(QueryOp::Delete),
        "INSERT" | "REPLACE" | "COPY" | "UPSERT" | "MERGE" => Some(QueryOp::Insert),
        "CREATE" | "DROP" | "ALTER" | "TRUNCATE" | "GRANT" | "REVOKE" | "COMMENT" | "VACUUM"
        | "ANALYZE" | "REINDEX" | "CLUSTER" | "SET" | "RESET" | "LOCK" | "BEGIN" | "COMMIT"
        | "ROLLBACK" | "SAVEPOINT" | "RELEASE" | "DISCARD" | "LISTEN" | "NOTIFY" | "UNLISTEN"
        | "PRAGMA" | "ATTACH" | "DETACH" | "USE"
        // Administration, no rows read: DuckDB extensions (`INSTALL httpfs`,
        // `LOAD httpfs`), MySQL's `KILL <thread>`.
        | "INSTALL" | "LOAD" | "KILL" => Some(QueryOp::Other),
        _ => None,
    }
}

/// The operation of a statement expression, following method chains down
/// to their root (`update(Job).where(...).values(...)` → UPDATE). `resolve`
/// qualifies a callee; `lookup` returns the value last assigned to a local.
pub fn statement_op<'a>(
    expr: &'a Expr,
    resolve: &dyn Fn(&Expr) -> Option<String>,
    lookup: &dyn Fn(&str) -> Option<&'a Expr>,
    depth: u8,
) -> Option<QueryOp> {
    if depth > 8 {
        return None;
    }
    match &expr.kind {
        ExprKind::Literal(Literal::Str(s)) => sql_text_op(s),
        ExprKind::Template(template) => sql_text_op(&template.text),
        ExprKind::Name { id } => statement_op(lookup(id)?, resolve, lookup, depth + 1),
        ExprKind::Call(call) => {
            if let Some(q) = resolve(&call.callee) {
                if let Some((_, op)) = STATEMENT_BUILDERS.iter().find(|(name, _)| *name == q) {
                    return Some(*op);
                }
                // `text("UPDATE ...")`; psycopg's composition
                // `sql.SQL("DROP TABLE {}").format(sql.Identifier(name))`.
                if q.ends_with(".text")
                    || matches!(q.as_str(), "psycopg2.sql.SQL" | "psycopg.sql.SQL")
                {
                    return call
                        .positional(0)
                        .and_then(|a| statement_op(a, resolve, lookup, depth + 1));
                }
            }
            let receiver = call.receiver()?;
            // Core `Table` methods: `table.select()`, `users.delete().where(…)`.
            if matches!(
                receiver.kind,
                ExprKind::Name { .. } | ExprKind::Attribute { .. }
            ) {
                match call.method_name() {
                    Some("select") => return Some(QueryOp::Select),
                    Some("insert") => return Some(QueryOp::Insert),
                    Some("update") => return Some(QueryOp::Update),
                    Some("delete") => return Some(QueryOp::Delete),
                    _ => {}
                }
            }
            // `.where(...)`, `.values(...)`, `.returning(...)` keep the root's operation.
            statement_op(receiver, resolve, lookup, depth + 1)
        }
        ExprKind::Binary { left, .. } => statement_op(left, resolve, lookup, depth + 1),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_first_keyword() {
        assert_eq!(
            sql_text_op("  update jobs set x = 1"),
            Some(QueryOp::Update)
        );
        assert_eq!(sql_text_op("\n  DELETE FROM jobs"), Some(QueryOp::Delete));
        assert_eq!(sql_text_op("select 1"), Some(QueryOp::Select));
        assert_eq!(
            sql_text_op("insert into t values (1)"),
            Some(QueryOp::Insert)
        );
        assert_eq!(sql_text_op("VACUUM"), Some(QueryOp::Other));
        assert_eq!(sql_text_op("DROP TABLE jobs"), Some(QueryOp::Other));
        assert_eq!(sql_text_op("EXPLAIN SELECT 1"), None);
        assert_eq!(sql_text_op("INSTALL httpfs"), Some(QueryOp::Other));
        assert_eq!(sql_text_op("KILL 4711"), Some(QueryOp::Other));
    }
}
