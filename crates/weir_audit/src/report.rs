//! The report model: findings and everything the renderers show. Scores are
//! computed once here, so every format agrees.

use serde::Serialize;

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
    Config,
}
