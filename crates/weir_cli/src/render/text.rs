//! Terminal output: one diagnostic per finding with a code frame, then the
//! score table.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::Path;

use weir_audit::report::{Finding, Report};

pub fn render(report: &Report, audited: &Path) -> String {
    let root = if audited.is_file() {
        audited.parent().unwrap_or(audited)
    } else {
        audited
    };
    let mut sources: HashMap<&str, Option<String>> = HashMap::new();
    let mut out = String::new();
    for f in &report.findings {
        let source = sources
            .entry(&f.path)
            .or_insert_with(|| std::fs::read_to_string(root.join(&f.path)).ok());
        diagnostic(&mut out, f, source.as_deref());
    }
    for f in &report.advisory {
        let _ = writeln!(
            out,
            "{}:{}:{}: {} [{} advisory] {}",
            f.path,
            f.line,
            f.col,
            f.rule,
            f.severity.label(),
            f.message
        );
    }
    for m in &report.meta {
        let _ = writeln!(out, "{}:{}: {} {}", m.path, m.line, m.rule, m.message);
    }
    for w in &report.warnings {
        let place = match (&w.path, w.line) {
            (Some(p), Some(l)) => format!("{p}:{l}: "),
            (Some(p), None) => format!("{p}: "),
            _ => String::new(),
        };
        let _ = writeln!(out, "warning: {place}{}", w.message);
    }
    summary(&mut out, report);
    out
}

fn diagnostic(out: &mut String, f: &Finding, source: Option<&str>) {
    let _ = writeln!(
        out,
        "{}:{}:{}: {} [{}] {}",
        f.path,
        f.line,
        f.col,
        f.rule,
        f.severity.label(),
        f.message
    );
    if let Some(source) = source {
        frame(out, f, source);
    }
    let _ = writeln!(out, "   = in: {} `{}`", f.context.label(), f.function);
    for e in &f.evidence {
        let _ = writeln!(out, "   = see: {}:{}: {}", e.path, e.line, e.label);
    }
    let _ = writeln!(out, "   = why: {}", f.why);
    let _ = writeln!(out, "   = help: {}", f.help);
    out.push('\n');
}

/// The primary line, the line before it, and a caret under the span.
fn frame(out: &mut String, f: &Finding, source: &str) {
    let lines: Vec<&str> = weir_lang::source_lines(source).collect();
    let line = f.line as usize;
    let Some(text) = lines.get(line.wrapping_sub(1)) else {
        return;
    };
    let width = line.to_string().len();
    let _ = writeln!(out, "{:width$} |", "");
    if line >= 2
        && let Some(prev) = lines.get(line - 2).filter(|l| !l.trim().is_empty())
    {
        let _ = writeln!(out, "{:>width$} | {prev}", line - 1);
    }
    let _ = writeln!(out, "{line:>width$} | {text}");
    let start = (f.col as usize).saturating_sub(1).min(text.len());
    let span_len = if f.end_line == f.line {
        (f.range.1 - f.range.0) as usize
    } else {
        text.len() - start
    };
    let carets = span_len.clamp(1, text.len().saturating_sub(start).max(1));
    let pad: String = text[..start]
        .chars()
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let _ = writeln!(out, "{:width$} | {pad}{}", "", "^".repeat(carets));
}

fn summary(out: &mut String, report: &Report) {
    let _ = writeln!(
        out,
        "Audited {} files ({} lines). {} findings: {} critical, {} high, {} medium, {} low.\n",
        report.summary.files,
        report.summary.lines,
        report.scores.counts.total(),
        report.scores.counts.critical,
        report.scores.counts.high,
        report.scores.counts.medium,
        report.scores.counts.low
    );
    if let Some(filtered) = filtered_note(report) {
        let _ = writeln!(out, "{filtered}\n");
    }
    let _ = writeln!(out, "{:<26} {:>7}  Notes", "Category", "Score");
    for c in &report.scores.categories {
        let score = c
            .score
            .map_or_else(|| "not run".into(), |s| format!("{s:.1}"));
        let _ = writeln!(out, "{:<26} {score:>7}  {}", c.category.title(), c.note);
    }
    let overall = report
        .scores
        .overall
        .map_or_else(|| "-".into(), |s| format!("{s:.1}"));
    let band = report.scores.overall_band.map_or("", |b| b.label());
    let _ = writeln!(out, "{:<26} {overall:>7}  {band}", "Overall");
}

/// "2 advisory, 3 suppressed inline, 14 baselined (not scored)."
pub fn filtered_note(report: &Report) -> Option<String> {
    let mut parts = Vec::new();
    if !report.advisory.is_empty() {
        parts.push(format!("{} advisory", report.advisory.len()));
    }
    if report.suppressed > 0 {
        parts.push(format!("{} suppressed inline", report.suppressed));
    }
    if report.baselined > 0 {
        parts.push(format!("{} baselined", report.baselined));
    }
    (!parts.is_empty()).then(|| format!("Not scored: {}.", parts.join(", ")))
}
