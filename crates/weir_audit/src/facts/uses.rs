//! Def-use questions about one local name in a function body: is it ever
//! mutated, does it escape? Used by the rules that decide whether a copy
//! or a materialised list was needed.

use weir_ir::{Expr, ExprKind, Stmt, StmtKind};

/// Methods that change a list, dict or set in place.
const MUTATING_METHODS: &[&str] = &[
    "append",
    "extend",
    "insert",
    "remove",
    "pop",
    "clear",
    "sort",
    "reverse",
    "update",
    "setdefault",
    "popitem",
    "add",
    "discard",
    "difference_update",
    "intersection_update",
    "symmetric_difference_update",
    "__setitem__",
    "__delitem__",
];

/// Builtins that only read their arguments.
const READ_ONLY_BUILTINS: &[&str] = &[
    "builtins.len",
    "builtins.sum",
    "builtins.min",
    "builtins.max",
    "builtins.sorted",
    "builtins.any",
    "builtins.all",
    "builtins.enumerate",
    "builtins.zip",
    "builtins.iter",
    "builtins.set",
    "builtins.frozenset",
    "builtins.tuple",
    "builtins.list",
    "builtins.dict",
    "builtins.print",
    "builtins.str",
    "builtins.repr",
    "builtins.isinstance",
    "builtins.reversed",
    "builtins.bool",
    "builtins.hash",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NameUses {
    /// Changed in place: a mutating method, `x[i] = …`, `del x[i]`, `x += …`.
    pub mutated: bool,
    /// Leaves the function's control: returned, yielded, passed to a call
    /// other than a read-only builtin, stored in an attribute or container,
    /// captured by a closure.
    pub escapes: bool,
    /// Read in any way (iterated, indexed, passed to a builtin…).
    pub read: bool,
}

/// How `name` is used in the statements of `body` that start at or after
/// byte offset `from`.
pub fn uses_after(body: &[Stmt], name: &str, from: u32) -> NameUses {
    let mut uses = NameUses::default();
    weir_ir::visit::walk_stmts(body, &mut |stmt| {
        if stmt.span.start < from {
            return;
        }
        stmt_uses(stmt, name, &mut uses);
    });
    uses
}

fn is_name(expr: &Expr, name: &str) -> bool {
    expr.as_name() == Some(name)
}

fn stmt_uses(stmt: &Stmt, name: &str, uses: &mut NameUses) {
    match &stmt.kind {
        StmtKind::Assign {
            targets, value, op, ..
        } => {
            for target in targets {
                match &target.kind {
                    ExprKind::Name { id } if id == name && op.is_some() => uses.mutated = true,
                    ExprKind::Subscript { value: base, .. } if is_name(base, name) => {
                        uses.mutated = true;
                    }
                    ExprKind::Name { .. } => {}
                    // `self.x = name`, `obj.items[0] = name`
                    _ => expr_uses(target, name, uses, Ctx::Read),
                }
            }
            if let Some(value) = value {
                let stored = targets
                    .iter()
                    .any(|t| !matches!(t.kind, ExprKind::Name { .. }));
                // `alias = name` shares the object: treat as an escape.
                let aliased = targets
                    .iter()
                    .any(|t| matches!(t.kind, ExprKind::Name { .. }))
                    && is_name(value, name);
                expr_uses(
                    value,
                    name,
                    uses,
                    if stored || aliased {
                        Ctx::Escaping
                    } else {
                        Ctx::Read
                    },
                );
            }
        }
        StmtKind::Delete { targets } => {
            for target in targets {
                if let ExprKind::Subscript { value: base, .. } = &target.kind
                    && is_name(base, name)
                {
                    uses.mutated = true;
                }
            }
        }
        StmtKind::Return { value: Some(value) } => expr_uses(value, name, uses, Ctx::Escaping),
        StmtKind::FunctionDef { .. } => {}
        _ => weir_ir::visit::stmt_exprs(stmt, &mut |e| expr_uses(e, name, uses, Ctx::Read)),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Read,
    /// The value of this expression leaves (returned, stored, passed on).
    Escaping,
}

fn expr_uses(expr: &Expr, name: &str, uses: &mut NameUses, ctx: Ctx) {
    match &expr.kind {
        ExprKind::Name { id } if id == name => {
            uses.read = true;
            if ctx == Ctx::Escaping {
                uses.escapes = true;
            }
        }
        ExprKind::Call(call) => {
            if let ExprKind::Attribute { value, attr } = &call.callee.kind {
                if is_name(value, name) {
                    uses.read = true;
                    if MUTATING_METHODS.contains(&attr.as_str()) {
                        uses.mutated = true;
                    }
                } else {
                    expr_uses(&call.callee, name, uses, Ctx::Read);
                }
            } else {
                expr_uses(&call.callee, name, uses, Ctx::Read);
            }
            let read_only = call
                .qualified
                .as_deref()
                .is_some_and(|q| READ_ONLY_BUILTINS.contains(&q));
            for arg in &call.args {
                expr_uses(
                    &arg.value,
                    name,
                    uses,
                    if read_only { Ctx::Read } else { Ctx::Escaping },
                );
            }
        }
        ExprKind::Yield {
            value: Some(value), ..
        } => expr_uses(value, name, uses, Ctx::Escaping),
        ExprKind::Lambda { body, .. } => expr_uses(body, name, uses, Ctx::Escaping),
        ExprKind::Collection { elements, .. } => {
            for element in elements {
                expr_uses(element, name, uses, Ctx::Escaping);
            }
        }
        ExprKind::Dict { entries } => {
            for (key, value) in entries {
                if let Some(key) = key {
                    expr_uses(key, name, uses, Ctx::Escaping);
                }
                expr_uses(value, name, uses, Ctx::Escaping);
            }
        }
        // `name.attr`, `name[i]`, comparisons, arithmetic: reads.
        _ => {
            weir_ir::visit::child_exprs(expr, &mut |child| expr_uses(child, name, uses, Ctx::Read));
        }
    }
}

/// True when a closure defined in `body` mentions `name`.
pub fn captured_by_closure(module: &weir_ir::Module, body: &[Stmt], name: &str) -> bool {
    let mut captured = false;
    weir_ir::visit::walk_stmts(body, &mut |stmt| {
        if let StmtKind::FunctionDef { id } = &stmt.kind {
            weir_ir::visit::walk_block_exprs(&module.function(*id).body, &mut |e| {
                if is_name(e, name) {
                    captured = true;
                }
            });
        }
    });
    captured
}
