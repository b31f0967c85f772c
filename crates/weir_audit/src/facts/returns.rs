//! The rows a project function returns: `async def recent(self): return
//! list(await self.session.scalars(select(Order)))` hands its callers
//! `Order` rows, loaded with the relations its query loads. A caller's
//! `for order in await repo.recent(): order.customer` is then the same N+1
//! as the query written inline.
//!
//! Read from each function's own body before any function's facts are
//! built: a `return` of a query chain, directly or through locals, with the
//! locals' refinements (`stmt = stmt.options(selectinload(...))`) counted.

use rayon::prelude::*;
use weir_ir::visit::{walk_expr, walk_stmts};
use weir_ir::{Expr, ExprKind, Function, FunctionKind, Module, StmtKind};

use super::rows::{RowSource, is_query_chain, row_source};
use crate::collections::{HashMap, HashSet};
use crate::project::{FnRef, ModelIndex};

/// Functions of the project that return the rows of one model.
#[derive(Default)]
pub struct ReturnedRows {
    by_function: HashMap<(u32, u32), RowSource>,
}

impl ReturnedRows {
    pub fn build(modules: &[Module], models: &ModelIndex) -> Self {
        if models.is_empty() {
            return Self::default();
        }
        let by_function = modules
            .par_iter()
            .enumerate()
            .flat_map_iter(|(m, module)| {
                module
                    .functions
                    .iter()
                    .enumerate()
                    .filter_map(move |(f, function)| {
                        let rows = returned_rows(module, function, models)?;
                        Some(((u32::try_from(m).ok()?, u32::try_from(f).ok()?), rows))
                    })
            })
            .collect();
        ReturnedRows { by_function }
    }

    pub fn is_empty(&self) -> bool {
        self.by_function.is_empty()
    }

    pub fn get(&self, target: FnRef) -> Option<&RowSource> {
        self.by_function.get(&(target.module, target.func))
    }
}

/// The rows every `return` of `function` gives, when they are all query
/// rows of the same model.
pub(super) fn returned_rows(
    module: &Module,
    function: &Function,
    models: &ModelIndex,
) -> Option<RowSource> {
    // A generator's `return` ends the iteration; what it yields is another matter.
    if function.kind == FunctionKind::Module || function.is_generator {
        return None;
    }
    let mut values: Vec<&Expr> = Vec::new();
    walk_stmts(&function.body, &mut |stmt| {
        if let StmtKind::Return { value: Some(value) } = &stmt.kind
            && !matches!(value.kind, ExprKind::Literal(weir_ir::Literal::Null))
        {
            values.push(value);
        }
    });
    if values.is_empty() {
        return None;
    }
    let locals = Locals::of(function);
    if !values.iter().all(|v| returns_query(v, &locals)) {
        return None;
    }
    let mut result: Option<RowSource> = None;
    for value in values {
        if locals
            .names_in(value)
            .iter()
            .any(|n| locals.ambiguous.contains(*n))
        {
            return None;
        }
        let mut rows = row_source(value, &locals.bases, module, models)?;
        // `stmt = stmt.options(selectinload(Order.lines))` under an `if`:
        // the relations any refinement loads count as loaded.
        for name in locals.names_in(value) {
            for refined in locals.refinements.get(name).into_iter().flatten() {
                if let Some(more) = row_source(refined, &locals.bases, module, models)
                    .filter(|more| more.model == rows.model)
                {
                    rows.eager.extend(more.eager);
                    rows.narrowed |= more.narrowed;
                }
            }
        }
        match &mut result {
            None => result = Some(rows),
            // Different branches loading different relations: a relation
            // any of them loads counts as loaded.
            Some(so_far) if so_far.model == rows.model => {
                so_far.eager.extend(rows.eager);
                so_far.narrowed |= rows.narrowed;
            }
            Some(_) => return None,
        }
    }
    result.map(|mut rows| {
        rows.eager.sort();
        rows.eager.dedup();
        // Their spans point into the callee; the caller judges none of them.
        rows.options.clear();
        rows.from_callee = true;
        rows
    })
}

/// Methods whose result is rows (or one row) of the query's model:
/// SQLAlchemy's `scalars()`, `all()`, `get()`, a legacy `query()`…, Flask-SQLAlchemy's
/// `*_or_404`, Django's QuerySet methods. Not `execute()` nor `fetchall()`
/// (tuples of columns), nor `select()`/`where()` (a statement, not rows).
const ROW_METHODS: &[&str] = &[
    "all",
    "annotate",
    "defer",
    "distinct",
    "exclude",
    "filter",
    "filter_by",
    "first",
    "first_or_404",
    "get",
    "get_list_or_404",
    "get_object_or_404",
    "get_one",
    "get_or_404",
    "last",
    "limit",
    "offset",
    "one",
    "one_or_404",
    "one_or_none",
    "only",
    "order_by",
    "prefetch_related",
    "query",
    "scalar_one",
    "scalar_one_or_none",
    "scalars",
    "select_related",
    "unique",
    "values",
    "values_list",
];

/// Methods that keep the rows of the query they are called on and load
/// nothing more: `repo.open_incidents().filter(...).all()` has the rows
/// `open_incidents()` returns. Not `options()` nor `select_related()`,
/// which change what is loaded.
pub const ROW_KEEPING: &[&str] = &[
    "all",
    "distinct",
    "exclude",
    "filter",
    "filter_by",
    "first",
    "last",
    "limit",
    "offset",
    "one",
    "one_or_none",
    "order_by",
    "unique",
];

/// `expr` without `await` and the collecting wrappers around it:
/// `list(await session.scalars(stmt))` → `session.scalars(stmt)`.
pub(super) fn collected(expr: &Expr) -> &Expr {
    let mut current = expr.unawaited();
    while let Some(call) = current.as_call()
        && let ExprKind::Name { id } = &call.callee.kind
        && matches!(id.as_str(), "list" | "tuple" | "sorted")
        && let Some(first) = call.positional(0)
    {
        current = first.unawaited();
    }
    current
}

/// A query chain whose last call hands out rows: `session.scalars(stmt)`,
/// `list(qs.filter(...))`, `Order.objects.select_related("customer")`.
fn is_rows_query(expr: &Expr) -> bool {
    let current = collected(expr);
    current.as_call().is_some_and(|call| {
        // `method_name`: the last segment of `session.scalars(stmt).all`,
        // whose receiver is a call and so has no dotted form.
        is_query_chain(current)
            && call
                .method_name()
                .or_else(|| call.callee.dotted_last())
                .is_some_and(|m| ROW_METHODS.binary_search(&m).is_ok())
    })
}

/// `return <rows query>` or `return <local bound to one>` (`return
/// list(result)` with `result = await session.scalars(stmt)`).
fn returns_query(value: &Expr, locals: &Locals<'_>) -> bool {
    is_rows_query(value)
        || collected(value)
            .as_name()
            .and_then(|name| locals.bases.get(name))
            .is_some_and(|bound| is_rows_query(bound))
}

/// The plain local assignments of a function body.
struct Locals<'a> {
    /// The value each name is bound to, when it is bound once (besides
    /// refinements of itself).
    bases: std::collections::HashMap<String, &'a Expr, rustc_hash::FxBuildHasher>,
    /// `stmt = stmt.where(...)`: values built from the name itself.
    refinements: HashMap<&'a str, Vec<&'a Expr>>,
    /// Names bound to two different values (`stmt = select(A)` in one
    /// branch, `select(B)` in another): what they hold is not known.
    ambiguous: HashSet<&'a str>,
}

impl<'a> Locals<'a> {
    fn of(function: &'a Function) -> Self {
        let mut locals = Locals {
            bases: std::collections::HashMap::default(),
            refinements: HashMap::default(),
            ambiguous: HashSet::default(),
        };
        walk_stmts(&function.body, &mut |stmt| {
            let Some((targets, value)) = stmt.plain_assign() else {
                return;
            };
            for target in targets {
                let Some(name) = target.as_name() else {
                    continue;
                };
                if value.chain_root() == Some(name) {
                    locals.refinements.entry(name).or_default().push(value);
                } else if locals.bases.insert(name.to_string(), value).is_some() {
                    locals.ambiguous.insert(name);
                }
            }
        });
        locals
    }

    /// The local names `value` is built from, following locals a few hops.
    fn names_in(&self, value: &'a Expr) -> Vec<&'a str> {
        let mut names: Vec<&'a str> = Vec::new();
        let mut pending = vec![value];
        while let Some(expr) = pending.pop() {
            walk_expr(expr, &mut |e| {
                if let Some(name) = e.as_name()
                    && !names.contains(&name)
                    && names.len() < 16
                {
                    names.push(name);
                    if let Some(bound) = self.bases.get(name) {
                        pending.push(*bound);
                    }
                }
            });
        }
        names
    }
}
