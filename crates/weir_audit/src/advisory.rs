//! The context rules of SPEC §3: findings that a decision record or an
//! explanatory comment documents become advisory (listed apart, out of the
//! score), and performance findings drop one level for each mitigating fact,
//! three or more making them advisory.
//!
//! N+1 and N-UPDATE loops (QE-07, QE-02) in request handlers are never
//! downgraded nor made advisory: a team that accepts one there says so with
//! a suppression and its reason.

use crate::collections::HashMap;
use std::fmt::Write;

use weir_ir::expr::CollectionKind;
use weir_ir::visit::{walk_block_exprs, walk_expr, walk_stmts};
use weir_ir::{Call, Expr, ExprKind, Function, Literal, Module, StmtKind};

use crate::facts::ExecContext;
use crate::report::{Finding, Severity};
use crate::thresholds::Thresholds;

/// A project document the context rules read: an architecture decision
/// record, with its path relative to the audited root.
#[derive(Debug, Clone)]
pub struct ProjectDoc {
    pub path: String,
    pub text: String,
}

/// Where decision records live (SPEC §3), relative to the project root.
pub const ADR_DIRS: &[&str] = &[
    "docs/adr",
    "docs/adrs",
    "docs/decisions",
    "docs/reference/adrs",
];

/// Is `rel` (a path relative to the project root) a decision record?
pub fn is_adr_path(rel: &str) -> bool {
    let is_doc = rel.ends_with(".md") || rel.ends_with(".rst") || rel.ends_with(".txt");
    is_doc
        && (rel.starts_with("docs/adr")
            || rel.starts_with("docs/decisions/")
            || rel.starts_with("docs/reference/adrs/"))
}

/// Performance findings the mitigating facts apply to (SPEC §3).
pub const PERFORMANCE_RULES: &[&str] = &["RT-01", "RT-05", "QE-01", "TX-02", "RL-01", "RL-02"];
/// Never downgraded in request paths.
const LOOP_RULES: &[&str] = &["QE-07", "QE-02"];
/// Words of a comment that explains a choice.
const EXPLAINING_WORDS: &[&str] = &[
    "intentional",
    "by design",
    "deliberate",
    "on purpose",
    "adr-",
    "adr ",
    "we accept",
    "known trade-off",
];
/// Calls that bound the time of what runs near them.
const TIMEOUT_CALLS: &[&str] = &[
    "wait_for",
    "timeout",
    "timeout_at",
    "fail_after",
    "move_on_after",
    "settimeout",
];
/// How far (in lines) a timeout counts as nearby.
const NEARBY_LINES: u32 = 3;

pub fn apply(
    findings: &mut [Finding],
    modules: &[Module],
    docs: &[ProjectDoc],
    thresholds: &Thresholds,
) {
    let index = AdrIndex::new(docs);
    let by_path: HashMap<&str, &Module> = modules.iter().map(|m| (m.path.as_str(), m)).collect();
    for finding in findings.iter_mut() {
        if LOOP_RULES.contains(&finding.rule) && finding.context == ExecContext::RequestHandler {
            continue;
        }
        let module = by_path.get(finding.path.as_str()).copied();
        if let Some(note) = index.documents(finding) {
            finding.advisory = true;
            finding.notes.push(note);
        } else if let Some(note) = module.and_then(|m| explained_by_comment(finding, m)) {
            finding.advisory = true;
            finding.notes.push(note);
        }
        if PERFORMANCE_RULES.contains(&finding.rule) {
            mitigate(finding, module, thresholds);
        }
    }
}

/// The words and paths the decision records name, each with the first
/// record that names it: one pass over the records, then a lookup per finding.
struct AdrIndex<'d> {
    tokens: HashMap<&'d str, &'d str>,
}

impl<'d> AdrIndex<'d> {
    fn new(docs: &'d [ProjectDoc]) -> Self {
        let mut tokens = HashMap::default();
        for doc in docs {
            let is_token_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '/' | '-');
            for token in doc.text.split(|c: char| !is_token_char(c)) {
                // `routes.py.` at the end of a sentence; `./app/x.py`.
                let token = token.trim_end_matches(['.', '-']).trim_start_matches("./");
                if token.is_empty() {
                    continue;
                }
                tokens.entry(token).or_insert(doc.path.as_str());
                // `JobService.process_batch`, `repo/process_batch`.
                for part in token.split(['.', '/']) {
                    if !part.is_empty() {
                        tokens.entry(part).or_insert(doc.path.as_str());
                    }
                }
            }
        }
        AdrIndex { tokens }
    }

    /// A decision record that names the finding's file or function.
    fn documents(&self, finding: &Finding) -> Option<String> {
        if let Some(doc) = self.tokens.get(finding.path.as_str()) {
            return Some(format!("documented in {doc} (names `{}`)", finding.path));
        }
        let function = finding
            .function
            .rsplit('.')
            .next()
            .unwrap_or(&finding.function);
        // Short, common names (`main`, `get`) would match any prose.
        let distinctive = function != "<module>" && (function.contains('_') || function.len() >= 8);
        self.tokens
            .get(function)
            .filter(|_| distinctive)
            .map(|doc| format!("documented in {doc} (names `{function}`)"))
    }
}

/// A comment on the finding's line, or in the comment block just above it,
/// that says the code is so on purpose.
fn explained_by_comment(finding: &Finding, module: &Module) -> Option<String> {
    let mut lines = vec![finding.line];
    let mut above = finding.line.saturating_sub(1);
    while above > 0
        && module
            .comments
            .iter()
            .any(|c| c.line == above && !c.trailing)
    {
        lines.push(above);
        above -= 1;
    }
    module
        .comments
        .iter()
        .filter(|c| lines.contains(&c.line) && !c.text.contains("weir:"))
        .find(|c| {
            let text = c.text.to_lowercase();
            EXPLAINING_WORDS.iter().any(|w| text.contains(w))
        })
        .map(|c| {
            let text = c.text.trim_start_matches(['#', '/', ' ']).trim();
            format!("explained by the comment on line {}: \"{text}\"", c.line)
        })
}

/// Counts the mitigating facts and lowers the severity accordingly.
fn mitigate(finding: &mut Finding, module: Option<&Module>, thresholds: &Thresholds) {
    let mut facts: Vec<String> = Vec::new();
    if matches!(finding.context, ExecContext::Init | ExecContext::Migration) {
        facts.push("init/setup code".into());
    }
    if let Some(dir) = finding
        .path
        .split('/')
        .rev()
        .skip(1)
        .find(|seg| matches!(*seg, "tasks" | "jobs" | "cron"))
    {
        facts.push(format!("a file under {dir}/"));
    }
    let function = module.and_then(|m| m.functions.iter().find(|f| f.qualname == finding.function));
    if let Some(function) = function {
        if let Some(line) = nearby_timeout(finding, function) {
            facts.push(format!("a timeout on line {line}"));
        }
        if let Some(why) = small_data(finding, function, thresholds.small_collection) {
            facts.push(format!("provably small data ({why})"));
        }
    }
    if facts.is_empty() {
        return;
    }
    // The rule already lowered the severity for where the code runs; count
    // only the facts beyond those levels.
    let default =
        crate::registry::find(finding.rule).map_or(finding.severity, |r| r.meta().severity);
    let already = level(finding.severity).saturating_sub(level(default));
    let before = finding.severity;
    for _ in already..facts.len() {
        finding.severity = finding.severity.down();
    }
    let mut note = format!("mitigating facts: {}", facts.join(", "));
    if finding.severity != before {
        let _ = write!(
            note,
            "; severity lowered from {} to {}",
            before.label(),
            finding.severity.label()
        );
    }
    if facts.len() >= 3 {
        finding.advisory = true;
        note.push_str("; three or more make it advisory");
    }
    finding.notes.push(note);
}

fn level(severity: Severity) -> usize {
    Severity::ALL
        .iter()
        .position(|s| *s == severity)
        .unwrap_or(0)
}

fn last_name(call: &Call) -> Option<&str> {
    call.qualified
        .as_deref()
        .and_then(|q| q.rsplit('.').next())
        .or_else(|| call.method_name())
}

fn is_timeout_call(call: &Call) -> bool {
    last_name(call).is_some_and(|n| TIMEOUT_CALLS.contains(&n))
        || call.args.iter().any(|a| {
            a.name
                .as_deref()
                .is_some_and(|n| n == "timeout" || n.ends_with("_timeout"))
        })
}

/// A timeout in force around or within a few lines of the finding: a
/// `timeout=` argument, `asyncio.wait_for`, `async with asyncio.timeout(…)`,
/// `SET statement_timeout`.
fn nearby_timeout(finding: &Finding, function: &Function) -> Option<u32> {
    let near = |line: u32| line.abs_diff(finding.line) <= NEARBY_LINES;
    let mut found = None;
    walk_stmts(&function.body, &mut |stmt| {
        if let StmtKind::With { items, .. } = &stmt.kind
            && stmt.span.line <= finding.line
            && finding.line <= stmt.span.end_line
            && items
                .iter()
                .any(|i| i.context.unawaited().as_call().is_some_and(is_timeout_call))
        {
            found.get_or_insert(stmt.span.line);
        }
    });
    walk_block_exprs(&function.body, &mut |expr| {
        if !near(expr.span.line) {
            return;
        }
        let is_timeout = match &expr.kind {
            ExprKind::Call(call) => is_timeout_call(call),
            ExprKind::Literal(Literal::Str(s)) => {
                s.to_ascii_lowercase().contains("statement_timeout")
            }
            _ => false,
        };
        if is_timeout {
            found.get_or_insert(expr.span.line);
        }
    });
    found
}

/// The finding works on data that is provably small: a literal argument
/// (`json.loads('{"a": 1}')`), a loop over a short literal or `range(n)`,
/// or a query bounded by `.limit(n)`.
fn small_data(finding: &Finding, function: &Function, limit: u32) -> Option<String> {
    let limit = i64::from(limit);
    let mut why = None;
    walk_stmts(&function.body, &mut |stmt| {
        if let StmtKind::Loop(lp) = &stmt.kind
            && stmt.span.line < finding.line
            && finding.line <= stmt.span.end_line
            && let Some(iter) = &lp.iter
            && let Some(n) = literal_size(iter)
            && n <= limit
        {
            why.get_or_insert(format!("a loop over {n} items"));
        }
    });
    if why.is_some() {
        return why;
    }
    walk_block_exprs(&function.body, &mut |expr| {
        let ExprKind::Call(call) = &expr.kind else {
            return;
        };
        // A literal payload is small data for CPU work (RT-05: parsing,
        // hashing); a literal URL or path says nothing about the size.
        if finding.rule == "RT-05"
            && expr.span.start == finding.range.0
            && expr.span.end == finding.range.1
            && !call.args.is_empty()
            && call.args.iter().all(|a| a.value.is_constant())
        {
            why.get_or_insert_with(|| "literal arguments".into());
        }
        if expr.span.line.abs_diff(finding.line) <= NEARBY_LINES
            && call.method_name() == Some("limit")
            && let Some(ExprKind::Literal(Literal::Int(n))) = call.positional(0).map(|e| &e.kind)
            && *n <= limit
        {
            why.get_or_insert(format!("`.limit({n})`"));
        }
    });
    why
}

/// The number of items of a literal collection or of `range(n)`.
fn literal_size(expr: &Expr) -> Option<i64> {
    match &expr.kind {
        ExprKind::Collection {
            kind: CollectionKind::List | CollectionKind::Tuple | CollectionKind::Set,
            elements,
        } if elements.iter().all(Expr::is_constant) => i64::try_from(elements.len()).ok(),
        ExprKind::Call(call) if call.qualified.as_deref() == Some("builtins.range") => {
            let mut bound = None;
            for arg in &call.args {
                walk_expr(&arg.value, &mut |e| {
                    if let ExprKind::Literal(Literal::Int(n)) = e.kind {
                        bound = Some(bound.map_or(n, |b: i64| b.max(n)));
                    }
                });
            }
            bound.filter(|_| call.args.iter().all(|a| a.value.is_constant()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_records_name_files_and_functions_as_whole_tokens() {
        let docs = vec![ProjectDoc {
            path: "docs/adr/0001.md".into(),
            text: "We batch in `JobService.process_batch` on purpose. See app/api/routes.py."
                .into(),
        }];
        let index = AdrIndex::new(&docs);
        let mut f = crate::audit::placeholder();
        f.path = "app/api/routes.py".into();
        assert!(
            index
                .documents(&f)
                .unwrap()
                .contains("names `app/api/routes.py`")
        );
        f.path = "api/routes.py".into();
        f.function = "Worker.process_batch".into();
        assert!(
            index
                .documents(&f)
                .unwrap()
                .contains("names `process_batch`")
        );
        f.function = "process_batches".into();
        assert!(index.documents(&f).is_none());
    }

    #[test]
    fn adr_paths() {
        assert!(is_adr_path("docs/adr/0001-batching.md"));
        assert!(is_adr_path("docs/adrs/0001.md"));
        assert!(is_adr_path("docs/decisions/batch.md"));
        assert!(is_adr_path("docs/reference/adrs/adr-003.md"));
        assert!(!is_adr_path("docs/guide.md"));
    }
}
