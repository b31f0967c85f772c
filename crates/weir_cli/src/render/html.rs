//! One self-contained HTML page: score gauges per category, a severity
//! chart, a findings table that filters by category, severity and file,
//! code excerpts with the evidence path, and the documentation of the rules
//! that fired. No network: styles and script are inline, and a
//! Content-Security-Policy forbids loading anything. Readable when printed.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;
use std::path::Path;

use weir_audit::registry;
use weir_audit::report::{Category, Finding, Report, Severity};
use weir_audit::score::Band;

const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");
/// Catches errors from the first line on, for the self-test.
const ERROR_CAPTURE: &str = "window.__weirErrors=[];window.addEventListener('error',function(e){window.__weirErrors.push(String(e.message))});window.addEventListener('unhandledrejection',function(e){window.__weirErrors.push(String(e.reason))});document.addEventListener('securitypolicyviolation',function(e){window.__weirErrors.push('CSP: '+e.blockedURI)});(function(){var o=console.error;console.error=function(){window.__weirErrors.push(Array.prototype.join.call(arguments,' '));o.apply(console,arguments)}})();";

/// Escapes text for HTML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `backticks` become `<code>`, everything else escaped.
fn inline(text: &str) -> String {
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", esc(part));
        } else {
            out.push_str(&esc(part));
        }
    }
    out
}

/// The rule documentation's small Markdown: `##` headings, fenced code,
/// paragraphs, inline code.
fn markdown(doc: &str) -> String {
    let mut out = String::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut code: Option<Vec<&str>> = None;
    let flush = |out: &mut String, paragraph: &mut Vec<&str>| {
        if !paragraph.is_empty() {
            let _ = writeln!(out, "<p>{}</p>", inline(&paragraph.join(" ")));
            paragraph.clear();
        }
    };
    for line in doc.lines() {
        if let Some(block) = code.as_mut() {
            if line.trim_start().starts_with("```") {
                let _ = writeln!(out, "<pre><code>{}</code></pre>", esc(&block.join("\n")));
                code = None;
            } else {
                block.push(line);
            }
            continue;
        }
        if line.trim_start().starts_with("```") {
            flush(&mut out, &mut paragraph);
            code = Some(Vec::new());
        } else if let Some(heading) = line.strip_prefix("## ") {
            flush(&mut out, &mut paragraph);
            let _ = writeln!(out, "<h4>{}</h4>", esc(heading));
        } else if line.trim().is_empty() {
            flush(&mut out, &mut paragraph);
        } else {
            paragraph.push(line.trim());
        }
    }
    flush(&mut out, &mut paragraph);
    out
}

fn band_class(score: Option<f64>) -> &'static str {
    match score.map(Band::of) {
        Some(Band::NoAction) => "band-ok",
        Some(Band::Minor) => "band-minor",
        Some(Band::Moderate) => "band-moderate",
        Some(Band::Significant) => "band-significant",
        Some(Band::Critical) => "band-critical",
        None => "muted",
    }
}

/// A half-circle gauge for a 0–10 score.
fn gauge(out: &mut String, title: &str, score: Option<f64>, note: &str, overall: bool) {
    let fraction = score.map_or(0.0, |s| (s / 10.0).clamp(0.0, 1.0));
    // The arc's length is π·r with r = 50.
    let length = std::f64::consts::PI * 50.0;
    let value = score.map_or_else(|| "not run".into(), |s| format!("{s:.1}"));
    let class = band_class(score);
    let _ = writeln!(
        out,
        "<div class=\"card gauge{}\"><svg viewBox=\"0 0 120 70\" role=\"img\" aria-label=\"{} score {}\"><path d=\"M10 60 A50 50 0 0 1 110 60\" fill=\"none\" stroke=\"#e2e6ec\" stroke-width=\"12\"/><path class=\"{class}\" d=\"M10 60 A50 50 0 0 1 110 60\" fill=\"none\" stroke=\"currentColor\" stroke-width=\"12\" stroke-dasharray=\"{:.1} {:.1}\"/></svg><div class=\"value {class}\">{}</div><div class=\"label\">{}</div><div class=\"muted\">{}</div></div>",
        if overall { " overall" } else { "" },
        esc(title),
        esc(&value),
        fraction * length,
        length,
        esc(&value),
        esc(title),
        esc(note)
    );
}

fn severity_chart(out: &mut String, report: &Report) {
    let counts = &report.scores.counts;
    let max = Severity::ALL
        .iter()
        .map(|s| counts.get(*s))
        .max()
        .unwrap_or(0)
        .max(1);
    let _ = writeln!(
        out,
        "<div class=\"card chart\"><div class=\"label\"><strong>Findings by severity</strong></div><svg id=\"severity-chart\" viewBox=\"0 0 320 120\" width=\"320\" height=\"120\" role=\"img\" aria-label=\"severity chart\">"
    );
    for (i, severity) in Severity::ALL.iter().enumerate() {
        let n = counts.get(*severity);
        #[allow(clippy::cast_precision_loss)]
        let width = 200.0 * n as f64 / max as f64;
        let y = 8 + i * 28;
        let color = match severity {
            Severity::Critical => "#9b1c1c",
            Severity::High => "#d9480f",
            Severity::Medium => "#b7791f",
            Severity::Low => "#2b6cb0",
        };
        let _ = writeln!(
            out,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text><rect x=\"76\" y=\"{y}\" width=\"{width:.1}\" height=\"18\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"{}\" font-size=\"12\">{n}</text>",
            y + 13,
            severity.label(),
            80.0 + width,
            y + 13
        );
    }
    out.push_str("</svg></div>\n");
}

/// Reads the audited files that findings point into, once each.
struct Sources<'r> {
    root: &'r Path,
    files: HashMap<String, Option<Vec<String>>>,
}

impl Sources<'_> {
    fn lines(&mut self, path: &str) -> Option<&Vec<String>> {
        let root = self.root;
        self.files
            .entry(path.to_string())
            .or_insert_with(|| {
                std::fs::read_to_string(root.join(path))
                    .ok()
                    .map(|t| t.lines().map(str::to_string).collect())
            })
            .as_ref()
    }

    /// Lines `from..=to` (1-based), the `mark` line highlighted.
    fn excerpt(&mut self, path: &str, from: u32, to: u32, mark: u32) -> Option<String> {
        let lines = self.lines(path)?;
        let mut out = String::from("<pre class=\"excerpt\"><code>");
        for n in from.max(1)..=to {
            let Some(text) = lines.get(n as usize - 1) else {
                break;
            };
            let row = format!("{n:>5} | {}", esc(text));
            if n == mark {
                let _ = writeln!(out, "<span class=\"hl\">{row}</span>");
            } else {
                let _ = writeln!(out, "{row}");
            }
        }
        out.push_str("</code></pre>");
        Some(out)
    }
}

fn details(out: &mut String, f: &Finding, sources: &mut Sources<'_>) {
    out.push_str("<tr class=\"details\" hidden><td colspan=\"6\">");
    let _ = write!(
        out,
        "<p><strong>Why:</strong> {}</p><p><strong>Fix:</strong> {}</p><p class=\"muted\">Runs in: {} <code>{}</code> · effort {:?} · <a href=\"#rule-{}\">rule documentation</a></p>",
        inline(&f.why),
        inline(&f.help),
        esc(f.context.label()),
        esc(&f.function),
        f.effort,
        esc(f.rule)
    );
    for note in &f.notes {
        let _ = write!(out, "<p><strong>Advisory:</strong> {}</p>", inline(note));
    }
    if !f.evidence.is_empty() {
        out.push_str("<h4>Path</h4><ol class=\"path\">");
        for step in super::execution_path(f) {
            let _ = write!(
                out,
                "<li><code>{}:{}</code> {}",
                esc(step.path),
                step.line,
                inline(step.label)
            );
            if !step.primary
                && let Some(code) = sources.excerpt(step.path, step.line, step.line, step.line)
            {
                out.push_str(&code);
            }
            out.push_str("</li>");
        }
        out.push_str("</ol>");
    }
    if let Some(code) = sources.excerpt(
        &f.path,
        f.line.saturating_sub(2),
        f.end_line.max(f.line) + 2,
        f.line,
    ) {
        out.push_str(&code);
    }
    out.push_str("</td></tr>\n");
}

fn findings_table(out: &mut String, report: &Report, sources: &mut Sources<'_>) {
    let files: BTreeSet<&str> = report.findings.iter().map(|f| f.path.as_str()).collect();
    out.push_str("<div class=\"filters no-print\" id=\"filters\">");
    out.push_str(
        "<label>Category<select id=\"filter-category\"><option value=\"\">All categories</option>",
    );
    for c in Category::ALL {
        let _ = write!(
            out,
            "<option value=\"{}\">{}</option>",
            c.code(),
            esc(c.title())
        );
    }
    out.push_str("</select></label><label>Severity<select id=\"filter-severity\"><option value=\"\">All severities</option>");
    for s in Severity::ALL {
        let _ = write!(out, "<option value=\"{0}\">{0}</option>", s.label());
    }
    out.push_str("</select></label><label>File<select id=\"filter-file\"><option value=\"\">All files</option>");
    for file in &files {
        let _ = write!(out, "<option value=\"{0}\">{0}</option>", esc(file));
    }
    let _ = writeln!(
        out,
        "</select></label><span class=\"muted\">Showing <strong id=\"shown-count\">{}</strong> of {} · click a row for the code and the path</span></div>",
        report.findings.len(),
        report.findings.len()
    );
    if report.findings.is_empty() {
        out.push_str("<p class=\"card empty\">No findings.</p>\n");
        return;
    }
    out.push_str("<table id=\"findings\"><thead><tr><th>Severity</th><th>Rule</th><th>Location</th><th>Issue</th><th>Category</th><th>Effort</th></tr></thead><tbody>\n");
    for f in report.prioritized() {
        let _ = writeln!(
            out,
            "<tr class=\"finding\" data-category=\"{}\" data-severity=\"{}\" data-file=\"{}\"><td><span class=\"sev sev-{1}\">{1}</span></td><td><a href=\"#rule-{4}\">{4}</a><br><span class=\"muted\">{5}</span></td><td><code>{2}:{3}</code></td><td>{6}</td><td>{7}</td><td>{8:?}</td></tr>",
            f.category.code(),
            f.severity.label(),
            esc(&f.path),
            f.line,
            esc(f.rule),
            esc(f.name),
            inline(&f.message),
            esc(f.category.title()),
            f.effort
        );
        details(out, f, sources);
    }
    out.push_str("</tbody></table>\n");
}

fn advisory(out: &mut String, report: &Report) {
    out.push_str("<h2 id=\"advisory\">Advisory Findings</h2><p class=\"muted\">Kept for information; not counted in the score.</p><table><thead><tr><th>Severity</th><th>Rule</th><th>Location</th><th>Issue</th><th>Why advisory</th></tr></thead><tbody>\n");
    for f in &report.advisory {
        let _ = writeln!(
            out,
            "<tr><td><span class=\"sev sev-{0}\">{0}</span></td><td>{1}</td><td><code>{2}:{3}</code></td><td>{4}</td><td>{5}</td></tr>",
            f.severity.label(),
            esc(f.rule),
            esc(&f.path),
            f.line,
            inline(&f.message),
            inline(&f.notes.join("; "))
        );
    }
    out.push_str("</tbody></table>\n");
}

fn rule_docs(out: &mut String, report: &Report) {
    let fired: BTreeSet<&str> = report
        .findings
        .iter()
        .chain(&report.advisory)
        .map(|f| f.rule)
        .collect();
    out.push_str("<h2 id=\"rules\">Rule Documentation</h2>\n");
    if fired.is_empty() {
        out.push_str("<p>No rule fired.</p>\n");
    }
    for id in fired {
        let Some(rule) = registry::find(id) else {
            continue;
        };
        let meta = rule.meta();
        let _ = writeln!(
            out,
            "<section class=\"rule-doc\" id=\"rule-{}\"><h3>{} {} <span class=\"muted\">({}, default {})</span></h3><p>{}</p>{}",
            esc(meta.id),
            esc(meta.id),
            esc(meta.name),
            esc(meta.category.title()),
            meta.severity.label(),
            inline(meta.summary),
            markdown(&meta.documentation())
        );
        if !meta.sources.is_empty() {
            out.push_str("<h4>Sources</h4><ul>");
            for s in meta.sources {
                let _ = write!(
                    out,
                    "<li><a href=\"{}\">{}</a></li>",
                    esc(s.url),
                    esc(s.title)
                );
            }
            out.push_str("</ul>");
        }
        out.push_str("</section>\n");
    }
}

fn trailer(out: &mut String, report: &Report) {
    if !report.meta.is_empty() {
        out.push_str("<h2>Suppression Problems</h2><ul>");
        for m in &report.meta {
            let _ = write!(
                out,
                "<li><code>{}:{}</code> {} {}</li>",
                esc(&m.path),
                m.line,
                esc(m.rule),
                inline(&m.message)
            );
        }
        out.push_str("</ul>\n");
    }
    out.push_str("<h2>Sources Consulted</h2><ul>");
    for s in &report.sources {
        let _ = write!(
            out,
            "<li><a href=\"{}\">{}</a> ({})</li>",
            esc(&s.url),
            esc(&s.title),
            esc(&s.rules.join(", "))
        );
    }
    out.push_str("</ul>\n");
    if !report.warnings.is_empty() {
        out.push_str("<h2>Run Warnings</h2><ul>");
        for w in &report.warnings {
            let place = match (&w.path, w.line) {
                (Some(p), Some(l)) => format!("<code>{}:{l}</code> ", esc(p)),
                (Some(p), None) => format!("<code>{}</code> ", esc(p)),
                _ => String::new(),
            };
            let _ = write!(out, "<li>{place}{}</li>", esc(&w.message));
        }
        out.push_str("</ul>\n");
    }
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let title = format!("Persistence & Performance Audit Report - {}", report.date);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\"><link rel=\"icon\" href=\"data:,\"><title>{}</title><script>{ERROR_CAPTURE}</script><style>{CSS}</style></head><body><main>\n",
        esc(&title)
    );
    let _ = writeln!(
        out,
        "<h1>{}</h1><p class=\"muted\">Audited <code>{}</code>: {} files, {} lines, with weir {}.{}</p>",
        esc(&title),
        esc(&report.summary.root),
        report.summary.files,
        report.summary.lines,
        esc(report.version),
        super::text::filtered_note(report).map_or_else(String::new, |n| format!(" {}", esc(&n)))
    );
    out.push_str("<h2>Compliance Score</h2><div class=\"cards\" id=\"scores\">\n");
    let overall_note = report.scores.overall_band.map_or("", Band::label);
    gauge(
        &mut out,
        "Overall",
        report.scores.overall,
        overall_note,
        true,
    );
    for c in &report.scores.categories {
        gauge(&mut out, c.category.title(), c.score, &c.note, false);
    }
    severity_chart(&mut out, report);
    out.push_str("</div>\n<h2>Findings</h2>\n");
    let mut sources = Sources {
        root: Path::new(&report.summary.root),
        files: HashMap::new(),
    };
    findings_table(&mut out, report, &mut sources);
    if !report.advisory.is_empty() {
        advisory(&mut out, report);
    }
    rule_docs(&mut out, report);
    trailer(&mut out, report);
    let _ = writeln!(
        out,
        "<pre id=\"weir-selftest\" hidden></pre><footer>weir {} · {}</footer></main><script>{JS}</script></body></html>",
        esc(report.version),
        esc(&report.date)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_formats_inline_code() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(inline("use `a<b` here"), "use <code>a&lt;b</code> here");
        let html =
            markdown("## What it does\nFinds `x`.\n\n```python\nfor a in b:\n    q()\n```\n");
        assert!(html.contains("<h4>What it does</h4>"));
        assert!(html.contains("<pre><code>for a in b:\n    q()</code></pre>"));
    }
}
