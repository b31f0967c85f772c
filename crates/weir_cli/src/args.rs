use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// weir — a persistence and performance auditor for database-backed applications.
///
/// Finds N+1 queries, commits in loops, missing rollbacks, blocking calls in
/// async code, leaked sessions and pool misconfiguration, statically and
/// offline, and writes one audit report with a 0–10 score per category.
#[derive(Debug, Parser)]
#[command(name = "weir", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit a project (a directory or a single file) and write the report.
    Audit(AuditArgs),
    /// Discover the project's stack and print the context store as JSON:
    /// database, ORM, frameworks and drivers with where each was learned,
    /// session and pool settings, triggers, event subscribers and the
    /// best-practice notes that apply.
    Context(ContextArgs),
    /// Print the documentation of one rule (`weir rule QE-07`).
    Rule {
        /// Rule id (`QE-07`) or name (`query-in-loop`).
        id: String,
    },
    /// List every rule with its category, default severity and summary.
    Rules,
    /// Show the resolved configuration for PATH and where each setting came from.
    Config(ConfigArgs),
    /// Developer tools.
    #[command(subcommand)]
    Debug(DebugCommand),
}

#[derive(Debug, Subcommand)]
pub enum DebugCommand {
    /// Print the IR of one source file as JSON.
    Ir { file: PathBuf },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human-readable diagnostics with code frames, then the score table.
    Text,
    /// The audit report of SPEC §4, as Markdown.
    Markdown,
    /// The same report as JSON (versioned schema).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands: one annotation per finding.
    Github,
    /// One self-contained HTML page: score gauges, charts, a filterable findings table.
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Publish {
    /// Create one issue through Linear's GraphQL API (key in `LINEAR_API_KEY`).
    Linear,
    /// Add the task to `docs/tasks/kanban_board.md` under Backlog → Epic 0.
    Kanban,
}

#[derive(Debug, Args)]
pub struct ContextArgs {
    /// The project directory.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Write the JSON to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Skip files matching this glob (relative to PATH); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Also read tests and fixtures.
    #[arg(long)]
    pub include_tests: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Critical,
    High,
    Medium,
    Low,
    Never,
}

/// Settings that `weir.toml` / `[tool.weir]` can also hold; a flag given
/// here replaces the file's value.
#[derive(Debug, Default, Args)]
pub struct SettingsArgs {
    /// Use this configuration file instead of looking for `weir.toml` or
    /// `pyproject.toml` in PATH and its parents.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore every configuration file.
    #[arg(long, conflicts_with = "config")]
    pub isolated: bool,
    /// Rules to run: ids (`QE-07`), categories (`QE`) or `ALL`; comma-separated or repeated.
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    pub select: Option<Vec<String>>,
    /// Rules to add to the selection.
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    pub extend_select: Option<Vec<String>>,
    /// Rules not to run.
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    pub ignore: Option<Vec<String>>,
    /// Exit with 1 when a finding of this severity or worse is reported (default `high`).
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Skip files matching this glob (relative to PATH); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Audit only files matching this glob (relative to PATH); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Also audit tests and fixtures (`tests/`, `test/`, `testing/`, `test_utils/`, `testutils/`, `test_*.py`, `*_test.py`, `conftest.py`).
    #[arg(long)]
    pub include_tests: bool,
    /// Keep each file's parsed form in a cache so the next run re-parses
    /// only changed files (`.weir_cache` in the project root). Findings are
    /// the same with and without it.
    #[arg(long)]
    pub cache: bool,
    /// Use this cache directory (implies `--cache`).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Do not use the cache, even if the configuration asks for it.
    #[arg(long, conflicts_with_all = ["cache", "cache_dir"])]
    pub no_cache: bool,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The project directory (or file) whose configuration to show.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    #[command(flatten)]
    pub settings: SettingsArgs,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The project directory (or one file) to audit.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the Markdown report and one report per category into DIR.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Record the current findings in FILE (JSON) so later runs with
    /// `--baseline FILE` show only new ones.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Show and score only findings that are not in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Publish the audit as a task: to Linear or to the kanban board file;
    /// both append the trend row to `docs/project/.audit/results_log.md`.
    #[arg(long, value_enum)]
    pub publish: Option<Publish>,
    /// Number of worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Date printed in the report (`YYYY-MM-DD`), for reproducible output. Default: today.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
    /// Print each phase's wall time to standard error (also `WEIR_TIMINGS=1`).
    #[arg(long, hide = true)]
    pub timings: bool,
}
