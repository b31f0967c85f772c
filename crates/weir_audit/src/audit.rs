//! The run: facts once per function (in parallel over files), then the four
//! auditors in parallel over the same facts, then aggregation.

use std::panic::{AssertUnwindSafe, catch_unwind};

use rayon::prelude::*;
use weir_ir::Module;

use crate::context::ProjectContext;
use crate::facts::{FunctionFacts, ProjectFacts};
use crate::project::Summaries;
use crate::registry::RULES;
use crate::report::{Category, Finding, Warning, WarningKind};
use crate::rule::{Cx, Rule};
use crate::thresholds::Thresholds;
use crate::timings;

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

/// Which rules run (all of them by default) and the sizes they weigh against.
pub struct Selection {
    pub rules: Vec<&'static dyn Rule>,
    pub thresholds: Thresholds,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            rules: RULES.to_vec(),
            thresholds: Thresholds::default(),
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
    let phase = timings::phase("project facts");
    let mut project = ProjectFacts::with_context(modules, context);
    project.thresholds = selection.thresholds.clone();
    phase.done();
    let phase = timings::phase("function facts");
    let mut warnings = Vec::new();
    // Facts stay aligned with `modules` (a module that failed has none), so
    // call targets (module, function) index straight into them.
    let facts: Vec<Vec<FunctionFacts<'_>>> = modules
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
        .collect::<Vec<_>>()
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|w| {
                warnings.push(w);
                Vec::new()
            })
        })
        .collect();
    let mut facts = facts;
    crate::facts::context::enqueued_job_context(&mut facts);
    crate::facts::context::migrate_signal_context(&mut facts);
    crate::facts::context::inherit_startup_context(&mut facts);
    phase.done();
    let phase = timings::phase("summaries");
    let summaries = catch_unwind(AssertUnwindSafe(|| Summaries::compute(&facts))).unwrap_or_else(|panic| {
        warnings.push(Warning {
            path: None,
            line: None,
            kind: WarningKind::InternalError,
            message: format!("internal error in the cross-file analysis; findings through helpers are missing: {}", panic_text(&panic)),
        });
        Summaries::compute(&[])
    });
    phase.done();
    let phase = timings::phase("auditors");

    let auditors: Vec<(Category, Vec<Finding>, Vec<Warning>)> = Category::ALL
        .par_iter()
        .map(|&category| {
            let rules: Vec<&dyn Rule> = selection
                .rules
                .iter()
                .copied()
                .filter(|r| r.meta().category == category)
                .collect();
            let (found, failed) = run_auditor(&rules, &facts, &summaries, &project.thresholds);
            (category, found, failed)
        })
        .collect();
    // Millions of small facts: freed on every worker rather than one.
    facts.into_par_iter().for_each(drop);
    drop(summaries);
    let mut findings = Vec::new();
    for (_, found, failed) in auditors {
        findings.extend(found);
        warnings.extend(failed);
    }
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    dedupe(&mut findings);
    warnings.sort();
    phase.done();
    AuditOutput {
        findings,
        warnings,
        // A category whose rules are all switched off by the configuration
        // is named as not run, never scored as clean (SPEC §4).
        not_run: Category::ALL
            .into_iter()
            .filter(|c| !selection.rules.iter().any(|r| r.meta().category == *c))
            .map(|c| (c, "no rule selected".to_string()))
            .collect(),
        packs: project.knowledge.active_packs().to_vec(),
        context: project.context,
    }
}

fn run_auditor(
    rules: &[&dyn Rule],
    facts: &[Vec<FunctionFacts<'_>>],
    summaries: &Summaries,
    thresholds: &Thresholds,
) -> (Vec<Finding>, Vec<Warning>) {
    let results: Vec<Result<Vec<Finding>, Warning>> = facts
        .par_iter()
        .filter(|functions| !functions.is_empty())
        .map(|functions| {
            catch_unwind(AssertUnwindSafe(|| {
                let mut out = Vec::new();
                for function in functions {
                    let cx = Cx {
                        facts: function,
                        summaries,
                        thresholds,
                    };
                    for rule in rules {
                        rule.check(&cx, &mut out);
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

/// Rules that report facets of one blocked event loop at the same call;
/// the first in the list is kept.
const SAME_CALL_GROUP: &[&str] = &["RT-01", "RT-03", "RT-05"];

/// Rules that report facets of one root cause in a loop: one finding per
/// loop and group, the first rule of the group kept (SPEC §1 step 4). A
/// per-row write loop (an N-UPDATE that is also a missing bulk operation);
/// the commits and flushes of one loop (`flush()` twice per item).
const PER_LOOP_GROUPS: &[&[&str]] = &[&["QE-02", "QE-05"], &["TX-07"]];

/// One root cause, one finding: exact repeats are dropped, and the
/// per-row writes of one loop (several `update`/`add` calls, or an
/// N-UPDATE that is also a missing bulk operation) become one finding whose
/// evidence lists the other statements.
fn dedupe(findings: &mut Vec<Finding>) {
    let mut seen = crate::collections::HashSet::default();
    findings.retain(|f| seen.insert((f.path.clone(), f.range, f.rule)));
    // One call that blocks the event loop in several ways is one finding;
    // the other ways become evidence.
    let mut at_call: crate::collections::HashMap<(String, (u32, u32)), usize> =
        crate::collections::HashMap::default();
    let mut unique: Vec<Finding> = Vec::with_capacity(findings.len());
    for f in findings.drain(..) {
        if !SAME_CALL_GROUP.contains(&f.rule) {
            unique.push(f);
            continue;
        }
        if let Some(&i) = at_call.get(&(f.path.clone(), f.range)) {
            let label = format!("also {}: {}", f.rule, f.message);
            let line = f.line;
            unique[i].evidence.push(crate::report::Evidence {
                path: f.path,
                line,
                label,
            });
        } else {
            at_call.insert((f.path.clone(), f.range), unique.len());
            unique.push(f);
        }
    }
    *findings = unique;
    let mut kept: crate::collections::HashMap<(usize, String, String, u32), usize> =
        crate::collections::HashMap::default();
    let mut merged: Vec<Finding> = Vec::with_capacity(findings.len());
    for f in findings.drain(..) {
        let group = PER_LOOP_GROUPS
            .iter()
            .enumerate()
            .find_map(|(g, rules)| Some((g, *rules, rules.iter().position(|r| *r == f.rule)?)));
        let loop_line = f.evidence.first().map(|e| e.line);
        let (Some((group, rules, rank)), Some(loop_line)) = (group, loop_line) else {
            merged.push(f);
            continue;
        };
        let key = (group, f.path.clone(), f.function.clone(), loop_line);
        match kept.get(&key) {
            None => {
                kept.insert(key, merged.len());
                merged.push(f);
            }
            Some(&at) => {
                let existing_rank = rules
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

/// An empty finding, to swap out of a vector (and to build findings in tests).
pub(crate) fn placeholder() -> Finding {
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
        notes: Vec::new(),
        fingerprint: String::new(),
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

fn internal_error(module: &Module, panic: &Box<dyn std::any::Any + Send>) -> Warning {
    let detail = panic_text(panic);
    Warning {
        path: Some(module.path.clone()),
        line: None,
        kind: WarningKind::InternalError,
        message: format!(
            "internal error while analysing this file (the rest of the run is complete): {detail}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Effort, Severity};
    use crate::rule::{PYTHON, RuleMeta, finding};

    /// Reports each function with the transaction-length bound it was given.
    struct ReadsThresholds;

    static META: RuleMeta = RuleMeta {
        id: "TX-99",
        name: "reads-thresholds",
        category: Category::TransactionCorrectness,
        summary: "test rule",
        severity: Severity::Low,
        job: None,
        init: None,
        effort: Effort::S,
        languages: PYTHON,
        sources: &[],
        doc: "",
    };

    impl Rule for ReadsThresholds {
        fn meta(&self) -> &'static RuleMeta {
            &META
        }

        fn check(&self, cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
            if cx.function.name == "work" {
                let message = format!("bound {}", cx.thresholds.transaction_lines);
                out.push(finding(&META, cx, cx.function.span, message));
            }
        }
    }

    #[test]
    fn rules_read_the_configured_thresholds() {
        let module = weir_lang::lower("app/m.py", "def work():\n    pass\n").unwrap();
        let selection = Selection {
            rules: vec![&ReadsThresholds],
            thresholds: Thresholds {
                transaction_lines: 40,
                ..Thresholds::default()
            },
        };
        let output = audit(std::slice::from_ref(&module), &selection);
        assert_eq!(output.findings.len(), 1);
        assert_eq!(output.findings[0].message, "bound 40");
    }
}
