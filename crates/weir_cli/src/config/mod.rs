//! The resolved configuration: defaults, then the configuration file, then
//! the command line, each setting remembering where it came from
//! (`weir config` shows it).
//!
//! Rule selection follows ruff: `select` (default `ALL`) plus
//! `extend-select`, minus `ignore`; of two selectors naming a rule the more
//! specific wins (a rule id over a category over `ALL`), and at equal
//! specificity `ignore` wins. `--select` on the command line starts a new
//! selection (the file's `ignore` and `extend-select` are dropped), as in ruff.

pub mod file;
mod show;

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::ValueEnum;
use toml::Spanned;
use weir_audit::registry::RULES;
use weir_audit::report::{Category, Severity};
use weir_audit::rule::Rule;
use weir_audit::suppress::find_meta;
use weir_audit::thresholds::Thresholds;

use crate::args::{FailOn, SettingsArgs};
use file::{ConfigError, LoadedFile, error_at};

pub use show::describe;

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File { path: PathBuf, line: usize },
    Flag(&'static str),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Default => write!(f, "default"),
            Origin::File { path, line } => {
                let name = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                write!(f, "{name}:{line}")
            }
            Origin::Flag(flag) => write!(f, "command line ({flag})"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Setting<T> {
    pub value: T,
    pub origin: Origin,
}

impl<T> Setting<T> {
    fn default(value: T) -> Self {
        Setting {
            value,
            origin: Origin::Default,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PublishSettings {
    pub epic: Setting<String>,
    pub board: Setting<String>,
    pub results_log: Setting<String>,
    pub linear_team: Setting<Option<String>>,
}

#[derive(Debug, Clone)]
pub struct ThresholdSettings {
    pub values: Thresholds,
    /// `(kebab-case key, origin)` for each threshold, in declaration order.
    pub origins: Vec<(&'static str, Origin)>,
}

/// Every setting, resolved.
#[derive(Debug, Clone)]
pub struct Config {
    /// The configuration file, when one applies.
    pub file: Option<PathBuf>,
    /// The project root: the configuration file's directory, else the audited directory.
    pub root: PathBuf,
    pub select: Setting<Vec<String>>,
    pub extend_select: Setting<Vec<String>>,
    pub ignore: Setting<Vec<String>>,
    pub exclude: Setting<Vec<String>>,
    pub include: Setting<Vec<String>>,
    pub include_tests: Setting<bool>,
    pub fail_on: Setting<FailOn>,
    pub baseline: Setting<Option<PathBuf>>,
    /// Whether the incremental cache is used.
    pub cache: Setting<bool>,
    /// Where the cache lives (default `.weir_cache` in the project root).
    pub cache_dir: Setting<PathBuf>,
    pub severity: Vec<Setting<(String, Severity)>>,
    pub per_file_ignores: Vec<Setting<(String, Vec<String>)>>,
    pub thresholds: ThresholdSettings,
    pub publish: PublishSettings,
}

pub const DEFAULT_EPIC: &str = "Epic 0: Technical Debt";
pub const DEFAULT_BOARD: &str = "docs/tasks/kanban_board.md";
pub const DEFAULT_RESULTS_LOG: &str = "docs/project/.audit/results_log.md";

impl Config {
    /// Defaults only, for `audited`.
    pub fn defaults(audited: &Path) -> Config {
        let root = if audited.is_file() {
            audited
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        } else {
            audited.to_path_buf()
        };
        let thresholds = Thresholds::default();
        let cache_dir = root.join(crate::cache::DEFAULT_DIR);
        Config {
            file: None,
            root,
            select: Setting::default(vec!["ALL".into()]),
            extend_select: Setting::default(Vec::new()),
            ignore: Setting::default(Vec::new()),
            exclude: Setting::default(Vec::new()),
            include: Setting::default(Vec::new()),
            include_tests: Setting::default(false),
            fail_on: Setting::default(FailOn::High),
            baseline: Setting::default(None),
            cache: Setting::default(false),
            cache_dir: Setting::default(cache_dir),
            severity: Vec::new(),
            per_file_ignores: Vec::new(),
            thresholds: ThresholdSettings {
                values: thresholds,
                origins: THRESHOLD_KEYS
                    .iter()
                    .map(|k| (*k, Origin::Default))
                    .collect(),
            },
            publish: PublishSettings {
                epic: Setting::default(DEFAULT_EPIC.into()),
                board: Setting::default(DEFAULT_BOARD.into()),
                results_log: Setting::default(DEFAULT_RESULTS_LOG.into()),
                linear_team: Setting::default(None),
            },
        }
    }

    /// Defaults, then the configuration file for `audited` (unless
    /// `--isolated`), then the flags.
    pub fn resolve(audited: &Path, flags: &SettingsArgs) -> Result<Config> {
        let mut config = Config::defaults(audited);
        let file = if flags.isolated {
            None
        } else if let Some(explicit) = &flags.config {
            if !explicit.is_file() {
                anyhow::bail!("configuration file `{}` does not exist", explicit.display());
            }
            Some(explicit.clone())
        } else {
            file::find(audited)
        };
        if let Some(path) = file {
            let loaded = file::load(&path)?;
            config.root = path
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            // The cache belongs to the project: beside its configuration.
            config.cache_dir = Setting::default(config.root.join(crate::cache::DEFAULT_DIR));
            config.apply_file(&loaded)?;
            config.file = Some(path);
        }
        config.apply_flags(flags)?;
        Ok(config)
    }

    fn apply_file(&mut self, file: &LoadedFile) -> Result<(), ConfigError> {
        let o = &file.options;
        let origin = |span: &std::ops::Range<usize>| Origin::File {
            path: file.path.clone(),
            line: file.line_of(span),
        };
        let selectors = |list: &file::SpannedList| -> Result<Setting<Vec<String>>, ConfigError> {
            let mut values = Vec::new();
            for item in list.get_ref() {
                values.push(
                    check_selector(item.get_ref()).map_err(|m| error_at(file, &item.span(), m))?,
                );
            }
            Ok(Setting {
                value: values,
                origin: origin(&list.span()),
            })
        };
        let strings = |list: &file::SpannedList| Setting {
            value: list.get_ref().iter().map(|s| s.get_ref().clone()).collect(),
            origin: origin(&list.span()),
        };
        if let Some(list) = &o.select {
            self.select = selectors(list)?;
        }
        if let Some(list) = &o.extend_select {
            self.extend_select = selectors(list)?;
        }
        if let Some(list) = &o.ignore {
            self.ignore = selectors(list)?;
        }
        if let Some(list) = &o.exclude {
            self.exclude = strings(list);
        }
        if let Some(list) = &o.include {
            self.include = strings(list);
        }
        if let Some(flag) = &o.include_tests {
            self.include_tests = Setting {
                value: *flag.get_ref(),
                origin: origin(&flag.span()),
            };
        }
        if let Some(value) = &o.fail_on {
            let parsed = FailOn::from_str(value.get_ref(), true).map_err(|_| {
                error_at(
                    file,
                    &value.span(),
                    format!(
                        "`fail-on = \"{}\"`: expected one of critical, high, medium, low, never",
                        value.get_ref()
                    ),
                )
            })?;
            self.fail_on = Setting {
                value: parsed,
                origin: origin(&value.span()),
            };
        }
        if let Some(value) = &o.baseline {
            let dir = file.path.parent().unwrap_or(Path::new("."));
            self.baseline = Setting {
                value: Some(dir.join(value.get_ref())),
                origin: origin(&value.span()),
            };
        }
        if let Some(flag) = &o.cache {
            self.cache = Setting {
                value: *flag.get_ref(),
                origin: origin(&flag.span()),
            };
        }
        if let Some(value) = &o.cache_dir {
            let dir = file.path.parent().unwrap_or(Path::new("."));
            self.cache_dir = Setting {
                value: dir.join(value.get_ref()),
                origin: origin(&value.span()),
            };
        }
        for (key, value) in o.severity.iter().flatten() {
            let code = check_selector(key.get_ref()).map_err(|m| error_at(file, &key.span(), m))?;
            let severity = Severity::parse(value.get_ref()).ok_or_else(|| {
                error_at(
                    file,
                    &value.span(),
                    format!(
                        "severity `{}` for `{code}`: expected critical, high, medium or low",
                        value.get_ref()
                    ),
                )
            })?;
            self.severity.push(Setting {
                value: (code, severity),
                origin: origin(&key.span()),
            });
        }
        for (glob, codes) in o.per_file_ignores.iter().flatten() {
            globset::Glob::new(glob.get_ref()).map_err(|e| {
                error_at(
                    file,
                    &glob.span(),
                    format!("invalid glob `{}`: {e}", glob.get_ref()),
                )
            })?;
            let list = selectors(codes)?;
            self.per_file_ignores.push(Setting {
                value: (glob.get_ref().clone(), list.value),
                origin: origin(&glob.span()),
            });
        }
        if let Some(t) = &o.thresholds {
            self.apply_thresholds(file, t)?;
        }
        if let Some(p) = &o.publish {
            let text = |v: &Spanned<String>| Setting {
                value: v.get_ref().clone(),
                origin: origin(&v.span()),
            };
            if let Some(v) = &p.epic {
                self.publish.epic = text(v);
            }
            if let Some(v) = &p.board {
                self.publish.board = text(v);
            }
            if let Some(v) = &p.results_log {
                self.publish.results_log = text(v);
            }
            if let Some(v) = &p.linear_team {
                self.publish.linear_team = Setting {
                    value: Some(v.get_ref().clone()),
                    origin: origin(&v.span()),
                };
            }
        }
        Ok(())
    }

    fn apply_thresholds(
        &mut self,
        file: &LoadedFile,
        t: &file::FileThresholds,
    ) -> Result<(), ConfigError> {
        let values = &mut self.thresholds.values;
        let mut set = |key: &'static str, span: std::ops::Range<usize>| {
            let line = file.line_of(&span);
            if let Some(entry) = self.thresholds.origins.iter_mut().find(|(k, _)| *k == key) {
                entry.1 = Origin::File {
                    path: file.path.clone(),
                    line,
                };
            }
        };
        if let Some(v) = &t.transaction_lines {
            values.transaction_lines = *v.get_ref();
            set("transaction-lines", v.span());
        }
        if let Some(v) = &t.session_usage_ratio {
            if !(0.0..=1.0).contains(v.get_ref()) {
                return Err(error_at(
                    file,
                    &v.span(),
                    "`session-usage-ratio` is a share between 0 and 1 (0.2 = 20 %)".into(),
                ));
            }
            values.session_usage_ratio = *v.get_ref();
            set("session-usage-ratio", v.span());
        }
        if let Some(v) = &t.non_db_lines {
            values.non_db_lines = *v.get_ref();
            set("non-db-lines", v.span());
        }
        if let Some(v) = &t.wide_model_columns {
            values.wide_model_columns = *v.get_ref();
            set("wide-model-columns", v.span());
        }
        if let Some(v) = &t.channel_edit_distance {
            values.channel_edit_distance = *v.get_ref();
            set("channel-edit-distance", v.span());
        }
        if let Some(v) = &t.small_collection {
            values.small_collection = *v.get_ref();
            set("small-collection", v.span());
        }
        Ok(())
    }

    fn apply_flags(&mut self, flags: &SettingsArgs) -> Result<()> {
        let checked = |list: &[String]| -> Result<Vec<String>> {
            list.iter()
                .map(|s| check_selector(s).map_err(anyhow::Error::msg))
                .collect()
        };
        if let Some(list) = &flags.select {
            // As in ruff, a later `select` starts a new selection: the file's
            // `ignore` and `extend-select` no longer apply.
            let cleared = || Setting {
                value: Vec::new(),
                origin: Origin::Flag("--select"),
            };
            self.select = Setting {
                value: checked(list)?,
                origin: Origin::Flag("--select"),
            };
            self.ignore = cleared();
            self.extend_select = cleared();
        }
        if let Some(list) = &flags.extend_select {
            let mut value = self.extend_select.value.clone();
            value.extend(checked(list)?);
            self.extend_select = Setting {
                value,
                origin: Origin::Flag("--extend-select"),
            };
        }
        if let Some(list) = &flags.ignore {
            self.ignore = Setting {
                value: checked(list)?,
                origin: Origin::Flag("--ignore"),
            };
        }
        if let Some(fail_on) = flags.fail_on {
            self.fail_on = Setting {
                value: fail_on,
                origin: Origin::Flag("--fail-on"),
            };
        }
        if !flags.exclude.is_empty() {
            self.exclude = Setting {
                value: flags.exclude.clone(),
                origin: Origin::Flag("--exclude"),
            };
        }
        if !flags.include.is_empty() {
            self.include = Setting {
                value: flags.include.clone(),
                origin: Origin::Flag("--include"),
            };
        }
        if flags.include_tests {
            self.include_tests = Setting {
                value: true,
                origin: Origin::Flag("--include-tests"),
            };
        }
        if let Some(dir) = &flags.cache_dir {
            self.cache_dir = Setting {
                value: dir.clone(),
                origin: Origin::Flag("--cache-dir"),
            };
        }
        if flags.cache || flags.cache_dir.is_some() {
            let flag = if flags.cache {
                "--cache"
            } else {
                "--cache-dir"
            };
            self.cache = Setting {
                value: true,
                origin: Origin::Flag(flag),
            };
        }
        if flags.no_cache {
            self.cache = Setting {
                value: false,
                origin: Origin::Flag("--no-cache"),
            };
        }
        Ok(())
    }

    /// Is the rule (or meta rule) with this id enabled?
    pub fn is_rule_enabled(&self, id: &str) -> bool {
        let best = |list: &[String]| list.iter().filter_map(|s| specificity(s, id)).max();
        let selected = best(&self.select.value).max(best(&self.extend_select.value));
        let ignored = best(&self.ignore.value);
        match (selected, ignored) {
            (Some(s), Some(i)) => s > i,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// A rule id, or a category: enabled when any of its rules is.
    pub fn is_code_enabled(&self, code: &str) -> bool {
        if Category::ALL.iter().any(|c| c.code() == code) {
            return RULES
                .iter()
                .any(|r| r.meta().id.starts_with(code) && self.is_rule_enabled(r.meta().id));
        }
        self.is_rule_enabled(code)
    }

    /// The rules that run.
    pub fn rules(&self) -> Vec<&'static dyn Rule> {
        RULES
            .iter()
            .copied()
            .filter(|r| self.is_rule_enabled(r.meta().id))
            .collect()
    }

    /// The severity override for a rule, the most specific one winning.
    pub fn severity_for(&self, id: &str) -> Option<Severity> {
        self.severity
            .iter()
            .filter_map(|s| specificity(&s.value.0, id).map(|rank| (rank, s.value.1)))
            .max_by_key(|(rank, _)| *rank)
            .map(|(_, severity)| severity)
    }

    /// Excludes as globs relative to the audited path: a configuration
    /// file's globs are relative to its directory, so when the audited path
    /// is below it, globs that start with that prefix also apply without it.
    pub fn exclude_globs(&self, audited: &Path) -> Vec<String> {
        relative_globs(&self.exclude, &self.root, audited)
    }

    pub fn include_globs(&self, audited: &Path) -> Vec<String> {
        relative_globs(&self.include, &self.root, audited)
    }
}

fn relative_globs(setting: &Setting<Vec<String>>, root: &Path, audited: &Path) -> Vec<String> {
    let mut globs = setting.value.clone();
    if matches!(setting.origin, Origin::File { .. })
        && let Some(prefix) = prefix_below(root, audited)
    {
        for glob in &setting.value {
            if let Some(rest) = glob.strip_prefix(&format!("{prefix}/")) {
                globs.push(rest.to_string());
            }
        }
    }
    globs
}

/// `app/api` when `audited` is `root/app/api`.
pub fn prefix_below(root: &Path, audited: &Path) -> Option<String> {
    let root = std::fs::canonicalize(root).ok()?;
    let audited = std::fs::canonicalize(audited).ok()?;
    let audited = if audited.is_file() {
        audited.parent()?.to_path_buf()
    } else {
        audited
    };
    let rel = audited.strip_prefix(&root).ok()?;
    let text = rel.to_string_lossy().replace('\\', "/");
    (!text.is_empty()).then_some(text)
}

/// Specificity of `selector` for rule `id`: `ALL` 0, category 1, id 2;
/// `None` when it does not name the rule.
fn specificity(selector: &str, id: &str) -> Option<u8> {
    if selector == "ALL" {
        Some(0)
    } else if selector == id {
        Some(2)
    } else if id
        .strip_prefix(selector)
        .is_some_and(|r| r.starts_with('-'))
    {
        Some(1)
    } else {
        None
    }
}

/// Normalises a selector (`qe-07`, `query-in-loop` → `QE-07`) or says what is wrong.
pub fn check_selector(text: &str) -> Result<String, String> {
    let upper = text.trim().to_ascii_uppercase();
    if upper == "ALL" || upper == "SUP" || Category::ALL.iter().any(|c| c.code() == upper) {
        return Ok(upper);
    }
    if let Some(rule) = weir_audit::registry::find(text.trim()) {
        return Ok(rule.meta().id.to_string());
    }
    if let Some(meta) = find_meta(text.trim()) {
        return Ok(meta.id.to_string());
    }
    Err(format!(
        "unknown rule selector `{text}`: use a rule id (`QE-07`), a category (`QE`, `TX`, `RT`, `RL`, `SUP`) or `ALL`; `weir rules` lists the rules"
    ))
}

/// The thresholds' keys, as written in the file.
const THRESHOLD_KEYS: &[&str] = &[
    "transaction-lines",
    "session-usage-ratio",
    "non-db-lines",
    "wide-model-columns",
    "channel-edit-distance",
    "small-collection",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn config(select: &[&str], ignore: &[&str]) -> Config {
        let mut c = Config::defaults(Path::new("."));
        c.select.value = select.iter().map(ToString::to_string).collect();
        c.ignore.value = ignore.iter().map(ToString::to_string).collect();
        c
    }

    #[test]
    fn the_more_specific_selector_wins() {
        let c = config(&["QE"], &["QE-07"]);
        assert!(c.is_rule_enabled("QE-02"));
        assert!(!c.is_rule_enabled("QE-07"));
        assert!(!c.is_rule_enabled("TX-04"));
        let c = config(&["QE-07"], &["QE"]);
        assert!(c.is_rule_enabled("QE-07"));
        assert!(!c.is_rule_enabled("QE-02"));
        let c = config(&["ALL"], &["SUP-01"]);
        assert!(!c.is_rule_enabled("SUP-01"));
        assert!(c.is_rule_enabled("SUP-02"));
        let c = config(&["QE"], &["QE"]);
        assert!(!c.is_rule_enabled("QE-07"), "ignore wins a tie");
    }

    #[test]
    fn selectors_are_checked() {
        assert_eq!(check_selector("qe-07").unwrap(), "QE-07");
        assert_eq!(check_selector("query-in-loop").unwrap(), "QE-07");
        assert_eq!(check_selector("tx").unwrap(), "TX");
        assert!(check_selector("QE-99").is_err());
    }
}
