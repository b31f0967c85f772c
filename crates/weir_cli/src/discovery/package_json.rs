//! `package.json`: `dependencies`, `devDependencies`, `peerDependencies`,
//! `optionalDependencies`, read with serde_json. serde_json keeps no
//! positions, so each dependency's line is found afterwards as the line of
//! its key inside its section.

use serde_json::Value;
use weir_audit::context::catalog::Ecosystem;

use super::{Dependency, Manifest, Problem, versions};

const SECTIONS: &[&str] = &[
    "dependencies",
    "devDependencies",
    "peerDependencies",
    "optionalDependencies",
];

pub fn read(text: &str) -> Manifest {
    let mut out = Manifest::default();
    let json: Value = match serde_json::from_str(text) {
        Ok(json) => json,
        Err(e) => {
            out.problems.push(Problem {
                line: Some(u32::try_from(e.line()).unwrap_or(u32::MAX)),
                message: format!("invalid JSON: {e}"),
            });
            return out;
        }
    };
    for section in SECTIONS {
        let Some(deps) = json.get(section).and_then(Value::as_object) else {
            continue;
        };
        let start = key_line(text, section, 1);
        for (name, range) in deps {
            let range = range.as_str().unwrap_or_default();
            out.deps.push(Dependency {
                ecosystem: Ecosystem::Npm,
                name: name.clone(),
                version: versions::from_npm_range(range),
                line: key_line(text, name, start),
                text: format!("\"{name}\": \"{range}\""),
            });
        }
    }
    out
}

/// The first line at or after `from` holding `"key"` followed by `:`.
fn key_line(text: &str, key: &str, from: u32) -> u32 {
    let quoted = format!("\"{key}\"");
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1) as usize)
        .find(|(_, line)| {
            line.find(&quoted)
                .is_some_and(|at| line[at + quoted.len()..].trim_start().starts_with(':'))
        })
        .map_or(from, |(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_with_lines() {
        let m = read(
            r#"{
  "name": "orders-api",
  "version": "1.4.0",
  "scripts": { "pg": "node scripts/pg.js" },
  "dependencies": {
    "@prisma/client": "^5.10.2",
    "express": "^4.18.2",
    "pg": "^8.11.3"
  },
  "devDependencies": {
    "prisma": "^5.10.2"
  }
}
"#,
        );
        let got: Vec<(&str, Option<&str>, u32)> = m
            .deps
            .iter()
            .map(|d| (d.name.as_str(), d.version.as_deref(), d.line))
            .collect();
        assert_eq!(
            got,
            vec![
                ("@prisma/client", Some("5.10.2"), 6),
                ("express", Some("4.18.2"), 7),
                ("pg", Some("8.11.3"), 8),
                ("prisma", Some("5.10.2"), 11),
            ]
        );
    }

    #[test]
    fn malformed_json() {
        let m = read("{\n  \"dependencies\": {\n    \"pg\": \"^8\",\n  }\n}\n");
        assert!(m.deps.is_empty());
        assert_eq!(m.problems[0].line, Some(4));
    }
}
