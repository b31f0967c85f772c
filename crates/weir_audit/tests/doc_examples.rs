//! Every rule's documentation is executed: the code under "Example" must be
//! reported by the rule, the code under "Use instead" must not.

use weir_audit::audit::{Selection, audit};
use weir_audit::registry::RULES;

/// The first ```python block after `heading`.
fn code_after(doc: &str, heading: &str) -> Option<String> {
    let rest = doc.split(heading).nth(1)?;
    let start = rest.find("```python")? + "```python".len();
    let end = rest[start..].find("```")?;
    Some(rest[start..start + end].to_string())
}

fn findings_of(rule: &str, source: &str) -> usize {
    let module = weir_lang::lower("app/service.py", source).unwrap();
    let output = audit(std::slice::from_ref(&module), &Selection::default());
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
