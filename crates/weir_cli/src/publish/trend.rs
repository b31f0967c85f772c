//! The trend log, `docs/project/.audit/results_log.md` (SPEC §7): one row
//! per published audit, `Date | Tool | Metric | Scale | Score | Status |
//! Delta | Key Finding | Commit`, the status against the previous row of the
//! same metric (improving above +0.3, declining below −0.3, else stable;
//! baseline for the first), the last 50 rows kept.

use std::fmt::Write;
use std::path::Path;
use std::process::Command;

use anyhow::Result;
use weir_audit::report::Report;

use super::write_atomically;

pub const HEADER: &str =
    "| Date | Tool | Metric | Scale | Score | Status | Delta | Key Finding | Commit |";
pub const SEPARATOR: &str =
    "|------|------|--------|-------|-------|--------|-------|-------------|--------|";
pub const METRIC: &str = "Persistence & Performance";
pub const MAX_ROWS: usize = 50;
/// A change larger than this is a trend, not noise.
const THRESHOLD: f64 = 0.3;

/// `improving`, `declining`, `stable` or `baseline`, and the delta text.
pub fn status(previous: Option<f64>, score: f64) -> (&'static str, String) {
    let Some(previous) = previous else {
        return ("baseline", "-".into());
    };
    let delta = ((score - previous) * 10.0).round() / 10.0;
    let status = if delta > THRESHOLD {
        "improving"
    } else if delta < -THRESHOLD {
        "declining"
    } else {
        "stable"
    };
    (status, format!("{delta:+.1}"))
}

fn cells(row: &str) -> Vec<String> {
    row.trim()
        .trim_matches('|')
        .split('|')
        .map(|c| c.trim().to_string())
        .collect()
}

fn is_separator(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('|') && t.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '))
}

/// `git rev-parse --short HEAD` in `root`, when it is a repository.
fn commit(root: &Path) -> String {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "-".into())
}

fn key_finding(report: &Report) -> String {
    report.prioritized().first().map_or_else(
        || "no findings".into(),
        |f| format!("{} {} at {}:{}", f.rule, f.name, f.path, f.line),
    )
}

/// The log with `row` appended (the table created when missing), keeping
/// the last `MAX_ROWS` rows; text around the table is kept.
pub fn append_row(log: &str, row_for: impl FnOnce(Option<f64>) -> String) -> String {
    let lines: Vec<&str> = log.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.trim_start().starts_with("| Date |"));
    let Some(header) = header else {
        let mut out = if log.trim().is_empty() {
            "# Audit Results Log\n".to_string()
        } else {
            format!("{}\n", log.trim_end())
        };
        let _ = write!(out, "\n{HEADER}\n{SEPARATOR}\n{}\n", row_for(None));
        return out;
    };
    let body_start = if lines.get(header + 1).is_some_and(|l| is_separator(l)) {
        header + 2
    } else {
        header + 1
    };
    let body_end = lines[body_start..]
        .iter()
        .position(|l| !l.trim_start().starts_with('|'))
        .map_or(lines.len(), |i| body_start + i);
    let mut rows: Vec<String> = lines[body_start..body_end]
        .iter()
        .map(ToString::to_string)
        .collect();
    let previous = rows.iter().rev().find_map(|r| {
        let c = cells(r);
        (c.get(2).map(String::as_str) == Some(METRIC))
            .then(|| c.get(4).and_then(|s| s.parse::<f64>().ok()))
            .flatten()
    });
    rows.push(row_for(previous));
    let keep = rows.len().saturating_sub(MAX_ROWS);
    let mut out: Vec<String> = lines[..body_start]
        .iter()
        .map(ToString::to_string)
        .collect();
    if body_start == header + 1 {
        out.push(SEPARATOR.to_string());
    }
    out.extend(rows.into_iter().skip(keep));
    out.extend(lines[body_end..].iter().map(ToString::to_string));
    out.join("\n") + "\n"
}

/// Appends this audit's row to the log at `path`; returns the row.
pub fn append(path: &Path, report: &Report, root: &Path) -> Result<String> {
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let score = report.scores.overall.unwrap_or(0.0);
    let mut appended = String::new();
    let updated = append_row(&existing, |previous| {
        let (status, delta) = status(previous, score);
        appended = format!(
            "| {} | weir {} | {METRIC} | 0-10 | {score:.1} | {status} | {delta} | {} | {} |",
            report.date,
            report.version,
            key_finding(report).replace('|', "\\|"),
            commit(root)
        );
        appended.clone()
    });
    write_atomically(path, updated.as_bytes())?;
    Ok(appended)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(score: f64) -> impl FnOnce(Option<f64>) -> String {
        move |previous| {
            let (status, delta) = status(previous, score);
            format!("| d | weir | {METRIC} | 0-10 | {score:.1} | {status} | {delta} | k | c |")
        }
    }

    #[test]
    fn statuses() {
        assert_eq!(status(None, 8.0), ("baseline", "-".into()));
        assert_eq!(status(Some(8.0), 8.4), ("improving", "+0.4".into()));
        assert_eq!(status(Some(8.0), 8.3), ("stable", "+0.3".into()));
        assert_eq!(status(Some(8.0), 7.6), ("declining", "-0.4".into()));
    }

    #[test]
    fn creates_appends_and_keeps_fifty_rows() {
        let log = append_row("", row(8.0));
        assert!(log.starts_with("# Audit Results Log\n\n| Date |"));
        assert!(log.contains("| 8.0 | baseline | - |"));
        let log = append_row(&log, row(8.5));
        assert!(log.contains("| 8.5 | improving | +0.5 |"), "{log}");
        let mut log = log;
        for _ in 0..60 {
            log = append_row(&log, row(8.5));
        }
        let rows = log.lines().filter(|l| l.starts_with("| d |")).count();
        assert_eq!(rows, MAX_ROWS);
        assert!(log.ends_with("| 8.5 | stable | +0.0 | k | c |\n"));
        // Text after the table stays.
        let with_footer = format!("{log}\nNotes below.\n");
        assert!(append_row(&with_footer, row(1.0)).ends_with("\nNotes below.\n"));
    }
}
