//! Scoring, exactly as SPEC §4: per category
//! `max(0, 10 − (2·critical + 1·high + 0.5·medium + 0.2·low))`, one decimal,
//! advisory findings excluded; overall = mean of the categories that ran.

use serde::Serialize;

use crate::report::{Category, Finding, Severity};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SeverityCounts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
}

impl SeverityCounts {
    pub fn add(&mut self, severity: Severity) {
        match severity {
            Severity::Critical => self.critical += 1,
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
        }
    }

    pub fn get(&self, severity: Severity) -> usize {
        match severity {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
        }
    }

    pub fn total(&self) -> usize {
        self.critical + self.high + self.medium + self.low
    }

    #[allow(clippy::cast_precision_loss)] // counts are far below 2^52
    fn penalty(&self) -> f64 {
        Severity::ALL
            .iter()
            .map(|s| s.penalty() * self.get(*s) as f64)
            .sum()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    NoAction,
    Minor,
    Moderate,
    Significant,
    Critical,
}

impl Band {
    pub fn of(score: f64) -> Band {
        if score >= 10.0 {
            Band::NoAction
        } else if score >= 8.0 {
            Band::Minor
        } else if score >= 6.0 {
            Band::Moderate
        } else if score >= 4.0 {
            Band::Significant
        } else {
            Band::Critical
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Band::NoAction => "no action needed",
            Band::Minor => "minor issues",
            Band::Moderate => "moderate issues",
            Band::Significant => "significant issues",
            Band::Critical => "critical issues",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryScore {
    pub category: Category,
    /// `None` when the category could not run.
    pub score: Option<f64>,
    pub band: Option<Band>,
    pub counts: SeverityCounts,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    pub categories: Vec<CategoryScore>,
    pub overall: Option<f64>,
    pub overall_band: Option<Band>,
    pub counts: SeverityCounts,
}

fn one_decimal(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// Scores the non-advisory findings; `not_run` names categories that could
/// not run (with the reason), which get no score and do not count in the mean.
pub fn score(findings: &[Finding], not_run: &[(Category, String)]) -> Scores {
    let mut categories = Vec::new();
    let mut total = SeverityCounts::default();
    for category in Category::ALL {
        let mut counts = SeverityCounts::default();
        for finding in findings
            .iter()
            .filter(|f| f.category == category && !f.advisory)
        {
            counts.add(finding.severity);
            total.add(finding.severity);
        }
        if let Some((_, reason)) = not_run.iter().find(|(c, _)| *c == category) {
            categories.push(CategoryScore {
                category,
                score: None,
                band: None,
                counts,
                note: format!("not run: {reason}"),
            });
            continue;
        }
        let score = one_decimal((10.0 - counts.penalty()).max(0.0));
        categories.push(CategoryScore {
            category,
            score: Some(score),
            band: Some(Band::of(score)),
            counts,
            note: note(&counts),
        });
    }
    let ran: Vec<f64> = categories.iter().filter_map(|c| c.score).collect();
    #[allow(clippy::cast_precision_loss)]
    let overall =
        (!ran.is_empty()).then(|| one_decimal(ran.iter().sum::<f64>() / ran.len() as f64));
    Scores {
        categories,
        overall,
        overall_band: overall.map(Band::of),
        counts: total,
    }
}

fn note(counts: &SeverityCounts) -> String {
    if counts.total() == 0 {
        return "no findings".into();
    }
    Severity::ALL
        .iter()
        .filter(|s| counts.get(**s) > 0)
        .map(|s| format!("{} {}", counts.get(*s), s.label().to_ascii_lowercase()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_follow_the_spec() {
        assert_eq!(Band::of(10.0), Band::NoAction);
        assert_eq!(Band::of(9.9), Band::Minor);
        assert_eq!(Band::of(8.0), Band::Minor);
        assert_eq!(Band::of(7.9), Band::Moderate);
        assert_eq!(Band::of(6.0), Band::Moderate);
        assert_eq!(Band::of(5.9), Band::Significant);
        assert_eq!(Band::of(4.0), Band::Significant);
        assert_eq!(Band::of(3.9), Band::Critical);
    }

    #[test]
    fn rounds_to_one_decimal_and_floors_at_zero() {
        let counts = SeverityCounts {
            critical: 1,
            high: 2,
            medium: 1,
            low: 3,
        };
        // 10 - (2 + 2 + 0.5 + 0.6) = 4.9
        assert!((one_decimal((10.0 - counts.penalty()).max(0.0)) - 4.9).abs() < 1e-9);
        let many = SeverityCounts {
            critical: 9,
            ..SeverityCounts::default()
        };
        assert!((one_decimal((10.0 - many.penalty()).max(0.0))).abs() < 1e-9);
    }
}
