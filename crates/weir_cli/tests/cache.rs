//! The incremental cache (`--cache`): a run that reads the cache reports
//! exactly what a run without it reports, whatever happened to the files or
//! to the cache in between.

mod common;

use std::path::Path;

use common::{stderr, stdout, weir};

const MODELS: &str = r#"from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Owner(Base):
    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id"))
    owner_name: Mapped[str] = mapped_column(String(80))
"#;

/// A helper that reads a column it already has.
const OWNERS_NO_QUERY: &str = r"from app.models import Job


def owner_label(session, job: Job) -> str:
    return job.owner_name.title()
";

/// The same helper, now loading the owner row: one query per call.
const OWNERS_QUERY: &str = r"from app.models import Job, Owner


def owner_label(session, job: Job) -> str:
    owner = session.get(Owner, job.owner_id)
    return owner.name.title()
";

const REPORT: &str = r"from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Job
from app.owners import owner_label


def weekly_report(session: Session) -> list[str]:
    jobs = session.scalars(select(Job)).all()
    return [owner_label(session, job) for job in jobs]
";

fn write(dir: &Path, rel: &str, content: &str) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn project(owners: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app/__init__.py", "");
    write(dir.path(), "app/models.py", MODELS);
    write(dir.path(), "app/owners.py", owners);
    write(dir.path(), "app/report.py", REPORT);
    dir
}

/// The JSON report and the cache's hit and miss counts (from `--timings`).
fn audit(root: &Path, extra: &[&str]) -> (String, Option<(usize, usize)>) {
    let root = root.to_string_lossy();
    let mut args = vec![
        "audit",
        &root,
        "--format",
        "json",
        "--fail-on",
        "never",
        "--date",
        "2026-01-01",
        "--timings",
    ];
    args.extend_from_slice(extra);
    let out = weir(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let counts = stderr(&out).lines().find_map(|line| {
        let rest = line.strip_prefix("weir timings: cache: ")?;
        let (hits, rest) = rest.split_once(" files from the cache, ")?;
        let misses = rest.strip_suffix(" lowered")?;
        Some((hits.parse().unwrap(), misses.parse().unwrap()))
    });
    (stdout(&out), counts)
}

fn rules(json: &str) -> Vec<(String, String)> {
    let report: serde_json::Value = serde_json::from_str(json).unwrap();
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_second_run_reads_every_file_from_the_cache_and_reports_the_same() {
    let dir = project(OWNERS_QUERY);
    let (plain, counts) = audit(dir.path(), &[]);
    assert_eq!(counts, None, "no cache unless asked for");
    assert!(!dir.path().join(".weir_cache").exists());
    let (first, counts) = audit(dir.path(), &["--cache"]);
    assert_eq!(counts, Some((0, 4)));
    let (second, counts) = audit(dir.path(), &["--cache"]);
    assert_eq!(counts, Some((4, 0)));
    assert_eq!(first, plain);
    assert_eq!(second, plain);
    assert!(
        !rules(&plain).is_empty(),
        "the project has a finding to keep"
    );
    let cache = dir.path().join(".weir_cache");
    assert!(cache.join("ir.pack").is_file());
    assert_eq!(
        std::fs::read_to_string(cache.join(".gitignore")).unwrap(),
        "# Created by weir automatically.\n*\n"
    );
    assert!(cache.join("CACHEDIR.TAG").is_file());
}

#[test]
fn a_change_in_one_file_changes_findings_in_another() {
    // Only lowering is cached: the helper's new query must reach the loop
    // in the file that did not change.
    let dir = project(OWNERS_NO_QUERY);
    let (before, _) = audit(dir.path(), &["--cache"]);
    assert!(rules(&before).is_empty(), "{before}");
    write(dir.path(), "app/owners.py", OWNERS_QUERY);
    let (after, counts) = audit(dir.path(), &["--cache"]);
    assert_eq!(counts, Some((3, 1)), "only the changed file is lowered");
    assert_eq!(
        rules(&after),
        vec![("QE-07".to_string(), "app/report.py".to_string())]
    );
    assert_eq!(after, audit(dir.path(), &["--no-cache"]).0);
}

#[test]
fn a_moved_file_is_lowered_under_its_new_name() {
    let dir = project(OWNERS_QUERY);
    audit(dir.path(), &["--cache"]);
    std::fs::create_dir_all(dir.path().join("app/reports")).unwrap();
    write(dir.path(), "app/reports/__init__.py", "");
    std::fs::rename(
        dir.path().join("app/report.py"),
        dir.path().join("app/reports/weekly.py"),
    )
    .unwrap();
    let (cached, counts) = audit(dir.path(), &["--cache"]);
    assert_eq!(counts, Some((3, 2)));
    assert_eq!(cached, audit(dir.path(), &[]).0);
    assert_eq!(
        rules(&cached),
        vec![("QE-07".to_string(), "app/reports/weekly.py".to_string())]
    );
}

#[test]
fn a_damaged_cache_is_rebuilt_and_changes_nothing() {
    let dir = project(OWNERS_QUERY);
    let (plain, _) = audit(dir.path(), &[]);
    audit(dir.path(), &["--cache"]);
    let pack = dir.path().join(".weir_cache/ir.pack");
    let bytes = std::fs::read(&pack).unwrap();
    // Flipped bytes all through the entries, then a cut pack, then noise.
    let mut flipped = bytes.clone();
    for at in (40..flipped.len()).step_by(7) {
        flipped[at] ^= 0x5a;
    }
    for damaged in [flipped, bytes[..bytes.len() / 2].to_vec(), b"junk".to_vec()] {
        std::fs::write(&pack, &damaged).unwrap();
        let (cached, _) = audit(dir.path(), &["--cache"]);
        assert_eq!(cached, plain);
    }
    let (_, counts) = audit(dir.path(), &["--cache"]);
    assert_eq!(counts, Some((4, 0)), "the pack was written again");
}

#[test]
fn a_cache_that_cannot_be_written_is_a_warning_and_the_report_is_complete() {
    let dir = project(OWNERS_QUERY);
    let (plain, _) = audit(dir.path(), &[]);
    // A file where the cache directory should be.
    let blocked = dir.path().join("blocked");
    std::fs::write(&blocked, "").unwrap();
    let root = dir.path().to_string_lossy();
    let blocked_dir = blocked.join("cache");
    let out = weir(&[
        "audit",
        &root,
        "--format",
        "json",
        "--fail-on",
        "high",
        "--date",
        "2026-01-01",
        "--cache-dir",
        &blocked_dir.to_string_lossy(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the exit code still follows the findings"
    );
    assert_eq!(stdout(&out), plain);
    assert!(
        stderr(&out).contains("weir: warning: cannot write the cache in"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_configuration_can_switch_the_cache_on_and_a_flag_off() {
    let dir = project(OWNERS_QUERY);
    write(
        dir.path(),
        "weir.toml",
        "cache = true\ncache-dir = \"build-cache/weir\"\n",
    );
    let (_, counts) = audit(dir.path(), &[]);
    assert_eq!(counts, Some((0, 4)));
    assert!(dir.path().join("build-cache/weir/ir.pack").is_file());
    let (_, counts) = audit(dir.path(), &[]);
    assert_eq!(counts, Some((4, 0)));
    let (_, counts) = audit(dir.path(), &["--no-cache"]);
    assert_eq!(counts, None);
    let shown = weir(&["config", &dir.path().to_string_lossy()]);
    assert!(
        stdout(&shown).contains("cache = true"),
        "{}",
        stdout(&shown)
    );
    let out = weir(&[
        "audit",
        &dir.path().to_string_lossy(),
        "--cache",
        "--no-cache",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "contradictory flags are a usage error"
    );
}

#[test]
fn the_cache_directory_is_never_audited() {
    let dir = project(OWNERS_QUERY);
    let (plain, _) = audit(dir.path(), &[]);
    // A Python file inside the cache (as if a tool wrote one) stays unread.
    write(
        dir.path(),
        ".weir_cache/stray.py",
        "import requests\nasync def f():\n    requests.get('x')\n",
    );
    let (cached, _) = audit(dir.path(), &["--cache"]);
    assert_eq!(cached, plain);
}
