//! pip requirements files (`requirements*.txt`, `requirements/*.txt`): one
//! requirement per logical line, `\` continuations, `#` comments, `-r`
//! includes (followed by the caller), `-e`/URL lines with `#egg=`.
//! <https://pip.pypa.io/en/stable/reference/requirements-file-format/>

use weir_audit::context::catalog::Ecosystem;

use super::pep508::parse_requirement;
use super::{Dependency, Problem, versions};

#[derive(Debug, Default)]
pub struct RequirementsFile {
    pub deps: Vec<Dependency>,
    /// `-r other.txt` includes, with their line, relative to this file.
    pub includes: Vec<(u32, String)>,
    pub problems: Vec<Problem>,
}

pub fn read(text: &str) -> RequirementsFile {
    let mut out = RequirementsFile::default();
    for (line, logical) in logical_lines(text) {
        let content = strip_comment(&logical).trim().to_string();
        if content.is_empty() {
            continue;
        }
        if let Some(target) = option_value(&content, "-r", "--requirement") {
            out.includes.push((line, target));
            continue;
        }
        if let Some(target) = option_value(&content, "-e", "--editable") {
            push_egg(&mut out, line, &content, &target);
            continue;
        }
        if content.starts_with('-') {
            // `--index-url`, `-c constraints.txt`, `--hash`…: not a dependency.
            continue;
        }
        // `pkg==1.0 --hash=sha256:…`: per-requirement options follow the spec.
        let requirement = content.split(" --").next().unwrap_or(&content).trim();
        if requirement.contains("://") || requirement.starts_with(['.', '/']) {
            push_egg(&mut out, line, &content, requirement);
            continue;
        }
        match parse_requirement(requirement) {
            Ok(req) => out.deps.push(Dependency {
                ecosystem: Ecosystem::PyPI,
                version: versions::from_python_spec(&req.spec),
                name: req.name,
                line,
                text: requirement.to_string(),
            }),
            Err(reason) => out.problems.push(Problem {
                line: Some(line),
                message: format!("cannot read requirement `{requirement}`: {reason}"),
            }),
        }
    }
    out
}

/// A URL or path requirement names its package only through `#egg=name`.
fn push_egg(out: &mut RequirementsFile, line: u32, content: &str, target: &str) {
    let Some(egg) = target.split("#egg=").nth(1) else {
        return;
    };
    let name = egg.split(['&', '[', ' ']).next().unwrap_or(egg);
    if !name.is_empty() {
        out.deps.push(Dependency {
            ecosystem: Ecosystem::PyPI,
            name: name.to_string(),
            version: None,
            line,
            text: content.to_string(),
        });
    }
}

/// The value of `-r file`, `-rfile`, `--requirement file`, `--requirement=file`.
fn option_value(content: &str, short: &str, long: &str) -> Option<String> {
    let value = if let Some(rest) = content.strip_prefix(long) {
        rest.strip_prefix('=')
            .or_else(|| rest.starts_with(char::is_whitespace).then_some(rest))?
    } else {
        content.strip_prefix(short)?
    };
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

/// `#` starts a comment at the start of a line or after whitespace (a URL
/// fragment like `#egg=` is not one).
fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('#') {
        return "";
    }
    match line.find(" #").or_else(|| line.find("\t#")) {
        Some(at) => &line[..at],
        None => line,
    }
}

/// Lines joined across trailing backslashes, each with its first line number.
fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut current: Option<(u32, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let (start, mut buffer) = current.take().unwrap_or((number, String::new()));
        if let Some(head) = raw.strip_suffix('\\') {
            buffer.push_str(head);
            current = Some((start, buffer));
        } else {
            buffer.push_str(raw);
            out.push((start, buffer));
        }
    }
    out.extend(current);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_realistic_requirements_file() {
        let file = read(
            "# Production dependencies, pinned by pip-compile
-r requirements/base.txt
--index-url https://pypi.org/simple
-c constraints.txt
fastapi==0.110.0 \\
    --hash=sha256:0000
SQLAlchemy[asyncio]>=2.0.29,<2.1  # async engine
asyncpg~=0.29.0; python_version >= \"3.8\"
psycopg2-binary
-e git+https://github.com/acme/weirdlib.git@v1.2#egg=weirdlib
https://example.com/packages/mytool-1.0.tar.gz
sqlalchemy-utils>=
",
        );
        let names: Vec<(&str, Option<&str>, u32)> = file
            .deps
            .iter()
            .map(|d| (d.name.as_str(), d.version.as_deref(), d.line))
            .collect();
        assert_eq!(
            names,
            vec![
                ("fastapi", Some("0.110.0"), 5),
                ("SQLAlchemy", Some("2.0.29"), 7),
                ("asyncpg", Some("0.29.0"), 8),
                ("psycopg2-binary", None, 9),
                ("weirdlib", None, 10),
            ]
        );
        assert_eq!(
            file.includes,
            vec![(2, "requirements/base.txt".to_string())]
        );
        assert_eq!(file.problems.len(), 1);
        assert_eq!(file.problems[0].line, Some(12));
        assert!(file.problems[0].message.contains("sqlalchemy-utils>="));
    }

    #[test]
    fn include_spellings() {
        for line in [
            "-r base.txt",
            "-rbase.txt",
            "--requirement base.txt",
            "--requirement=base.txt",
        ] {
            assert_eq!(
                read(line).includes,
                vec![(1, "base.txt".to_string())],
                "{line}"
            );
        }
    }
}
