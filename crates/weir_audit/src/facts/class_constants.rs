//! Class attributes that hold a collection written in the code:
//! `previous_dotted_paths = ("a.B", "c.D")` in a class body, iterated as
//! `for path in cls.previous_dotted_paths:`. Like a literal list in a
//! function, such a loop runs once per entry of the code, not per item of
//! data (see [`super::loops::Iteration::Literal`]).
//!
//! Known by name across the project: a subclass often declares what a base
//! class method iterates. A name qualifies only when every class-body
//! assignment of it is a non-empty display and no function stores into an
//! attribute of that name (`self.paths = load()`), which would make some
//! instance's value data.

use rayon::prelude::*;
use weir_ir::expr::CollectionKind;
use weir_ir::visit::walk_stmts;
use weir_ir::{Expr, ExprKind, Module, StmtKind};

use crate::collections::HashSet;

#[derive(Default)]
pub struct ClassConstants {
    names: HashSet<String>,
}

impl ClassConstants {
    pub fn build(modules: &[Module]) -> Self {
        let (declared, varying) = modules
            .par_iter()
            .map(|module| {
                let mut declared: HashSet<String> = HashSet::default();
                let mut varying: HashSet<String> = HashSet::default();
                for class in &module.classes {
                    for (name, value) in class.assignments() {
                        if is_display(value) {
                            declared.insert(name.to_string());
                        } else {
                            varying.insert(name.to_string());
                        }
                    }
                }
                for function in &module.functions {
                    walk_stmts(&function.body, &mut |stmt| {
                        if let StmtKind::Assign { targets, .. } = &stmt.kind {
                            for target in targets {
                                stored_attributes(target, &mut varying);
                            }
                        }
                    });
                }
                (declared, varying)
            })
            .reduce(
                || (HashSet::default(), HashSet::default()),
                |(mut d, mut v), (d2, v2)| {
                    d.extend(d2);
                    v.extend(v2);
                    (d, v)
                },
            );
        let names = declared
            .into_iter()
            .filter(|n| !varying.contains(n))
            .collect();
        ClassConstants { names }
    }

    /// `self.<attr>` or `cls.<attr>` (also `.items()`, `.keys()`,
    /// `.values()` of it) names a class constant.
    pub fn iterated(&self, iter: &Expr) -> bool {
        if self.names.is_empty() {
            return false;
        }
        let iter = match iter.as_call() {
            Some(call)
                if call.args.is_empty()
                    && matches!(call.method_name(), Some("items" | "keys" | "values")) =>
            {
                match call.receiver() {
                    Some(receiver) => receiver,
                    None => return false,
                }
            }
            _ => iter,
        };
        let ExprKind::Attribute { value, attr } = &iter.kind else {
            return false;
        };
        matches!(value.as_name(), Some("self" | "cls")) && self.names.contains(attr.as_str())
    }
}

/// A display as a loop over it would be fixed ([`super::loops`]), an empty
/// tuple (`previous_dotted_paths = ()`, the base class's default) or a
/// dict display; not an empty list or dict, usually a registry that code
/// fills.
fn is_display(value: &Expr) -> bool {
    match &value.kind {
        ExprKind::Collection {
            kind: CollectionKind::Tuple,
            elements,
        } if elements.is_empty() => true,
        ExprKind::Dict { entries } => {
            !entries.is_empty() && entries.iter().all(|(key, _)| key.is_some())
        }
        _ => super::loops::is_fixed_display(value),
    }
}

/// The attribute names a store target writes: `obj.paths = …`,
/// `a.x, b.y = …`.
fn stored_attributes(target: &Expr, out: &mut HashSet<String>) {
    match &target.kind {
        ExprKind::Attribute { attr, .. } => {
            out.insert(attr.to_string());
        }
        ExprKind::Collection { elements, .. } => {
            for e in elements {
                stored_attributes(e, out);
            }
        }
        _ => {}
    }
}
