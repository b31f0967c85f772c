//! Adopting weir in a team: configuration files, inline suppressions, the
//! baseline, and the context rules that make findings advisory.

use std::path::Path;

mod common;
use common::{stderr, weir};

fn write(dir: &Path, rel: &str, content: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn json(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "audit",
        dir.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
    ];
    args.extend_from_slice(extra);
    let out = weir(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn rules_of(report: &serde_json::Value, list: &str) -> Vec<(String, u64)> {
    report[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

const SERVICE: &str = "\
import time
from sqlalchemy.orm import Session


def totals(session: Session, orders):
    for order in orders:
        session.get(Order, order.id)


async def slow():
    time.sleep(1)


def save_all(session: Session, items):
    for item in items:
        session.add(item)
    session.commit()
";

#[test]
fn config_selects_rules_overrides_severity_and_ignores_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app/service.py", SERVICE);
    write(d, "scripts/once.py", SERVICE);
    let all = rules_of(&json(d, &[]), "findings");
    assert!(all.iter().any(|(r, _)| r == "RT-03"), "{all:?}");

    write(
        d,
        "pyproject.toml",
        "[project]\nname = \"svc\"\n\n[tool.weir]\nignore = [\"RT\"]\nfail-on = \"medium\"\n\n[tool.weir.severity]\n\"QE-07\" = \"low\"\n\n[tool.weir.per-file-ignores]\n\"scripts/**\" = [\"QE\"]\n",
    );
    let report = json(d, &[]);
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .all(|f| f["category"] != "runtime_performance"),
        "RT ignored"
    );
    assert!(
        findings
            .iter()
            .all(|f| f["path"] != "scripts/once.py"
                || !f["rule"].as_str().unwrap().starts_with("QE")),
        "per-file ignore"
    );
    let qe07 = findings.iter().find(|f| f["rule"] == "QE-07").unwrap();
    assert_eq!(qe07["severity"], "LOW", "severity override");

    // The flags override the file.
    let selected = json(d, &["--select", "RT"]);
    let categories = selected["scores"]["categories"].as_array().unwrap();
    let qe = categories
        .iter()
        .find(|c| c["category"] == "query_efficiency")
        .unwrap();
    assert!(
        qe["score"].is_null() && qe["note"] == "not run: no rule selected",
        "{qe}"
    );
    let flagged = rules_of(&selected, "findings");
    assert!(
        flagged.iter().all(|(r, _)| r.starts_with("RT")) && !flagged.is_empty(),
        "{flagged:?}"
    );

    // fail-on from the file: QE-05 is MEDIUM.
    let out = weir(&["audit", d.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));

    // `weir config` shows each setting and its origin.
    let out = weir(&["config", d.to_str().unwrap(), "--fail-on", "low"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ignore = [\"RT\"]"), "{text}");
    assert!(text.contains("pyproject.toml:5"), "{text}");
    assert!(text.contains("command line (--fail-on)"), "{text}");
    assert!(
        text.contains("transaction-lines = 50") && text.contains("# default"),
        "{text}"
    );
}

#[test]
fn bad_configuration_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app/service.py", SERVICE);
    write(
        d,
        "weir.toml",
        "select = [\"QE\"]\n\n[thresholds]\ntransaction-lines = 40\nmax-depth = 3\n",
    );
    let out = weir(&["audit", d.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("weir.toml:5:"), "{err}");
    assert!(err.contains("unknown key `max-depth`"), "{err}");

    write(d, "weir.toml", "select = [\"QE\", \"XX-01\"]\n");
    let err = stderr(&weir(&["audit", d.to_str().unwrap()]));
    assert!(
        err.contains("weir.toml:1:") && err.contains("XX-01"),
        "{err}"
    );

    write(d, "weir.toml", "fail-on = \"sometimes\"\n");
    let err = stderr(&weir(&["config", d.to_str().unwrap()]));
    assert!(
        err.contains("weir.toml:1:") && err.contains("fail-on"),
        "{err}"
    );

    write(d, "weir.toml", "select = [\n");
    let out = weir(&["audit", d.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("weir.toml:"), "{}", stderr(&out));
}

#[test]
fn the_nearest_config_above_the_audited_path_applies() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app/service.py", SERVICE);
    write(
        d,
        "weir.toml",
        "select = [\"QE-07\"]\nexclude = [\"app/legacy/**\"]\n",
    );
    write(d, "app/legacy/old.py", SERVICE);
    let report = json(&d.join("app"), &[]);
    let rules = rules_of(&report, "findings");
    assert_eq!(rules, vec![("QE-07".to_string(), 7)], "{rules:?}");
}

#[test]
fn explicit_and_isolated_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app/service.py", SERVICE);
    write(d, "weir.toml", "select = [\"QE-07\"]\n");
    write(d, "ci/weir-strict.toml", "select = [\"RT\"]\n");
    let rules = |extra: &[&str]| -> Vec<String> {
        let mut rules: Vec<String> = rules_of(&json(d, extra), "findings")
            .into_iter()
            .map(|(r, _)| r)
            .collect();
        rules.dedup();
        rules
    };
    assert_eq!(rules(&[]), vec!["QE-07"]);
    let strict = d.join("ci/weir-strict.toml");
    assert_eq!(
        rules(&["--config", strict.to_str().unwrap()]),
        vec!["RT-03"]
    );
    assert!(rules(&["--isolated"]).len() >= 3, "defaults: every rule");
    let out = weir(&["audit", d.to_str().unwrap(), "--config", "/nope/weir.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("/nope/weir.toml"));
}

#[test]
fn suppressions_need_a_reason_and_unused_ones_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let code = SERVICE
        .replace(
            "        session.get(Order, order.id)\n",
            "        session.get(Order, order.id)  # weir: ignore[QE-07] orders is at most three items\n",
        )
        .replace(
            "    time.sleep(1)\n",
            "    # weir: ignore[RT-03]\n    time.sleep(1)\n",
        )
        .replace(
            "    session.commit()\n",
            "    session.commit()  # weir: ignore[TX-07, XX-99] no loop here\n",
        );
    write(d, "app/service.py", &code);
    let report = json(d, &[]);
    let rules = rules_of(&report, "findings");
    assert!(
        !rules.iter().any(|(r, _)| r == "QE-07"),
        "suppressed: {rules:?}"
    );
    assert!(
        rules.iter().any(|(r, _)| r == "RT-03"),
        "no reason, not applied: {rules:?}"
    );
    assert_eq!(report["suppressed"], 1);
    let meta: Vec<(String, u64, String)> = report["meta"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["rule"].as_str().unwrap().into(),
                m["line"].as_u64().unwrap(),
                m["message"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        meta.iter()
            .any(|(r, l, m)| r == "SUP-02" && *l == 11 && m.contains("reason")),
        "{meta:?}"
    );
    assert!(
        meta.iter()
            .any(|(r, l, m)| r == "SUP-02" && *l == 18 && m.contains("XX-99")),
        "{meta:?}"
    );
    assert!(
        meta.iter()
            .any(|(r, l, m)| r == "SUP-01" && *l == 18 && m.contains("TX-07")),
        "{meta:?}"
    );

    // A file-wide suppression; SUP-01 can be switched off like a rule.
    write(
        d,
        "app/other.py",
        &format!("# weir: file-ignore[QE] generated code\n{SERVICE}"),
    );
    let report = json(d, &["--ignore", "SUP-01"]);
    assert!(
        report["meta"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["rule"] != "SUP-01")
    );
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["path"] != "app/other.py" || f["category"] != "query_efficiency")
    );
    let text = String::from_utf8_lossy(
        &weir(&["audit", d.to_str().unwrap(), "--fail-on", "never"]).stdout,
    )
    .into_owned();
    assert!(text.contains("SUP-02"), "{text}");
}

#[test]
fn a_baseline_survives_moved_lines_and_shows_only_new_findings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app/service.py", SERVICE);
    let baseline = d.join("weir-baseline.json");
    let out = weir(&[
        "audit",
        d.to_str().unwrap(),
        "--write-baseline",
        baseline.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "writing a baseline succeeds: {}",
        stderr(&out)
    );
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    let count = recorded["findings"].as_array().unwrap().len();
    assert!(count >= 3, "{recorded}");

    // Unrelated edits move every line; a new N+1 appears in a new function.
    let edited = format!(
        "\"\"\"Service module.\"\"\"\n\nimport logging\n\n{}\n\ndef audit_all(session: Session, users):\n    for user in users:\n        session.get(User, user.id)\n",
        SERVICE.replace(
            "    for order in orders:",
            "\n    # totals per order\n    for order in orders:"
        )
    );
    write(d, "app/service.py", &edited);
    let out = weir(&[
        "audit",
        d.to_str().unwrap(),
        "--baseline",
        baseline.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "high",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the new HIGH finding fails the run"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["function"], "audit_all");
    assert_eq!(
        report["baselined"].as_u64().unwrap(),
        u64::try_from(count).unwrap()
    );
    assert_eq!(
        report["scores"]["counts"]["high"], 1,
        "only new findings are scored"
    );

    let text = String::from_utf8_lossy(
        &weir(&[
            "audit",
            d.to_str().unwrap(),
            "--baseline",
            baseline.to_str().unwrap(),
            "--fail-on",
            "never",
        ])
        .stdout,
    )
    .into_owned();
    assert!(text.contains(&format!("{count} baselined")), "{text}");

    std::fs::write(&baseline, "not json").unwrap();
    let out = weir(&[
        "audit",
        d.to_str().unwrap(),
        "--baseline",
        baseline.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a weir baseline"));
}

#[test]
fn decision_records_and_explaining_comments_make_findings_advisory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let code = "\
import time
import requests


async def refresh_rates():
    # Blocking on purpose: this runs once per deploy, see ADR-0004.
    requests.get(\"https://rates.example/api\")


async def export_ledger():
    requests.get(\"https://ledger.example/api\")


async def ping():
    time.sleep(0.1)
";
    write(d, "app/sync.py", code);
    write(
        d,
        "docs/adr/0007-ledger-export.md",
        "# 7. Ledger export\n\nWe call the ledger synchronously from `export_ledger` until the client is async.\n",
    );
    let report = json(d, &[]);
    let advisory = report["advisory"].as_array().unwrap();
    let lines: Vec<u64> = advisory
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![7, 11], "{advisory:?}");
    assert!(
        advisory[0]["notes"][0]
            .as_str()
            .unwrap()
            .contains("comment on line 6")
    );
    assert!(
        advisory[1]["notes"][0]
            .as_str()
            .unwrap()
            .contains("docs/adr/0007-ledger-export.md")
    );
    let findings = rules_of(&report, "findings");
    assert_eq!(
        findings,
        vec![("RT-03".to_string(), 15)],
        "advisory ones are out: {findings:?}"
    );
    assert_eq!(
        report["scores"]["counts"]["high"], 1,
        "advisory findings are not scored"
    );
    let markdown = String::from_utf8_lossy(
        &weir(&[
            "audit",
            d.to_str().unwrap(),
            "--format",
            "markdown",
            "--fail-on",
            "never",
        ])
        .stdout,
    )
    .into_owned();
    assert!(markdown.contains("## Advisory Findings"), "{markdown}");
}

#[test]
fn mitigating_facts_lower_performance_findings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let code = "\
import asyncio
import json
import requests


async def poll():
    async with asyncio.timeout(5):
        requests.get(\"https://status.example\", timeout=2)


async def handler():
    requests.get(\"https://status.example\")


async def startup():
    async with asyncio.timeout(5):
        requests.get(\"https://status.example\")
";
    write(d, "app/tasks/poller.py", code);
    let report = json(d, &[]);
    let all: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .chain(report["advisory"].as_array().unwrap())
        .collect();
    let poll = all.iter().find(|f| f["function"] == "poll").unwrap();
    let handler = all.iter().find(|f| f["function"] == "handler").unwrap();
    let note = poll["notes"][0].as_str().unwrap();
    assert!(
        note.contains("tasks/") && note.contains("timeout on line"),
        "{note}"
    );
    let rank = |s: &serde_json::Value| {
        ["CRITICAL", "HIGH", "MEDIUM", "LOW"]
            .iter()
            .position(|x| s == x)
            .unwrap()
    };
    assert!(
        rank(&poll["severity"]) > rank(&handler["severity"]),
        "{poll} vs {handler}"
    );
}
