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
    /// Exit with 1 when a finding of this severity or worse is reported.
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    pub fail_on: FailOn,
    /// Skip files matching this glob (relative to PATH); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Audit only files matching this glob (relative to PATH); repeatable.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Also audit tests and fixtures (`tests/`, `test_*.py`, `*_test.py`, `conftest.py`).
    #[arg(long)]
    pub include_tests: bool,
    /// Number of worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Date printed in the report (`YYYY-MM-DD`), for reproducible output. Default: today.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
}
