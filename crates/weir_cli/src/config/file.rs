//! Finding and reading the configuration file: `weir.toml` (or
//! `.weir.toml`), or the `[tool.weir]` table of `pyproject.toml`, in the
//! audited directory or the nearest parent that has one, as ruff does.
//! Every value keeps its span so errors and `weir config` name the line.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// A list of strings, each with its span, as is the list.
pub type SpannedList = Spanned<Vec<Spanned<String>>>;

/// What a configuration file may hold. Unknown keys are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileOptions {
    pub select: Option<SpannedList>,
    pub extend_select: Option<SpannedList>,
    pub ignore: Option<SpannedList>,
    pub exclude: Option<SpannedList>,
    pub include: Option<SpannedList>,
    pub include_tests: Option<Spanned<bool>>,
    pub fail_on: Option<Spanned<String>>,
    pub baseline: Option<Spanned<String>>,
    pub cache: Option<Spanned<bool>>,
    pub cache_dir: Option<Spanned<String>>,
    /// Rule id or category → severity.
    pub severity: Option<BTreeMap<Spanned<String>, Spanned<String>>>,
    /// Glob → rule ids or categories.
    pub per_file_ignores: Option<BTreeMap<Spanned<String>, SpannedList>>,
    pub thresholds: Option<FileThresholds>,
    pub publish: Option<FilePublish>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileThresholds {
    pub transaction_lines: Option<Spanned<u32>>,
    pub session_usage_ratio: Option<Spanned<f64>>,
    pub non_db_lines: Option<Spanned<u32>>,
    pub wide_model_columns: Option<Spanned<u32>>,
    pub channel_edit_distance: Option<Spanned<u32>>,
    pub small_collection: Option<Spanned<u32>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FilePublish {
    /// The technical-debt epic: a kanban heading, a Linear project or parent issue.
    pub epic: Option<Spanned<String>>,
    pub board: Option<Spanned<String>>,
    pub results_log: Option<Spanned<String>>,
    /// Linear team key (`ENG`), id or UUID.
    pub linear_team: Option<Spanned<String>>,
}

#[derive(Deserialize)]
struct Pyproject {
    tool: Option<PyprojectTool>,
}

#[derive(Deserialize)]
struct PyprojectTool {
    weir: Option<FileOptions>,
}

/// A configuration file, read.
pub struct LoadedFile {
    pub path: PathBuf,
    pub text: String,
    pub options: FileOptions,
}

impl LoadedFile {
    /// 1-based line of a byte offset.
    pub fn line_of(&self, span: &Range<usize>) -> usize {
        line_col(&self.text, span.start).0
    }
}

/// A configuration problem, located. Shown as `file:line:col: message`.
#[derive(Debug)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid configuration: {}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.col,
            self.message
        )
    }
}

impl std::error::Error for ConfigError {}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    (line, col)
}

pub fn error_at(file: &LoadedFile, span: &Range<usize>, message: String) -> ConfigError {
    let (line, col) = line_col(&file.text, span.start);
    ConfigError {
        path: file.path.clone(),
        line,
        col,
        message,
    }
}

/// The configuration file that applies to `start`: the first of
/// `weir.toml`, `.weir.toml`, or a `pyproject.toml` with `[tool.weir]`, in
/// `start`'s directory or the nearest parent.
pub fn find(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
    let dir = if start.is_file() {
        start.parent()?.to_path_buf()
    } else {
        start
    };
    for dir in dir.ancestors() {
        for name in ["weir.toml", ".weir.toml"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
        let pyproject = dir.join("pyproject.toml");
        if pyproject.is_file()
            && std::fs::read_to_string(&pyproject).is_ok_and(|t| has_weir_table(&t))
        {
            return Some(pyproject);
        }
    }
    None
}

/// `[tool.weir]` or one of its sub-tables, or a dotted `tool.weir.` key.
fn has_weir_table(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("[tool.weir]") || l.starts_with("[tool.weir.") || l.starts_with("tool.weir.")
    })
}

fn is_pyproject(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "pyproject.toml")
}

/// Reads and parses one configuration file.
pub fn load(path: &Path) -> Result<LoadedFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        line: 0,
        col: 0,
        message: format!("cannot read the configuration file: {e}"),
    })?;
    let parsed = if is_pyproject(path) {
        toml::from_str::<Pyproject>(&text).map(|p| p.tool.and_then(|t| t.weir).unwrap_or_default())
    } else {
        toml::from_str::<FileOptions>(&text)
    };
    match parsed {
        Ok(options) => Ok(LoadedFile {
            path: path.to_path_buf(),
            text,
            options,
        }),
        Err(e) => {
            let (line, col) = e.span().map_or((0, 0), |s| line_col(&text, s.start));
            let message = e.message().trim().replace("unknown field", "unknown key");
            let table = if is_pyproject(path) {
                "[tool.weir]"
            } else {
                "the file"
            };
            let message = if message.starts_with("unknown key") {
                format!("{message} (in {table})")
            } else {
                message
            };
            Err(ConfigError {
                path: path.to_path_buf(),
                line,
                col,
                message,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_located() {
        let dir = tempfile_dir();
        let path = dir.join("weir.toml");
        std::fs::write(
            &path,
            "select = [\"QE\"]\n\n[thresholds]\ntransaction-lines = 40\nbogus = 1\n",
        )
        .unwrap();
        let err = load(&path).err().unwrap();
        assert_eq!(err.line, 5, "{err}");
        assert!(err.message.contains("unknown key `bogus`"), "{err}");
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("weir-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("ab", 0), (1, 1));
    }
}
