//! Generic traversal helpers. Nested function and class definitions are
//! separate entries of the module, so walks never enter them; lambdas are
//! expressions and are entered.

use crate::expr::{Expr, ExprKind};
use crate::stmt::{Stmt, StmtKind};

/// Calls `f` on each direct sub-expression of `expr`.
pub fn child_exprs<'a>(expr: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    match &expr.kind {
        ExprKind::Name { .. } | ExprKind::Literal(_) => {}
        ExprKind::Attribute { value, .. }
        | ExprKind::Await { value }
        | ExprKind::Spread { value }
        | ExprKind::Unary { operand: value, .. } => f(value),
        ExprKind::Call(call) => {
            f(&call.callee);
            for arg in &call.args {
                f(&arg.value);
            }
        }
        ExprKind::Template(template) => template.values.iter().for_each(f),
        ExprKind::Other { children } => children.iter().for_each(f),
        ExprKind::Collection { elements, .. } => elements.iter().for_each(f),
        ExprKind::Dict { entries } => {
            for (key, value) in entries {
                if let Some(key) = key {
                    f(key);
                }
                f(value);
            }
        }
        ExprKind::Comprehension(comp) => {
            for clause in &comp.clauses {
                f(&clause.iter);
                f(&clause.target);
                clause.conditions.iter().for_each(&mut *f);
            }
            f(&comp.element);
        }
        ExprKind::Lambda { params, body } => {
            for param in params {
                if let Some(default) = &param.default {
                    f(default);
                }
            }
            f(body);
        }
        ExprKind::Binary { left, right, .. } => {
            f(left);
            f(right);
        }
        ExprKind::Compare(cmp) => {
            f(&cmp.left);
            cmp.comparators.iter().for_each(f);
        }
        ExprKind::Subscript { value, index } => {
            f(value);
            f(index);
        }
        ExprKind::Conditional { test, body, orelse } => {
            f(test);
            f(body);
            f(orelse);
        }
        ExprKind::Yield { value, .. } => {
            if let Some(value) = value {
                f(value);
            }
        }
        ExprKind::AssignExpr { target, value } => {
            f(value);
            f(target);
        }
    }
}

/// Calls `f` on `expr` and every expression below it, pre-order.
pub fn walk_expr<'a>(expr: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    f(expr);
    child_exprs(expr, &mut |child| walk_expr(child, f));
}

/// Calls `f` on the expressions owned directly by `stmt` (not those of
/// nested blocks).
pub fn stmt_exprs<'a>(stmt: &'a Stmt, f: &mut dyn FnMut(&'a Expr)) {
    match &stmt.kind {
        StmtKind::Expr { value } | StmtKind::Defer { call: value } => f(value),
        StmtKind::Assign {
            targets,
            value,
            annotation,
            ..
        } => {
            if let Some(value) = value {
                f(value);
            }
            targets.iter().for_each(&mut *f);
            if let Some(annotation) = annotation {
                f(annotation);
            }
        }
        StmtKind::Return { value } | StmtKind::Raise { value } => {
            if let Some(value) = value {
                f(value);
            }
        }
        StmtKind::If { test, .. } => f(test),
        StmtKind::Loop(lp) => {
            if let Some(iter) = &lp.iter {
                f(iter);
            }
            if let Some(target) = &lp.target {
                f(target);
            }
            if let Some(test) = &lp.test {
                f(test);
            }
        }
        StmtKind::With { items, .. } => {
            for item in items {
                f(&item.context);
                if let Some(target) = &item.target {
                    f(target);
                }
            }
        }
        StmtKind::Switch { subject, .. } => f(subject),
        StmtKind::Delete { targets } => targets.iter().for_each(f),
        StmtKind::Try { .. }
        | StmtKind::FunctionDef { .. }
        | StmtKind::ClassDef { .. }
        | StmtKind::Break
        | StmtKind::Continue => {}
    }
}

/// Calls `f` on each nested block of `stmt`, in source order. A callback
/// rather than a collection: walks visit every statement, and allocating
/// a list per statement showed in profiles.
pub fn each_child_block<'a>(stmt: &'a Stmt, f: &mut dyn FnMut(&'a [Stmt])) {
    match &stmt.kind {
        StmtKind::If { then, orelse, .. } => {
            f(then);
            f(orelse);
        }
        StmtKind::Loop(lp) => {
            f(&lp.body);
            f(&lp.orelse);
        }
        StmtKind::With { body, .. } => f(body),
        StmtKind::Try {
            body,
            handlers,
            orelse,
            finally,
        } => {
            f(body);
            for handler in handlers {
                f(&handler.body);
            }
            f(orelse);
            f(finally);
        }
        StmtKind::Switch { cases, .. } => {
            for case in cases {
                f(case);
            }
        }
        _ => {}
    }
}

/// Calls `f` on every statement of `block` and of its nested blocks, pre-order.
pub fn walk_stmts<'a>(block: &'a [Stmt], f: &mut dyn FnMut(&'a Stmt)) {
    for stmt in block {
        f(stmt);
        each_child_block(stmt, &mut |child| walk_stmts(child, f));
    }
}

/// Calls `f` on every expression (recursively) in `block`.
pub fn walk_block_exprs<'a>(block: &'a [Stmt], f: &mut dyn FnMut(&'a Expr)) {
    walk_stmts(block, &mut |stmt| {
        stmt_exprs(stmt, &mut |e| walk_expr(e, f));
    });
}
