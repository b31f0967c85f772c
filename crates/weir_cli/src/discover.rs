//! Which files are audited: `.gitignore` respected, virtualenvs, installed
//! packages, `node_modules`, VCS and build directories skipped, tests
//! skipped unless asked for, `--include`/`--exclude` globs applied. The same
//! walk finds the manifests and SQL files stack discovery reads.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::WalkBuilder;
use weir_audit::facts::context::is_test_path;

use crate::discovery::stack_file_kind;

/// Directory names never audited.
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "site-packages",
    "dist-packages",
    "__pycache__",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".eggs",
    "build",
    "dist",
    "target",
    "__pypackages__",
    ".direnv",
];

pub struct Filters {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub include_tests: bool,
}

pub struct Discovered {
    /// The directory paths are relative to.
    pub root: PathBuf,
    /// (relative path with `/` separators, absolute path), sorted.
    pub files: Vec<(String, PathBuf)>,
    /// Manifests, compose files, the tech-stack doc and `.sql` files that
    /// stack discovery reads (`--include` does not narrow them), sorted.
    pub stack_files: Vec<(String, PathBuf)>,
    pub skipped_tests: usize,
}

fn globset(patterns: &[String]) -> Result<Option<GlobSet>> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        builder.add(Glob::new(pattern).with_context(|| format!("invalid glob `{pattern}`"))?);
        // `--exclude migrations` should also match everything below it.
        if !pattern.contains('*') {
            builder.add(Glob::new(&format!("{}/**", pattern.trim_end_matches('/')))?);
        }
    }
    Ok(Some(builder.build()?))
}

fn is_virtualenv(dir: &Path) -> bool {
    dir.join("pyvenv.cfg").is_file()
}

pub fn discover(path: &Path, filters: &Filters) -> Result<Discovered> {
    if !path.exists() {
        bail!("path `{}` does not exist", path.display());
    }
    let include = globset(&filters.include)?;
    let exclude = globset(&filters.exclude)?;
    if path.is_file() {
        let root = path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok(Discovered {
            root,
            files: vec![(name, path.to_path_buf())],
            stack_files: Vec::new(),
            skipped_tests: 0,
        });
    }
    let mut files = Vec::new();
    let mut stack_files = Vec::new();
    let mut skipped_tests = 0;
    let walker = WalkBuilder::new(path)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            let name = entry.file_name().to_string_lossy();
            !(is_dir
                && entry.depth() > 0
                && (SKIPPED_DIRS.contains(&name.as_ref())
                    || name.ends_with(".egg-info")
                    || is_virtualenv(entry.path())))
        })
        .build();
    for entry in walker {
        // Unreadable directories and broken links are skipped; the walk goes on.
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(path) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if exclude.as_ref().is_some_and(|g| g.is_match(&rel)) {
            continue;
        }
        if stack_file_kind(&rel).is_some() {
            if filters.include_tests || !is_test_path(&rel) {
                stack_files.push((rel, entry.into_path()));
            }
            continue;
        }
        if weir_lang::language_of(&rel).is_none() {
            continue;
        }
        if include.as_ref().is_some_and(|g| !g.is_match(&rel)) {
            continue;
        }
        if !filters.include_tests && is_test_path(&rel) {
            skipped_tests += 1;
            continue;
        }
        files.push((rel, entry.into_path()));
    }
    files.sort();
    stack_files.sort();
    Ok(Discovered {
        root: path.to_path_buf(),
        files,
        stack_files,
        skipped_tests,
    })
}
