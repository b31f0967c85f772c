//! After the auditors: fingerprints, the context rules of SPEC §3 (decision
//! records, explanatory comments, mitigating facts), severity overrides,
//! per-file ignores, inline suppressions and the baseline, in that order.
//! What is left is scored by `Report::new`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use rayon::prelude::*;
use weir_audit::advisory::{self, ADR_DIRS, ProjectDoc};
use weir_audit::baseline::{Baseline, fingerprint};
use weir_audit::report::{Finding, MetaFinding};
use weir_audit::suppress;
use weir_ir::Module;

use crate::config::{Config, prefix_below};

/// What shapes the results besides the code: the configuration and the baseline.
pub struct Policy<'a> {
    pub config: &'a Config,
    pub baseline: Option<&'a Baseline>,
}

pub struct Filtered {
    pub findings: Vec<Finding>,
    pub suppressed: usize,
    pub baselined: usize,
    pub meta: Vec<MetaFinding>,
}

/// Decision records larger than this are not read.
const MAX_DOC_BYTES: u64 = 1024 * 1024;
const MAX_DOCS: usize = 1000;

pub fn finish(
    modules: &[Module],
    mut findings: Vec<Finding>,
    root: &Path,
    policy: &Policy<'_>,
) -> Filtered {
    let config = policy.config;
    fill_fingerprints(&mut findings, root);
    let docs = decision_records(&[root.to_path_buf(), config.root.clone()]);
    advisory::apply(&mut findings, modules, &docs, &config.thresholds.values);
    for finding in &mut findings {
        if let Some(severity) = config.severity_for(finding.rule) {
            finding.severity = severity;
        }
    }
    let findings = per_file_ignores(findings, config, root);
    let outcome = suppress::apply(modules, findings, &|code| config.is_code_enabled(code));
    let meta = outcome
        .meta
        .into_iter()
        .filter(|m| config.is_rule_enabled(m.rule))
        .collect();
    let (findings, baselined) = match policy.baseline {
        Some(baseline) => baseline.filter(outcome.findings),
        None => (outcome.findings, 0),
    };
    Filtered {
        findings,
        suppressed: outcome.suppressed,
        baselined,
        meta,
    }
}

/// The code of the finding's primary span (its first 400 bytes), or its
/// line when the file changed under us.
fn snippet<'s>(source: &'s str, finding: &Finding) -> &'s str {
    let (start, end) = (finding.range.0 as usize, finding.range.1 as usize);
    if let Some(text) = source
        .get(start..end.min(start + 400))
        .filter(|t| !t.trim().is_empty())
    {
        return text;
    }
    weir_lang::source_lines(source)
        .nth(finding.line.saturating_sub(1) as usize)
        .unwrap_or("")
}

fn fill_fingerprints(findings: &mut [Finding], root: &Path) {
    // Each file with findings is read once, the files in parallel.
    let mut paths: Vec<&str> = findings.iter().map(|f| f.path.as_str()).collect();
    paths.sort_unstable();
    paths.dedup();
    let sources: HashMap<String, String> = paths
        .par_iter()
        .map(|path| {
            let text = std::fs::read_to_string(root.join(path)).unwrap_or_default();
            ((*path).to_string(), text)
        })
        .collect();
    for finding in findings.iter_mut() {
        let source = sources.get(&finding.path).map_or("", String::as_str);
        finding.fingerprint = fingerprint(finding, snippet(source, finding));
    }
}

/// Decision records under the project roots (SPEC §3).
pub fn decision_records(roots: &[PathBuf]) -> Vec<ProjectDoc> {
    let mut docs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for root in roots {
        let Ok(canonical) = std::fs::canonicalize(root) else {
            continue;
        };
        if !seen.insert(canonical) {
            continue;
        }
        for dir in ADR_DIRS {
            let base = root.join(dir);
            if !base.is_dir() {
                continue;
            }
            for entry in ignore::WalkBuilder::new(&base)
                .max_depth(Some(4))
                .build()
                .flatten()
            {
                let path = entry.path();
                let Ok(rel) = path.strip_prefix(root) else {
                    continue;
                };
                let rel = rel.to_string_lossy().replace('\\', "/");
                let small = entry
                    .metadata()
                    .is_ok_and(|m| m.is_file() && m.len() <= MAX_DOC_BYTES);
                if !small || !advisory::is_adr_path(&rel) || docs.len() >= MAX_DOCS {
                    continue;
                }
                if let Ok(text) = std::fs::read_to_string(path) {
                    docs.push(ProjectDoc { path: rel, text });
                }
            }
        }
    }
    docs.sort_by(|a, b| a.path.cmp(&b.path));
    docs
}

fn per_file_ignores(findings: Vec<Finding>, config: &Config, root: &Path) -> Vec<Finding> {
    if config.per_file_ignores.is_empty() {
        return findings;
    }
    let mut builder = GlobSetBuilder::new();
    for setting in &config.per_file_ignores {
        // Validated when the configuration was read.
        if let Ok(glob) = Glob::new(&setting.value.0) {
            builder.add(glob);
        }
    }
    let Ok(set): Result<GlobSet, _> = builder.build() else {
        return findings;
    };
    let prefix = prefix_below(&config.root, root);
    findings
        .into_iter()
        .filter(|f| {
            let mut hits = set.matches(&f.path);
            if let Some(prefix) = &prefix {
                hits.extend(set.matches(format!("{prefix}/{}", f.path)));
            }
            !hits.iter().any(|&i| {
                config.per_file_ignores[i].value.1.iter().any(|code| {
                    code == "ALL"
                        || code == f.rule
                        || f.rule
                            .strip_prefix(code.as_str())
                            .is_some_and(|r| r.starts_with('-'))
                })
            })
        })
        .collect()
}
