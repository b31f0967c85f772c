//! `go.mod`: `require path version` lines and `require ( … )` blocks. The
//! format is line-oriented, so a line reader is its parser.
//! <https://go.dev/ref/mod#go-mod-file>

use weir_audit::context::catalog::Ecosystem;

use super::{Dependency, Manifest, Problem, versions};

pub fn read(text: &str) -> Manifest {
    let mut out = Manifest::default();
    // The directive of the `( … )` block being read, if any.
    let mut block: Option<String> = None;
    for (index, raw) in text.lines().enumerate() {
        let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let content = raw.split("//").next().unwrap_or(raw).trim();
        if content.is_empty() {
            continue;
        }
        if let Some(directive) = &block {
            if content == ")" {
                block = None;
            } else if directive == "require" {
                require(content, line, &mut out);
            }
            continue;
        }
        let (directive, rest) = content
            .split_once(char::is_whitespace)
            .unwrap_or((content, ""));
        let rest = rest.trim();
        if rest == "(" {
            block = Some(directive.to_string());
        } else if directive == "require" {
            require(rest, line, &mut out);
        }
    }
    if block.is_some() {
        out.problems.push(Problem {
            line: None,
            message: "unclosed `(` block at the end of the file".into(),
        });
    }
    out
}

fn require(spec: &str, line: u32, out: &mut Manifest) {
    let fields: Vec<&str> = spec.split_whitespace().collect();
    match fields.as_slice() {
        [path, version] if version.starts_with('v') => out.deps.push(Dependency {
            ecosystem: Ecosystem::Go,
            name: (*path).to_string(),
            version: versions::from_go_version(version),
            line,
            text: format!("{path} {version}"),
        }),
        _ => out.problems.push(Problem {
            line: Some(line),
            message: format!("cannot read requirement `{spec}` (expected `module/path vX.Y.Z`)"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_block_requires() {
        let m = read(
            "module github.com/acme/orders

go 1.22

require github.com/gin-gonic/gin v1.9.1

require (
\tgithub.com/jackc/pgx/v5 v5.5.3
\tgorm.io/gorm v1.25.7 // indirect
\tgithub.com/broken
)

replace (
\tgithub.com/acme/x => ../x
)
",
        );
        let got: Vec<(&str, Option<&str>, u32)> = m
            .deps
            .iter()
            .map(|d| (d.name.as_str(), d.version.as_deref(), d.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("github.com/gin-gonic/gin", Some("1.9.1"), 5),
                ("github.com/jackc/pgx/v5", Some("5.5.3"), 8),
                ("gorm.io/gorm", Some("1.25.7"), 9),
            ]
        );
        assert_eq!(m.problems.len(), 1);
        assert_eq!(m.problems[0].line, Some(10));
    }
}
