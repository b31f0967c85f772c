//! Renderers: one file per format. They read the report and change nothing.

pub mod json;
pub mod markdown;
pub mod text;

use std::fmt::Write;

use weir_audit::rule::{Rule, RuleMeta};

/// `weir rule QE-07`
pub fn rule_doc(meta: &RuleMeta) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {} {} ({})\n",
        meta.id,
        meta.name,
        meta.category.title()
    );
    let _ = writeln!(out, "{}\n", meta.summary);
    let _ = writeln!(
        out,
        "Default severity: {}. Effort: {:?}.\n",
        meta.severity.label(),
        meta.effort
    );
    out.push_str(meta.documentation().trim());
    out.push('\n');
    if !meta.sources.is_empty() {
        out.push_str("\n## Sources\n");
        for source in meta.sources {
            let _ = writeln!(out, "- {}: {}", source.title, source.url);
        }
    }
    out
}

/// `weir rule SUP-01`
pub fn meta_rule_doc(meta: &weir_audit::suppress::MetaRule) -> String {
    format!(
        "# {} {} (suppressions)\n\n{}\n\nOut of the score; switch it off with `ignore = [\"{}\"]`.\n\n{}\n",
        meta.id, meta.name, meta.summary, meta.id, meta.doc
    )
}

/// `weir rules`
pub fn rule_list(rules: &[&dyn Rule]) -> String {
    let mut out = String::new();
    let mut metas: Vec<&RuleMeta> = rules.iter().map(|r| r.meta()).collect();
    metas.sort_by_key(|m| (m.category, m.id));
    for meta in metas {
        let _ = writeln!(
            out,
            "{:<6} {:<8} {:<24} {}",
            meta.id,
            meta.severity.label(),
            meta.name,
            meta.summary
        );
    }
    out
}
