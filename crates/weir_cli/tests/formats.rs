//! The CI formats: SARIF 2.1.0 validated against the official schema, and
//! GitHub workflow-command annotations.

use std::path::{Path, PathBuf};

mod common;
use common::{example, weir};

/// The official schema lives beside the repository (`../shared/schemas/`),
/// never in it.
fn sarif_schema() -> serde_json::Value {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/schemas/sarif-schema-2.1.0.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the official SARIF 2.1.0 schema is expected at {} (../shared/schemas/ from the repository root): {e}",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("the schema is JSON")
}

fn validate(sarif: &serde_json::Value) {
    let schema = sarif_schema();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF is not valid:\n{}",
        errors.join("\n")
    );
}

#[test]
fn sarif_is_valid_and_carries_rules_flows_and_fingerprints() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("weir.sarif");
    let out = weir(&[
        "audit",
        &example(),
        "--format",
        "sarif",
        "-o",
        target.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "HIGH findings still fail the run"
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
    validate(&sarif);
    // The validator does reject what the schema forbids.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = serde_json::json!("fatal");
    let schema = sarif_schema();
    assert!(!jsonschema::is_valid(&schema, &broken));

    let run = &sarif["runs"][0];
    let id = run["automationDetails"]["id"].as_str().unwrap();
    assert_eq!(
        id.rsplit_once('/').unwrap().0,
        "weir",
        "a stable code-scanning category: {id}"
    );
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let qe07 = rules.iter().find(|r| r["id"] == "QE-07").unwrap();
    assert!(
        qe07["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("## Why is this bad")
    );
    assert!(qe07["helpUri"].as_str().unwrap().starts_with("https://"));
    assert!(rules.iter().any(|r| r["id"] == "SUP-01"));

    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for result in results {
        let index = usize::try_from(result["ruleIndex"].as_i64().unwrap()).unwrap();
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let fingerprint = result["partialFingerprints"]["weir/v1"].as_str().unwrap();
        assert_eq!(fingerprint.len(), 16);
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.ends_with(".py") && !uri.starts_with('/'), "{uri}");
    }
    let n_plus_one = results
        .iter()
        .find(|r| r["ruleId"] == "QE-07")
        .expect("the example has an N+1");
    assert_eq!(n_plus_one["level"], "error");
    let steps = n_plus_one["codeFlows"][0]["threadFlows"][0]["locations"]
        .as_array()
        .unwrap();
    assert_eq!(steps.len(), 2, "loop, then the query: {steps:?}");
    let line = |s: &serde_json::Value| {
        s["location"]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap()
    };
    assert!(line(&steps[0]) < line(&steps[1]));
    assert!(
        steps[0]["location"]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("loop")
    );
}

#[test]
fn sarif_code_flows_go_from_loop_to_call_to_query() {
    let out = weir(&[
        "audit",
        &example(),
        "--format",
        "sarif",
        "--fail-on",
        "never",
    ]);
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let cross_file = results
        .iter()
        .find(|r| r["ruleId"] == "QE-02")
        .expect("the example has an N-UPDATE through a repository");
    let steps: Vec<(String, u64)> = cross_file["codeFlows"][0]["threadFlows"][0]["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let loc = &s["location"]["physicalLocation"];
            (
                loc["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
                loc["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(steps.len(), 3, "{steps:?}");
    assert_eq!(steps[0].0, "routes.py", "the loop first: {steps:?}");
    assert_eq!(
        steps[1].0, "routes.py",
        "then the call in the loop: {steps:?}"
    );
    assert!(steps[0].1 < steps[1].1);
    assert_eq!(
        steps[2].0, "repository.py",
        "then the query in the helper: {steps:?}"
    );
}

#[test]
fn sarif_with_advisory_meta_and_warnings_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let code = "import time\nimport requests\n\n\nasync def ping():\n    # polled on purpose, see ADR-0002\n    requests.get(\"https://x.example\")\n    time.sleep(1)  # weir: ignore[QE-07] nothing to see\n\n\ndef broken(:\n    pass\n";
    std::fs::create_dir_all(d.join("app")).unwrap();
    std::fs::write(d.join("app/ping.py"), code).unwrap();
    let out = weir(&[
        "audit",
        d.to_str().unwrap(),
        "--format",
        "sarif",
        "--fail-on",
        "never",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    validate(&sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["level"] == "note" && r["properties"]["advisory"] == true)
    );
    assert!(results.iter().any(|r| r["ruleId"] == "SUP-01"));
    let notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert!(!notes.is_empty(), "the syntax error is a notification");
}

#[test]
fn github_annotations_name_file_line_and_rule() {
    let out = weir(&[
        "audit",
        &example(),
        "--format",
        "github",
        "--fail-on",
        "never",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 3);
    for line in &lines {
        assert!(
            line.starts_with("::error ")
                || line.starts_with("::warning ")
                || line.starts_with("::notice "),
            "{line}"
        );
        assert!(!line.contains('\r'));
    }
    let n_plus_one = lines.iter().find(|l| l.contains("title=QE-07")).unwrap();
    assert!(n_plus_one.starts_with("::error file="), "{n_plus_one}");
    assert!(
        n_plus_one.contains("app/api/routes.py,line=77,"),
        "{n_plus_one}"
    );
    assert!(
        n_plus_one.contains("%0AFix: "),
        "newlines are escaped: {n_plus_one}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("::notice title=weir audit::Overall ")
    );
}
