//! SARIF 2.1.0, for GitHub code scanning and other SARIF viewers: every rule
//! with its documentation as help, one result per finding with the
//! evidence as related locations and as a code flow (loop → call → query),
//! and a partial fingerprint that survives moved lines.

use anyhow::Result;
use serde_json::{Value, json};
use weir_audit::registry::RULES;
use weir_audit::report::{Evidence, Finding, MetaFinding, Report, Severity};
use weir_audit::suppress::META_RULES;

use super::repo_prefix;

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The key of weir's fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "weir/v1";

pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

pub fn render(report: &Report) -> Result<String> {
    let prefix = repo_prefix(&report.summary.root);
    let mut rules: Vec<Value> = RULES
        .iter()
        .map(|rule| {
            let meta = rule.meta();
            let doc = meta.documentation();
            let help_uri = meta.sources.first().map(|s| s.url);
            let mut rule = json!({
                "id": meta.id,
                "name": meta.name,
                "shortDescription": { "text": meta.summary },
                "fullDescription": { "text": first_paragraph(&doc) },
                "help": { "text": doc, "markdown": doc },
                "defaultConfiguration": { "level": level(meta.severity) },
                "properties": {
                    "category": meta.category.title(),
                    "tags": [meta.category.code(), meta.category.title(), "performance", "persistence"],
                    "default-severity": meta.severity.label(),
                    "precision": "high",
                },
            });
            if let Some(uri) = help_uri {
                rule["helpUri"] = json!(uri);
            }
            rule
        })
        .collect();
    rules.extend(META_RULES.iter().map(|meta| {
        json!({
            "id": meta.id,
            "name": meta.name,
            "shortDescription": { "text": meta.summary },
            "help": { "text": meta.doc, "markdown": meta.doc },
            "defaultConfiguration": { "level": "warning" },
            "properties": { "tags": ["suppressions"] },
        })
    }));
    let index = |id: &str| {
        rules
            .iter()
            .position(|r| r["id"] == id)
            .map_or(-1, |i| i64::try_from(i).unwrap_or(-1))
    };
    let mut results: Vec<Value> = Vec::new();
    for finding in report.findings.iter().chain(&report.advisory) {
        results.push(result(finding, index(finding.rule), &prefix));
    }
    for meta in &report.meta {
        results.push(meta_result(meta, index(meta.rule), &prefix));
    }
    let notifications: Vec<Value> = report
        .warnings
        .iter()
        .map(|w| {
            let mut n = json!({
                "level": "warning",
                "message": { "text": w.message },
                "descriptor": { "id": format!("{:?}", w.kind) },
            });
            if let Some(path) = &w.path {
                n["locations"] = json!([location(&prefix, path, w.line.unwrap_or(1), None, None)]);
            }
            n
        })
        .collect();
    let sarif = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "weir",
                    "version": report.version,
                    "semanticVersion": report.version,
                    "rules": rules,
                }
            },
            // GitHub takes what precedes the last `/` as the analysis category:
            // keep it stable (`weir`) so alerts are tracked run to run.
            "automationDetails": { "id": format!("weir/{}", report.date) },
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "properties": {
                "scores": report.scores,
                "suppressed": report.suppressed,
                "baselined": report.baselined,
            },
        }]
    });
    Ok(serde_json::to_string_pretty(&sarif)? + "\n")
}

fn first_paragraph(doc: &str) -> String {
    doc.lines()
        .skip_while(|l| l.starts_with('#') || l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn location(prefix: &str, path: &str, line: u32, col: Option<u32>, end_line: Option<u32>) -> Value {
    let mut region = json!({ "startLine": line.max(1) });
    if let Some(col) = col {
        region["startColumn"] = json!(col.max(1));
    }
    if let Some(end) = end_line {
        region["endLine"] = json!(end.max(line.max(1)));
    }
    json!({
        "physicalLocation": {
            "artifactLocation": { "uri": format!("{prefix}{path}"), "uriBaseId": "%SRCROOT%" },
            "region": region,
        }
    })
}

fn evidence_location(prefix: &str, e: &Evidence) -> Value {
    let mut loc = location(prefix, &e.path, e.line, None, None);
    loc["message"] = json!({ "text": e.label });
    loc
}

fn result(f: &Finding, rule_index: i64, prefix: &str) -> Value {
    let mut primary = location(prefix, &f.path, f.line, Some(f.col), Some(f.end_line));
    primary["logicalLocations"] = json!([{
        "fullyQualifiedName": f.function,
        "kind": "function",
    }]);
    let mut text = format!("{} ({} `{}`)", f.message, f.context.label(), f.function);
    if f.advisory {
        text.push_str(" [advisory]");
    }
    let markdown = format!(
        "{text}\n\n**Why:** {}\n\n**Fix:** {}{}",
        f.why,
        f.help,
        if f.notes.is_empty() {
            String::new()
        } else {
            format!("\n\n**Context:** {}", f.notes.join("; "))
        }
    );
    let mut result = json!({
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": if f.advisory { "note" } else { level(f.severity) },
        "message": { "text": format!("{text}. {} {}", f.why, f.help), "markdown": markdown },
        "locations": [primary],
        "partialFingerprints": { FINGERPRINT_KEY: f.fingerprint },
        "properties": {
            "severity": f.severity.label(),
            "category": f.category.title(),
            "context": f.context.label(),
            "effort": format!("{:?}", f.effort),
            "advisory": f.advisory,
        },
    });
    if !f.notes.is_empty() {
        result["properties"]["notes"] = json!(f.notes);
    }
    if !f.evidence.is_empty() {
        let related: Vec<Value> = f
            .evidence
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let mut loc = evidence_location(prefix, e);
                loc["id"] = json!(i + 1);
                loc
            })
            .collect();
        result["relatedLocations"] = json!(related);
        // The path the problem takes, in execution order (loop → call → query).
        let steps: Vec<Value> = super::execution_path(f)
            .iter()
            .enumerate()
            .map(|(i, step)| {
                let (col, end) = if step.primary {
                    (Some(f.col), Some(f.end_line))
                } else {
                    (None, None)
                };
                let mut location = location(prefix, step.path, step.line, col, end);
                location["message"] = json!({ "text": step.label });
                let mut step_json =
                    json!({ "location": location, "nestingLevel": i, "executionOrder": i + 1 });
                if step.primary {
                    step_json["importance"] = json!("essential");
                }
                step_json
            })
            .collect();
        result["codeFlows"] = json!([{
            "message": { "text": format!("{} path", f.rule) },
            "threadFlows": [{ "locations": steps }],
        }]);
    }
    result
}

fn meta_result(m: &MetaFinding, rule_index: i64, prefix: &str) -> Value {
    json!({
        "ruleId": m.rule,
        "ruleIndex": rule_index,
        "level": "warning",
        "message": { "text": m.message },
        "locations": [location(prefix, &m.path, m.line, None, None)],
        "partialFingerprints": { FINGERPRINT_KEY: format!("{}:{}:{}", m.rule, m.path, m.message) },
    })
}
