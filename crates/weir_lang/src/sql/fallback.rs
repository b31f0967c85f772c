//! The tolerant reader for statements sqlparser rejects. It walks the
//! tokens of one statement by the PostgreSQL grammar of the few statements
//! discovery needs and gives up (returns `None`) at the first surprise.

use weir_ir::sql::{CreateTrigger, SqlStatementKind};

use super::lexer::{Token, TokenKind};
use super::notify::notify_targets_in;

struct Cursor<'t> {
    tokens: &'t [Token],
    pos: usize,
}

impl<'t> Cursor<'t> {
    fn peek(&self) -> Option<&'t Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<&'t Token> {
        let token = self.tokens.get(self.pos)?;
        self.pos += 1;
        Some(token)
    }

    /// Consumes `keyword` when it is next.
    fn eat(&mut self, keyword: &str) -> bool {
        let hit = self.peek().is_some_and(|t| t.is_keyword(keyword));
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn eat_punct(&mut self, c: char) -> bool {
        let hit = self.peek().is_some_and(|t| t.is_punct(c));
        if hit {
            self.pos += 1;
        }
        hit
    }

    /// `schema.name` or `name`, folded as PostgreSQL folds identifiers.
    fn name(&mut self) -> Option<String> {
        let mut parts = vec![self.next()?.ident()?];
        while self.peek().is_some_and(|t| t.is_punct('.')) {
            self.pos += 1;
            parts.push(self.next()?.ident()?);
        }
        Some(parts.join("."))
    }

    fn eat_if_exists(&mut self) {
        if self.eat("if") {
            self.eat("exists");
        }
    }

    /// Skips a balanced `( … )` group when one is next.
    fn skip_parens(&mut self) {
        if !self.peek().is_some_and(|t| t.is_punct('(')) {
            return;
        }
        let mut depth = 0usize;
        while let Some(token) = self.next() {
            if token.is_punct('(') {
                depth += 1;
            } else if token.is_punct(')') {
                depth -= 1;
                if depth == 0 {
                    return;
                }
            }
        }
    }
}

/// Reads one statement without sqlparser.
pub(super) fn statement(tokens: &[Token]) -> Option<SqlStatementKind> {
    let mut cur = Cursor { tokens, pos: 0 };
    if cur.eat("create") {
        let or_replace = cur.eat("or") && cur.eat("replace");
        cur.eat("constraint");
        let _temporary = cur.eat("temp") || cur.eat("temporary");
        if cur.eat("trigger") {
            return create_trigger(&mut cur, or_replace);
        }
        if cur.eat("function") {
            return create_function(&mut cur, or_replace);
        }
        return None;
    }
    if cur.eat("drop") {
        return drop(&mut cur);
    }
    if cur.eat("listen") {
        return Some(SqlStatementKind::Listen {
            channel: cur.next()?.ident()?,
        });
    }
    if cur.eat("notify") {
        return Some(SqlStatementKind::Notify {
            channel: cur.next()?.ident()?,
        });
    }
    None
}

fn create_trigger(cur: &mut Cursor<'_>, or_replace: bool) -> Option<SqlStatementKind> {
    let name = cur.name()?;
    let timing = if cur.eat("before") {
        "BEFORE"
    } else if cur.eat("after") {
        "AFTER"
    } else if cur.eat("instead") && cur.eat("of") {
        "INSTEAD OF"
    } else {
        return None;
    };
    let mut events = Vec::new();
    loop {
        let event = cur.next()?;
        let event = ["insert", "update", "delete", "truncate"]
            .into_iter()
            .find(|e| event.is_keyword(e))?;
        events.push(event.to_ascii_uppercase());
        if event == "update" && cur.eat("of") {
            // `UPDATE OF status, progress`
            while cur.name().is_some() && cur.eat_punct(',') {}
        }
        if !cur.eat("or") {
            break;
        }
    }
    if !cur.eat("on") {
        return None;
    }
    let table = cur.name()?;
    let mut level = "STATEMENT";
    while !cur.eat("execute") {
        let token = cur.next()?;
        if token.is_keyword("row") {
            level = "ROW";
        }
        if token.is_punct('(') {
            // `WHEN (…)`
            cur.pos -= 1;
            cur.skip_parens();
        }
    }
    if !(cur.eat("function") || cur.eat("procedure")) {
        return None;
    }
    let function = cur.name()?;
    Some(SqlStatementKind::CreateTrigger(CreateTrigger {
        name,
        table,
        timing: timing.into(),
        events,
        level: level.into(),
        function,
        args: call_args(cur),
        or_replace,
    }))
}

fn create_function(cur: &mut Cursor<'_>, or_replace: bool) -> Option<SqlStatementKind> {
    let name = cur.name()?;
    let rest = &cur.tokens[cur.pos..];
    // The body is the string after `AS`; without one (`BEGIN ATOMIC`), the
    // SQL tokens themselves.
    let body = rest.windows(2).find_map(|w| {
        (w[0].is_keyword("as") && matches!(w[1].kind, TokenKind::Str | TokenKind::Dollar))
            .then(|| &w[1].text)
    });
    let notifies = match body {
        Some(body) => super::notify_targets(body),
        None => notify_targets_in(rest),
    };
    Some(SqlStatementKind::CreateFunction {
        name,
        or_replace,
        notifies,
    })
}

fn drop(cur: &mut Cursor<'_>) -> Option<SqlStatementKind> {
    if cur.eat("trigger") {
        cur.eat_if_exists();
        let name = cur.name()?;
        let table = if cur.eat("on") { cur.name() } else { None };
        return Some(SqlStatementKind::DropTrigger { name, table });
    }
    let is_function = cur.eat("function");
    if !is_function && !cur.eat("table") {
        return None;
    }
    cur.eat_if_exists();
    let mut names = Vec::new();
    loop {
        names.push(cur.name()?);
        cur.skip_parens();
        if !cur.eat_punct(',') {
            break;
        }
    }
    let cascade = cur.eat("cascade");
    Some(if is_function {
        SqlStatementKind::DropFunction { names, cascade }
    } else {
        SqlStatementKind::DropTable { names }
    })
}

/// The literal arguments of `EXECUTE FUNCTION f('jobs', 2)`, read from the
/// tokens because sqlparser cannot parse string arguments there.
pub(super) fn trigger_args(tokens: &[Token]) -> Vec<String> {
    let Some(at) = tokens.iter().position(|t| t.is_keyword("execute")) else {
        return Vec::new();
    };
    let mut cur = Cursor {
        tokens,
        pos: at + 1,
    };
    if !(cur.eat("function") || cur.eat("procedure")) || cur.name().is_none() {
        return Vec::new();
    }
    call_args(&mut cur)
}

fn call_args(cur: &mut Cursor<'_>) -> Vec<String> {
    let mut args = Vec::new();
    if !cur.eat_punct('(') {
        return args;
    }
    while let Some(token) = cur.next() {
        match &token.kind {
            TokenKind::Punct(')') => break,
            TokenKind::Str | TokenKind::Number | TokenKind::Dollar => args.push(token.text.clone()),
            TokenKind::Word { .. } => args.extend(token.ident()),
            TokenKind::Punct(_) => {}
        }
    }
    args
}
