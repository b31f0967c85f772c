//! `pyproject.toml` (PEP 621 `dependencies` and `optional-dependencies`,
//! PEP 735 `dependency-groups`, Poetry, PDM and uv development groups) and
//! `Pipfile`, read with a real TOML parser that keeps spans, so each
//! dependency has its line.

use toml::Spanned;
use toml::de::{DeTable, DeValue};
use weir_audit::context::catalog::Ecosystem;
use weir_lang::LineIndex;

use super::pep508::parse_requirement;
use super::{Dependency, Manifest, Problem, versions};

struct Doc<'i> {
    root: Spanned<DeTable<'i>>,
    lines: LineIndex,
}

fn parse(text: &str) -> Result<Doc<'_>, Problem> {
    let lines = LineIndex::new(text);
    match DeTable::parse(text) {
        Ok(root) => Ok(Doc { root, lines }),
        Err(e) => Err(Problem {
            line: e
                .span()
                .map(|s| lines.line(u32::try_from(s.start).unwrap_or(u32::MAX))),
            message: format!("invalid TOML: {}", e.message()),
        }),
    }
}

impl<'i> Doc<'i> {
    fn get(&self, path: &[&str]) -> Option<&Spanned<DeValue<'i>>> {
        let (first, rest) = path.split_first()?;
        let mut value = self.root.get_ref().get(*first)?;
        for key in rest {
            value = value.get_ref().get(*key)?;
        }
        Some(value)
    }

    fn line(&self, span: &std::ops::Range<usize>) -> u32 {
        self.lines
            .line(u32::try_from(span.start).unwrap_or(u32::MAX))
    }

    /// A list of PEP 508 strings (`dependencies = ["fastapi>=0.110", …]`).
    fn pep508_list(&self, value: &Spanned<DeValue<'_>>, out: &mut Manifest) {
        let Some(items) = value.get_ref().as_array() else {
            return;
        };
        for item in items {
            // PEP 735 `{include-group = "test"}` entries name no package.
            let Some(text) = item.get_ref().as_str() else {
                continue;
            };
            let line = self.line(&item.span());
            match parse_requirement(text) {
                Ok(req) => out.deps.push(Dependency {
                    ecosystem: Ecosystem::PyPI,
                    version: versions::from_python_spec(&req.spec),
                    name: req.name,
                    line,
                    text: text.to_string(),
                }),
                Err(reason) => out.problems.push(Problem {
                    line: Some(line),
                    message: format!("cannot read requirement `{text}`: {reason}"),
                }),
            }
        }
    }

    /// Tables of lists: `[project.optional-dependencies]`, `[dependency-groups]`.
    fn pep508_groups(&self, value: &Spanned<DeValue<'_>>, out: &mut Manifest) {
        let Some(groups) = value.get_ref().as_table() else {
            return;
        };
        for (_, list) in groups {
            self.pep508_list(list, out);
        }
    }

    /// Poetry and Pipfile tables: `name = "^2.0"` or `name = {version = "^2.0", extras = […]}`.
    fn name_table(&self, value: &Spanned<DeValue<'_>>, out: &mut Manifest) {
        let Some(table) = value.get_ref().as_table() else {
            return;
        };
        for (name, spec) in table {
            let name = name.get_ref().as_ref();
            if name.eq_ignore_ascii_case("python") {
                continue;
            }
            let version = match spec.get_ref() {
                DeValue::String(s) => Some(s.as_ref()),
                DeValue::Table(t) => t.get("version").and_then(|v| v.get_ref().as_str()),
                // Poetry's multiple-constraint lists: the first entry will do.
                DeValue::Array(items) => items
                    .iter()
                    .next()
                    .and_then(|i| i.get_ref().get("version"))
                    .and_then(|v| v.get_ref().as_str()),
                _ => None,
            };
            out.deps.push(Dependency {
                ecosystem: Ecosystem::PyPI,
                name: name.to_string(),
                version: version.and_then(versions::from_python_spec),
                line: self.line(&spec.span()),
                text: match version {
                    Some(v) => format!("{name} = \"{v}\""),
                    None => name.to_string(),
                },
            });
        }
    }
}

pub fn read_pyproject(text: &str) -> Manifest {
    let mut out = Manifest::default();
    let doc = match parse(text) {
        Ok(doc) => doc,
        Err(problem) => {
            out.problems.push(problem);
            return out;
        }
    };
    if let Some(deps) = doc.get(&["project", "dependencies"]) {
        doc.pep508_list(deps, &mut out);
    }
    if let Some(groups) = doc.get(&["project", "optional-dependencies"]) {
        doc.pep508_groups(groups, &mut out);
    }
    if let Some(groups) = doc.get(&["dependency-groups"]) {
        doc.pep508_groups(groups, &mut out);
    }
    if let Some(deps) = doc.get(&["tool", "poetry", "dependencies"]) {
        doc.name_table(deps, &mut out);
    }
    if let Some(deps) = doc.get(&["tool", "poetry", "dev-dependencies"]) {
        doc.name_table(deps, &mut out);
    }
    if let Some(groups) = doc
        .get(&["tool", "poetry", "group"])
        .and_then(|g| g.get_ref().as_table())
    {
        for (_, group) in groups {
            if let Some(deps) = group.get_ref().get("dependencies") {
                doc.name_table(deps, &mut out);
            }
        }
    }
    if let Some(groups) = doc.get(&["tool", "pdm", "dev-dependencies"]) {
        doc.pep508_groups(groups, &mut out);
    }
    if let Some(deps) = doc.get(&["tool", "uv", "dev-dependencies"]) {
        doc.pep508_list(deps, &mut out);
    }
    // Tables come back sorted by key; the file's order reads better.
    out.deps.sort_by_key(|d| d.line);
    out
}

/// `Pipfile`: `[packages]` and `[dev-packages]`.
pub fn read_pipfile(text: &str) -> Manifest {
    let mut out = Manifest::default();
    let doc = match parse(text) {
        Ok(doc) => doc,
        Err(problem) => {
            out.problems.push(problem);
            return out;
        }
    };
    for section in ["packages", "dev-packages"] {
        if let Some(table) = doc.get(&[section]) {
            doc.name_table(table, &mut out);
        }
    }
    out.deps.sort_by_key(|d| d.line);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(manifest: &Manifest) -> Vec<(&str, Option<&str>, u32)> {
        manifest
            .deps
            .iter()
            .map(|d| (d.name.as_str(), d.version.as_deref(), d.line))
            .collect()
    }

    #[test]
    fn pep621_optional_groups_and_pep735() {
        let m = read_pyproject(
            r#"[project]
name = "jobs-service"
dependencies = [
    "fastapi>=0.110",
    "sqlalchemy[asyncio]>=2.0.29",
    "asyncpg>=0.29",
]

[project.optional-dependencies]
sync = ["psycopg2-binary>=2.9"]

[dependency-groups]
test = ["pytest>=8", {include-group = "lint"}]
lint = ["ruff"]
"#,
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert_eq!(
            deps(&m),
            vec![
                ("fastapi", Some("0.110"), 4),
                ("sqlalchemy", Some("2.0.29"), 5),
                ("asyncpg", Some("0.29"), 6),
                ("psycopg2-binary", Some("2.9"), 10),
                ("pytest", Some("8"), 13),
                ("ruff", None, 14),
            ]
        );
    }

    #[test]
    fn poetry_pdm_and_uv() {
        let m = read_pyproject(
            r#"[tool.poetry]
name = "billing"

[tool.poetry.dependencies]
python = "^3.11"
Django = "^5.0"
psycopg = { version = "^3.1.18", extras = ["binary", "pool"] }
celery = [
    { version = "^5.3", python = ">=3.8" },
]

[tool.poetry.group.dev.dependencies]
pytest-django = "*"

[tool.pdm.dev-dependencies]
lint = ["mypy>=1.9"]

[tool.uv]
dev-dependencies = ["ipython"]
"#,
        );
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert_eq!(
            deps(&m),
            vec![
                ("Django", Some("5.0"), 6),
                ("psycopg", Some("3.1.18"), 7),
                ("celery", Some("5.3"), 8),
                ("pytest-django", None, 13),
                ("mypy", Some("1.9"), 16),
                ("ipython", None, 19),
            ]
        );
    }

    #[test]
    fn malformed_toml_and_requirements() {
        let m =
            read_pyproject("[project]\ndependencies = [\n  \"fastapi>=0.110\",\n  \"broken\n]\n");
        assert_eq!(m.deps.len(), 0);
        assert_eq!(m.problems.len(), 1);
        assert_eq!(m.problems[0].line, Some(4), "{:?}", m.problems);
        let m =
            read_pyproject("[project]\ndependencies = [\"fastapi>=0.110\", \"sqlalchemy =>2\"]\n");
        assert_eq!(deps(&m), vec![("fastapi", Some("0.110"), 2)]);
        assert_eq!(m.problems[0].line, Some(2));
    }

    #[test]
    fn pipfile() {
        let m = read_pipfile(
            r#"[[source]]
url = "https://pypi.org/simple"
verify_ssl = true
name = "pypi"

[packages]
flask = "==3.0.2"
flask-sqlalchemy = "*"
psycopg2 = {version = ">=2.9", markers = "sys_platform == 'linux'"}

[dev-packages]
pytest = "*"

[requires]
python_version = "3.12"
"#,
        );
        assert!(m.problems.is_empty());
        assert_eq!(
            deps(&m),
            vec![
                ("flask", Some("3.0.2"), 7),
                ("flask-sqlalchemy", None, 8),
                ("psycopg2", Some("2.9"), 9),
                ("pytest", None, 12),
            ]
        );
    }
}
