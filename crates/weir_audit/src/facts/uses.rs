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

/// How a local holding an ORM entity, or rows of one, is used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntityUses {
    /// Attributes read or assigned on it (`order.total`, `order.lines.all()`
    /// → `lines`).
    pub attrs: Vec<String>,
    /// An attribute assigned (`job.state = …`) or deleted.
    pub assigned: bool,
    /// Asked to act: a method called on it (`order.save()`,
    /// `rows.append(…)`), or indexed (`rows[0]`).
    pub called: bool,
    /// Leaves the function: returned, yielded, passed to a call other than
    /// a read-only builtin, stored, aliased, captured.
    pub escapes: bool,
    /// When it is iterated (`for line in lines`, `[l.sku for l in lines]`):
    /// how the items are used, all loops merged.
    pub items: Option<Box<EntityUses>>,
}

impl EntityUses {
    fn merge(&mut self, other: EntityUses) {
        for attr in other.attrs {
            if !self.attrs.contains(&attr) {
                self.attrs.push(attr);
            }
        }
        self.assigned |= other.assigned;
        self.called |= other.called;
        self.escapes |= other.escapes;
        if let Some(items) = other.items {
            self.items.get_or_insert_with(Box::default).merge(*items);
        }
    }

    /// It stays in the function and is never asked to act (its attributes
    /// may be read or assigned).
    pub fn stays_passive(&self) -> bool {
        !self.called && !self.escapes && self.items.as_ref().is_none_or(|i| i.stays_passive())
    }

    /// Only its attributes are read: nothing changes it and it stays here.
    pub fn only_read(&self) -> bool {
        !self.assigned
            && !self.called
            && !self.escapes
            && self.items.as_ref().is_none_or(|i| i.only_read())
    }
}

/// How the entity (or rows) held by `name` is used in the statements of
/// `body` that start in `from..to`.
pub fn entity_uses(body: &[Stmt], name: &str, from: u32, to: u32) -> EntityUses {
    let mut uses = EntityUses::default();
    weir_ir::visit::walk_stmts(body, &mut |stmt| {
        if stmt.span.start < from || stmt.span.start >= to {
            return;
        }
        entity_stmt(stmt, name, &mut uses);
    });
    uses
}

/// How `name` is used in `value`, an expression whose result leaves
/// (a comprehension's element).
pub fn entity_uses_in_value(value: &Expr, name: &str) -> EntityUses {
    let mut uses = EntityUses::default();
    entity_expr(value, name, &mut uses, Ctx::Escaping);
    uses
}

/// How a comprehension uses its item: the element is the value built (it
/// may leave), the conditions only read it.
pub fn entity_uses_in_comprehension(element: &Expr, conditions: &[Expr], name: &str) -> EntityUses {
    let mut uses = entity_uses_in_value(element, name);
    for condition in conditions {
        entity_expr(condition, name, &mut uses, Ctx::Read);
    }
    uses
}

fn entity_stmt(stmt: &Stmt, name: &str, uses: &mut EntityUses) {
    match &stmt.kind {
        StmtKind::Assign { targets, value, .. } => {
            for target in targets {
                match &target.kind {
                    ExprKind::Attribute { value: base, attr } if is_name(base, name) => {
                        uses.assigned = true;
                        if !uses.attrs.iter().any(|a| a == attr) {
                            uses.attrs.push(attr.to_string());
                        }
                    }
                    ExprKind::Subscript { value: base, .. } if is_name(base, name) => {
                        uses.assigned = true;
                    }
                    ExprKind::Name { .. } => {}
                    _ => entity_expr(target, name, uses, Ctx::Read),
                }
            }
            if let Some(value) = value {
                let stored = targets
                    .iter()
                    .any(|t| !matches!(t.kind, ExprKind::Name { .. }));
                let ctx = if stored || is_name(value, name) {
                    Ctx::Escaping
                } else {
                    Ctx::Read
                };
                entity_expr(value, name, uses, ctx);
            }
        }
        StmtKind::Return { value: Some(value) } => entity_expr(value, name, uses, Ctx::Escaping),
        StmtKind::Loop(lp) if lp.iter.as_ref().is_some_and(|i| is_name(i.unawaited(), name)) => {
            match lp.target.as_ref().and_then(Expr::as_name) {
                Some(item) => {
                    let items = entity_uses(&lp.body, item, 0, u32::MAX);
                    uses.items.get_or_insert_with(Box::default).merge(items);
                }
                None => uses.escapes = true,
            }
            if let Some(test) = &lp.test {
                entity_expr(test, name, uses, Ctx::Read);
            }
        }
        StmtKind::Delete { targets } => {
            if targets.iter().any(|t| {
                matches!(&t.kind, ExprKind::Attribute { value, .. } | ExprKind::Subscript { value, .. } if is_name(value, name))
            }) {
                uses.assigned = true;
            }
        }
        StmtKind::FunctionDef { .. } => {}
        _ => weir_ir::visit::stmt_exprs(stmt, &mut |e| entity_expr(e, name, uses, Ctx::Read)),
    }
}

fn entity_expr(expr: &Expr, name: &str, uses: &mut EntityUses, ctx: Ctx) {
    match &expr.kind {
        ExprKind::Name { id } if id == name => {
            if ctx == Ctx::Escaping {
                uses.escapes = true;
            }
        }
        // `**order.__dict__`, `order.__table__`: the whole object.
        ExprKind::Attribute { value, attr } if is_name(value, name) && attr.starts_with("__") => {
            uses.escapes = true;
        }
        ExprKind::Attribute { value, attr } if is_name(value, name) => {
            if !uses.attrs.iter().any(|a| a == attr) {
                uses.attrs.push(attr.to_string());
            }
        }
        ExprKind::Subscript { value, index } if is_name(value, name) => {
            uses.called = true;
            entity_expr(index, name, uses, Ctx::Read);
        }
        ExprKind::Call(call) => {
            match &call.callee.kind {
                // `order.save()`, `rows.append(…)`: more than a read.
                ExprKind::Attribute { value, .. } if is_name(value, name) => uses.called = true,
                _ => entity_expr(&call.callee, name, uses, Ctx::Read),
            }
            let read_only = call
                .qualified
                .as_deref()
                .is_some_and(|q| READ_ONLY_BUILTINS.contains(&q));
            for arg in &call.args {
                let ctx = if read_only { Ctx::Read } else { Ctx::Escaping };
                entity_expr(&arg.value, name, uses, ctx);
            }
        }
        ExprKind::Comprehension(comp) => {
            let weir_ir::Comprehension {
                element, clauses, ..
            } = &**comp;
            let mut item = None;
            for clause in clauses {
                if is_name(clause.iter.unawaited(), name) {
                    match clause.target.as_name() {
                        Some(t) => item = Some(t),
                        None => uses.escapes = true,
                    }
                } else {
                    entity_expr(&clause.iter, name, uses, Ctx::Read);
                }
            }
            if let Some(item) = item {
                let mut items = EntityUses::default();
                entity_expr(element, item, &mut items, Ctx::Escaping);
                for clause in clauses {
                    clause
                        .conditions
                        .iter()
                        .for_each(|c| entity_expr(c, item, &mut items, Ctx::Read));
                }
                uses.items.get_or_insert_with(Box::default).merge(items);
            }
            entity_expr(element, name, uses, Ctx::Escaping);
            for clause in clauses {
                clause
                    .conditions
                    .iter()
                    .for_each(|c| entity_expr(c, name, uses, Ctx::Read));
            }
        }
        ExprKind::Yield {
            value: Some(value), ..
        }
        | ExprKind::AssignExpr { value, .. } => entity_expr(value, name, uses, Ctx::Escaping),
        ExprKind::Lambda { body, .. } => entity_expr(body, name, uses, Ctx::Escaping),
        ExprKind::Collection { elements, .. } => {
            for element in elements {
                entity_expr(element, name, uses, Ctx::Escaping);
            }
        }
        ExprKind::Dict { entries } => {
            for (key, value) in entries {
                if let Some(key) = key {
                    entity_expr(key, name, uses, Ctx::Escaping);
                }
                entity_expr(value, name, uses, Ctx::Escaping);
            }
        }
        ExprKind::Await { value } | ExprKind::Spread { value } => {
            entity_expr(value, name, uses, ctx);
        }
        ExprKind::Conditional { test, body, orelse } => {
            entity_expr(test, name, uses, Ctx::Read);
            entity_expr(body, name, uses, ctx);
            entity_expr(orelse, name, uses, ctx);
        }
        _ => weir_ir::visit::child_exprs(expr, &mut |child| {
            entity_expr(child, name, uses, Ctx::Read);
        }),
    }
}
