//! A small generated project run through `weir context` in-process
//! (`weir_cli::run::context`: the file walk, reading, lowering and stack
//! discovery, on the run's own worker pool), for the targets whose input is
//! several files: manifests, compose files, `.sql` and Python migrations.
//!
//! A case is a bundle of files, each `path\n` then its bytes, ended by an
//! ASCII record separator (0x1E), so a failing case saves as one file that
//! names every file it wrote.

use std::path::Path;

use serde_json::Value;
use weir_audit::report::WarningKind;
use weir_cli::run::{RunOptions, context};

const END: u8 = 0x1e;

/// The paths a case may write: every kind of file discovery reads, under
/// the names real projects give them.
pub const PATHS: &[&str] = &[
    "pyproject.toml",
    "Pipfile",
    "setup.cfg",
    "requirements.txt",
    "requirements/base.txt",
    "requirements/dev.txt",
    "docker-compose.yml",
    "deploy/compose.override.yaml",
    "package.json",
    "go.mod",
    "docs/project/tech_stack.md",
    "db/migrations/0001_init.sql",
    "db/migrations/0002_notify.sql",
    "alembic/versions/0001_create.py",
    "alembic/versions/0002_notify.py",
    "alembic/versions/0003_more.py",
    "shop/migrations/0001_initial.py",
    "app/settings.py",
    "app/db.py",
    "app/listener.py",
    "gunicorn.conf.py",
];

/// Files as a bundle; a record separator inside a file becomes a space.
pub fn bundle(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (path, bytes) in files {
        debug_assert!(PATHS.contains(path), "{path} is not in PATHS");
        out.extend_from_slice(path.as_bytes());
        out.push(b'\n');
        out.extend(bytes.iter().map(|&b| if b == END { b' ' } else { b }));
        out.push(END);
    }
    out
}

fn unbundle(input: &[u8]) -> Vec<(&'static str, &[u8])> {
    input
        .split(|&b| b == END)
        .filter_map(|record| {
            let newline = record.iter().position(|&b| b == b'\n')?;
            let path = std::str::from_utf8(&record[..newline]).ok()?;
            let path = PATHS.iter().copied().find(|p| *p == path)?;
            Some((path, &record[newline + 1..]))
        })
        .collect()
}

/// Writes the bundle into `dir` (emptied first) and runs discovery on it.
/// Discovery must finish without an internal error (a panic it caught),
/// and every line the context or a warning names must be in its file.
pub fn check_project(dir: &Path, input: &[u8]) {
    if dir.exists() {
        std::fs::remove_dir_all(dir).expect("empty the case directory");
    }
    let files = unbundle(input);
    for (path, bytes) in &files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).expect("create directory");
        std::fs::write(path, bytes).expect("write case file");
    }
    std::fs::create_dir_all(dir).expect("create the case directory");
    let options = RunOptions {
        threads: Some(2),
        ..RunOptions::default()
    };
    let (project, warnings) = context(dir, &options).expect("discovery runs");
    let internal: Vec<_> = warnings
        .iter()
        .filter(|w| w.kind == WarningKind::InternalError)
        .collect();
    assert!(internal.is_empty(), "{internal:?}");
    let json = weir_cli::render::json::render_context(&project, &warnings).expect("render");
    let json: Value = serde_json::from_str(&json).expect("the context is JSON");
    let bounds: Vec<(&str, u64)> = files.iter().map(|(p, b)| (*p, line_bound(b))).collect();
    check_locations(&json, &bounds);
}

/// Lines a file can have, counting `\r` and `\n` alike (Python does).
fn line_bound(bytes: &[u8]) -> u64 {
    1 + bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64
}

/// Every `{file|path, line}` in the context names a line its file has
/// (`bounds`: each file's number of lines).
fn check_locations(json: &Value, bounds: &[(&str, u64)]) {
    match json {
        Value::Object(map) => {
            let file = map.get("file").or_else(|| map.get("path"));
            if let (Some(Value::String(file)), Some(Value::Number(line))) = (file, map.get("line"))
                && let Some(&(_, bound)) = bounds.iter().find(|(p, _)| p == file)
            {
                let line = line.as_u64().expect("line is a number");
                assert!(
                    (1..=bound).contains(&line),
                    "{file}:{line} is outside the file: {json}"
                );
            }
            map.values().for_each(|v| check_locations(v, bounds));
        }
        Value::Array(items) => items.iter().for_each(|v| check_locations(v, bounds)),
        _ => {}
    }
}
