//! The rule framework: metadata declared once per rule, with its user
//! documentation in the doc comment, and a builder for findings.

use weir_ir::{Language, Span};

use crate::facts::{ExecContext, FunctionFacts};
use crate::project::Summaries;
use crate::report::{Category, Effort, Evidence, Finding, Severity};

/// Official documentation a rule rests on; listed under Sources Consulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    pub title: &'static str,
    pub url: &'static str,
    /// The knowledge pack the page is about (`"django"`); listed only when
    /// that pack is on for the project. `None` for general documentation.
    pub pack: Option<&'static str>,
}

#[derive(Debug)]
pub struct RuleMeta {
    /// `QE-07`
    pub id: &'static str,
    /// `query-in-loop`
    pub name: &'static str,
    pub category: Category,
    pub summary: &'static str,
    /// Severity in a request handler (and in code of unknown context).
    pub severity: Severity,
    /// Severity in a background job, when it differs.
    pub job: Option<Severity>,
    /// Severity in init/CLI/migration code; one level down when `None`.
    pub init: Option<Severity>,
    pub effort: Effort,
    pub languages: &'static [Language],
    pub sources: &'static [Source],
    /// The user documentation: What it does / Why is this bad / Example /
    /// Use instead / Known limitations.
    pub doc: &'static str,
}

impl RuleMeta {
    pub fn severity_in(&self, context: ExecContext) -> Severity {
        match context {
            ExecContext::RequestHandler | ExecContext::Other => self.severity,
            ExecContext::BackgroundJob => self.job.unwrap_or(self.severity),
            ExecContext::Init | ExecContext::Migration | ExecContext::Test => {
                self.init.unwrap_or(self.severity.down())
            }
        }
    }

    /// The doc comment with the one leading space of `///` lines removed.
    pub fn documentation(&self) -> String {
        self.doc
            .lines()
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// What a rule sees: the facts of one function (through `Deref`) and the
/// project-wide summaries of the functions it calls.
pub struct Cx<'a, 'ir> {
    pub facts: &'a FunctionFacts<'ir>,
    pub summaries: &'a Summaries,
    /// The tunable sizes (`[tool.weir.thresholds]`): the transaction-length
    /// bound, the session usage ratio, the wide-model width…
    pub thresholds: &'a crate::thresholds::Thresholds,
}

impl<'ir> std::ops::Deref for Cx<'_, 'ir> {
    type Target = FunctionFacts<'ir>;

    fn deref(&self) -> &Self::Target {
        self.facts
    }
}

pub trait Rule: Send + Sync {
    fn meta(&self) -> &'static RuleMeta;
    /// Reports the rule's findings in one function.
    fn check(&self, cx: &Cx<'_, '_>, out: &mut Vec<Finding>);
}

/// Declares a rule struct whose doc comment becomes `RuleMeta::doc`.
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident;
        $($field:ident: $value:expr),* $(,)?
    ) => {
        $(#[doc = $doc])*
        pub struct $name;

        impl $name {
            pub const META: $crate::rule::RuleMeta = $crate::rule::RuleMeta {
                doc: concat!($($doc, "\n"),*),
                $($field: $value),*
            };
        }
    };
}

/// Builds a finding at `span` inside the function `facts` describes.
pub fn finding(
    meta: &'static RuleMeta,
    facts: &FunctionFacts<'_>,
    span: Span,
    message: impl Into<String>,
) -> Finding {
    Finding {
        rule: meta.id,
        name: meta.name,
        category: meta.category,
        severity: meta.severity_in(facts.context),
        effort: meta.effort,
        path: facts.module.path.clone(),
        line: span.line,
        col: span.col,
        end_line: span.end_line,
        range: (span.start, span.end),
        function: facts.function.qualname.clone(),
        context: facts.context,
        message: message.into(),
        why: String::new(),
        help: String::new(),
        evidence: Vec::new(),
        advisory: false,
        notes: Vec::new(),
        fingerprint: String::new(),
    }
}

impl Finding {
    #[must_use]
    pub fn why(mut self, why: impl Into<String>) -> Self {
        self.why = why.into();
        self
    }

    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = help.into();
        self
    }

    #[must_use]
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    #[must_use]
    pub fn evidence(mut self, path: &str, line: u32, label: impl Into<String>) -> Self {
        self.evidence.push(Evidence {
            path: path.to_string(),
            line,
            label: label.into(),
        });
        self
    }
}

pub const PYTHON: &[Language] = &[Language::Python];
