//! Versions out of requirement specifiers and image tags. A specifier
//! names a range; the version kept is the pinned one or the range's lower
//! bound (`>=2.0.29` → `2.0.29`, `^4.18` → `4.18`), since that is what the
//! project was written against. Upper bounds alone say nothing.

/// PEP 440 (`==2.0.29`, `>=2.0,<3`, `~=2.0.29`) and Poetry (`^2.0`, `~2.0`,
/// `2.0.*`) specifiers.
pub fn from_python_spec(spec: &str) -> Option<String> {
    let mut lower = None;
    for clause in spec.split([',', '|']) {
        let clause = clause.trim();
        let (op, rest) = split_operator(clause);
        match op {
            "==" | "===" | "~=" | "^" | "~" | "" if !rest.is_empty() => {
                return numeric_prefix(rest.trim_end_matches(".*"));
            }
            ">=" | ">" if lower.is_none() => lower = numeric_prefix(rest),
            _ => {}
        }
    }
    lower
}

/// npm ranges: `^4.18.2`, `~1.2`, `>=1.2.0 <2`, `1.2.3`, `latest`.
pub fn from_npm_range(range: &str) -> Option<String> {
    let first = range.split("||").next()?.split_whitespace().next()?;
    let (op, rest) = split_operator(first);
    match op {
        "" | "^" | "~" | "=" | ">=" | ">" => numeric_prefix(rest.trim_start_matches('v')),
        _ => None,
    }
}

/// Go module versions: `v1.9.1`, `v5.5.0+incompatible`.
pub fn from_go_version(version: &str) -> Option<String> {
    let v = version.strip_prefix('v')?;
    numeric_prefix(v.split('+').next()?)
}

/// Container image tags: `16-alpine` → `16`, `16.2` → `16.2`, `latest` →
/// none, TimescaleDB's `2.14.2-pg16` → `16` (the PostgreSQL version).
pub fn from_image_tag(tag: &str) -> Option<String> {
    if let Some(pg) = tag.split('-').find_map(|part| part.strip_prefix("pg")) {
        return numeric_prefix(pg);
    }
    numeric_prefix(tag.trim_start_matches('v'))
}

fn split_operator(clause: &str) -> (&str, &str) {
    let end = clause
        .find(|c: char| !matches!(c, '=' | '<' | '>' | '~' | '!' | '^'))
        .unwrap_or(clause.len());
    (&clause[..end], clause[end..].trim())
}

/// The leading `1.2.3` of a version string, if it starts with a digit.
fn numeric_prefix(text: &str) -> Option<String> {
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let version = text[..end].trim_end_matches('.');
    (!version.is_empty() && version.starts_with(|c: char| c.is_ascii_digit()))
        .then(|| version.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_specifiers() {
        assert_eq!(from_python_spec(">=2.0.29").as_deref(), Some("2.0.29"));
        assert_eq!(from_python_spec("==2.0.29").as_deref(), Some("2.0.29"));
        assert_eq!(from_python_spec("<3,>=2.0").as_deref(), Some("2.0"));
        assert_eq!(from_python_spec("~=0.29.0").as_deref(), Some("0.29.0"));
        assert_eq!(from_python_spec("^2.0").as_deref(), Some("2.0"));
        assert_eq!(from_python_spec("2.0.*").as_deref(), Some("2.0"));
        assert_eq!(from_python_spec("==4.2rc1").as_deref(), Some("4.2"));
        assert_eq!(from_python_spec("<3"), None);
        assert_eq!(from_python_spec("*"), None);
        assert_eq!(from_python_spec(""), None);
    }

    #[test]
    fn npm_go_and_image_versions() {
        assert_eq!(from_npm_range("^4.18.2").as_deref(), Some("4.18.2"));
        assert_eq!(from_npm_range(">=1.2.0 <2").as_deref(), Some("1.2.0"));
        assert_eq!(from_npm_range("latest"), None);
        assert_eq!(from_npm_range("workspace:*"), None);
        assert_eq!(from_go_version("v5.5.0").as_deref(), Some("5.5.0"));
        assert_eq!(
            from_go_version("v2.0.0+incompatible").as_deref(),
            Some("2.0.0")
        );
        assert_eq!(from_image_tag("16-alpine").as_deref(), Some("16"));
        assert_eq!(from_image_tag("16.2-bookworm").as_deref(), Some("16.2"));
        assert_eq!(from_image_tag("2.14.2-pg16").as_deref(), Some("16"));
        assert_eq!(from_image_tag("latest"), None);
        assert_eq!(from_image_tag("alpine"), None);
    }
}
