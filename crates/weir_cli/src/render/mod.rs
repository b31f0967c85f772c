//! Renderers: one file per format. They read the report and change nothing.

pub mod github;
pub mod html;
pub mod json;
pub mod markdown;
pub mod sarif;
pub mod text;

use std::fmt::Write;

use weir_audit::rule::{Rule, RuleMeta};

/// The audited root's path from the top of its git work tree, with a
/// trailing `/` (empty when it is the top or not in a repository), so that
/// SARIF and GitHub annotations name files as the repository does.
pub fn repo_prefix(root: &str) -> String {
    let Ok(root) = std::fs::canonicalize(root) else {
        return String::new();
    };
    let dir = if root.is_file() {
        root.parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default()
    } else {
        root
    };
    let Some(top) = dir.ancestors().find(|d| d.join(".git").exists()) else {
        return String::new();
    };
    match dir.strip_prefix(top) {
        Ok(rel) if !rel.as_os_str().is_empty() => {
            format!("{}/", rel.to_string_lossy().replace('\\', "/"))
        }
        _ => String::new(),
    }
}

/// One step of a finding's path.
pub struct Step<'a> {
    pub path: &'a str,
    pub line: u32,
    pub label: &'a str,
    /// The finding's own location.
    pub primary: bool,
}

/// The finding's path in execution order: what encloses it in its own
/// function (the loop, the `begin()`, the acquisition), the finding itself
/// (the call in the loop), then the path into the callees (the query).
pub fn execution_path(f: &weir_audit::report::Finding) -> Vec<Step<'_>> {
    fn step(e: &weir_audit::report::Evidence) -> Step<'_> {
        Step {
            path: &e.path,
            line: e.line,
            label: &e.label,
            primary: false,
        }
    }
    let encloses = |e: &&weir_audit::report::Evidence| e.path == f.path && e.line <= f.line;
    let mut steps: Vec<Step<'_>> = f.evidence.iter().filter(encloses).map(step).collect();
    steps.push(Step {
        path: &f.path,
        line: f.line,
        label: &f.message,
        primary: true,
    });
    steps.extend(f.evidence.iter().filter(|e| !encloses(e)).map(step));
    steps
}

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
