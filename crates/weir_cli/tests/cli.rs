//! The command as a user runs it: exit codes, errors, discovery, bad input.

use std::path::Path;

mod common;
use common::{example, stderr, stdout, weir};

fn write(dir: &Path, rel: &str, content: &[u8]) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

const N_PLUS_ONE: &str = "from sqlalchemy.orm import Session\n\ndef totals(session: Session, orders):\n    for order in orders:\n        session.get(Order, order.id)\n";

#[test]
fn exit_code_follows_fail_on() {
    let ex = example();
    assert_eq!(
        weir(&["audit", &ex]).status.code(),
        Some(1),
        "HIGH findings fail by default"
    );
    assert_eq!(
        weir(&["audit", &ex, "--fail-on", "never"]).status.code(),
        Some(0)
    );
    // The example's progress loop is a CRITICAL TX-01 (NOTIFY delivered only at commit).
    assert_eq!(
        weir(&["audit", &ex, "--fail-on", "critical"]).status.code(),
        Some(1)
    );
    assert_eq!(
        weir(&["audit", &ex, "--fail-on", "low"]).status.code(),
        Some(1)
    );
}

#[test]
fn missing_path_is_a_clear_error_with_exit_2() {
    let out = weir(&["audit", "/definitely/not/here"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(
        weir(&["audit", ".", "--format", "yaml"]).status.code(),
        Some(2)
    );
    assert_eq!(
        weir(&["audit", ".", "--date", "27/11/2026"]).status.code(),
        Some(2)
    );
    let out = weir(&["rule", "XX-99"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("weir rules"));
}

#[test]
fn rule_prints_its_documentation() {
    let out = weir(&["rule", "QE-07"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for section in [
        "## What it does",
        "## Why is this bad",
        "## Example",
        "## Use instead",
        "## Known limitations",
        "https://",
    ] {
        assert!(text.contains(section), "missing {section} in:\n{text}");
    }
    assert_eq!(
        stdout(&weir(&["rule", "query-in-loop"])),
        text,
        "lookup by name"
    );
    let list = stdout(&weir(&["rules"]));
    assert_eq!(list.lines().count(), weir_audit::registry::RULES.len());
}

#[test]
fn output_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("report.md");
    let out = weir(&[
        "audit",
        &example(),
        "--format",
        "markdown",
        "-o",
        target.to_str().unwrap(),
        "--fail-on",
        "never",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).is_empty());
    let report = std::fs::read_to_string(target).unwrap();
    assert!(report.starts_with("# Persistence & Performance Audit Report - "));
}

#[test]
fn bad_files_warn_and_the_rest_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app/good.py", N_PLUS_ONE.as_bytes());
    write(
        d,
        "app/broken.py",
        format!("def broken(:\n    pass\n\n{N_PLUS_ONE}").as_bytes(),
    );
    write(d, "app/latin1.py", b"# caf\xe9\nx = 1\n");
    write(d, "app/blob.py", b"\x00\x01\x02binary");
    let out = weir(&[
        "audit",
        d.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = json["findings"].as_array().unwrap();
    let paths: Vec<&str> = findings
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"app/good.py"), "{paths:?}");
    assert!(
        paths.contains(&"app/broken.py"),
        "recovered tree still audited: {paths:?}"
    );
    let warnings = json["warnings"].as_array().unwrap();
    let warned = |path: &str, kind: &str| {
        warnings
            .iter()
            .any(|w| w["path"] == path && w["kind"] == kind)
    };
    assert!(warned("app/broken.py", "syntax_error"), "{warnings:?}");
    assert!(warned("app/latin1.py", "unreadable"), "{warnings:?}");
    assert!(warned("app/blob.py", "unreadable"), "{warnings:?}");
}

#[test]
fn discovery_skips_tests_venvs_and_ignored_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for rel in [
        "app/service.py",
        "tests/test_service.py",
        "app/test_models.py",
        "app/models_test.py",
        "conftest.py",
        "app/test_utils/fixtures/rows.py",
        "app/testutils/factories.py",
        ".venv/lib/python3.11/site-packages/pkg/mod.py",
        "env/pyvenv.cfg",
        "env/lib/thing.py",
        "node_modules/x/y.py",
        "generated/out.py",
        "migrations/0001.py",
    ] {
        write(d, rel, N_PLUS_ONE.as_bytes());
    }
    write(d, ".gitignore", b"generated/\n");
    let audited = |extra: &[&str]| -> Vec<String> {
        let mut args = vec![
            "audit",
            d.to_str().unwrap(),
            "--format",
            "json",
            "--fail-on",
            "never",
        ];
        args.extend_from_slice(extra);
        let out = weir(&args);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut paths: Vec<String> = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect();
        paths.dedup();
        paths
    };
    assert_eq!(audited(&[]), vec!["app/service.py", "migrations/0001.py"]);
    assert_eq!(
        audited(&["--exclude", "migrations"]),
        vec!["app/service.py"]
    );
    assert_eq!(
        audited(&["--include", "migrations/**"]),
        vec!["migrations/0001.py"]
    );
    let with_tests = audited(&["--include-tests"]);
    for rel in [
        "tests/test_service.py",
        "app/test_models.py",
        "app/models_test.py",
        "conftest.py",
        "app/test_utils/fixtures/rows.py",
        "app/testutils/factories.py",
    ] {
        assert!(
            with_tests.iter().any(|p| p == rel),
            "{rel} missing from {with_tests:?}"
        );
    }
}

/// Copies every `.py` file under `from` to `to`, keeping relative paths.
fn copy_python_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_python_tree(&path, &target);
        } else if path.extension().is_some_and(|e| e == "py") {
            std::fs::create_dir_all(to).unwrap();
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

#[test]
fn output_is_identical_whatever_the_thread_count() {
    // A larger project than the example: the example and every rule
    // fixture, eight times over in differently named packages, so that
    // files, findings and warnings interleave across many worker tasks.
    let dir = tempfile::tempdir().unwrap();
    let fixtures =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../weir_audit/tests/fixtures/python");
    for copy in 0..8 {
        let root = dir.path().join(format!("pkg{copy}"));
        copy_python_tree(Path::new(&example()), &root.join("service"));
        copy_python_tree(&fixtures, &root.join("fixtures"));
        write(
            &root,
            "broken.py",
            format!("def broken(:\n{N_PLUS_ONE}").as_bytes(),
        );
        write(&root, "latin1.py", b"# caf\xe9\n");
    }
    let project = dir.path().to_str().unwrap().to_string();
    let run = |threads: &str| {
        let out = weir(&[
            "audit",
            &project,
            "--format",
            "json",
            "--fail-on",
            "never",
            "--threads",
            threads,
            "--date",
            "2026-01-01",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    };
    let one = run("1");
    let json: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert!(json["summary"]["files"].as_u64().unwrap() > 500);
    assert!(json["findings"].as_array().unwrap().len() > 500);
    assert!(json["warnings"].as_array().unwrap().len() >= 16);
    for threads in ["2", "8", "1", "8"] {
        assert_eq!(
            one,
            run(threads),
            "--threads {threads} differs from --threads 1"
        );
    }
}

#[test]
fn debug_ir_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "m.py", N_PLUS_ONE.as_bytes());
    let out = weir(&["debug", "ir", dir.path().join("m.py").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["functions"][1]["name"], "totals");
}

/// A repository whose package sits below the audited root (`server/shop/`,
/// imported as `shop.…`), and the same package audited on its own: calls
/// across files resolve under the names the project's imports use.
#[test]
fn packages_below_the_root_resolve_by_their_import_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "server/pyproject.toml",
        b"[project]\nname = \"shop\"\ndependencies = [\"sqlalchemy\", \"fastapi\"]\n",
    );
    write(d, "server/shop/__init__.py", b"");
    write(
        d,
        "server/shop/customers/service.py",
        b"from sqlalchemy import select\nfrom sqlalchemy.orm import Session\n\nfrom shop.models import Customer\n\n\nclass CustomerService:\n    def get(self, session: Session, customer_id: int):\n        return session.scalars(select(Customer).where(Customer.id == customer_id)).first()\n\n\ncustomers = CustomerService()\n",
    );
    write(
        d,
        "server/shop/invoices/reminders.py",
        b"from sqlalchemy.orm import Session\n\nfrom shop.customers.service import customers as customer_service\n\n\ndef remind(session: Session, customer_ids: list[int]) -> list[str]:\n    emails = []\n    for customer_id in customer_ids:\n        customer = customer_service.get(session, customer_id)\n        emails.append(customer.email)\n    return emails\n",
    );
    let reported = |root: &Path| -> Vec<String> {
        let out = weir(&[
            "audit",
            root.to_str().unwrap(),
            "--select",
            "QE-07",
            "--format",
            "json",
            "--fail-on",
            "never",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| format!("{}:{}", f["path"].as_str().unwrap(), f["line"]))
            .collect()
    };
    assert_eq!(
        reported(d),
        ["server/shop/invoices/reminders.py:9"],
        "through the module-level service instance in another file"
    );
    assert_eq!(
        reported(&d.join("server/shop")),
        ["invoices/reminders.py:9"],
        "the package audited as the root"
    );
}

#[test]
fn timings_print_each_phase_to_stderr_only_when_asked() {
    let ex = example();
    let args = [
        "audit",
        ex.as_str(),
        "--format",
        "json",
        "--fail-on",
        "never",
    ];
    let quiet = weir(&args);
    assert!(
        !stderr(&quiet).contains("weir timings"),
        "{}",
        stderr(&quiet)
    );
    let timed = weir(&[&args[..], &["--timings"]].concat());
    let err = stderr(&timed);
    for phase in [
        "read+lower",
        "stack discovery",
        "project facts",
        "function facts",
        "summaries",
        "auditors",
        "render",
    ] {
        // Time, then (where /proc tells it) the resident memory.
        let ending = if cfg!(target_os = "linux") {
            " MiB resident"
        } else {
            " ms"
        };
        assert!(
            err.lines().any(|l| l.starts_with("weir timings: ")
                && l.contains(phase)
                && l.contains(" ms")
                && l.ends_with(ending)),
            "{phase}: {err}"
        );
    }
    // The report itself is unchanged.
    assert_eq!(stdout(&timed), stdout(&quiet));
}
