//! Inline suppressions (SPEC §3): `# weir: ignore[QE-07] reason` on the
//! finding's line or on its own line just above, and
//! `# weir: file-ignore[QE-07] reason` anywhere in a file.
//!
//! Like ruff's `noqa` with RUF100, weir checks its own directives: a
//! suppression that silences nothing is reported as SUP-01
//! (unused-suppression), and one without a reason, naming an unknown rule or
//! not written as `ignore[...]` is reported as SUP-02 (invalid-suppression)
//! and silences nothing. Both are meta findings: listed with the findings,
//! out of the four categories and the score, and switched off like any rule
//! (`ignore = ["SUP-01"]`).

use weir_ir::{Comment, Module};

use crate::report::{Category, Finding, MetaFinding};

/// A rule about weir's own directives.
#[derive(Debug)]
pub struct MetaRule {
    pub id: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
    pub doc: &'static str,
}

pub const UNUSED: MetaRule = MetaRule {
    id: "SUP-01",
    name: "unused-suppression",
    summary: "a `# weir: ignore[...]` comment that silences no finding",
    doc: "## What it does\nReports a suppression comment, or one rule id in it, that no finding matched: the problem was fixed, the code moved, or the id is wrong.\n\n## Why is this bad\nStale suppressions hide the next real finding on that line and mislead readers about the code.\n\n## Example\n```python\nfor job in jobs:\n    job.status = \"done\"  # weir: ignore[QE-07] batch is tiny\n```\n\n## Use instead\nDelete the comment, or the unused id from it.\n\n## Known limitations\nIds of rules that are switched off by the configuration are not reported, as ruff does for disabled codes.",
};

pub const INVALID: MetaRule = MetaRule {
    id: "SUP-02",
    name: "invalid-suppression",
    summary: "a malformed `# weir:` comment: no reason, unknown rule, bad syntax",
    doc: "## What it does\nReports `# weir:` comments that weir cannot honour: `ignore` without `[rule ids]`, an id that names no rule or category, a missing reason, or an unknown directive. Such a comment silences nothing.\n\n## Why is this bad\nA suppression is a decision; the reason tells the next reader why the finding does not apply here.\n\n## Example\n```python\nsession.commit()  # weir: ignore[TX-07]\n```\n\n## Use instead\n```python\nsession.commit()  # weir: ignore[TX-07] one commit per tenant is required by the billing export\n```\n\n## Known limitations\nNone.",
};

pub const META_RULES: [&MetaRule; 2] = [&UNUSED, &INVALID];

/// Looks a meta rule up by id or name.
pub fn find_meta(key: &str) -> Option<&'static MetaRule> {
    META_RULES
        .into_iter()
        .find(|r| r.id.eq_ignore_ascii_case(key) || r.name.eq_ignore_ascii_case(key))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    /// The lines of the finding the comment is on (trailing) or precedes.
    Lines,
    File,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Directive {
    scope: Scope,
    codes: Vec<String>,
}

/// Parses the `weir:` directive in a comment: `None` when there is none,
/// `Err(problem)` when it is malformed.
fn parse(text: &str) -> Option<Result<Directive, String>> {
    let at = directive_start(text)?;
    let rest = text[at + "weir:".len()..].trim_start();
    let word_end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(rest.len());
    let (word, rest) = rest.split_at(word_end);
    let scope = match word {
        "ignore" => Scope::Lines,
        "file-ignore" => Scope::File,
        other => {
            return Some(Err(format!(
                "unknown directive `weir: {other}`; use `# weir: ignore[RULE] reason` or `# weir: file-ignore[RULE] reason`"
            )));
        }
    };
    let Some(rest) = rest.trim_start().strip_prefix('[') else {
        return Some(Err(format!(
            "`weir: {word}` must name the rules it silences: `# weir: {word}[QE-07] reason`"
        )));
    };
    let Some(close) = rest.find(']') else {
        return Some(Err(format!("`weir: {word}[` is missing its `]`")));
    };
    let codes: Vec<String> = rest[..close]
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|c| !c.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    if codes.is_empty() {
        return Some(Err(format!(
            "`weir: {word}[]` names no rule: `# weir: {word}[QE-07] reason`"
        )));
    }
    let reason = rest[close + 1..]
        .trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '-' | '—' | '–'))
        .trim();
    if reason.is_empty() {
        return Some(Err(format!(
            "`weir: {word}[{}]` needs a reason after the `]`: why does the finding not apply here?",
            codes.join(", ")
        )));
    }
    Some(Ok(Directive { scope, codes }))
}

/// Where `weir:` starts, when it follows the comment marker (`# weir:`,
/// `// weir:`, or a later `# weir:` in a chained comment like `# noqa # weir:`).
fn directive_start(text: &str) -> Option<usize> {
    text.match_indices("weir:")
        .map(|(i, _)| i)
        .find(|&i| text[..i].trim_end().ends_with(['#', '/']))
}

/// A code in a directive: a rule id (`QE-07`) or a category (`QE`).
fn is_known_code(code: &str) -> bool {
    crate::registry::find(code).is_some()
        || find_meta(code).is_some()
        || Category::ALL.iter().any(|c| c.code() == code)
}

fn matches(code: &str, finding: &Finding) -> bool {
    code == finding.rule
        || finding
            .rule
            .strip_prefix(code)
            .is_some_and(|rest| rest.starts_with('-'))
}

struct Parsed<'m> {
    comment: &'m Comment,
    directive: Directive,
    /// The lines a line directive covers: its own (trailing) or the next code line.
    target_line: u32,
    used: Vec<bool>,
}

/// What applying the suppressions left.
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub suppressed: usize,
    pub meta: Vec<MetaFinding>,
}

/// Removes the findings the comments suppress and reports unused and
/// invalid suppressions. `is_enabled(code)` tells whether a rule id or
/// category runs at all (unused ids of disabled rules are not reported).
pub fn apply(
    modules: &[Module],
    findings: Vec<Finding>,
    is_enabled: &dyn Fn(&str) -> bool,
) -> Outcome {
    let mut meta = Vec::new();
    let mut by_path: crate::collections::HashMap<&str, Vec<Parsed<'_>>> =
        crate::collections::HashMap::default();
    for module in modules {
        let own_lines: crate::collections::HashSet<u32> = module
            .comments
            .iter()
            .filter(|c| !c.trailing)
            .map(|c| c.line)
            .collect();
        for comment in &module.comments {
            let Some(parsed) = parse(&comment.text) else {
                continue;
            };
            let mut directive = match parsed {
                Ok(directive) => directive,
                Err(problem) => {
                    meta.push(meta_finding(&INVALID, module, comment.line, problem));
                    continue;
                }
            };
            let (known, unknown): (Vec<String>, Vec<String>) =
                directive.codes.drain(..).partition(|c| is_known_code(c));
            for code in unknown {
                meta.push(meta_finding(
                    &INVALID,
                    module,
                    comment.line,
                    format!("`{code}` is not a weir rule or category; `weir rules` lists them"),
                ));
            }
            if known.is_empty() {
                continue;
            }
            directive.codes = known;
            let mut target_line = comment.line;
            if !comment.trailing {
                // A comment on its own line speaks about the next line of code.
                target_line += 1;
                while own_lines.contains(&target_line) {
                    target_line += 1;
                }
            }
            let used = vec![false; directive.codes.len()];
            by_path.entry(&module.path).or_default().push(Parsed {
                comment,
                directive,
                target_line,
                used,
            });
        }
    }

    let mut kept = Vec::with_capacity(findings.len());
    let mut suppressed = 0;
    for finding in findings {
        let mut hit = false;
        if let Some(directives) = by_path.get_mut(finding.path.as_str()) {
            for parsed in directives.iter_mut() {
                let covers = match parsed.directive.scope {
                    Scope::File => true,
                    Scope::Lines => {
                        finding.line <= parsed.target_line && parsed.target_line <= finding.end_line
                    }
                };
                if !covers {
                    continue;
                }
                for (i, code) in parsed.directive.codes.iter().enumerate() {
                    if matches(code, &finding) {
                        parsed.used[i] = true;
                        hit = true;
                    }
                }
            }
        }
        if hit {
            suppressed += 1;
        } else {
            kept.push(finding);
        }
    }

    for module in modules {
        let Some(directives) = by_path.get(module.path.as_str()) else {
            continue;
        };
        for parsed in directives {
            for (code, used) in parsed.directive.codes.iter().zip(&parsed.used) {
                if *used || !is_enabled(code) {
                    continue;
                }
                let place = match parsed.directive.scope {
                    Scope::File => "in this file".to_string(),
                    Scope::Lines => format!("on line {}", parsed.target_line),
                };
                meta.push(meta_finding(
                    &UNUSED,
                    module,
                    parsed.comment.line,
                    format!("unused suppression: no {code} finding {place}"),
                ));
            }
        }
    }
    meta.sort();
    Outcome {
        findings: kept,
        suppressed,
        meta,
    }
}

fn meta_finding(rule: &MetaRule, module: &Module, line: u32, message: String) -> MetaFinding {
    MetaFinding {
        path: module.path.clone(),
        line,
        rule: rule.id,
        name: rule.name,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_directive_forms() {
        assert_eq!(parse("# just a comment"), None);
        assert_eq!(parse("# see weir: docs"), None, "not a directive");
        let ok = parse("# weir: ignore[QE-07, tx-04] the list has three items")
            .unwrap()
            .unwrap();
        assert_eq!(ok.scope, Scope::Lines);
        assert_eq!(ok.codes, vec!["QE-07", "TX-04"]);
        let file = parse("# noqa: E501 # weir: file-ignore[RT] — legacy module")
            .unwrap()
            .unwrap();
        assert_eq!(file.scope, Scope::File);
        assert!(
            parse("# weir: ignore[QE-07]").unwrap().is_err(),
            "no reason"
        );
        assert!(parse("# weir: ignore because").unwrap().is_err(), "no ids");
        assert!(parse("# weir: ignore[QE-07 reason").unwrap().is_err());
        assert!(parse("# weir: disable[QE-07] x").unwrap().is_err());
        assert!(parse("// weir: ignore[QE-07] go code").unwrap().is_ok());
    }

    #[test]
    fn codes_match_ids_and_categories() {
        let mut f = crate::audit::placeholder();
        f.rule = "QE-07";
        assert!(matches("QE-07", &f));
        assert!(matches("QE", &f));
        assert!(!matches("QE-0", &f));
        assert!(!matches("TX", &f));
    }
}
