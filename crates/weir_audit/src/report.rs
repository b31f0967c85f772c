//! The report model: findings and everything the renderers show. Scores are
//! computed once here, so every format agrees.

use serde::Serialize;

use crate::context::ProjectContext;
use crate::facts::ExecContext;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    /// One level less severe (LOW stays LOW).
    #[must_use]
    pub fn down(self) -> Severity {
        match self {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            Severity::Medium | Severity::Low => Severity::Low,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
        }
    }

    /// Weight in the category score (SPEC §4).
    pub fn penalty(self) -> f64 {
        match self {
            Severity::Critical => 2.0,
            Severity::High => 1.0,
            Severity::Medium => 0.5,
            Severity::Low => 0.2,
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        match text.to_ascii_lowercase().as_str() {
            "critical" => Some(Severity::Critical),
            "high" => Some(Severity::High),
            "medium" => Some(Severity::Medium),
            "low" => Some(Severity::Low),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    QueryEfficiency,
    TransactionCorrectness,
    RuntimePerformance,
    ResourceLifecycle,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::QueryEfficiency,
        Category::TransactionCorrectness,
        Category::RuntimePerformance,
        Category::ResourceLifecycle,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Category::QueryEfficiency => "Query Efficiency",
            Category::TransactionCorrectness => "Transaction Correctness",
            Category::RuntimePerformance => "Runtime Performance",
            Category::ResourceLifecycle => "Resource Lifecycle",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Category::QueryEfficiency => "QE",
            Category::TransactionCorrectness => "TX",
            Category::RuntimePerformance => "RT",
            Category::ResourceLifecycle => "RL",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Effort {
    /// Under an hour.
    S,
    /// One to four hours.
    M,
    /// More than four hours.
    L,
}

/// A related location: the loop header, the `begin()`, the acquisition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub path: String,
    pub line: u32,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub name: &'static str,
    pub category: Category,
    pub severity: Severity,
    pub effort: Effort,
    pub path: String,
    pub line: u32,
    pub col: u32,
    pub end_line: u32,
    /// Byte range of the primary span, for code frames.
    #[serde(skip)]
    pub range: (u32, u32),
    /// Qualified name of the enclosing function (`<module>` for top level).
    pub function: String,
    pub context: ExecContext,
    /// What is wrong.
    pub message: String,
    /// Why it matters: the principle.
    pub why: String,
    /// What to do instead.
    pub help: String,
    pub evidence: Vec<Evidence>,
    pub advisory: bool,
    /// Why the context rules (SPEC §3) changed the finding: the ADR or the
    /// comment that documents the choice, the mitigating facts counted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Identifies the finding across unrelated edits and moved lines (rule,
    /// file, enclosing function, normalised code; see `baseline.rs`). Empty
    /// until the run fills it in.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fingerprint: String,
}

impl Finding {
    /// Sort key: location first, so output is stable whatever the thread count.
    pub fn sort_key(&self) -> (&str, u32, u32, &str) {
        (&self.path, self.line, self.col, self.rule)
    }
}

/// A problem with the run itself, tied to a file when it has one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Warning {
    pub path: Option<String>,
    pub line: Option<u32>,
    pub kind: WarningKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// The file had syntax errors; it was analysed where the parser recovered.
    SyntaxError,
    /// The file could not be read (permissions, vanished, not UTF-8, too large).
    Unreadable,
    /// weir failed on this file; the rest of the run is complete.
    InternalError,
    /// The file nests code deeper than weir follows; the code below the
    /// cut was not audited, the rest of the file was.
    TooDeep,
    Config,
    /// Stack discovery could not read a manifest, compose file, or SQL
    /// statement; the rest of discovery and the audit went on.
    Discovery,
}

/// A finding of a meta rule about weir's own directives (SUP-01 unused
/// suppression, SUP-02 invalid suppression), like ruff's RUF100: outside
/// the four categories and the score.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct MetaFinding {
    pub path: String,
    pub line: u32,
    pub rule: &'static str,
    pub name: &'static str,
    pub message: String,
}

/// Official documentation behind a rule that fired.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SourceRef {
    pub title: String,
    pub url: String,
    pub rules: Vec<String>,
}

/// What was audited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub root: String,
    pub files: usize,
    pub lines: u64,
    /// Files skipped by default filters that a user may want to know about.
    pub skipped_tests: usize,
    pub packs: Vec<String>,
}

pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// The whole audit: what every renderer reads. Built once; scores are
/// computed here and nowhere else.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: &'static str,
    pub version: &'static str,
    /// `YYYY-MM-DD`
    pub date: String,
    pub summary: RunSummary,
    pub scores: crate::score::Scores,
    /// Findings that count, sorted by location.
    pub findings: Vec<Finding>,
    /// Findings kept for information, out of the score (SPEC §3).
    pub advisory: Vec<Finding>,
    pub warnings: Vec<Warning>,
    pub sources: Vec<SourceRef>,
    /// The context store every auditor read (SPEC §1 step 2).
    pub context: ProjectContext,
    /// Findings silenced by `# weir: ignore[...]` comments.
    pub suppressed: usize,
    /// Findings already in the baseline (`--baseline`), neither shown nor scored.
    pub baselined: usize,
    /// Unused and invalid suppressions (SUP-01, SUP-02).
    pub meta: Vec<MetaFinding>,
}

impl Report {
    pub fn new(
        date: String,
        summary: RunSummary,
        all: Vec<Finding>,
        warnings: Vec<Warning>,
        not_run: &[(Category, String)],
        context: ProjectContext,
    ) -> Self {
        let scores = crate::score::score(&all, not_run);
        let sources = sources_for(&all, &summary.packs, &context);
        let (advisory, findings) = all.into_iter().partition(|f| f.advisory);
        Report {
            schema_version: REPORT_SCHEMA_VERSION,
            tool: "weir",
            version: env!("CARGO_PKG_VERSION"),
            date,
            summary,
            scores,
            findings,
            advisory,
            warnings,
            sources,
            context,
            suppressed: 0,
            baselined: 0,
            meta: Vec::new(),
        }
    }

    /// Records what the suppressions and the baseline took out (they were
    /// removed before scoring) and the meta findings about the suppressions.
    #[must_use]
    pub fn with_filtered(
        mut self,
        suppressed: usize,
        baselined: usize,
        meta: Vec<MetaFinding>,
    ) -> Self {
        self.suppressed = suppressed;
        self.baselined = baselined;
        self.meta = meta;
        self
    }

    /// Findings in priority order: severity, then category, then location.
    pub fn prioritized(&self) -> Vec<&Finding> {
        let mut sorted: Vec<&Finding> = self.findings.iter().collect();
        sorted.sort_by(|a, b| {
            (a.severity, a.category, a.sort_key()).cmp(&(b.severity, b.category, b.sort_key()))
        });
        sorted
    }

    pub fn highest_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).min()
    }
}

fn cite<'u>(
    by_url: &mut std::collections::BTreeMap<&'u str, SourceRef>,
    title: &str,
    url: &'u str,
    rule: &str,
) {
    let entry = by_url.entry(url).or_insert_with(|| SourceRef {
        title: title.to_string(),
        url: url.to_string(),
        rules: Vec::new(),
    });
    if !entry.rules.iter().any(|r| r == rule) {
        entry.rules.push(rule.to_string());
    }
}

/// The documentation behind the rules that fired, for the project's stack:
/// each rule's own sources (those about a pack only when the pack is on),
/// then the best-practice notes of the stack on the rule's topics.
fn sources_for(findings: &[Finding], packs: &[String], context: &ProjectContext) -> Vec<SourceRef> {
    let mut by_url: std::collections::BTreeMap<&str, SourceRef> = std::collections::BTreeMap::new();
    let mut fired: Vec<&str> = findings.iter().map(|f| f.rule).collect();
    fired.sort_unstable();
    fired.dedup();
    for id in fired {
        let Some(rule) = crate::registry::find(id) else {
            continue;
        };
        for source in rule.meta().sources {
            if source.pack.is_some_and(|p| !packs.iter().any(|on| on == p)) {
                continue;
            }
            cite(&mut by_url, source.title, source.url, id);
        }
        for topic in crate::knowledge::notes::topics_of(id) {
            for note in context.notes_on(topic) {
                for source in &note.sources {
                    // A note citing a page a rule already cites (at an
                    // anchor) adds no new source.
                    let page = source.url.split('#').next().unwrap_or(&source.url);
                    let same_page = by_url
                        .keys()
                        .copied()
                        .find(|url| *url == source.url)
                        .or_else(|| {
                            by_url
                                .keys()
                                .copied()
                                .find(|url| url.split('#').next() == Some(page))
                        });
                    match same_page {
                        Some(url) => cite(&mut by_url, &source.title, url, id),
                        None => cite(&mut by_url, &source.title, &source.url, id),
                    }
                }
            }
        }
    }
    let mut sources: Vec<SourceRef> = by_url.into_values().collect();
    sources.sort_by(|a, b| (&a.rules, &a.title).cmp(&(&b.rules, &b.title)));
    sources
}
