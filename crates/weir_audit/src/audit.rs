//! The run: one shared, read-only project context; then, per module and
//! in parallel over modules, facts once per function and the four auditors
//! over them; then aggregation.

use std::panic::{AssertUnwindSafe, catch_unwind};

use rayon::prelude::*;
use weir_ir::Module;

use crate::facts::{FunctionFacts, ProjectFacts};
use crate::registry::RULES;
use crate::report::{Category, Finding, Warning, WarningKind};
use crate::rule::Rule;

pub struct AuditOutput {
    /// Sorted by location, deduplicated.
    pub findings: Vec<Finding>,
    pub warnings: Vec<Warning>,
    /// Categories that could not run, with the reason.
    pub not_run: Vec<(Category, String)>,
    /// The knowledge packs that were switched on.
    pub packs: Vec<&'static str>,
}

/// Which rules run; all of them by default.
pub struct Selection {
    pub rules: Vec<&'static dyn Rule>,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            rules: RULES.to_vec(),
        }
    }
}

pub fn audit(modules: &[Module], selection: &Selection) -> AuditOutput {
    let project = ProjectFacts::new(modules);
    let auditors: Vec<(Category, Vec<&dyn Rule>)> = Category::ALL
        .iter()
        .map(|&category| {
            let rules = selection
                .rules
                .iter()
                .copied()
                .filter(|r| r.meta().category == category)
                .collect();
            (category, rules)
        })
        .collect();
    // Modules in parallel; in each, the facts are built once and the four
    // auditors read them, with the shared project context, before they are
    // dropped: the facts of the whole project are never held at once.
    let per_module: Vec<(Vec<Finding>, Vec<Warning>)> = modules
        .par_iter()
        .map(|module| audit_module(&project, module, &auditors))
        .collect();
    let mut findings = Vec::new();
    let mut warnings = Vec::new();
    for (found, failed) in per_module {
        findings.extend(found);
        warnings.extend(failed);
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    dedupe(&mut findings);
    warnings.sort();
    AuditOutput {
        findings,
        warnings,
        not_run: Vec::new(),
        packs: project.knowledge.active_packs().to_vec(),
    }
}

/// Facts for one module, then each auditor over them. A panic while
/// building the facts skips the module; a panic in one auditor drops that
/// auditor's findings for the module. Either becomes an internal-error
/// warning for the file.
fn audit_module(
    project: &ProjectFacts,
    module: &Module,
    auditors: &[(Category, Vec<&dyn Rule>)],
) -> (Vec<Finding>, Vec<Warning>) {
    let facts: Vec<FunctionFacts<'_>> = match catch_unwind(AssertUnwindSafe(|| {
        module
            .functions
            .iter()
            .map(|f| FunctionFacts::build(project, module, f))
            .collect()
    })) {
        Ok(facts) => facts,
        Err(panic) => return (Vec::new(), vec![internal_error(module, &panic)]),
    };
    let mut findings = Vec::new();
    let mut warnings = Vec::new();
    if facts.is_empty() {
        return (findings, warnings);
    }
    for (_, rules) in auditors {
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut out = Vec::new();
            for function in &facts {
                for rule in rules {
                    rule.check(function, &mut out);
                }
            }
            out
        }));
        match result {
            Ok(found) => findings.extend(found),
            Err(panic) => warnings.push(internal_error(module, &panic)),
        }
    }
    (findings, warnings)
}

/// Rules that report facets of one root cause, a per-row write loop: one
/// finding per loop, the first rule of the list kept (SPEC §1 step 4).
const PER_LOOP_GROUP: &[&str] = &["QE-02", "QE-05"];

/// One root cause, one finding: exact repeats are dropped, and the
/// per-row writes of one loop (several `update`/`add` calls, or an
/// N-UPDATE that is also a missing bulk operation) become one finding whose
/// evidence lists the other statements.
fn dedupe(findings: &mut Vec<Finding>) {
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| seen.insert((f.path.clone(), f.range, f.rule)));
    let mut kept: std::collections::HashMap<(String, String, u32), usize> =
        std::collections::HashMap::new();
    let mut merged: Vec<Finding> = Vec::with_capacity(findings.len());
    for f in findings.drain(..) {
        let group_rank = PER_LOOP_GROUP.iter().position(|r| *r == f.rule);
        let loop_line = f.evidence.first().map(|e| e.line);
        let (Some(rank), Some(loop_line)) = (group_rank, loop_line) else {
            merged.push(f);
            continue;
        };
        let key = (f.path.clone(), f.function.clone(), loop_line);
        match kept.get(&key) {
            None => {
                kept.insert(key, merged.len());
                merged.push(f);
            }
            Some(&at) => {
                let existing_rank = PER_LOOP_GROUP
                    .iter()
                    .position(|r| *r == merged[at].rule)
                    .unwrap_or(usize::MAX);
                let (mut primary, other) = if rank < existing_rank {
                    (f, std::mem::replace(&mut merged[at], placeholder()))
                } else {
                    (std::mem::replace(&mut merged[at], placeholder()), f)
                };
                primary.evidence.push(crate::report::Evidence {
                    path: other.path.clone(),
                    line: other.line,
                    label: format!("also {}: {}", other.rule, other.message),
                });
                primary.evidence.extend(other.evidence.into_iter().skip(1));
                if other.severity < primary.severity {
                    primary.severity = other.severity;
                }
                merged[at] = primary;
            }
        }
    }
    *findings = merged;
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

fn placeholder() -> Finding {
    Finding {
        rule: "",
        name: "",
        category: Category::QueryEfficiency,
        severity: crate::report::Severity::Low,
        effort: crate::report::Effort::S,
        path: String::new(),
        line: 0,
        col: 0,
        end_line: 0,
        range: (0, 0),
        function: String::new(),
        context: crate::facts::ExecContext::Other,
        message: String::new(),
        why: String::new(),
        help: String::new(),
        evidence: Vec::new(),
        advisory: false,
    }
}

fn internal_error(module: &Module, panic: &Box<dyn std::any::Any + Send>) -> Warning {
    let detail = panic
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    Warning {
        path: Some(module.path.clone()),
        line: None,
        kind: WarningKind::InternalError,
        message: format!(
            "internal error while analysing this file (the rest of the run is complete): {detail}"
        ),
    }
}
