//! PEP 508 dependency specifiers, as far as discovery needs them: the
//! distribution name and the version specifier. Extras, URLs and environment
//! markers are recognised and set aside.
//! <https://packaging.python.org/en/latest/specifications/dependency-specifiers/>

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub name: String,
    /// `>=2.0.29`, `==1.2,<2`; empty when unconstrained or a URL.
    pub spec: String,
}

pub fn parse_requirement(text: &str) -> Result<Requirement, String> {
    let text = text.trim();
    // `; python_version < "3.11"` — the marker decides where, not what.
    let text = text.split_once(';').map_or(text, |(req, _)| req).trim();
    let name_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(text.len());
    let name = &text[..name_end];
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !name.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        return Err("not a package name".into());
    }
    let mut rest = text[name_end..].trim_start();
    if let Some(extras) = rest.strip_prefix('[') {
        let Some(close) = extras.find(']') else {
            return Err("unclosed `[` of the extras".into());
        };
        rest = extras[close + 1..].trim_start();
    }
    if rest.starts_with('@') {
        return Ok(Requirement {
            name: name.to_string(),
            spec: String::new(),
        });
    }
    let spec = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or(rest)
        .trim();
    for clause in spec.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let operator_len = clause
            .find(|c: char| !matches!(c, '<' | '>' | '=' | '!' | '~'))
            .unwrap_or(clause.len());
        let (operator, version) = clause.split_at(operator_len);
        let known = matches!(
            operator,
            "==" | "===" | "!=" | "<=" | ">=" | "<" | ">" | "~="
        );
        let version = version.trim();
        if !known
            || version.is_empty()
            || !version.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '*' | '+' | '!' | '-' | '_')
            })
        {
            return Err(format!("`{clause}` is not a version specifier"));
        }
    }
    Ok(Requirement {
        name: name.to_string(),
        spec: spec.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> (String, String) {
        let r = parse_requirement(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        (r.name, r.spec)
    }

    #[test]
    fn names_extras_specs_markers_urls() {
        assert_eq!(
            ok("sqlalchemy[asyncio]>=2.0.29"),
            ("sqlalchemy".into(), ">=2.0.29".into())
        );
        assert_eq!(
            ok("Django >=4.2, <5.0"),
            ("Django".into(), ">=4.2, <5.0".into())
        );
        assert_eq!(
            ok("psycopg[binary,pool] (==3.1.18)"),
            ("psycopg".into(), "==3.1.18".into())
        );
        assert_eq!(
            ok("uvloop>=0.19 ; sys_platform != 'win32'"),
            ("uvloop".into(), ">=0.19".into())
        );
        assert_eq!(ok("asyncpg"), ("asyncpg".into(), String::new()));
        assert_eq!(
            ok("mylib @ https://example.com/mylib-1.0.tar.gz"),
            ("mylib".into(), String::new())
        );
        assert_eq!(
            ok("zope.interface==6.2"),
            ("zope.interface".into(), "==6.2".into())
        );
    }

    #[test]
    fn malformed() {
        assert!(parse_requirement("sqlalchemy>=").is_err());
        assert!(parse_requirement("fastapi[all>=0.110").is_err());
        assert!(parse_requirement("<<<<<<< HEAD").is_err());
        assert!(parse_requirement("django => 4.2").is_err());
        assert!(parse_requirement("-").is_err());
    }
}
