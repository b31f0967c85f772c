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
//! instance's value data; a store of a non-empty tuple written in the code
//! (`self.personal_items = ("title", "email")` in `__init__`) declares it
//! like a class-body one.
//!
//! Also the project's helpers that hand out such a display: `def
//! _get_config_items(): return ["site_title", "theme", …]`, iterated as
//! `for item in _get_config_items():`. Known by name the same way: every
//! function of that name takes no argument but `self`/`cls`, is a plain
//! function (not a generator, not async), and every one of its `return`s
//! is a display.
//!
//! And the project's chunking generators, known by name the same way: a
//! loop over `split_ids_for_sqlite(ids)` with `def
//! split_ids_for_sqlite(role_ids): for i in range(0, len(role_ids), 40000):
//! yield role_ids[i : i + 40000]` runs once per chunk
//! ([`super::loops::Iteration::Batch`]).

use rayon::prelude::*;
use weir_ir::expr::CollectionKind;
use weir_ir::visit::walk_stmts;
use weir_ir::{Expr, ExprKind, Function, FunctionKind, Module, StmtKind};

use crate::collections::HashSet;

#[derive(Default)]
pub struct ClassConstants {
    names: HashSet<String>,
    /// Functions that return a display written in their body.
    functions: HashSet<String>,
    /// Generators that yield slices of their argument (`def split_ids(ids,
    /// n): for i in range(0, len(ids), n): yield ids[i : i + n]`): a loop
    /// over their call runs once per chunk.
    chunkers: HashSet<String>,
}

impl ClassConstants {
    pub fn build(modules: &[Module]) -> Self {
        let ((declared, varying), (fixed, not_fixed), (chunking, not_chunking)) = modules
            .par_iter()
            .map(|module| {
                let mut declared: HashSet<String> = HashSet::default();
                let mut varying: HashSet<String> = HashSet::default();
                let mut fixed: HashSet<String> = HashSet::default();
                let mut not_fixed: HashSet<String> = HashSet::default();
                let mut chunking: HashSet<String> = HashSet::default();
                let mut not_chunking: HashSet<String> = HashSet::default();
                for function in &module.functions {
                    if function.kind == FunctionKind::Module {
                        continue;
                    }
                    if returns_display(function) {
                        fixed.insert(function.name.clone());
                    } else {
                        not_fixed.insert(function.name.clone());
                    }
                    if yields_slices(function) {
                        chunking.insert(function.name.clone());
                    } else {
                        not_chunking.insert(function.name.clone());
                    }
                }
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
                        if let StmtKind::Assign {
                            targets, value, op, ..
                        } = &stmt.kind
                        {
                            // `self.personal_items = ("title", "email")`: a
                            // tuple written in the code cannot grow.
                            if let ([target], Some(value), None) = (targets.as_slice(), value, op)
                                && let ExprKind::Attribute { value: owner, attr } = &target.kind
                                && owner.as_name() == Some("self")
                                && matches!(
                                    value.kind,
                                    ExprKind::Collection {
                                        kind: CollectionKind::Tuple,
                                        ..
                                    }
                                )
                                && super::loops::is_fixed_display(value)
                            {
                                declared.insert(attr.to_string());
                                return;
                            }
                            for target in targets {
                                stored_attributes(target, &mut varying);
                            }
                        }
                    });
                }
                (
                    (declared, varying),
                    (fixed, not_fixed),
                    (chunking, not_chunking),
                )
            })
            .reduce(
                || {
                    (
                        (HashSet::default(), HashSet::default()),
                        (HashSet::default(), HashSet::default()),
                        (HashSet::default(), HashSet::default()),
                    )
                },
                |((mut d, mut v), (mut f, mut n), (mut c, mut nc)),
                 ((d2, v2), (f2, n2), (c2, nc2))| {
                    d.extend(d2);
                    v.extend(v2);
                    f.extend(f2);
                    n.extend(n2);
                    c.extend(c2);
                    nc.extend(nc2);
                    ((d, v), (f, n), (c, nc))
                },
            );
        let names = declared
            .into_iter()
            .filter(|n| !varying.contains(n))
            .collect();
        let functions = fixed
            .into_iter()
            .filter(|n| !not_fixed.contains(n))
            .collect();
        let chunkers = chunking
            .into_iter()
            .filter(|n| !not_chunking.contains(n))
            .collect();
        ClassConstants {
            names,
            functions,
            chunkers,
        }
    }

    /// `iter` calls a generator of the project that yields slices of its
    /// argument (`split_ids_for_sqlite(ids)`, `self._chunks(rows)`).
    pub fn chunks(&self, iter: &Expr) -> bool {
        if self.chunkers.is_empty() {
            return false;
        }
        iter.as_call().is_some_and(|call| match &call.callee.kind {
            ExprKind::Name { id } => self.chunkers.contains(id.as_str()),
            ExprKind::Attribute { value, attr } => {
                matches!(value.as_name(), Some("self" | "cls"))
                    && self.chunkers.contains(attr.as_str())
            }
            _ => false,
        })
    }

    /// `self.<attr>` or `cls.<attr>` (also `.items()`, `.keys()`,
    /// `.values()` of it) names a class constant; so does `<receiver>.<attr>`
    /// when `is_class(receiver)` says the receiver is a class of the project
    /// (`JobTemplate.SOFT_UNIQUE_TOGETHER`, `model.SOFT_UNIQUE_TOGETHER`
    /// with `model = type(self)`).
    /// Or a call without arguments of a helper that returns a display
    /// (`_get_config_items()`, `self._columns()`).
    pub fn iterated(&self, iter: &Expr, is_class: impl Fn(&Expr) -> bool) -> bool {
        if self.names.is_empty() && self.functions.is_empty() {
            return false;
        }
        let iter = super::loops::dict_view_of(iter).unwrap_or(iter);
        if let Some(call) = iter.as_call() {
            return call.args.is_empty()
                && match &call.callee.kind {
                    ExprKind::Name { id } => self.functions.contains(id.as_str()),
                    ExprKind::Attribute { value, attr } => {
                        matches!(value.as_name(), Some("self" | "cls"))
                            && self.functions.contains(attr.as_str())
                    }
                    _ => false,
                };
        }
        let ExprKind::Attribute { value, attr } = &iter.kind else {
            return false;
        };
        self.names.contains(attr.as_str())
            && (matches!(value.as_name(), Some("self" | "cls")) || is_class(value))
    }
}

/// A plain function without arguments (but `self`/`cls`) whose every
/// `return` hands out a display written there: the same few entries at
/// every call.
fn returns_display(function: &Function) -> bool {
    if function.is_async || function.is_generator {
        return false;
    }
    let receiver = function.class.is_some()
        && function
            .params
            .first()
            .is_some_and(|p| matches!(p.name.as_str(), "self" | "cls"));
    if function.params.len() > usize::from(receiver) {
        return false;
    }
    let (mut returns, mut all_displays) = (0, true);
    walk_stmts(&function.body, &mut |stmt| {
        if let StmtKind::Return { value } = &stmt.kind {
            returns += 1;
            all_displays &= value.as_ref().is_some_and(is_display);
        }
    });
    returns > 0 && all_displays
}

/// A plain generator each of whose `yield`s, all inside a loop, hands out
/// a slice of one of its parameters: `for i in range(0, len(ids), size):
/// yield ids[i : i + size]`.
fn yields_slices(function: &Function) -> bool {
    if !function.is_generator || function.is_async {
        return false;
    }
    let is_param = |e: &Expr| {
        e.as_name()
            .is_some_and(|n| function.params.iter().any(|p| p.name == n))
    };
    let (mut yields, mut all_slices) = (0, true);
    let in_loop = |stmts: &[weir_ir::Stmt], yields: &mut usize, all_slices: &mut bool| {
        weir_ir::visit::walk_block_exprs(stmts, &mut |e| {
            if let ExprKind::Yield { value, delegate } = &e.kind {
                *yields += 1;
                *all_slices &= !delegate
                    && value.as_deref().is_some_and(|v| {
                        matches!(&v.kind, ExprKind::Subscript { value, index }
                            if is_param(value) && matches!(index.kind, ExprKind::Other { .. }))
                    });
            }
        });
    };
    let mut outside = 0;
    for stmt in &function.body {
        match &stmt.kind {
            StmtKind::Loop(lp) => in_loop(&lp.body, &mut yields, &mut all_slices),
            _ => weir_ir::visit::walk_block_exprs(std::slice::from_ref(stmt), &mut |e| {
                outside += usize::from(matches!(e.kind, ExprKind::Yield { .. }));
            }),
        }
    }
    yields > 0 && all_slices && outside == 0
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
