//! GitHub Actions workflow commands: one annotation per finding
//! (`::error file=…,line=…,title=…::message`), shown on the pull request's
//! diff, then one notice with the scores.

use std::fmt::Write;

use weir_audit::report::{Finding, Report, Severity};

use super::repo_prefix;

/// Escapes the message part of a workflow command.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (`file=`, `title=`).
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

fn command(f: &Finding) -> &'static str {
    if f.advisory {
        return "notice";
    }
    match f.severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "notice",
    }
}

pub fn render(report: &Report) -> String {
    let prefix = repo_prefix(&report.summary.root);
    let mut out = String::new();
    for f in report.findings.iter().chain(&report.advisory) {
        let advisory = if f.advisory { " advisory" } else { "" };
        let title = format!("{} {} [{}{advisory}]", f.rule, f.name, f.severity.label());
        let mut body = format!("{}\nWhy: {}\nFix: {}", f.message, f.why, f.help);
        for e in &f.evidence {
            let _ = write!(body, "\nSee {}:{}: {}", e.path, e.line, e.label);
        }
        for note in &f.notes {
            let _ = write!(body, "\nAdvisory: {note}");
        }
        let _ = writeln!(
            out,
            "::{} file={},line={},endLine={},col={},title={}::{}",
            command(f),
            property(&format!("{prefix}{}", f.path)),
            f.line,
            f.end_line.max(f.line),
            f.col,
            property(&title),
            data(&body)
        );
    }
    for m in &report.meta {
        let _ = writeln!(
            out,
            "::warning file={},line={},title={}::{}",
            property(&format!("{prefix}{}", m.path)),
            m.line,
            property(&format!("{} {}", m.rule, m.name)),
            data(&m.message)
        );
    }
    let overall = report
        .scores
        .overall
        .map_or_else(|| "not scored".into(), |s| format!("{s:.1}/10"));
    let scores: Vec<String> = report
        .scores
        .categories
        .iter()
        .map(|c| {
            let score = c
                .score
                .map_or_else(|| "not run".into(), |s| format!("{s:.1}"));
            format!("{} {score}", c.category.code())
        })
        .collect();
    let c = &report.scores.counts;
    let _ = writeln!(
        out,
        "::notice title=weir audit::{}",
        data(&format!(
            "Overall {overall} ({}); {} findings: {} critical, {} high, {} medium, {} low; {}",
            scores.join(", "),
            c.total(),
            c.critical,
            c.high,
            c.medium,
            c.low,
            super::text::filtered_note(report).unwrap_or_default()
        ))
        .trim_end()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_actions_toolkit() {
        assert_eq!(data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
