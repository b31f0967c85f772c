//! The baseline: the findings a legacy code base already has, recorded once
//! (`weir audit --write-baseline FILE`) so that later runs (`--baseline
//! FILE`) show and score only new ones.
//!
//! A finding is recognised by its fingerprint: the rule, the file, the
//! enclosing function and the code at the finding with all whitespace
//! removed; never the line number, so edits elsewhere in the file and moved
//! lines keep it. Two identical findings in one function share a
//! fingerprint; the baseline counts them, and a third one is new.

use crate::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::report::Finding;

pub const BASELINE_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub tool: String,
    pub findings: Vec<BaselineEntry>,
}

/// One recorded finding; everything but `fingerprint` is for the reader.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BaselineEntry {
    pub fingerprint: String,
    pub rule: String,
    pub path: String,
    pub function: String,
    pub message: String,
}

/// Whitespace-free code, so reformatting and re-indenting keep the fingerprint.
pub fn normalise(snippet: &str) -> String {
    snippet.chars().filter(|c| !c.is_whitespace()).collect()
}

/// FNV-1a, 64 bits: stable across platforms and releases, unlike `std`'s hasher.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// The fingerprint of a finding whose primary code is `snippet`.
pub fn fingerprint(finding: &Finding, snippet: &str) -> String {
    format!(
        "{:016x}",
        fnv1a(&[
            finding.rule,
            &finding.path,
            &finding.function,
            &normalise(snippet)
        ])
    )
}

impl Baseline {
    /// Records `findings` (fingerprints filled in), sorted for stable diffs.
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Baseline {
        let mut entries: Vec<BaselineEntry> = findings
            .into_iter()
            .map(|f| BaselineEntry {
                fingerprint: f.fingerprint.clone(),
                rule: f.rule.to_string(),
                path: f.path.clone(),
                function: f.function.clone(),
                message: f.message.clone(),
            })
            .collect();
        entries.sort_by(|a, b| {
            (&a.path, &a.function, &a.rule, &a.fingerprint).cmp(&(
                &b.path,
                &b.function,
                &b.rule,
                &b.fingerprint,
            ))
        });
        Baseline {
            version: BASELINE_VERSION,
            tool: "weir".into(),
            findings: entries,
        }
    }

    /// Splits `findings` into the new ones and the number already recorded.
    pub fn filter(&self, findings: Vec<Finding>) -> (Vec<Finding>, usize) {
        let mut remaining: HashMap<&str, usize> = HashMap::default();
        for entry in &self.findings {
            *remaining.entry(entry.fingerprint.as_str()).or_default() += 1;
        }
        let mut known = 0;
        let fresh = findings
            .into_iter()
            .filter(|f| match remaining.get_mut(f.fingerprint.as_str()) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    known += 1;
                    false
                }
                _ => true,
            })
            .collect();
        (fresh, known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(function: &str, line: u32) -> Finding {
        let mut f = crate::audit::placeholder();
        f.rule = "QE-07";
        f.path = "app/api.py".into();
        f.function = function.into();
        f.line = line;
        f
    }

    #[test]
    fn fingerprints_ignore_lines_and_whitespace() {
        let a = fingerprint(&finding("list_jobs", 10), "session.get(Job,  id)");
        let b = fingerprint(&finding("list_jobs", 42), "session.get(\n    Job, id)");
        assert_eq!(a, b);
        assert_ne!(
            a,
            fingerprint(&finding("other", 10), "session.get(Job, id)")
        );
        assert_ne!(
            a,
            fingerprint(&finding("list_jobs", 10), "session.get(Item, id)")
        );
        assert_eq!(a.len(), 16);
    }

    #[test]
    fn the_baseline_counts_duplicates() {
        let mut one = finding("f", 1);
        one.fingerprint = "aa".into();
        let mut two = finding("f", 2);
        two.fingerprint = "aa".into();
        let mut other = finding("g", 3);
        other.fingerprint = "bb".into();
        let baseline = Baseline::of([&one]);
        let (fresh, known) = baseline.filter(vec![one.clone(), two, other]);
        assert_eq!(known, 1);
        assert_eq!(fresh.len(), 2);
    }
}
