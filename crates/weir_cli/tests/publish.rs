//! Publishing an audit: to the kanban board file, to Linear (against a
//! local GraphQL server on 127.0.0.1 that checks what it receives), the
//! trend log, and `--output-dir`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

mod common;
use common::stderr;

fn weir_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weir"));
    cmd.args(args)
        .env_remove("LINEAR_API_KEY")
        .env_remove("WEIR_LINEAR_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run weir")
}

fn write(dir: &Path, rel: &str, content: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

const SERVICE: &str = "from sqlalchemy.orm import Session\n\n\ndef totals(session: Session, orders):\n    for order in orders:\n        session.get(Order, order.id)\n\n\ndef owners(session: Session, pets):\n    for pet in pets:\n        session.get(Owner, pet.owner_id)\n";
const FIXED: &str = "from sqlalchemy.orm import Session\n\n\ndef totals(session: Session, ids):\n    return session.scalars(select(Order).where(Order.id.in_(ids))).all()\n";

const BOARD: &str = "# Task Navigation\n\n## Linear Configuration\n\n| Variable | Value | Description |\n|----------|-------|-------------|\n| **Team Name** | Platform | Linear team name |\n| **Team UUID** | 5e3b87df-5f1a-4f70-8621-4ced0ed7bdcf | Team UUID for API calls |\n| **Team Key** | PLT | Short key for issues |\n\n---\n\n## Work in Progress\n\n### Backlog\n\n**Epic 0: Common Tasks**\n\n  - [US001 Rotate keys](https://linear.app/x/issue/PLT-1)\n    _(tasks not created yet)_\n\n**Epic 1: Billing**\n\n  - [US001 Invoices](https://linear.app/x/issue/PLT-2)\n\n### Todo\n\n_(empty)_\n\n### Done\n\n_(empty)_\n";

fn project(dir: &Path) {
    write(dir, "app/service.py", SERVICE);
    write(dir, "docs/tasks/kanban_board.md", BOARD);
}

#[test]
fn kanban_gets_one_line_and_the_trend_log_a_row() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    project(d);
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(d)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let in_git = git(&["init", "-q"])
        && git(&[
            "-c",
            "user.email=ci@example.com",
            "-c",
            "user.name=ci",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "start",
        ]);
    let args = [
        "audit",
        d.to_str().unwrap(),
        "--publish",
        "kanban",
        "--date",
        "2026-11-27",
        "--format",
        "markdown",
    ];
    let out = weir_env(&args, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the HIGH finding still fails the run: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("Backlog → Epic 0"),
        "{}",
        stderr(&out)
    );
    let board = std::fs::read_to_string(d.join("docs/tasks/kanban_board.md")).unwrap();
    let added: Vec<&str> = board
        .lines()
        .filter(|l| !BOARD.lines().any(|b| b == *l))
        .collect();
    assert_eq!(added.len(), 1, "{board}");
    assert!(added[0].starts_with("  - [Persistence & Performance Audit: 2026-11-27](../project/.audit/persistence_audit_2026-11-27.md)"), "{}", added[0]);
    assert!(
        added[0].contains("priority: High") && added[0].contains("refactoring, performance, audit")
    );
    assert_eq!(
        board.replace(&format!("{}\n", added[0]), ""),
        BOARD,
        "every other line unchanged"
    );
    let task_at = board.lines().position(|l| l == added[0]).unwrap();
    assert_eq!(
        board.lines().nth(task_at - 1),
        Some("    _(tasks not created yet)_"),
        "under Epic 0, after its items"
    );
    let report =
        std::fs::read_to_string(d.join("docs/project/.audit/persistence_audit_2026-11-27.md"))
            .unwrap();
    assert!(report.starts_with("# Persistence & Performance Audit Report - 2026-11-27"));

    let log_path = d.join("docs/project/.audit/results_log.md");
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains(
            "| Date | Tool | Metric | Scale | Score | Status | Delta | Key Finding | Commit |"
        ),
        "{log}"
    );
    let row = log.lines().last().unwrap();
    assert!(
        row.starts_with("| 2026-11-27 | weir ")
            && row.contains(
                "| 0-10 | 9.5 | baseline | - | QE-07 query-in-loop at app/service.py:6 |"
            ),
        "{row}"
    );

    let commit = row.trim_end_matches(" |").rsplit("| ").next().unwrap();
    if in_git {
        assert!(
            commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit()),
            "{row}"
        );
    }

    // Fixed code the next day: improving; the same day again replaces the line.
    write(d, "app/service.py", FIXED);
    let out = weir_env(
        &[
            "audit",
            d.to_str().unwrap(),
            "--publish",
            "kanban",
            "--date",
            "2026-11-28",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.lines()
            .last()
            .unwrap()
            .contains("| 10.0 | improving | +0.5 | no findings |"),
        "{log}"
    );
    let board = std::fs::read_to_string(d.join("docs/tasks/kanban_board.md")).unwrap();
    assert_eq!(
        board.matches("Persistence & Performance Audit: ").count(),
        2
    );
    let again = weir_env(
        &[
            "audit",
            d.to_str().unwrap(),
            "--publish",
            "kanban",
            "--date",
            "2026-11-28",
        ],
        &[],
    );
    assert_eq!(again.status.code(), Some(0));
    let board = std::fs::read_to_string(d.join("docs/tasks/kanban_board.md")).unwrap();
    assert_eq!(
        board.matches("Persistence & Performance Audit: ").count(),
        2,
        "{board}"
    );
}

#[test]
fn a_board_without_a_backlog_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app/service.py", SERVICE);
    let odd = "# Board\n\n## Doing\n\n- something\n";
    write(d, "docs/tasks/kanban_board.md", odd);
    let out = weir_env(
        &[
            "audit",
            d.to_str().unwrap(),
            "--publish",
            "kanban",
            "--date",
            "2026-11-27",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("### Backlog") && err.contains("left untouched"),
        "{err}"
    );
    assert!(
        err.contains("persistence_audit_2026-11-27.md"),
        "says where the report is: {err}"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("docs/tasks/kanban_board.md")).unwrap(),
        odd
    );
    assert!(
        !d.join("docs/project/.audit/results_log.md").exists(),
        "no trend row for a failed publish"
    );

    std::fs::remove_file(d.join("docs/tasks/kanban_board.md")).unwrap();
    let out = weir_env(&["audit", d.to_str().unwrap(), "--publish", "kanban"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cannot read the kanban board"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn output_dir_holds_the_report_and_one_per_category() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app/service.py", SERVICE);
    let out_dir = d.join("reports");
    let out = weir_env(
        &[
            "audit",
            d.to_str().unwrap(),
            "--output-dir",
            out_dir.to_str().unwrap(),
            "--fail-on",
            "never",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "persistence_audit.md",
            "query_efficiency.md",
            "resource_lifecycle.md",
            "runtime_performance.md",
            "transaction_correctness.md"
        ]
    );
    let qe = std::fs::read_to_string(out_dir.join("query_efficiency.md")).unwrap();
    assert!(qe.starts_with("# Query Efficiency Audit (QE) - "));
    assert!(
        qe.contains("### HIGH QE-07 query-in-loop at `app/service.py:6`"),
        "{qe}"
    );
    assert!(qe.contains("- **See:** `app/service.py:5`"), "{qe}");
}

/// One request the fake Linear received.
#[derive(Clone, Debug)]
struct Received {
    authorization: String,
    body: Value,
}

type Handler = dyn Fn(&Value, usize) -> (u16, Value) + Send + Sync;

/// A GraphQL server on 127.0.0.1 that records every request and answers
/// through `handler(request, index)`. It stops with the test process.
fn fake_linear(handler: Box<Handler>) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/graphql", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&received);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            let mut authorization = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("authorization:") {
                    authorization = line["authorization:".len()..].trim().to_string();
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let index = {
                let mut log = log.lock().unwrap();
                log.push(Received {
                    authorization,
                    body: request.clone(),
                });
                log.len() - 1
            };
            let (status, answer) = handler(&request, index);
            let text = answer.to_string();
            let retry = if status == 429 {
                "Retry-After: 0\r\n"
            } else {
                ""
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{retry}Connection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    (url, received)
}

const TEAM_UUID: &str = "5e3b87df-5f1a-4f70-8621-4ced0ed7bdcf";
const KEY: &str = "lin_api_secret_do_not_print";

/// A well-behaved Linear: one team, the `audit` label only, an Epic 0
/// project; the very first request is rate limited.
fn linear_answer(request: &Value, index: usize) -> (u16, Value) {
    if index == 0 {
        return (429, json!({ "errors": [{ "message": "rate limited" }] }));
    }
    let query = request["query"].as_str().unwrap_or_default();
    if query.contains("teams(") {
        return (
            200,
            json!({ "data": { "teams": { "nodes": [
            { "id": "other-team", "key": "OPS", "name": "Ops" },
            { "id": TEAM_UUID, "key": "PLT", "name": "Platform" }
        ] } } }),
        );
    }
    if query.contains("issueLabels(") {
        return (
            200,
            json!({ "data": { "issueLabels": { "nodes": [
            { "id": "label-audit", "name": "audit", "team": null },
            { "id": "label-perf-other", "name": "performance", "team": { "id": "other-team" } }
        ] } } }),
        );
    }
    if query.contains("issueLabelCreate") {
        let name = request["variables"]["input"]["name"]
            .as_str()
            .unwrap_or_default();
        return (
            200,
            json!({ "data": { "issueLabelCreate": { "success": true, "issueLabel": { "id": format!("label-{name}"), "name": name } } } }),
        );
    }
    if query.contains("projects(") {
        return (
            200,
            json!({ "data": { "projects": { "nodes": [
            { "id": "project-epic-10", "name": "Epic 10: Search" },
            { "id": "project-epic-0", "name": "Epic 0: Common Tasks" }
        ] } } }),
        );
    }
    if query.contains("issueCreate") {
        return (
            200,
            json!({ "data": { "issueCreate": { "success": true, "issue": { "id": "i1", "identifier": "PLT-42", "url": "https://linear.app/x/issue/PLT-42" } } } }),
        );
    }
    (
        400,
        json!({ "errors": [{ "message": format!("unexpected query {query}") }] }),
    )
}

#[test]
fn linear_gets_one_issue_with_labels_priority_and_epic() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    project(d);
    let (url, received) = fake_linear(Box::new(linear_answer));
    let out = weir_env(
        &[
            "audit",
            d.to_str().unwrap(),
            "--publish",
            "linear",
            "--date",
            "2026-11-27",
            "--fail-on",
            "never",
        ],
        &[
            ("LINEAR_API_KEY", KEY),
            ("WEIR_LINEAR_URL", &url),
            ("WEIR_LINEAR_BACKOFF_MS", "10"),
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("PLT-42"), "{err}");
    assert!(
        !err.contains(KEY) && !String::from_utf8_lossy(&out.stdout).contains(KEY),
        "the key is never printed"
    );

    let received = received.lock().unwrap().clone();
    assert!(
        received.iter().all(|r| r.authorization == KEY),
        "every request carries the key"
    );
    let queries: Vec<&str> = received
        .iter()
        .map(|r| r.body["query"].as_str().unwrap())
        .collect();
    assert!(
        queries[0] == queries[1],
        "the rate-limited request is retried"
    );
    let creates: Vec<&Received> = received
        .iter()
        .filter(|r| r.body["query"].as_str().unwrap().contains("issueCreate("))
        .collect();
    assert_eq!(creates.len(), 1, "one issue per run");
    let input = &creates[0].body["variables"]["input"];
    assert_eq!(
        input["title"],
        "Persistence & Performance Audit: 2026-11-27"
    );
    assert_eq!(input["teamId"], TEAM_UUID);
    assert_eq!(input["priority"], 2, "HIGH → Linear's high");
    assert_eq!(input["projectId"], "project-epic-0");
    assert_eq!(
        input["labelIds"],
        json!(["label-refactoring", "label-performance", "label-audit"])
    );
    assert!(
        input["description"]
            .as_str()
            .unwrap()
            .starts_with("# Persistence & Performance Audit Report - 2026-11-27")
    );
    let label_creates: Vec<&Value> = received
        .iter()
        .filter(|r| {
            r.body["query"]
                .as_str()
                .unwrap()
                .contains("issueLabelCreate")
        })
        .map(|r| &r.body["variables"]["input"])
        .collect();
    assert_eq!(
        label_creates,
        vec![
            &json!({"name": "refactoring", "teamId": TEAM_UUID}),
            &json!({"name": "performance", "teamId": TEAM_UUID})
        ]
    );
    let log = std::fs::read_to_string(d.join("docs/project/.audit/results_log.md")).unwrap();
    assert!(log.contains("| baseline |"), "{log}");
    assert_eq!(
        std::fs::read_to_string(d.join("docs/tasks/kanban_board.md")).unwrap(),
        BOARD,
        "Linear leaves the board alone"
    );
}

#[test]
fn linear_failures_are_clear_and_keep_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    project(d);
    let report = d.join("docs/project/.audit/persistence_audit_2026-11-27.md");
    let run = |url: &str, key: Option<&str>| {
        let mut env = vec![("WEIR_LINEAR_URL", url), ("WEIR_LINEAR_BACKOFF_MS", "5")];
        if let Some(key) = key {
            env.push(("LINEAR_API_KEY", key));
        }
        let out = weir_env(
            &[
                "audit",
                d.to_str().unwrap(),
                "--publish",
                "linear",
                "--date",
                "2026-11-27",
            ],
            &env,
        );
        assert_eq!(out.status.code(), Some(2));
        assert!(report.is_file(), "the report is written locally");
        std::fs::remove_file(&report).unwrap();
        let err = stderr(&out);
        assert!(!err.contains(KEY), "{err}");
        err
    };

    let (url, _) = fake_linear(Box::new(|_, _| {
        (
            401,
            json!({ "errors": [{ "message": "Authentication required" }] }),
        )
    }));
    let err = run(&url, Some(KEY));
    assert!(
        err.contains("rejected the API key") && err.contains("LINEAR_API_KEY"),
        "{err}"
    );

    let err = run(&url, None);
    assert!(err.contains("LINEAR_API_KEY is not set"), "{err}");

    let (url, _) = fake_linear(Box::new(|request, _| {
        if request["query"]
            .as_str()
            .unwrap_or_default()
            .contains("teams(")
        {
            (
                200,
                json!({ "data": { "teams": { "nodes": [{ "id": "t", "key": "OPS", "name": "Ops" }] } } }),
            )
        } else {
            (500, json!({}))
        }
    }));
    let err = run(&url, Some(KEY));
    assert!(
        err.contains("no team `5e3b87df-5f1a-4f70-8621-4ced0ed7bdcf`") && err.contains("OPS"),
        "{err}"
    );

    let (url, _) = fake_linear(Box::new(|request, _| {
        let query = request["query"].as_str().unwrap_or_default();
        if query.contains("teams(") {
            (
                200,
                json!({ "data": { "teams": { "nodes": [{ "id": TEAM_UUID, "key": "PLT", "name": "Platform" }] } } }),
            )
        } else if query.contains("projects(") {
            (
                200,
                json!({ "data": { "projects": { "nodes": [{ "id": "p", "name": "Epic 01 Something" }] } } }),
            )
        } else if query.contains("issues(") {
            (200, json!({ "data": { "issues": { "nodes": [] } } }))
        } else {
            (500, json!({}))
        }
    }));
    let err = run(&url, Some(KEY));
    assert!(
        err.contains("no project or issue named `Epic 0: Technical Debt`"),
        "{err}"
    );

    let (url, received) = fake_linear(Box::new(|_, _| (503, json!({}))));
    let err = run(&url, Some(KEY));
    assert!(
        err.contains("HTTP 503") && err.contains("4 attempts"),
        "{err}"
    );
    assert_eq!(received.lock().unwrap().len(), 4);

    // Nothing listens on this port.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/graphql", closed.local_addr().unwrap());
    drop(closed);
    let err = run(&url, Some(KEY));
    assert!(
        err.contains("cannot reach") && err.contains("publishing to Linear failed"),
        "{err}"
    );
    assert!(!d.join("docs/project/.audit/results_log.md").exists());
}
