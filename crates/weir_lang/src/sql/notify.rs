//! What a PL/pgSQL body notifies. sqlparser keeps function bodies as opaque
//! strings, so they are tokenized and scanned here: `pg_notify('ch', …)`,
//! `pg_notify(TG_ARGV[0], …)`, `NOTIFY ch`, and dynamic `EXECUTE 'NOTIFY …'`.

use std::collections::HashMap;

use weir_ir::sql::NotifyTarget;

use super::lexer::{Token, TokenKind, tokenize};

/// The channels a function body sends to, in order, without duplicates.
pub fn notify_targets(body: &str) -> Vec<NotifyTarget> {
    notify_targets_in(&tokenize(body))
}

pub(super) fn notify_targets_in(tokens: &[Token]) -> Vec<NotifyTarget> {
    let variables = literal_variables(tokens);
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let target = if token.is_keyword("pg_notify")
            && tokens.get(i + 1).is_some_and(|t| t.is_punct('('))
        {
            Some(pg_notify_channel(&tokens[i + 2..], &variables))
        } else if token.is_keyword("notify") && !(i > 0 && tokens[i - 1].is_punct('.')) {
            // `NOTIFY jobs` as a statement; not the `notify` in `pg_notify`.
            Some(
                tokens
                    .get(i + 1)
                    .and_then(Token::ident)
                    .map_or(NotifyTarget::Dynamic, NotifyTarget::Channel),
            )
        } else if token.kind == TokenKind::Str || token.kind == TokenKind::Dollar {
            dynamic_notify(&token.text)
        } else {
            None
        };
        if let Some(target) = target
            && !found.contains(&target)
        {
            found.push(target);
        }
    }
    found
}

/// The first argument of `pg_notify(`.
fn pg_notify_channel(args: &[Token], variables: &HashMap<String, String>) -> NotifyTarget {
    let Some(first) = args.first() else {
        return NotifyTarget::Dynamic;
    };
    let ends_argument = |t: Option<&Token>| t.is_some_and(|t| t.is_punct(',') || t.is_punct(')'));
    match &first.kind {
        TokenKind::Str if ends_argument(args.get(1)) => NotifyTarget::Channel(first.text.clone()),
        // `TG_ARGV[0]`
        TokenKind::Word { quoted: false } if first.text.eq_ignore_ascii_case("tg_argv") => {
            match (args.get(1), args.get(2), args.get(3)) {
                (Some(open), Some(index), Some(close))
                    if open.is_punct('[')
                        && close.is_punct(']')
                        && index.kind == TokenKind::Number =>
                {
                    index
                        .text
                        .parse()
                        .map_or(NotifyTarget::Dynamic, NotifyTarget::TriggerArg)
                }
                _ => NotifyTarget::Dynamic,
            }
        }
        // A variable that only ever holds one literal: `channel TEXT := 'jobs';`.
        TokenKind::Word { .. } if ends_argument(args.get(1)) => first
            .ident()
            .and_then(|name| variables.get(&name).cloned())
            .map_or(NotifyTarget::Dynamic, NotifyTarget::Channel),
        _ => NotifyTarget::Dynamic,
    }
}

/// PL/pgSQL variables given exactly one literal value (`channel TEXT :=
/// 'jobs';` in DECLARE, or `channel := 'jobs';` in the body). A variable
/// assigned different literals is left out.
fn literal_variables(tokens: &[Token]) -> HashMap<String, String> {
    let mut values: HashMap<String, Option<String>> = HashMap::new();
    for (i, token) in tokens.iter().enumerate() {
        let is_value =
            token.kind == TokenKind::Str && tokens.get(i + 1).is_some_and(|t| t.is_punct(';'));
        let assigned = (i >= 2 && tokens[i - 2].is_punct(':') && tokens[i - 1].is_punct('='))
            || (i >= 1 && tokens[i - 1].is_keyword("default"));
        if !(is_value && assigned) {
            continue;
        }
        // The declaration or statement starts after the previous `;` or block keyword.
        let start = tokens[..i]
            .iter()
            .rposition(|t| {
                t.is_punct(';')
                    || ["declare", "begin", "then", "else", "loop"]
                        .iter()
                        .any(|k| t.is_keyword(k))
            })
            .map_or(0, |p| p + 1);
        let Some(name) = tokens.get(start).and_then(Token::ident) else {
            continue;
        };
        let entry = values
            .entry(name)
            .or_insert_with(|| Some(token.text.clone()));
        if entry.as_deref() != Some(token.text.as_str()) {
            *entry = None;
        }
    }
    values
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
        .collect()
}

/// `EXECUTE 'NOTIFY jobs'` names a channel; `EXECUTE 'NOTIFY ' || ch` or
/// `format('NOTIFY %I', ch)` does not.
fn dynamic_notify(text: &str) -> Option<NotifyTarget> {
    let trimmed = text.trim_start();
    if !trimmed.get(..7)?.eq_ignore_ascii_case("notify ") {
        return None;
    }
    let inner = tokenize(trimmed);
    let complete =
        inner.len() == 2 || (inner.len() > 2 && (inner[2].is_punct(',') || inner[2].is_punct(';')));
    Some(match inner.get(1).and_then(Token::ident) {
        Some(channel) if complete && !channel.contains('%') => NotifyTarget::Channel(channel),
        _ => NotifyTarget::Dynamic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channels(body: &str) -> Vec<NotifyTarget> {
        notify_targets(body)
    }

    #[test]
    fn literal_pg_notify_and_notify_statement() {
        let body = "
            BEGIN
                PERFORM pg_notify('job_progress', json_build_object('id', NEW.id)::text);
                NOTIFY audit_events;
                PERFORM PG_NOTIFY('job_progress', 'again');
                RETURN NEW;
            END;";
        assert_eq!(
            channels(body),
            vec![
                NotifyTarget::Channel("job_progress".into()),
                NotifyTarget::Channel("audit_events".into())
            ]
        );
    }

    #[test]
    fn trigger_arguments_and_dynamic_channels() {
        assert_eq!(
            channels(
                "BEGIN PERFORM pg_notify(TG_ARGV[0], row_to_json(NEW)::text); RETURN NEW; END"
            ),
            vec![NotifyTarget::TriggerArg(0)]
        );
        assert_eq!(
            channels(
                "BEGIN PERFORM pg_notify(TG_TABLE_NAME || '_changes', NEW.id::text); RETURN NULL; END"
            ),
            vec![NotifyTarget::Dynamic]
        );
        assert_eq!(
            channels(
                "BEGIN EXECUTE format('NOTIFY %I', TG_ARGV[0]); EXECUTE 'NOTIFY jobs_changed'; RETURN NULL; END"
            ),
            vec![
                NotifyTarget::Dynamic,
                NotifyTarget::Channel("jobs_changed".into())
            ]
        );
    }

    #[test]
    fn variables_holding_one_literal() {
        let body = "
            DECLARE
                payload JSON;
                channel TEXT := 'automate_table_changes';
            BEGIN
                payload := json_build_object('table', TG_TABLE_NAME);
                PERFORM pg_notify(channel, payload::text);
                RETURN NULL;
            END;";
        assert_eq!(
            channels(body),
            vec![NotifyTarget::Channel("automate_table_changes".into())]
        );
        let body = "
            DECLARE ch text DEFAULT 'a';
            BEGIN
                IF TG_OP = 'DELETE' THEN ch := 'b'; END IF;
                PERFORM pg_notify(ch, '');
                RETURN NULL;
            END;";
        assert_eq!(channels(body), vec![NotifyTarget::Dynamic]);
    }

    #[test]
    fn bodies_without_notifications() {
        assert!(channels("BEGIN NEW.updated_at = now(); RETURN NEW; END").is_empty());
        assert!(channels("-- pg_notify('commented', 'out')\nBEGIN RETURN NEW; END").is_empty());
    }
}
