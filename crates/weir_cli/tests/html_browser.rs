//! The HTML report in a real browser: headless Chromium loads it with no
//! console errors, the page's self-test exercises the filters, and a
//! screenshot (and a printed PDF) are kept as test artefacts in
//! `target/test-artifacts/`.
//!
//! CI installs Debian's `chromium` (`.ci/run`). Locally, without Chromium,
//! set `WEIR_SKIP_BROWSER=1` to skip; otherwise (and always in CI, where `CI`
//! is set) the test fails and says why.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::weir;

fn find_chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("WEIR_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        ["chromium", "chromium-browser", "google-chrome"]
            .iter()
            .map(|name| dir.join(name))
            .find(|p| p.is_file())
    })
}

fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    let dir = target.join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs Chromium headless with the flags of the test set-up, killed after 90 s.
fn chromium(browser: &Path, profile: &Path, extra: &[&str]) -> (String, String) {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    // Drain both pipes while waiting: a dumped DOM larger than the pipe
    // buffer would otherwise block chromium until the deadline.
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("chromium stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("chromium stderr")));
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().expect("poll chromium").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (
        stdout.join().expect("stdout reader"),
        stderr.join().expect("stderr reader"),
    )
}

/// A project with every section of the report: findings in all
/// categories, an advisory one, a suppression problem, a warning.
fn rich_project(dir: &Path) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/jobs-service/app");
    let copy = |from: &Path, to: &Path| {
        for entry in walk(from) {
            let rel = entry.strip_prefix(from).unwrap();
            let target = to.join(rel);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(&entry, target).unwrap();
        }
    };
    copy(&example, &dir.join("app"));
    std::fs::write(
        dir.join("app/extra.py"),
        "import requests\n\n\nasync def rates():\n    # blocking on purpose: runs once at deploy\n    requests.get(\"https://rates.example\")  # weir: ignore[QE-07] <script>alert(1)</script>\n\n\ndef broken(:\n    pass\n",
    )
    .unwrap();
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "py") {
            out.push(path);
        }
    }
    out
}

#[test]
#[allow(clippy::print_stderr)]
fn html_report_loads_without_errors_and_filters_work() {
    let Some(browser) = find_chromium() else {
        // Skipping is for local runs only: in CI (`CI` set) a missing browser fails.
        if std::env::var_os("WEIR_SKIP_BROWSER").is_some_and(|v| v == "1")
            && std::env::var_os("CI").is_none()
        {
            eprintln!("skipped: Chromium not found and WEIR_SKIP_BROWSER=1");
            return;
        }
        panic!(
            "Chromium is needed to test the HTML report: install Debian's `chromium` package (`.ci/run` does), \
             point WEIR_CHROMIUM at a binary, or set WEIR_SKIP_BROWSER=1 to skip this test locally"
        );
    };
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    rich_project(&project);
    let report = dir.path().join("weir-report.html");
    let out = weir(&[
        "audit",
        project.to_str().unwrap(),
        "--format",
        "html",
        "-o",
        report.to_str().unwrap(),
        "--fail-on",
        "never",
        "--date",
        "2026-11-27",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(!html.contains("<script>alert(1)"), "text is escaped");
    assert!(
        !html.contains("<link rel=\"stylesheet\"") && !html.contains(" src=\"http"),
        "self-contained"
    );
    for section in [
        "Compliance Score",
        "Findings by severity",
        "Advisory Findings",
        "Rule Documentation",
        "Suppression Problems",
        "Run Warnings",
        "Sources Consulted",
    ] {
        assert!(html.contains(section), "missing {section}");
    }

    let profile = dir.path().join("profile");
    let url = format!("file://{}#weir-selftest", report.display());
    let (dom, log) = chromium(&browser, &profile, &["--dump-dom", &url]);
    let result = dom
        .split("<pre id=\"weir-selftest\"")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_else(|| panic!("no self-test output in the dumped DOM; chromium said:\n{log}"));
    assert!(
        result.contains("data-status=\"pass\"") && result.contains("WEIR-SELFTEST PASS"),
        "self-test failed:\n{result}\nchromium said:\n{log}"
    );
    assert!(result.contains("ok   category=QE"), "{result}");
    let console_errors: Vec<&str> = log
        .lines()
        .filter(|l| {
            l.contains("CONSOLE")
                && (l.contains("Uncaught") || l.contains("Error") || l.contains("Refused"))
        })
        .collect();
    assert!(
        console_errors.is_empty(),
        "console errors:\n{}",
        console_errors.join("\n")
    );

    let shot = artifacts().join("weir-html-report.png");
    let _ = std::fs::remove_file(&shot);
    chromium(
        &browser,
        &profile,
        &[
            "--hide-scrollbars",
            "--window-size=1280,1800",
            &format!("--screenshot={}", shot.display()),
            &format!("file://{}", report.display()),
        ],
    );
    let png = std::fs::read(&shot).expect("a screenshot is written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );

    let pdf = artifacts().join("weir-html-report.pdf");
    let _ = std::fs::remove_file(&pdf);
    chromium(
        &browser,
        &profile,
        &[
            "--no-pdf-header-footer",
            &format!("--print-to-pdf={}", pdf.display()),
            &format!("file://{}", report.display()),
        ],
    );
    let printed = std::fs::read(&pdf).expect("the page prints to PDF");
    assert!(printed.starts_with(b"%PDF"));
    std::fs::copy(&report, artifacts().join("weir-html-report.html")).unwrap();
}
