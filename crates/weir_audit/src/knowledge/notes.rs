//! The best-practice notes of SPEC §6: short notes per technology and
//! topic, each with its official documentation, shipped in the binary as
//! TOML data (`crates/weir_audit/knowledge/notes/*.toml`). The context store
//! carries the notes for the discovered stack; Sources Consulted lists the
//! URLs of the notes on the topics of the rules that fired.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::context::TechStack;

/// The note files, one per technology. A new file is one line here.
const FILES: &[(&str, &str)] = &[
    (
        "sqlalchemy.toml",
        include_str!("../../knowledge/notes/sqlalchemy.toml"),
    ),
    (
        "django.toml",
        include_str!("../../knowledge/notes/django.toml"),
    ),
    (
        "postgresql.toml",
        include_str!("../../knowledge/notes/postgresql.toml"),
    ),
    (
        "asyncio.toml",
        include_str!("../../knowledge/notes/asyncio.toml"),
    ),
    (
        "fastapi.toml",
        include_str!("../../knowledge/notes/fastapi.toml"),
    ),
    (
        "psycopg.toml",
        include_str!("../../knowledge/notes/psycopg.toml"),
    ),
    (
        "asyncpg.toml",
        include_str!("../../knowledge/notes/asyncpg.toml"),
    ),
];

/// What each rule's principle is about: the topics whose notes back it.
/// Every rule of the registry has a line (a test checks it).
pub const RULE_TOPICS: &[(&str, &[&str])] = &[
    ("QE-01", &["session-lifecycle"]),
    ("QE-02", &["bulk-operations"]),
    ("QE-03", &["session-lifecycle"]),
    ("QE-05", &["bulk-operations"]),
    ("QE-04", &[]),
    ("QE-06", &["session-lifecycle"]),
    ("QE-07", &["eager-loading"]),
    ("QE-08", &[]),
    ("QE-09", &[]),
    ("TX-01", &["notify", "transactions"]),
    ("TX-02", &["transactions", "long-transactions"]),
    ("TX-03", &["transactions"]),
    ("TX-04", &["transactions"]),
    ("TX-05", &["long-transactions"]),
    ("TX-06", &["notify"]),
    ("TX-07", &["transactions", "bulk-operations"]),
    (
        "TX-08",
        &["async-orm", "session-lifecycle", "eager-loading"],
    ),
    ("RT-01", &["event-loop", "blocking-driver"]),
    ("RT-02", &[]),
    ("RT-03", &["event-loop"]),
    ("RT-04", &[]),
    ("RT-05", &["event-loop"]),
    ("RT-06", &[]),
    ("RT-07", &["concurrency"]),
    ("RL-03", &["session-lifecycle"]),
    ("RL-04", &["pooling"]),
    ("RL-01", &["dependency-injection", "session-lifecycle"]),
    ("RL-02", &["session-lifecycle", "dependency-injection"]),
    ("RL-05", &["session-lifecycle", "dependency-injection"]),
    ("RL-06", &["dependency-injection", "session-lifecycle"]),
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteSource {
    pub title: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// Catalogue id of the technology (`sqlalchemy`).
    pub technology: String,
    /// `session-lifecycle`, `app-lifecycle`, `eager-loading`,
    /// `bulk-operations`, `transactions`, `long-transactions`, `isolation`,
    /// `notify`, `event-loop`, `blocking-driver`, `concurrency`,
    /// `dependency-injection`, `pooling`, `async-orm`.
    pub topic: String,
    pub title: String,
    pub text: String,
    pub sources: Vec<NoteSource>,
    /// Catalogue ids that make the note apply.
    #[serde(skip)]
    pub applies_to: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteFile {
    technology: String,
    applies_to: Vec<String>,
    notes: Vec<NoteEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteEntry {
    topic: String,
    title: String,
    text: String,
    sources: Vec<NoteSource>,
}

/// Every shipped note. The files are part of the binary and checked by the
/// tests, so a parse failure here is a build defect.
pub static NOTES: LazyLock<Vec<Note>> = LazyLock::new(|| {
    FILES
        .iter()
        .flat_map(|(name, text)| {
            let file: NoteFile =
                toml::from_str(text).unwrap_or_else(|e| panic!("notes/{name}: {e}"));
            let NoteFile {
                technology,
                applies_to,
                notes,
            } = file;
            notes.into_iter().map(move |n| Note {
                technology: technology.clone(),
                topic: n.topic,
                title: n.title,
                // Wrapped lines of the file read as one paragraph.
                text: n.text.split_whitespace().collect::<Vec<_>>().join(" "),
                sources: n.sources,
                applies_to: applies_to.clone(),
            })
        })
        .collect()
});

/// The notes that apply to a stack, in file order.
pub fn for_stack(stack: &TechStack) -> Vec<&'static Note> {
    NOTES
        .iter()
        .filter(|n| n.applies_to.iter().any(|id| stack.has(id)))
        .collect()
}

/// The topics behind a rule.
pub fn topics_of(rule: &str) -> &'static [&'static str] {
    RULE_TOPICS
        .iter()
        .find(|(id, _)| *id == rule)
        .map_or(&[], |(_, topics)| topics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::catalog;

    #[test]
    fn every_note_file_parses_and_is_complete() {
        assert!(NOTES.len() >= 20, "{} notes", NOTES.len());
        for note in NOTES.iter() {
            assert!(
                !note.text.is_empty() && note.text.len() < 700,
                "{}",
                note.title
            );
            assert!(!note.sources.is_empty(), "{} has no source", note.title);
            for source in &note.sources {
                assert!(source.url.starts_with("https://"), "{}", source.url);
            }
            for id in &note.applies_to {
                assert!(
                    catalog::by_id(id).is_some(),
                    "{}: unknown id {id}",
                    note.title
                );
            }
        }
        for technology in [
            "sqlalchemy",
            "django",
            "postgresql",
            "asyncio",
            "fastapi",
            "psycopg",
            "asyncpg",
        ] {
            assert!(
                NOTES.iter().any(|n| n.technology == technology),
                "{technology}"
            );
        }
    }

    #[test]
    fn every_rule_has_topics_and_every_topic_has_notes() {
        for rule in crate::registry::RULES {
            let id = rule.meta().id;
            assert!(
                RULE_TOPICS.iter().any(|(r, _)| *r == id),
                "{id} has no line in RULE_TOPICS"
            );
        }
        for (rule, topics) in RULE_TOPICS {
            assert!(
                crate::registry::find(rule).is_some(),
                "{rule} is not a rule"
            );
            for topic in *topics {
                assert!(
                    NOTES.iter().any(|n| n.topic == *topic),
                    "no note on {topic}"
                );
            }
        }
    }
}
