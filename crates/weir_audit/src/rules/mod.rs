//! One rule per file, named after the bad pattern. Shared questions that
//! several rules ask live here.

pub mod blocking_io_in_async;
pub mod commit_in_loop;
pub mod missing_bulk_operation;
pub mod missing_cleanup;
pub mod missing_rollback;
pub mod n_update_loop;
pub mod pool_config_gaps;
pub mod query_in_loop;
pub mod string_concat_in_loop;
pub mod sync_sleep_in_async;

use weir_ir::{Expr, ExprKind, LoopKind};

use crate::facts::{CallFact, FunctionFacts, LoopRef, Site};
use crate::knowledge::ObjKind;

/// The innermost `for` loop or comprehension around `site` that iterates a
/// collection of unknown size. `while` loops (pollers, workers) and loops
/// over literal displays or `range(<constant>)` do not count.
pub fn collection_loop<'a>(
    facts: &'a FunctionFacts<'_>,
    site: &Site<'_>,
) -> Option<&'a LoopRef<'a>> {
    site.loops()
        .rev()
        .map(|i| &facts.loops[i])
        .find(|lp| lp.kind == LoopKind::ForEach && !lp.is_over_literal())
}

/// "the loop over `jobs`" / "the comprehension".
pub fn describe_loop(lp: &LoopRef<'_>) -> String {
    let what = if lp.is_comprehension {
        "comprehension"
    } else {
        "loop"
    };
    match lp.iter.and_then(short_text) {
        Some(text) => format!("{what} over `{text}`"),
        None => what.to_string(),
    }
}

/// A short source-like rendering of simple expressions for messages.
pub fn short_text(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Name { .. } | ExprKind::Attribute { .. } => expr.dotted(),
        ExprKind::Call(call) => Some(format!("{}(…)", call.callee.dotted()?)),
        ExprKind::Await { value } => short_text(value).map(|t| format!("await {t}")),
        _ => None,
    }
}

/// `session.execute(…)`, `Path(…).read_bytes()` for messages.
pub fn call_text(call: &CallFact<'_>) -> String {
    match call.call {
        Some(c) => format!(
            "`{}({})`",
            callee_text(&c.callee),
            if c.args.is_empty() { "" } else { "…" }
        ),
        None => format!("`{}`", call.label),
    }
}

fn callee_text(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Name { id } => id.clone(),
        ExprKind::Attribute { value, attr } => format!("{}.{attr}", callee_text(value)),
        ExprKind::Call(call) => format!(
            "{}({})",
            callee_text(&call.callee),
            if call.args.is_empty() { "" } else { "…" }
        ),
        ExprKind::Await { value } => callee_text(value),
        _ => "…".into(),
    }
}

/// Which ORM the call belongs to, for recommendations.
pub fn is_django(call: &CallFact<'_>) -> bool {
    call.receiver_kind
        .is_some_and(|t| t.kind == ObjKind::QuerySet)
}

pub fn is_raw_driver(call: &CallFact<'_>) -> bool {
    call.receiver_kind
        .is_some_and(|t| matches!(t.kind, ObjKind::Cursor | ObjKind::AsyncPool))
        || call
            .call
            .and_then(|c| c.method_name())
            .is_some_and(|m| m.starts_with("fetch"))
}
