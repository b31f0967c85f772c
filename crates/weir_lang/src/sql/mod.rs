//! SQL frontend (PostgreSQL): reads the statements stack discovery needs —
//! `CREATE TRIGGER`, `CREATE FUNCTION` (whose PL/pgSQL body is scanned for
//! `pg_notify`/`NOTIFY`), `DROP TRIGGER|FUNCTION|TABLE`, `LISTEN`, `NOTIFY` —
//! into [`weir_ir::sql`].
//!
//! The script is split into statements by a tolerant tokenizer, each
//! relevant statement is parsed with `sqlparser` (PostgreSQL dialect), and
//! what `sqlparser` rejects (`DO $$ … $$` blocks, string-literal trigger
//! arguments such as `EXECUTE FUNCTION f('jobs')`) is read by a small
//! scanner over the tokens. Statements neither can read are reported, never
//! fatal.

mod fallback;
mod lexer;
mod notify;

use sqlparser::ast::{
    self, CreateFunctionBody, DropBehavior, ObjectName, ObjectType, Statement, TriggerEvent,
    TriggerObject, TriggerObjectKind, TriggerPeriod,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use weir_ir::sql::{CreateTrigger, SqlProblem, SqlScript, SqlStatement, SqlStatementKind};

use lexer::{RawStatement, Token, TokenKind, tokenize};
pub use notify::notify_targets;

/// What kind of statement a token run starts, when discovery cares about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relevant {
    CreateTrigger,
    CreateFunction,
    Drop,
    ListenNotify,
    DoBlock,
}

impl Relevant {
    fn describe(self) -> &'static str {
        match self {
            Relevant::CreateTrigger => "CREATE TRIGGER",
            Relevant::CreateFunction => "CREATE FUNCTION",
            Relevant::Drop => "DROP",
            Relevant::ListenNotify => "LISTEN/NOTIFY",
            Relevant::DoBlock => "DO block",
        }
    }
}

fn relevance(tokens: &[Token]) -> Option<Relevant> {
    let first = tokens.first()?;
    if first.is_keyword("create") {
        let object = tokens[1..].iter().find(|t| {
            !(t.is_keyword("or")
                || t.is_keyword("replace")
                || t.is_keyword("constraint")
                || t.is_keyword("temp")
                || t.is_keyword("temporary"))
        })?;
        return if object.is_keyword("trigger") {
            Some(Relevant::CreateTrigger)
        } else if object.is_keyword("function") {
            Some(Relevant::CreateFunction)
        } else {
            None
        };
    }
    if first.is_keyword("drop") {
        let object = tokens.get(1)?;
        return (object.is_keyword("trigger")
            || object.is_keyword("function")
            || object.is_keyword("table"))
        .then_some(Relevant::Drop);
    }
    if first.is_keyword("listen") || first.is_keyword("notify") {
        return Some(Relevant::ListenNotify);
    }
    first.is_keyword("do").then_some(Relevant::DoBlock)
}

/// True when `text` may hold a statement [`read_sql`] keeps: a cheap
/// filter for the many SQL strings of a code base.
pub fn may_be_relevant(text: &str) -> bool {
    let upper = text.to_ascii_uppercase();
    [
        "TRIGGER",
        "FUNCTION",
        "LISTEN",
        "NOTIFY",
        "DROP TABLE",
        "DO $",
        "DO\n",
        "DO '",
    ]
    .iter()
    .any(|k| upper.contains(k))
}

/// PL/pgSQL in `DO` blocks and SQL in dynamic `EXECUTE '…'` strings nest;
/// reading stops at this depth.
const MAX_DEPTH: u8 = 4;

/// Reads one SQL script. Lines in the result are 1-based within `text`.
pub fn read_sql(text: &str) -> SqlScript {
    let mut script = SqlScript::default();
    read_script(text, 0, &mut script);
    script
}

fn read_script(text: &str, depth: u8, script: &mut SqlScript) {
    let tokens = tokenize(text);
    for raw in lexer::statements(&tokens) {
        read_statement(text, &raw, depth, script);
    }
}

fn read_statement(text: &str, raw: &RawStatement<'_>, depth: u8, script: &mut SqlScript) {
    let Some(relevant) = relevance(raw.tokens) else {
        return;
    };
    let line = raw.tokens[0].line;
    if relevant == Relevant::DoBlock {
        // sqlparser has no DO; its body is PL/pgSQL holding the statements.
        let body = raw
            .tokens
            .iter()
            .find(|t| matches!(t.kind, TokenKind::Dollar | TokenKind::Str));
        match body {
            Some(body) => read_embedded(&body.text, body.line - 1, depth + 1, script),
            None => script.unreadable.push(SqlProblem {
                line,
                message: "cannot read this DO block (no body found)".into(),
            }),
        }
        return;
    }
    let parsed = Parser::parse_sql(&PostgreSqlDialect {}, &text[raw.start..raw.end]);
    let error = match parsed {
        Ok(statements) => {
            for statement in &statements {
                if let Some(kind) = convert(statement, raw.tokens) {
                    script.statements.push(SqlStatement {
                        kind,
                        line,
                        recovered: false,
                    });
                }
            }
            return;
        }
        Err(e) => e.to_string(),
    };
    match fallback::statement(raw.tokens) {
        Some(kind) => script.statements.push(SqlStatement {
            kind,
            line,
            recovered: true,
        }),
        None => script.unreadable.push(SqlProblem {
            line,
            message: format!(
                "cannot read this {} statement ({error})",
                relevant.describe()
            ),
        }),
    }
}

/// Reads the statements inside a PL/pgSQL body (a `DO` block): they sit
/// behind `BEGIN`, `IF … THEN` and the like, and dynamic SQL hides in
/// `EXECUTE '…'` strings. `line_offset` maps body lines to script lines.
fn read_embedded(body: &str, line_offset: u32, depth: u8, script: &mut SqlScript) {
    if depth > MAX_DEPTH {
        return;
    }
    let tokens = tokenize(body);
    let mut inner = SqlScript::default();
    for raw in lexer::statements(&tokens) {
        let start = (0..raw.tokens.len())
            .find(|&i| relevance(&raw.tokens[i..]).is_some_and(|r| r != Relevant::DoBlock));
        if let Some(start) = start {
            let statement = RawStatement {
                tokens: &raw.tokens[start..],
                start: raw.tokens[start].start,
                end: raw.end,
            };
            read_statement(body, &statement, depth, &mut inner);
        }
        for token in raw.tokens {
            if token.kind == TokenKind::Str && may_be_relevant(&token.text) {
                read_embedded(&token.text, token.line - 1, depth + 1, &mut inner);
            }
        }
    }
    for mut statement in inner.statements {
        statement.line += line_offset;
        statement.recovered = true;
        script.statements.push(statement);
    }
    for mut problem in inner.unreadable {
        problem.line += line_offset;
        script.unreadable.push(problem);
    }
}

/// `public.Jobs` → `public.jobs`; quoted parts keep their case.
fn object_name(name: &ObjectName) -> String {
    name.0
        .iter()
        .map(|part| match part.as_ident() {
            Some(ident) if ident.quote_style.is_some() => ident.value.clone(),
            Some(ident) => ident.value.to_ascii_lowercase(),
            None => part.to_string().to_ascii_lowercase(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn ident(ident: &ast::Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_ascii_lowercase()
    }
}

fn convert(statement: &Statement, tokens: &[Token]) -> Option<SqlStatementKind> {
    Some(match statement {
        Statement::CreateTrigger(trigger) => {
            let exec = trigger.exec_body.as_ref()?;
            SqlStatementKind::CreateTrigger(CreateTrigger {
                name: object_name(&trigger.name),
                table: object_name(&trigger.table_name),
                timing: match trigger.period {
                    Some(TriggerPeriod::Before) => "BEFORE",
                    Some(TriggerPeriod::InsteadOf) => "INSTEAD OF",
                    Some(TriggerPeriod::For) => "FOR",
                    Some(TriggerPeriod::After) | None => "AFTER",
                }
                .into(),
                events: trigger
                    .events
                    .iter()
                    .map(|e| {
                        match e {
                            TriggerEvent::Insert => "INSERT",
                            TriggerEvent::Update(_) => "UPDATE",
                            TriggerEvent::Delete => "DELETE",
                            TriggerEvent::Truncate => "TRUNCATE",
                        }
                        .to_string()
                    })
                    .collect(),
                level: match trigger.trigger_object {
                    Some(
                        TriggerObjectKind::ForEach(TriggerObject::Row)
                        | TriggerObjectKind::For(TriggerObject::Row),
                    ) => "ROW",
                    _ => "STATEMENT",
                }
                .into(),
                function: object_name(&exec.func_desc.name),
                args: fallback::trigger_args(tokens),
                or_replace: trigger.or_replace,
            })
        }
        Statement::CreateFunction(function) => {
            let body = match &function.function_body {
                Some(
                    CreateFunctionBody::AsBeforeOptions { body, .. }
                    | CreateFunctionBody::AsAfterOptions(body),
                ) => string_value(body),
                _ => None,
            };
            let notifies = match body {
                Some(body) => notify_targets(&body),
                // `BEGIN ATOMIC … END` / `RETURN …` bodies are SQL tokens.
                None => notify::notify_targets_in(tokens),
            };
            SqlStatementKind::CreateFunction {
                name: object_name(&function.name),
                or_replace: function.or_replace,
                notifies,
            }
        }
        Statement::DropTrigger(drop) => SqlStatementKind::DropTrigger {
            name: object_name(&drop.trigger_name),
            table: drop.table_name.as_ref().map(object_name),
        },
        Statement::DropFunction(drop) => SqlStatementKind::DropFunction {
            names: drop
                .func_desc
                .iter()
                .map(|f| object_name(&f.name))
                .collect(),
            cascade: matches!(drop.drop_behavior, Some(DropBehavior::Cascade)),
        },
        Statement::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => SqlStatementKind::DropTable {
            names: names.iter().map(object_name).collect(),
        },
        Statement::LISTEN { channel } => SqlStatementKind::Listen {
            channel: ident(channel),
        },
        Statement::NOTIFY { channel, .. } => SqlStatementKind::Notify {
            channel: ident(channel),
        },
        _ => return None,
    })
}

fn string_value(expr: &ast::Expr) -> Option<String> {
    let ast::Expr::Value(value) = expr else {
        return None;
    };
    match &value.value {
        ast::Value::DollarQuotedString(s) => Some(s.value.clone()),
        ast::Value::SingleQuotedString(s) | ast::Value::EscapedStringLiteral(s) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
