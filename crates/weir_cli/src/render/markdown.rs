//! The audit report of SPEC §4, as Markdown, section for section.

use std::fmt::Write;

use weir_audit::report::{Category, Finding, Report, Severity};

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Persistence & Performance Audit Report - {}\n",
        report.date
    );
    let _ = writeln!(
        out,
        "Audited `{}`: {} Python files, {} lines, with weir {}.\n",
        report.summary.root, report.summary.files, report.summary.lines, report.version
    );
    stack(&mut out, report);
    if let Some(filtered) = super::text::filtered_note(report) {
        let _ = writeln!(out, "{filtered}\n");
    }
    executive_summary(&mut out, report);
    compliance_score(&mut out, report);
    severity_summary(&mut out, report);
    findings_by_category(&mut out, report);
    recommended_actions(&mut out, report);
    if !report.advisory.is_empty() {
        advisory(&mut out, report);
    }
    sources(&mut out, report);
    if !report.meta.is_empty() {
        meta(&mut out, report);
    }
    if !report.warnings.is_empty() {
        warnings(&mut out, report);
    }
    out
}

/// The stack the audit assumed, as discovery found it (`weir context`).
fn stack(out: &mut String, report: &Report) {
    let stack = &report.context.tech_stack;
    let names: Vec<String> = [
        &stack.databases,
        &stack.orms,
        &stack.web_frameworks,
        &stack.async_frameworks,
        &stack.drivers,
    ]
    .into_iter()
    .flatten()
    .map(|c| match &c.version {
        Some(version) => format!("{} {version}", c.name),
        None => c.name.clone(),
    })
    .collect();
    if !names.is_empty() {
        let _ = writeln!(out, "Stack: {}.\n", names.join(", "));
    }
}

fn meta(out: &mut String, report: &Report) {
    out.push_str("\n## Suppression Problems\n\n");
    for m in &report.meta {
        let _ = writeln!(
            out,
            "- `{}:{}`: {} {}",
            m.path,
            m.line,
            m.rule,
            cell(&m.message)
        );
    }
}

/// Escapes text for a table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn location(f: &Finding) -> String {
    format!("`{}:{}`", f.path, f.line)
}

fn score_text(score: Option<f64>) -> String {
    score.map_or_else(|| "not run".into(), |s| format!("{s:.1}/10"))
}

fn executive_summary(out: &mut String, report: &Report) {
    out.push_str("## Executive Summary\n\n");
    let counts = &report.scores.counts;
    let verdict = match (report.scores.overall, report.scores.overall_band) {
        (Some(score), Some(band)) => format!("Overall score **{score:.1}/10** ({}).", band.label()),
        _ => "No category could be scored.".into(),
    };
    if counts.total() == 0 {
        let _ = writeln!(
            out,
            "{verdict} weir found no persistence or performance problems in {} files.\n",
            report.summary.files
        );
        return;
    }
    let _ = write!(
        out,
        "{verdict} weir found {} findings ({} critical, {} high, {} medium, {} low) in {} files. ",
        counts.total(),
        counts.critical,
        counts.high,
        counts.medium,
        counts.low,
        report.summary.files
    );
    let worst = report
        .scores
        .categories
        .iter()
        .filter_map(|c| c.score.map(|s| (s, c.category)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    if let (Some(first), Some((score, category))) = (report.prioritized().first(), worst) {
        let _ = write!(
            out,
            "{} scores lowest ({score:.1}/10); start with {} {} at {}.",
            category.title(),
            first.rule,
            first.name,
            location(first)
        );
    }
    out.push_str("\n\n");
}

fn compliance_score(out: &mut String, report: &Report) {
    out.push_str("## Compliance Score\n\n| Category | Score | Notes |\n|---|---|---|\n");
    for c in &report.scores.categories {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            c.category.title(),
            score_text(c.score),
            cell(&c.note)
        );
    }
    let band = report.scores.overall_band.map_or("", |b| b.label());
    let _ = writeln!(
        out,
        "| **Overall** | **{}** | {band} |\n",
        score_text(report.scores.overall)
    );
}

fn severity_summary(out: &mut String, report: &Report) {
    out.push_str("## Severity Summary\n\n| Severity | Count |\n|---|---|\n");
    for severity in Severity::ALL {
        let name = severity.label();
        let title = format!("{}{}", &name[..1], name[1..].to_ascii_lowercase());
        let _ = writeln!(out, "| {title} | {} |", report.scores.counts.get(severity));
    }
    out.push('\n');
}

fn findings_by_category(out: &mut String, report: &Report) {
    out.push_str("## Findings by Category\n\n");
    for category in Category::ALL {
        let _ = writeln!(out, "### {} ({})\n", category.title(), category.code());
        let findings: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.category == category)
            .collect();
        if findings.is_empty() {
            out.push_str("No findings.\n\n");
            continue;
        }
        out.push_str(
            "| Severity | Location | Issue | Recommendation | Effort |\n|---|---|---|---|---|\n",
        );
        for f in findings {
            let _ = writeln!(
                out,
                "| {} | {} | **{}** {} ({}) | {} | {:?} |",
                f.severity.label(),
                location(f),
                f.rule,
                cell(&f.message),
                cell(f.context.label()),
                cell(&f.help),
                f.effort
            );
        }
        out.push('\n');
    }
}

fn recommended_actions(out: &mut String, report: &Report) {
    out.push_str("## Recommended Actions\n\n");
    let sorted = report.prioritized();
    if sorted.is_empty() {
        out.push_str("None: keep weir in CI to hold the line.\n\n");
        return;
    }
    out.push_str("| Priority | Category | Location | Issue | Recommendation | Effort |\n|---|---|---|---|---|---|\n");
    for (i, f) in sorted.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | **{}** {} | {} | {:?} |",
            i + 1,
            f.category.code(),
            location(f),
            f.rule,
            cell(&f.message),
            cell(&f.help),
            f.effort
        );
    }
    out.push('\n');
}

fn advisory(out: &mut String, report: &Report) {
    out.push_str("## Advisory Findings\n\nKept for information; not counted in the score.\n\n| Severity | Location | Issue | Why advisory |\n|---|---|---|---|\n");
    for f in &report.advisory {
        let _ = writeln!(
            out,
            "| {} | {} | **{}** {} | {} |",
            f.severity.label(),
            location(f),
            f.rule,
            cell(&f.message),
            cell(&f.notes.join("; "))
        );
    }
    out.push('\n');
}

fn sources(out: &mut String, report: &Report) {
    out.push_str("## Sources Consulted\n\n");
    if report.sources.is_empty() {
        out.push_str("No rule fired.\n");
    }
    for source in &report.sources {
        let _ = writeln!(
            out,
            "- [{}]({}) ({})",
            source.title,
            source.url,
            source.rules.join(", ")
        );
    }
}

fn warnings(out: &mut String, report: &Report) {
    out.push_str("\n## Run Warnings\n\n");
    for w in &report.warnings {
        let place = match (&w.path, w.line) {
            (Some(p), Some(l)) => format!("`{p}:{l}`: "),
            (Some(p), None) => format!("`{p}`: "),
            _ => String::new(),
        };
        let _ = writeln!(out, "- {place}{}", w.message);
    }
}

/// The file name of a category's report in `--output-dir`.
pub fn category_file(category: Category) -> String {
    format!(
        "{}.md",
        category.title().to_ascii_lowercase().replace(' ', "_")
    )
}

/// One category's report: its score, its findings in detail (why, fix,
/// evidence), its advisory findings and its sources.
pub fn category_report(report: &Report, category: Category) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {} Audit ({}) - {}\n",
        category.title(),
        category.code(),
        report.date
    );
    if let Some(c) = report
        .scores
        .categories
        .iter()
        .find(|c| c.category == category)
    {
        let _ = writeln!(
            out,
            "Score **{}** ({}). Part of the [Persistence & Performance Audit Report](persistence_audit.md).\n",
            score_text(c.score),
            cell(&c.note)
        );
    }
    let findings: Vec<&Finding> = report
        .prioritized()
        .into_iter()
        .filter(|f| f.category == category)
        .collect();
    out.push_str("## Findings\n\n");
    if findings.is_empty() {
        out.push_str("No findings.\n\n");
    }
    for f in &findings {
        let _ = writeln!(
            out,
            "### {} {} {} at {}\n\n{} ({} `{}`; effort {:?})\n\n- **Why:** {}\n- **Fix:** {}",
            f.severity.label(),
            f.rule,
            f.name,
            location(f),
            f.message,
            f.context.label(),
            f.function,
            f.effort,
            f.why,
            f.help
        );
        for e in &f.evidence {
            let _ = writeln!(out, "- **See:** `{}:{}` {}", e.path, e.line, e.label);
        }
        out.push('\n');
    }
    let advisory: Vec<&Finding> = report
        .advisory
        .iter()
        .filter(|f| f.category == category)
        .collect();
    if !advisory.is_empty() {
        out.push_str("## Advisory Findings\n\nKept for information; not counted in the score.\n\n");
        for f in advisory {
            let _ = writeln!(
                out,
                "- {} **{}** {} at {}: {}",
                f.severity.label(),
                f.rule,
                cell(&f.message),
                location(f),
                cell(&f.notes.join("; "))
            );
        }
        out.push('\n');
    }
    out.push_str("## Sources Consulted\n\n");
    let prefix = format!("{}-", category.code());
    let sources: Vec<_> = report
        .sources
        .iter()
        .filter(|s| s.rules.iter().any(|r| r.starts_with(&prefix)))
        .collect();
    if sources.is_empty() {
        out.push_str("No rule of this category fired.\n");
    }
    for source in sources {
        let _ = writeln!(out, "- [{}]({})", source.title, source.url);
    }
    out
}
