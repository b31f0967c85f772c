//! The run: facts once per function (in parallel over files), then the four
//! auditors in parallel over the same facts, then aggregation.

use std::panic::{AssertUnwindSafe, catch_unwind};

use rayon::prelude::*;
use weir_ir::Module;

use crate::context::ProjectContext;
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
    /// The context the rules read, handed back for the report.
    pub context: ProjectContext,
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

/// Audits modules whose stack is unknown (an empty context).
pub fn audit(modules: &[Module], selection: &Selection) -> AuditOutput {
    audit_with_context(modules, ProjectContext::default(), selection)
}

/// Audits modules with the context store built by discovery; every rule
/// of every auditor reads it through `facts.project.context`.
pub fn audit_with_context(
    modules: &[Module],
    context: ProjectContext,
    selection: &Selection,
) -> AuditOutput {
    let project = ProjectFacts::with_context(modules, context);
    let mut warnings = Vec::new();
    let per_module: Vec<Result<Vec<FunctionFacts<'_>>, Warning>> = modules
        .par_iter()
        .map(|module| {
            catch_unwind(AssertUnwindSafe(|| {
                module
                    .functions
                    .iter()
                    .map(|f| FunctionFacts::build(&project, module, f))
                    .collect()
            }))
            .map_err(|panic| internal_error(module, &panic))
        })
        .collect();
    let facts: Vec<Vec<FunctionFacts<'_>>> = per_module
        .into_iter()
        .filter_map(|r| r.map_err(|w| warnings.push(w)).ok())
        .collect();

    let auditors: Vec<(Category, Vec<Finding>, Vec<Warning>)> = Category::ALL
        .par_iter()
        .map(|&category| {
            let rules: Vec<&dyn Rule> = selection
                .rules
                .iter()
                .copied()
                .filter(|r| r.meta().category == category)
                .collect();
            let (found, failed) = run_auditor(&rules, &facts);
            (category, found, failed)
        })
        .collect();
    let mut findings = Vec::new();
    for (_, found, failed) in auditors {
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
        context: project.context,
    }
}

fn run_auditor(
    rules: &[&dyn Rule],
    facts: &[Vec<FunctionFacts<'_>>],
) -> (Vec<Finding>, Vec<Warning>) {
    let results: Vec<Result<Vec<Finding>, Warning>> = facts
        .par_iter()
        .filter(|functions| !functions.is_empty())
        .map(|functions| {
            catch_unwind(AssertUnwindSafe(|| {
                let mut out = Vec::new();
                for function in functions {
                    for rule in rules {
                        rule.check(function, &mut out);
                    }
                }
                out
            }))
            .map_err(|panic| internal_error(functions[0].module, &panic))
        })
        .collect();
    let mut findings = Vec::new();
    let mut warnings = Vec::new();
    for result in results {
        match result {
            Ok(found) => findings.extend(found),
            Err(warning) => warnings.push(warning),
        }
    }
    (findings, warnings)
}

/// One root cause, one finding: the same span reported twice in one
/// category keeps the first (most specific) rule.
fn dedupe(findings: &mut Vec<Finding>) {
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| seen.insert((f.path.clone(), f.range, f.category, f.rule)));
    let mut seen_span = std::collections::HashSet::new();
    findings.retain(|f| seen_span.insert((f.path.clone(), f.range, f.category)));
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
