//! Which files are audited: `.gitignore` respected, virtualenvs, installed
//! packages, `node_modules`, VCS and build directories skipped, tests
//! skipped unless asked for, `--include`/`--exclude` globs applied. The same
//! walk finds the manifests and SQL files stack discovery reads.
//!
//! Symbolic links are treated as ruff treats them: a link to a file is
//! audited under the link's own path; links to directories are not
//! followed (so a link loop cannot make the walk endless, and code outside
//! the tree is not pulled in); a broken link, a link loop and a directory
//! that cannot be read are warnings, and the walk goes on.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::WalkBuilder;
use weir_audit::facts::context::is_test_path;
use weir_audit::report::{Warning, WarningKind};

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
    ".weir_cache",
    ".eggs",
    "build",
    "dist",
    "target",
    "__pypackages__",
    ".direnv",
];

/// The default selects what the CLI does without flags: every file, tests
/// skipped.
#[derive(Default)]
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
    /// Directories and links the walk could not read.
    pub warnings: Vec<Warning>,
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
            warnings: Vec::new(),
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
    let mut warnings = Vec::new();
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                warnings.push(walk_warning(path, &error));
                continue;
            }
        };
        let Some(file_type) = entry.file_type() else {
            continue;
        };
        if !file_type.is_file() && !file_type.is_symlink() {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(path) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if exclude.as_ref().is_some_and(|g| g.is_match(&rel)) {
            continue;
        }
        let stack = stack_file_kind(&rel).is_some();
        if !stack && weir_lang::language_of(&rel).is_none() {
            continue;
        }
        if file_type.is_symlink() {
            // Where the link leads: a file is read through the link; a
            // directory is not followed; a broken link or a loop is said.
            match std::fs::metadata(entry.path()) {
                Ok(meta) if meta.is_file() => {}
                Ok(_) => continue,
                Err(error) => {
                    let wanted = if stack {
                        filters.include_tests || !is_test_path(&rel)
                    } else {
                        include.as_ref().is_none_or(|g| g.is_match(&rel))
                            && (filters.include_tests || !is_test_path(&rel))
                    };
                    if wanted {
                        warnings.push(Warning {
                            path: Some(rel),
                            line: None,
                            kind: WarningKind::Unreadable,
                            message: format!("skipped: broken symbolic link ({error})"),
                        });
                    }
                    continue;
                }
            }
        }
        if stack {
            if filters.include_tests || !is_test_path(&rel) {
                stack_files.push((rel, entry.into_path()));
            }
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
        warnings,
    })
}

/// A directory the walk could not enter (permissions, vanished), or an
/// ignore file it could not read, as a warning on its path.
fn walk_warning(root: &Path, error: &ignore::Error) -> Warning {
    fn path_of(error: &ignore::Error) -> Option<&Path> {
        match error {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            ignore::Error::Loop { child, .. } => Some(child),
            _ => None,
        }
    }
    fn io_of(error: &ignore::Error) -> Option<&std::io::Error> {
        match error {
            ignore::Error::Io(io) => Some(io),
            ignore::Error::WithPath { err, .. }
            | ignore::Error::WithDepth { err, .. }
            | ignore::Error::WithLineNumber { err, .. } => io_of(err),
            _ => None,
        }
    }
    let rel = path_of(error).map(|p| {
        p.strip_prefix(root)
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/")
    });
    let (kind, message) = match io_of(error) {
        Some(io) => (
            WarningKind::Unreadable,
            format!(
                "skipped: cannot read this directory ({}); nothing below it was audited",
                io.kind()
            ),
        ),
        None => (WarningKind::Discovery, format!("file walk: {error}")),
    };
    Warning {
        path: rel.filter(|r| !r.is_empty()),
        line: None,
        kind,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_the_walk_cannot_enter_is_an_unreadable_warning_on_its_path() {
        let root = Path::new("/srv/project");
        let denied = ignore::Error::WithDepth {
            depth: 2,
            err: Box::new(ignore::Error::WithPath {
                path: root.join("app/private"),
                err: Box::new(ignore::Error::Io(std::io::Error::from(
                    std::io::ErrorKind::PermissionDenied,
                ))),
            }),
        };
        let warning = walk_warning(root, &denied);
        assert_eq!(warning.path.as_deref(), Some("app/private"));
        assert_eq!(warning.kind, WarningKind::Unreadable);
        assert!(
            warning
                .message
                .starts_with("skipped: cannot read this directory ("),
            "{}",
            warning.message
        );
    }
}
