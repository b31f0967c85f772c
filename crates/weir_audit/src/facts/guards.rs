//! Branches whose test says when the code in or after them runs: those
//! that only run in development or under a test harness (work there never
//! happens in production, so it is nobody's finding), and early returns
//! (`if cached is not None: return cached`) that the rest of a function
//! only runs without.

use weir_ir::{Expr, ExprKind, Module, Operator, Stmt, StmtKind};

use super::{CallFact, Scope};

/// Module path segments of a project's test utilities
/// (`pretix.testutils.middleware`, `app.testing.flags`).
const TEST_UTILITY_SEGMENTS: &[&str] = &["testutils", "test_utils", "testing", "tests"];

/// The call sits in the `then` block of a test that only holds in
/// development or under tests: `if settings.DEBUG:`, `if
/// "sleep-after-quota-check" in debugflags_var.get():` (a flag read from
/// the project's test utilities), or an `and` with one of these.
pub fn debug_only(module: &Module, call: &CallFact<'_>) -> bool {
    call.site.scopes.iter().any(|scope| match scope {
        Scope::If(test, _) => holds_only_in_debug(module, test),
        _ => false,
    })
}

fn holds_only_in_debug(module: &Module, test: &Expr) -> bool {
    match &test.kind {
        ExprKind::Binary {
            op: Operator::And,
            left,
            right,
        } => holds_only_in_debug(module, left) || holds_only_in_debug(module, right),
        // `"flag" in debugflags_var.get()`: membership in a debug value.
        ExprKind::Compare(cmp) => {
            cmp.ops.len() == 1
                && cmp.ops[0] == Operator::In
                && cmp.comparators.iter().all(|c| is_debug_value(module, c))
        }
        _ => is_debug_value(module, test),
    }
}

/// `DEBUG`, `settings.DEBUG`, `app.debug`, `debugflags_var.get()`: a name
/// that says debug, or a value imported from the project's test utilities.
/// A negation (`not settings.DEBUG`) is the production branch: not one.
fn is_debug_value(module: &Module, expr: &Expr) -> bool {
    let expr = match &expr.kind {
        ExprKind::Call(call) if call.args.is_empty() => &call.callee,
        _ => expr,
    };
    let expr = match &expr.kind {
        // `debugflags_var.get()`: the value of a context variable.
        ExprKind::Attribute { value, attr } if attr == "get" => value,
        _ => expr,
    };
    if !matches!(
        expr.kind,
        ExprKind::Name { .. } | ExprKind::Attribute { .. }
    ) {
        return false;
    }
    let says_debug = expr
        .dotted_last()
        .is_some_and(|last| last.to_ascii_lowercase().starts_with("debug"));
    says_debug
        || module.resolve_expr(expr).is_some_and(|q| {
            q.split('.')
                .any(|segment| TEST_UTILITY_SEGMENTS.contains(&segment))
        })
}

/// `if test: … return …`: an `if` whose block ends in a `return`, as
/// (test, block); the code after it runs only when the test fails.
pub fn returning_if(stmt: &Stmt) -> Option<(&Expr, &[Stmt])> {
    let StmtKind::If { test, then, .. } = &stmt.kind else {
        return None;
    };
    then.last()
        .is_some_and(|s| matches!(s.kind, StmtKind::Return { .. }))
        .then_some((test, then.as_slice()))
}

/// The value a test asks to be set: `cached` in `if cached:` and in `if
/// cached is not None:`.
pub fn tested_as_set(test: &Expr) -> &Expr {
    match &test.kind {
        ExprKind::Compare(cmp)
            if cmp.ops.as_slice() == [Operator::IsNot]
                && cmp.comparators.first().is_some_and(|c| {
                    matches!(c.kind, ExprKind::Literal(weir_ir::Literal::Null))
                }) =>
        {
            &cmp.left
        }
        _ => test,
    }
}
