//! Publishing an audit (SPEC §7): one task per run, titled
//! `Persistence & Performance Audit: YYYY-MM-DD`, whose body is the Markdown
//! report, labelled `refactoring`, `performance`, `audit`, with the priority
//! of the highest severity, filed under Epic 0: as a Linear issue or as a
//! line of the kanban board file. Both keep the Markdown report in
//! `docs/project/.audit/` and append the trend row to the results log.

pub mod board;
pub mod linear;
pub mod trend;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use weir_audit::report::{Report, Severity};

use crate::args::Publish;
use crate::config::Config;

pub const LABELS: [&str; 3] = ["refactoring", "performance", "audit"];

/// The task every publisher files.
pub struct Task {
    pub title: String,
    /// The Markdown report.
    pub body: String,
    /// Linear's scale: 1 urgent, 2 high, 3 medium, 4 low, 0 none.
    pub priority: u8,
    /// A one-line summary for the board.
    pub summary: String,
}

pub fn priority(highest: Option<Severity>) -> u8 {
    match highest {
        Some(Severity::Critical) => 1,
        Some(Severity::High) => 2,
        Some(Severity::Medium) => 3,
        Some(Severity::Low) => 4,
        None => 0,
    }
}

pub fn priority_label(priority: u8) -> &'static str {
    match priority {
        1 => "Urgent",
        2 => "High",
        3 => "Medium",
        4 => "Low",
        _ => "No priority",
    }
}

impl Task {
    pub fn of(report: &Report) -> Task {
        let counts = &report.scores.counts;
        let overall = report
            .scores
            .overall
            .map_or_else(|| "not scored".into(), |s| format!("{s:.1}/10"));
        let summary = format!(
            "score {overall}; {} critical, {} high, {} medium, {} low",
            counts.critical, counts.high, counts.medium, counts.low
        );
        Task {
            title: format!("Persistence & Performance Audit: {}", report.date),
            body: crate::render::markdown::render(report),
            priority: priority(report.highest_severity()),
            summary,
        }
    }
}

/// The project whose `docs/` the publishers write to: the nearest directory
/// at or above the audited path that has `docs/tasks/kanban_board.md`, else
/// the configuration's project root.
pub fn project_root(audited: &Path, config: &Config) -> PathBuf {
    let start = std::fs::canonicalize(audited).unwrap_or_else(|_| audited.to_path_buf());
    start
        .ancestors()
        .find(|d| d.join(&config.publish.board.value).is_file())
        .map_or_else(|| config.root.clone(), Path::to_path_buf)
}

/// Writes `content` to `path` through a temporary file in the same
/// directory and a rename, so readers never see half a file.
pub fn write_atomically(path: &Path, content: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.weir-{}.tmp", std::process::id()));
    std::fs::write(&tmp, content).with_context(|| format!("cannot write `{}`", tmp.display()))?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow::anyhow!("cannot replace `{}`: {e}", path.display())
    })
}

/// What publishing did, for the user.
pub struct Published {
    pub report_file: PathBuf,
    pub task: String,
    pub trend: String,
}

/// Publishes the audit. The Markdown report is written locally first, so a
/// failing Linear API or board still leaves it on disk; the error says
/// where it is.
pub fn publish(
    target: Publish,
    report: &Report,
    config: &Config,
    audited: &Path,
) -> Result<Published> {
    let root = project_root(audited, config);
    let task = Task::of(report);
    let log = root.join(&config.publish.results_log.value);
    let report_file = log
        .parent()
        .unwrap_or(&root)
        .join(format!("persistence_audit_{}.md", report.date));
    write_atomically(&report_file, task.body.as_bytes())?;
    let outcome = match target {
        Publish::Kanban => board::publish(&root, config, &task, &report_file),
        Publish::Linear => linear::publish(&root, config, &task),
    };
    let task_ref = outcome.with_context(|| {
        format!(
            "publishing to {} failed; the report was written to `{}`",
            match target {
                Publish::Kanban => "the kanban board",
                Publish::Linear => "Linear",
            },
            report_file.display()
        )
    })?;
    let trend = trend::append(&log, report, &root)?;
    Ok(Published {
        report_file,
        task: task_ref,
        trend,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_follows_the_highest_severity() {
        assert_eq!(priority(Some(Severity::Critical)), 1);
        assert_eq!(priority(Some(Severity::Low)), 4);
        assert_eq!(priority(None), 0);
    }
}
