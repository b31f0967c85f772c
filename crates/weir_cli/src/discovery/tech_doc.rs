//! `docs/project/tech_stack.md`: a free-form Markdown table or list naming
//! the stack (`| Database | PostgreSQL 16 |`, `- ORM: SQLAlchemy 2.0`). Each
//! line outside code blocks is searched for the names of the catalogue's
//! technologies; a version right after the name, or in the next table cell,
//! is kept.

use weir_audit::context::catalog::{TECHNOLOGIES, Technology};

use super::versions;

#[derive(Debug)]
pub struct Mention {
    pub technology: &'static Technology,
    pub version: Option<String>,
    pub line: u32,
    pub text: String,
}

/// Names shorter than this must match case-sensitively (`Gin`, `chi`, `ent`
/// are also English words in lower case).
const CASE_INSENSITIVE_FROM: usize = 5;

pub fn read(text: &str) -> Vec<Mention> {
    let mut out = Vec::new();
    let mut in_code = false;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        for technology in TECHNOLOGIES {
            if let Some(named) = mention(line, technology) {
                out.push(Mention {
                    technology,
                    version: named.version,
                    line: number,
                    text: line.trim().to_string(),
                });
            }
        }
    }
    out
}

/// A technology named on a line, with the version next to it if any.
struct Named {
    version: Option<String>,
}

fn mention(line: &str, technology: &Technology) -> Option<Named> {
    let mut names: Vec<&str> = technology.prose_names().collect();
    // `Django ORM` before `Django`, `psycopg 3` before `psycopg`.
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names.into_iter().find_map(|name| {
        let at = find_word(line, name)?;
        let after = &line[at + name.len()..];
        Some(Named {
            version: version_after(after),
        })
    })
}

/// The byte offset of `name` in `line` as a whole word.
fn find_word(line: &str, name: &str) -> Option<usize> {
    let insensitive = name.len() >= CASE_INSENSITIVE_FROM;
    let haystack = if insensitive {
        line.to_ascii_lowercase()
    } else {
        line.to_string()
    };
    let needle = if insensitive {
        name.to_ascii_lowercase()
    } else {
        name.to_string()
    };
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(found) = haystack[from..].find(&needle) {
        let at = from + found;
        let end = at + needle.len();
        let before_ok = !haystack[..at].chars().next_back().is_some_and(is_word);
        let after_ok = !haystack[end..]
            .chars()
            .next()
            .is_some_and(|c| is_word(c) || c == '-');
        if before_ok && after_ok {
            return Some(at);
        }
        from = at + needle.len().max(1);
    }
    None
}

/// `16`, `v2.0`, `: 2.0.29`, or the next table cell `| 16 |`.
fn version_after(after: &str) -> Option<String> {
    let rest = after.trim_start_matches([' ', ':', '(', '*', '`']);
    let rest = rest.strip_prefix(['v', 'V']).unwrap_or(rest);
    if rest.starts_with(|c: char| c.is_ascii_digit()) {
        return versions::from_python_spec(rest);
    }
    // A table row: the version may sit alone in the next cell.
    let (cell_rest, next) = after.split_once('|')?;
    if !cell_rest.trim_matches([' ', '*', '`']).is_empty() {
        return None;
    }
    let next_cell = next.split('|').next()?.trim().trim_matches(['*', '`']);
    let next_cell = next_cell.strip_prefix(['v', 'V']).unwrap_or(next_cell);
    next_cell
        .starts_with(|c: char| c.is_ascii_digit())
        .then(|| versions::from_python_spec(next_cell))
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(&'static str, Option<String>, u32)> {
        read(text)
            .into_iter()
            .map(|m| (m.technology.id, m.version, m.line))
            .collect()
    }

    #[test]
    fn tables_and_lists() {
        let doc = "# Tech stack

| Layer | Technology | Version |
|-------|------------|---------|
| Database | PostgreSQL | 16 |
| ORM | SQLAlchemy 2.0 (async) | |
| Web | **FastAPI** | 0.110 |

- Driver: asyncpg v0.29
- Cache: Redis 7, via redis-py
- The gin in the glass is not a web framework.

```yaml
image: mysql:8
```
";
        assert_eq!(
            found(doc),
            vec![
                ("postgresql", Some("16".into()), 5),
                ("sqlalchemy", Some("2.0".into()), 6),
                ("fastapi", Some("0.110".into()), 7),
                ("asyncpg", Some("0.29".into()), 9),
                ("redis", Some("7".into()), 10),
                ("redis-py", None, 10),
            ]
        );
    }

    #[test]
    fn word_boundaries() {
        assert!(
            found("PostgreSQL 15")
                .iter()
                .all(|(id, ..)| *id == "postgresql")
        );
        assert_eq!(
            found("psycopg2 2.9")[0],
            ("psycopg2", Some("2.9".into()), 1)
        );
        assert!(found("asyncpg-stubs").is_empty());
        assert_eq!(found("Django ORM 5.0 with Django REST framework").len(), 1);
    }
}
