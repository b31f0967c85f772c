//! Hostile input, as a real repository can hold it: a huge module, absurd
//! nesting, binary and non-UTF-8 files with a `.py` name, symlink loops,
//! unreadable files, files that vanish between discovery and reading, an
//! empty repository. Each gives a warning or nothing, never a crash, and
//! the rest of the run is complete: every test also plants one ordinary
//! N+1 loop and checks that it is still reported.

use std::path::Path;

use std::fmt::Write as _;

use serde_json::Value;

mod common;
use common::weir;

fn write(dir: &Path, rel: &str, content: &[u8]) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// One N+1 finding (QE-07) on line 5.
const N_PLUS_ONE: &str = "from sqlalchemy.orm import Session\n\ndef totals(session: Session, orders):\n    for order in orders:\n        session.get(Order, order.id)\n";

/// Audits `dir` as JSON; the run must exit 0 (`--fail-on never`).
fn audit_json(dir: &Path) -> Value {
    let out = weir(&[
        "audit",
        dir.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "never",
        "--date",
        "2026-01-01",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

/// `(path, line, rule)` of every finding.
fn findings(json: &Value) -> Vec<(String, u64, String)> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `(path, kind)` of every warning.
fn warnings(json: &Value) -> Vec<(String, String)> {
    json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["path"].as_str().unwrap_or_default().to_string(),
                w["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn assert_planted_finding(json: &Value, path: &str) {
    let found = findings(json);
    assert!(
        found.contains(&(path.to_string(), 5, "QE-07".to_string())),
        "the planted N+1 in {path} is missing: {found:?}"
    );
}

fn assert_no_internal_error(json: &Value) {
    let warned = warnings(json);
    assert!(
        !warned.iter().any(|(_, kind)| kind == "internal_error"),
        "{warned:?}"
    );
}

#[test]
fn a_ten_megabyte_module_is_audited_to_its_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = String::from("import json\nfrom sqlalchemy.orm import Session\n\n");
    let mut i = 0;
    while source.len() < 10 << 20 {
        let _ = write!(
            source,
            "\ndef helper_{i}(items, factor={i}):\n    \"\"\"Scale the items above {i}.\"\"\"\n    total = 0\n    for item in items:\n        if item.value > factor:\n            total += item.value * factor\n        else:\n            total -= 1\n    return json.dumps({{\"id\": {i}, \"total\": total, \"name\": f\"helper {{factor}}\"}})\n\n"
        );
        i += 1;
    }
    let last = u64::try_from(source.lines().count()).unwrap();
    source.push_str(
        "\ndef totals(session: Session, orders):\n    for order in orders:\n        session.get(Order, order.id)\n",
    );
    write(dir.path(), "app/huge.py", source.as_bytes());
    let json = audit_json(dir.path());
    assert_eq!(
        findings(&json),
        vec![("app/huge.py".to_string(), last + 4, "QE-07".to_string())]
    );
    assert!(warnings(&json).is_empty(), "{:?}", warnings(&json));
    assert!(json["summary"]["lines"].as_u64().unwrap() > 300_000);
}

/// Expressions nested 10,000 deep in every shape the parser recurses on.
fn deep_expressions(n: usize) -> Vec<(&'static str, String)> {
    vec![
        (
            "parens",
            format!("x = {}1{}\n", "(".repeat(n), ")".repeat(n)),
        ),
        (
            "lists",
            format!("x = {}1{}\n", "[".repeat(n), "]".repeat(n)),
        ),
        (
            "dicts",
            format!("x = {}1{}\n", "{1: ".repeat(n), "}".repeat(n)),
        ),
        (
            "calls",
            format!("x = {}1{}\n", "f(".repeat(n), ")".repeat(n)),
        ),
        ("binary", format!("x = {}\n", vec!["a"; n].join(" + "))),
        ("boolean", format!("x = {}\n", vec!["a"; n].join(" and "))),
        ("compare", format!("x = {}\n", vec!["a"; n].join(" < "))),
        ("unary", format!("x = {}1\n", "-".repeat(n))),
        ("not", format!("x = {}1\n", "not ".repeat(n))),
        ("lambdas", format!("f = {}1\n", "lambda: ".repeat(n))),
        (
            "conditional",
            format!("x = {}1\n", "1 if a else ".repeat(n)),
        ),
        ("subscripts", format!("x = a{}\n", "[0]".repeat(n))),
        (
            "method_chain",
            format!("q = session.query(M){}.all()\n", ".filter(x)".repeat(n)),
        ),
        (
            "awaits",
            format!(
                "async def f(session):\n    await {}session.commit()\n",
                "await ".repeat(n)
            ),
        ),
        (
            "fstrings",
            format!("x = {}1{}\n", "f'{".repeat(50), "}'".repeat(50)),
        ),
    ]
}

/// Statements nested `n` deep. CPython refuses more than 100 indentation
/// levels, so 1,000 is ten times what any file that runs can hold (and a
/// 10,000-deep block would need 50 MB of indentation).
fn deep_blocks(n: usize) -> Vec<(&'static str, String)> {
    let nest = |header: &dyn Fn(usize) -> String, leaf: &str| {
        let mut out = String::new();
        for i in 0..n {
            out.push_str(&" ".repeat(i));
            out.push_str(&header(i));
            out.push('\n');
        }
        out.push_str(&" ".repeat(n));
        out.push_str(leaf);
        out.push('\n');
        out
    };
    vec![
        ("ifs", nest(&|_| "if x:".into(), "session.commit()")),
        (
            "fors",
            nest(&|_| "for x in xs:".into(), "session.get(M, x)"),
        ),
        ("whiles", nest(&|_| "while x:".into(), "time.sleep(1)")),
        ("withs", nest(&|_| "with x as y:".into(), "pass")),
        ("trys", nest(&|_| "try:".into(), "pass")),
        (
            "defs",
            nest(&|i| format!("def f{i}(session):"), "session.commit()"),
        ),
        (
            "async_defs",
            nest(&|i| format!("async def f{i}():"), "open('x').read()"),
        ),
        ("classes", nest(&|i| format!("class C{i}:"), "x = 1")),
        (
            "mixed",
            nest(
                &|i| ["if a:", "for b in c:", "with d:", "while e:"][i % 4].into(),
                "f()",
            ),
        ),
    ]
}

#[test]
fn deep_nesting_does_not_crash() {
    let dir = tempfile::tempdir().unwrap();
    let mut planted = Vec::new();
    for (name, source) in deep_expressions(10_000)
        .into_iter()
        .chain(deep_blocks(1_000))
    {
        write(dir.path(), &format!("deep/{name}.py"), source.as_bytes());
        // The same shape with an ordinary N+1 loop after it.
        let rel = format!("app/{name}.py");
        write(
            dir.path(),
            &rel,
            format!("{N_PLUS_ONE}\n{source}").as_bytes(),
        );
        planted.push(rel);
    }
    let json = audit_json(dir.path());
    for rel in &planted {
        assert_planted_finding(&json, rel);
    }
    assert_no_internal_error(&json);
    assert_eq!(
        json["summary"]["files"].as_u64().unwrap(),
        u64::try_from(planted.len() * 2).unwrap()
    );
}

#[test]
fn binary_and_badly_encoded_files_are_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app/good.py", N_PLUS_ONE.as_bytes());
    let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    png.extend((0..4096u32).map(|i| u8::try_from(i.wrapping_mul(2_654_435_761) >> 24).unwrap()));
    write(d, "app/image.py", &png);
    // Invalid UTF-8 without any NUL byte, and UTF-8 cut in the middle of a character.
    write(
        d,
        "app/latin1.py",
        "# résumé\nx = 'naïve'\n"
            .as_bytes()
            .iter()
            .map(|&b| if b >= 0x80 { 0xe9 } else { b })
            .collect::<Vec<u8>>()
            .as_slice(),
    );
    write(d, "app/truncated.py", &"x = 'é'\n".as_bytes()[..6]);
    // UTF-16 (NUL bytes) and a UTF-8 byte-order mark (valid: audited).
    let utf16: Vec<u8> = N_PLUS_ONE
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    write(d, "app/utf16.py", &[&[0xff, 0xfe][..], &utf16].concat());
    write(d, "app/bom.py", format!("\u{feff}{N_PLUS_ONE}").as_bytes());
    let json = audit_json(d);
    assert_planted_finding(&json, "app/good.py");
    assert_planted_finding(&json, "app/bom.py");
    let warned = warnings(&json);
    for rel in [
        "app/image.py",
        "app/latin1.py",
        "app/truncated.py",
        "app/utf16.py",
    ] {
        assert!(
            warned.contains(&(rel.to_string(), "unreadable".to_string())),
            "{rel}: {warned:?}"
        );
    }
    assert_no_internal_error(&json);
}

#[test]
fn odd_but_valid_text_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "app/crlf.py",
        N_PLUS_ONE.replace('\n', "\r\n").as_bytes(),
    );
    write(d, "app/cr.py", N_PLUS_ONE.replace('\n', "\r").as_bytes());
    write(
        d,
        "app/tabs.py",
        N_PLUS_ONE.replace("    ", "\t").as_bytes(),
    );
    let long_line = format!("x = [{}]\n", "1, ".repeat(300_000));
    write(
        d,
        "app/long_line.py",
        format!("{N_PLUS_ONE}{long_line}").as_bytes(),
    );
    write(
        d,
        "app/unicode.py",
        format!("{N_PLUS_ONE}\ndef 名前(δ):\n    return '🦀' * δ\n\x0c\n").as_bytes(),
    );
    write(d, "app/empty.py", b"");
    write(
        d,
        "app/comments.py",
        b"# only a comment\n# weir: ignore[QE-07]\n",
    );
    // Line ends mixed in one file: Python breaks lines at each of them.
    write(
        d,
        "app/mixed.py",
        b"from sqlalchemy.orm import Session\r\n\rdef totals(session: Session, orders):\n    for order in orders:\r        session.get(Order, order.id)\r\n",
    );
    let json = audit_json(d);
    for rel in [
        "app/crlf.py",
        "app/cr.py",
        "app/mixed.py",
        "app/tabs.py",
        "app/long_line.py",
        "app/unicode.py",
    ] {
        assert_planted_finding(&json, rel);
    }
    assert_no_internal_error(&json);
    assert_eq!(json["summary"]["files"], 8);
}

#[test]
fn old_mac_line_ends_give_each_finding_its_own_line_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Two N+1 loops on lines 5 and 8, with `\r` alone between lines.
    let source =
        format!("{N_PLUS_ONE}\n    for order in orders:\n        session.get(Order, order.id)\n")
            .replace('\n', "\r");
    write(d, "app/cr.py", source.as_bytes());
    let json = audit_json(d);
    let lines: Vec<u64> = findings(&json).iter().map(|f| f.1).collect();
    assert_eq!(lines, [5, 8], "{:?}", findings(&json));
    // The text report's code frame shows the right line, not the whole file.
    let out = weir(&["audit", d.to_str().unwrap(), "--fail-on", "never"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("5 |         session.get(Order, order.id)"),
        "{text}"
    );
}

/// `n` nested `if` blocks after an ordinary N+1 loop, with a commit at the bottom.
fn nested_ifs(n: usize) -> String {
    let mut source = format!("{N_PLUS_ONE}\n\ndef deep(session, x):\n");
    for i in 0..n {
        source.push_str(&" ".repeat(4 * (i + 1)));
        source.push_str("if x:\n");
    }
    source.push_str(&" ".repeat(4 * (n + 1)));
    source.push_str("session.commit()\n");
    source
}

#[test]
fn nesting_past_the_depth_limit_is_cut_with_a_warning_and_the_rest_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app/deep.py", nested_ifs(300).as_bytes());
    write(d, "app/shallow.py", nested_ifs(90).as_bytes());
    let json = audit_json(d);
    assert_planted_finding(&json, "app/deep.py");
    assert_planted_finding(&json, "app/shallow.py");
    let deep: Vec<&Value> = json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == "too_deep")
        .collect();
    assert_eq!(deep.len(), 1, "{deep:?}");
    assert_eq!(deep[0]["path"], "app/deep.py");
    let message = deep[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("nesting deeper than 200 levels cut at line "),
        "{message}"
    );
    // The cut is inside the nested blocks, below the function header.
    let line = deep[0]["line"].as_u64().unwrap();
    assert!((10..=300 + 9).contains(&line), "{line}");
    assert_no_internal_error(&json);
}

#[cfg(unix)]
#[test]
fn symlink_loops_end_the_walk_not_the_run() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app/good.py", N_PLUS_ONE.as_bytes());
    symlink(d.join("app"), d.join("app/loop")).unwrap();
    symlink(d, d.join("app/root")).unwrap();
    symlink(d.join("a.py"), d.join("b.py")).unwrap();
    symlink(d.join("b.py"), d.join("a.py")).unwrap();
    symlink(d.join("nowhere/x.py"), d.join("app/dangling.py")).unwrap();
    let json = audit_json(d);
    assert_eq!(
        findings(&json),
        vec![("app/good.py".to_string(), 5, "QE-07".to_string())]
    );
    assert_eq!(json["summary"]["files"], 1);
    // As ruff does: a link that leads nowhere (or to itself) is said, once each.
    let mut unreadable: Vec<String> = warnings(&json)
        .into_iter()
        .filter(|(_, kind)| kind == "unreadable")
        .map(|(path, _)| path)
        .collect();
    unreadable.sort();
    assert_eq!(unreadable, ["a.py", "app/dangling.py", "b.py"]);
    assert_no_internal_error(&json);
}

#[cfg(unix)]
#[test]
fn a_linked_python_file_is_audited_under_its_link_and_linked_directories_are_not_followed() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let shared = dir.path().join("shared");
    write(&shared, "orders.py", N_PLUS_ONE.as_bytes());
    write(&shared, "pkg/more.py", N_PLUS_ONE.as_bytes());
    write(&project, "app/good.py", N_PLUS_ONE.as_bytes());
    symlink(shared.join("orders.py"), project.join("app/orders.py")).unwrap();
    symlink(shared.join("pkg"), project.join("app/pkg")).unwrap();
    let json = audit_json(&project);
    assert_eq!(
        findings(&json),
        vec![
            ("app/good.py".to_string(), 5, "QE-07".to_string()),
            ("app/orders.py".to_string(), 5, "QE-07".to_string()),
        ]
    );
    assert!(warnings(&json).is_empty(), "{:?}", warnings(&json));
}

#[cfg(unix)]
#[test]
fn an_unreadable_directory_warns_unless_we_may_read_it_anyway() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app/good.py", N_PLUS_ONE.as_bytes());
    write(d, "app/private/orders.py", N_PLUS_ONE.as_bytes());
    let private = d.join("app/private");
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root (as in CI) lists a mode-000 directory all the same.
    let privileged = std::fs::read_dir(&private).is_ok();
    let json = audit_json(d);
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_planted_finding(&json, "app/good.py");
    if privileged {
        assert_planted_finding(&json, "app/private/orders.py");
    } else {
        assert!(
            warnings(&json).contains(&("app/private".to_string(), "unreadable".to_string())),
            "{:?}",
            warnings(&json)
        );
    }
    assert_no_internal_error(&json);
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_warns_unless_we_may_read_it_anyway() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app/good.py", N_PLUS_ONE.as_bytes());
    write(d, "app/secret.py", N_PLUS_ONE.as_bytes());
    let secret = d.join("app/secret.py");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root (as in CI) reads a mode-000 file all the same; then it is audited.
    let privileged = std::fs::read(&secret).is_ok();
    let json = audit_json(d);
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_planted_finding(&json, "app/good.py");
    if privileged {
        assert_planted_finding(&json, "app/secret.py");
    } else {
        assert!(
            warnings(&json).contains(&("app/secret.py".to_string(), "unreadable".to_string())),
            "{:?}",
            warnings(&json)
        );
    }
    assert_no_internal_error(&json);
}

#[test]
fn a_file_deleted_after_discovery_is_a_warning() {
    use weir_cli::discover::discover;
    use weir_cli::run::{RunOptions, run_discovered};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app/good.py", N_PLUS_ONE.as_bytes());
    write(d, "app/gone.py", N_PLUS_ONE.as_bytes());
    let options = RunOptions {
        threads: Some(2),
        date: "2026-01-01".into(),
        ..RunOptions::default()
    };
    let discovered = discover(d, &options.filters).unwrap();
    assert_eq!(discovered.files.len(), 2);
    std::fs::remove_file(d.join("app/gone.py")).unwrap();
    let report = run_discovered(&discovered, &options).unwrap();
    let json: Value =
        serde_json::from_str(&weir_cli::render::json::render(&report).unwrap()).unwrap();
    assert_planted_finding(&json, "app/good.py");
    assert!(
        warnings(&json).contains(&("app/gone.py".to_string(), "unreadable".to_string())),
        "{:?}",
        warnings(&json)
    );
    assert_eq!(json["summary"]["files"], 1);
}

#[test]
fn an_empty_repository_is_a_clean_audit() {
    let dir = tempfile::tempdir().unwrap();
    let json = audit_json(dir.path());
    assert_eq!(json["summary"]["files"], 0);
    assert!(findings(&json).is_empty());
    assert!(warnings(&json).is_empty());
    // Only a VCS folder and non-Python files: the same.
    write(dir.path(), ".git/HEAD", b"ref: refs/heads/main\n");
    write(dir.path(), "README.md", b"# nothing here\n");
    let json = audit_json(dir.path());
    assert_eq!(json["summary"]["files"], 0);
    let text = weir(&["audit", dir.path().to_str().unwrap()]);
    assert_eq!(text.status.code(), Some(0));
}
