//! A tolerant PostgreSQL tokenizer. It never fails: unterminated strings,
//! dollar quotes and comments run to the end of the text and are flagged.
//! It lets the frontend split scripts into statements (a `;` inside a
//! `$$ … $$` body is not a separator) and read what the SQL parser rejects.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// A keyword or identifier. `quoted` for `"Name"`; `text` is then the
    /// name without quotes.
    Word {
        quoted: bool,
    },
    /// `'text'` or `E'text'`; `text` is the unescaped content.
    Str,
    /// `$tag$ … $tag$`; `text` is the body.
    Dollar,
    Number,
    Punct(char),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub text: String,
    /// Byte offsets of the whole token in the source.
    pub start: usize,
    pub end: usize,
    /// 1-based line of the token's first character.
    pub line: u32,
    /// For strings, dollar quotes: the closing delimiter was missing.
    pub unterminated: bool,
}

impl Token {
    /// True for an unquoted word equal to `keyword`, ignoring case.
    pub fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self.kind, TokenKind::Word { quoted: false })
            && self.text.eq_ignore_ascii_case(keyword)
    }

    pub fn is_punct(&self, c: char) -> bool {
        self.kind == TokenKind::Punct(c)
    }

    /// An identifier as PostgreSQL stores it: unquoted names fold to lower case.
    pub fn ident(&self) -> Option<String> {
        match self.kind {
            TokenKind::Word { quoted: false } => Some(self.text.to_ascii_lowercase()),
            TokenKind::Word { quoted: true } => Some(self.text.clone()),
            _ => None,
        }
    }
}

pub fn tokenize(source: &str) -> Vec<Token> {
    Lexer {
        src: source,
        bytes: source.as_bytes(),
        pos: 0,
        line: 1,
        out: Vec::new(),
    }
    .run()
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    out: Vec<Token>,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

impl Lexer<'_> {
    fn run(mut self) -> Vec<Token> {
        while let Some(c) = self.peek() {
            let start = self.pos;
            let line = self.line;
            if c.is_whitespace() {
                self.bump();
            } else if self.starts_with("--") {
                self.skip_until("\n", false);
            } else if self.starts_with("/*") {
                self.block_comment();
            } else if c == '\'' {
                let (text, closed) = self.quoted('\'', false);
                self.push(TokenKind::Str, text, start, line, !closed);
            } else if (c == 'E' || c == 'e') && self.src[self.pos + 1..].starts_with('\'') {
                self.bump();
                let (text, closed) = self.quoted('\'', true);
                self.push(TokenKind::Str, text, start, line, !closed);
            } else if c == '"' {
                let (text, closed) = self.quoted('"', false);
                self.push(TokenKind::Word { quoted: true }, text, start, line, !closed);
            } else if c == '$' && self.dollar_tag().is_some() {
                let (text, closed) = self.dollar_quoted();
                self.push(TokenKind::Dollar, text, start, line, !closed);
            } else if is_ident_start(c) {
                while self.peek().is_some_and(is_ident_char) {
                    self.bump();
                }
                let text = self.src[start..self.pos].to_string();
                self.push(TokenKind::Word { quoted: false }, text, start, line, false);
            } else if c.is_ascii_digit() {
                while self.peek().is_some_and(|d| d.is_ascii_digit() || d == '.') {
                    self.bump();
                }
                let text = self.src[start..self.pos].to_string();
                self.push(TokenKind::Number, text, start, line, false);
            } else {
                self.bump();
                self.push(TokenKind::Punct(c), c.to_string(), start, line, false);
            }
        }
        self.out
    }

    fn push(&mut self, kind: TokenKind, text: String, start: usize, line: u32, unterminated: bool) {
        self.out.push(Token {
            kind,
            text,
            start,
            end: self.pos,
            line,
            unterminated,
        });
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn starts_with(&self, s: &str) -> bool {
        self.src[self.pos..].starts_with(s)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    /// Advances past `end` (or to the end of the text). Returns whether `end` was found.
    fn skip_until(&mut self, end: &str, consume: bool) -> bool {
        while self.pos < self.bytes.len() {
            if self.starts_with(end) {
                if consume {
                    for _ in end.chars() {
                        self.bump();
                    }
                }
                return true;
            }
            self.bump();
        }
        false
    }

    /// `/* … */`, which PostgreSQL lets nest.
    fn block_comment(&mut self) {
        let mut depth = 0usize;
        while self.pos < self.bytes.len() {
            if self.starts_with("/*") {
                depth += 1;
                self.bump();
                self.bump();
            } else if self.starts_with("*/") {
                self.bump();
                self.bump();
                depth -= 1;
                if depth == 0 {
                    return;
                }
            } else {
                self.bump();
            }
        }
    }

    /// A `quote`-delimited run where a doubled quote is an escaped quote
    /// (and, for `E''` strings, a backslash escapes the next character).
    fn quoted(&mut self, quote: char, backslash: bool) -> (String, bool) {
        self.bump();
        let mut text = String::new();
        while let Some(c) = self.bump() {
            if backslash && c == '\\' {
                if let Some(next) = self.bump() {
                    text.push(match next {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                }
            } else if c == quote {
                if self.peek() == Some(quote) {
                    self.bump();
                    text.push(quote);
                } else {
                    return (text, true);
                }
            } else {
                text.push(c);
            }
        }
        (text, false)
    }

    /// The `$tag$` opening at the current position, if it is one (`$1` is a
    /// parameter, not a tag).
    fn dollar_tag(&self) -> Option<&str> {
        let rest = &self.src[self.pos + 1..];
        let end = rest.find('$')?;
        let tag = &rest[..end];
        let valid = tag.chars().next().is_none_or(is_ident_start)
            && tag.chars().all(|c| c.is_alphanumeric() || c == '_');
        valid.then(|| &self.src[self.pos..self.pos + end + 2])
    }

    fn dollar_quoted(&mut self) -> (String, bool) {
        let delimiter = self.dollar_tag().unwrap_or("$$").to_string();
        for _ in delimiter.chars() {
            self.bump();
        }
        let body_start = self.pos;
        let closed = self.skip_until(&delimiter, false);
        let text = self.src[body_start..self.pos].to_string();
        if closed {
            for _ in delimiter.chars() {
                self.bump();
            }
        }
        (text, closed)
    }
}

/// One statement of a script: its tokens (without the closing `;`) and
/// the byte range of its text.
pub struct RawStatement<'t> {
    pub tokens: &'t [Token],
    pub start: usize,
    pub end: usize,
}

/// Splits a token stream at top-level `;` (those inside strings, quoted
/// identifiers and dollar quotes are inside single tokens already).
pub fn statements(tokens: &[Token]) -> Vec<RawStatement<'_>> {
    tokens
        .split(|t| t.is_punct(';'))
        .filter(|part| !part.is_empty())
        .map(|part| RawStatement {
            tokens: part,
            start: part[0].start,
            end: part[part.len() - 1].end,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(TokenKind, String)> {
        tokenize(src)
            .into_iter()
            .map(|t| (t.kind, t.text))
            .collect()
    }

    #[test]
    fn dollar_quotes_strings_and_comments() {
        let toks = tokenize(
            "-- a comment; with a semicolon\nCREATE FUNCTION f() AS $body$ x; 'y' $body$;\n/* one /* nested */ comment */ SELECT 'it''s', E'a\\'b', \"Mixed\"\"Case\", $1",
        );
        let texts: Vec<&str> = toks.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            texts,
            vec![
                "CREATE",
                "FUNCTION",
                "f",
                "(",
                ")",
                "AS",
                " x; 'y' ",
                ";",
                "SELECT",
                "it's",
                ",",
                "a'b",
                ",",
                "Mixed\"Case",
                ",",
                "$",
                "1"
            ]
        );
        assert_eq!(toks[0].line, 2);
        assert_eq!(toks[8].line, 3);
        assert_eq!(toks[6].kind, TokenKind::Dollar);
    }

    #[test]
    fn unterminated_input_is_flagged_not_fatal() {
        let toks = tokenize("SELECT 'open");
        assert!(toks[1].unterminated);
        let toks = tokenize("DO $$ BEGIN");
        assert!(toks[1].unterminated);
        assert_eq!(kinds("/* never closed").len(), 0);
    }

    #[test]
    fn splits_statements_outside_bodies() {
        let toks =
            tokenize("CREATE FUNCTION f() AS $$ a; b; $$ LANGUAGE sql; DROP TRIGGER t ON x;;");
        let stmts = statements(&toks);
        assert_eq!(stmts.len(), 2);
        assert!(stmts[1].tokens[0].is_keyword("drop"));
    }
}
