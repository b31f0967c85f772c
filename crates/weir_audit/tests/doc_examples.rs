//! Every rule's documentation is executed: the code under "Example" must be
//! reported by the rule, the code under "Use instead" must not.

use weir_audit::audit::{Selection, audit_with_context};
use weir_audit::registry::RULES;

/// The first ```python block after `heading`.
fn code_after(doc: &str, heading: &str) -> Option<String> {
    let rest = doc.split(heading).nth(1)?;
    let start = rest.find("```python")? + "```python".len();
    let end = rest[start..].find("```")?;
    Some(rest[start..start + end].to_string())
}

/// An example is one file (`app/service.py`), or several when it has
/// `# file: path` lines (a migration and the code that updates its table).
fn files_of(source: &str) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = Vec::new();
    for line in source.lines() {
        if let Some(path) = line.trim().strip_prefix("# file: ") {
            files.push((path.trim().to_string(), String::new()));
            continue;
        }
        if files.is_empty() {
            files.push(("app/service.py".into(), String::new()));
        }
        let text = &mut files.last_mut().unwrap().1;
        text.push_str(line);
        text.push('\n');
    }
    files
}

fn findings_of(rule: &str, source: &str) -> usize {
    let files = files_of(source);
    let modules: Vec<_> = files
        .iter()
        .map(|(path, text)| weir_lang::lower(path, text).unwrap())
        .collect();
    let root = std::path::Path::new(".");
    let context = weir_cli::discovery::discover_context("", root, &[], &modules).0;
    let output = audit_with_context(&modules, context, &Selection::default());
    output.findings.iter().filter(|f| f.rule == rule).count()
}

#[test]
fn rule_docs_have_every_section_and_their_examples_hold() {
    for rule in RULES {
        let meta = rule.meta();
        let doc = meta.documentation();
        for section in [
            "## What it does",
            "## Why is this bad",
            "## Example",
            "## Use instead",
            "## Known limitations",
        ] {
            assert!(doc.contains(section), "{}: missing {section}", meta.id);
        }
        assert!(!meta.sources.is_empty(), "{}: no official source", meta.id);
        let bad = code_after(&doc, "## Example")
            .unwrap_or_else(|| panic!("{}: no example code", meta.id));
        let good = code_after(&doc, "## Use instead")
            .unwrap_or_else(|| panic!("{}: no fixed code", meta.id));
        assert!(
            findings_of(meta.id, &bad) > 0,
            "{}: its Example is not reported:\n{bad}",
            meta.id
        );
        assert_eq!(
            findings_of(meta.id, &good),
            0,
            "{}: its Use instead is reported:\n{good}",
            meta.id
        );
    }
}

#[test]
fn rule_ids_and_names_are_unique() {
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.meta().id).collect();
    let mut names: Vec<&str> = RULES.iter().map(|r| r.meta().name).collect();
    ids.sort_unstable();
    names.sort_unstable();
    let (n_ids, n_names) = (ids.len(), names.len());
    ids.dedup();
    names.dedup();
    assert_eq!(ids.len(), n_ids);
    assert_eq!(names.len(), n_names);
}
