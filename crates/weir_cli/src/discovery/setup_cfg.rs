//! `setup.cfg`: `install_requires` in `[options]` and every key of
//! `[options.extras_require]`, read the way Python's `configparser` reads
//! them (sections, `key = value`, indented continuation lines, `#`/`;`
//! comments).
//! <https://setuptools.pypa.io/en/latest/userguide/declarative_config.html>

use weir_audit::context::catalog::Ecosystem;

use super::pep508::parse_requirement;
use super::{Dependency, Manifest, Problem, versions};

/// One `key = value` with its continuation lines, each with its line number.
struct Entry {
    section: String,
    key: String,
    values: Vec<(u32, String)>,
}

fn entries(text: &str, problems: &mut Vec<Problem>) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let mut section = String::new();
    for (index, raw) in text.lines().enumerate() {
        let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if raw.starts_with(char::is_whitespace) {
            match out.last_mut() {
                Some(entry) => entry.values.push((line, trimmed.to_string())),
                None => problems.push(Problem {
                    line: Some(line),
                    message: "continuation line outside any key".into(),
                }),
            }
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[') {
            match name.strip_suffix(']') {
                Some(name) => section = name.trim().to_string(),
                None => problems.push(Problem {
                    line: Some(line),
                    message: format!("unclosed section header `{trimmed}`"),
                }),
            }
            continue;
        }
        let Some((key, value)) = trimmed.split_once(['=', ':']) else {
            problems.push(Problem {
                line: Some(line),
                message: format!("`{trimmed}` is neither a section, a key nor a continuation"),
            });
            continue;
        };
        let value = value.trim();
        out.push(Entry {
            section: section.clone(),
            key: key.trim().to_string(),
            values: if value.is_empty() {
                Vec::new()
            } else {
                vec![(line, value.to_string())]
            },
        });
    }
    out
}

pub fn read(text: &str) -> Manifest {
    let mut out = Manifest::default();
    for entry in entries(text, &mut out.problems) {
        let wanted = (entry.section == "options" && entry.key == "install_requires")
            || entry.section == "options.extras_require";
        if !wanted {
            continue;
        }
        for (line, value) in entry.values {
            let value = value.split(" #").next().unwrap_or(&value).trim();
            match parse_requirement(value) {
                Ok(req) => out.deps.push(Dependency {
                    ecosystem: Ecosystem::PyPI,
                    version: versions::from_python_spec(&req.spec),
                    name: req.name,
                    line,
                    text: value.to_string(),
                }),
                Err(reason) => out.problems.push(Problem {
                    line: Some(line),
                    message: format!("cannot read requirement `{value}`: {reason}"),
                }),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_requires_and_extras() {
        let m = read(
            "[metadata]
name = inventory
version = attr: inventory.__version__

[options]
packages = find:
python_requires = >=3.10
install_requires =
    flask>=3.0
    SQLAlchemy==2.0.29  # pinned for the 2.0 API
    psycopg2-binary

[options.extras_require]
async = asyncpg>=0.29

[flake8]
max-line-length = 100
",
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        let got: Vec<(&str, Option<&str>, u32)> = m
            .deps
            .iter()
            .map(|d| (d.name.as_str(), d.version.as_deref(), d.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("flask", Some("3.0"), 9),
                ("SQLAlchemy", Some("2.0.29"), 10),
                ("psycopg2-binary", None, 11),
                ("asyncpg", Some("0.29"), 14),
            ]
        );
    }

    #[test]
    fn malformed_lines_are_reported_and_skipped() {
        let m = read("[options\ninstall_requires =\n    flask>=3.0\nthis is not ini\n");
        assert_eq!(m.problems.len(), 2);
        assert_eq!(m.problems[0].line, Some(1));
        assert_eq!(m.problems[1].line, Some(4));
    }
}
