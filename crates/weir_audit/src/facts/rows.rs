//! What a loop iterates when it iterates query rows: the model of the
//! query and the relationships the query loads eagerly. Followed through
//! local variables (`stmt = select(Job).options(...)`, `rows = ...all()`).

use std::collections::HashMap;

use weir_ir::{Expr, ExprKind, Module};

use crate::project::ModelIndex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowSource {
    /// Qualified class of the model.
    pub model: String,
    /// Relationship names loaded with the rows (first path segment).
    pub eager: Vec<String>,
    /// `load_only`, `defer`, `only()`, `values()`: not whole entities.
    pub narrowed: bool,
}

const EAGER_LOADERS: &[&str] = &[
    "selectinload",
    "joinedload",
    "subqueryload",
    "contains_eager",
    "immediateload",
];
const NARROWING: &[&str] = &[
    "load_only",
    "defer",
    "undefer",
    "only",
    "values",
    "values_list",
    "with_entities",
    "defer_group",
];

/// The expressions a value is built from, following local names to their
/// assigned values (a few hops).
fn sources<'a, S: std::hash::BuildHasher>(
    expr: &'a Expr,
    assigned: &HashMap<String, &'a Expr, S>,
) -> Vec<&'a Expr> {
    let mut out = vec![expr];
    let mut i = 0;
    while i < out.len() && out.len() < 12 {
        let current = out[i];
        weir_ir::visit::walk_expr(current, &mut |e| {
            if let Some(name) = e.as_name()
                && let Some(value) = assigned.get(name)
                && !out.iter().any(|o| std::ptr::eq(*o, *value))
                && out.len() < 12
            {
                out.push(value);
            }
        });
        i += 1;
    }
    out
}

/// The rows an iterable yields, when it is (built from) a query of a project model.
pub fn row_source<S: std::hash::BuildHasher>(
    iter: &Expr,
    assigned: &HashMap<String, &Expr, S>,
    module: &Module,
    models: &ModelIndex,
) -> Option<RowSource> {
    if models.is_empty() {
        return None;
    }
    let exprs = sources(iter, assigned);
    let mut model = None;
    let mut eager = Vec::new();
    let mut narrowed = false;
    for expr in &exprs {
        weir_ir::visit::walk_expr(expr, &mut |e| match &e.kind {
            ExprKind::Call(call) => {
                let name = call.method_name().unwrap_or_default();
                let is_query_builder = matches!(name, "select" | "query" | "get" | "get_one")
                    || call
                        .qualified
                        .as_deref()
                        .is_some_and(|q| q.ends_with(".select"));
                if is_query_builder
                    && model.is_none()
                    && let Some(first) = call.positional(0)
                {
                    model = model_of(first, module, models);
                }
                if EAGER_LOADERS.contains(&name) {
                    eager.extend(call.args.iter().filter_map(|a| relationship_name(&a.value)));
                }
                if matches!(name, "select_related" | "prefetch_related") {
                    // `prefetch_related(bids)` with `bids = Prefetch("bid_set", ...)`.
                    eager.extend(call.args.iter().filter_map(|a| match a.value.as_name() {
                        Some(n) => assigned.get(n).and_then(|v| django_path(v)),
                        None => django_path(&a.value),
                    }));
                }
                if NARROWING.contains(&name) {
                    narrowed = true;
                }
                // `select(Job.id, Job.name)`: columns, not entities.
                if is_query_builder
                    && call
                        .args
                        .iter()
                        .any(|a| matches!(a.value.kind, ExprKind::Attribute { .. }))
                {
                    narrowed = true;
                }
            }
            // Django `Order.objects…`
            ExprKind::Attribute { value, attr }
                if (attr == "objects" || attr == "_default_manager") && model.is_none() =>
            {
                model = model_of(value, module, models);
            }
            _ => {}
        });
    }
    model.map(|model| RowSource {
        model,
        eager,
        narrowed,
    })
}

fn model_of(expr: &Expr, module: &Module, models: &ModelIndex) -> Option<String> {
    let qualified = module.resolve_expr(expr).or_else(|| expr.dotted())?;
    models.get(&qualified).map(|m| m.class.clone())
}

/// `Job.items` → `items`; `"items"` → `items`.
fn relationship_name(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Attribute { attr, .. } => Some(attr.clone()),
        ExprKind::Literal(weir_ir::Literal::Str(s)) => {
            Some(s.split('.').next().unwrap_or(s).to_string())
        }
        _ => None,
    }
}

/// `"customer__address"` → `customer`; `Prefetch("lines", ...)` → `lines`.
fn django_path(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Literal(weir_ir::Literal::Str(s)) => {
            Some(s.split("__").next().unwrap_or(s).to_string())
        }
        ExprKind::Call(call) => call.positional(0).and_then(django_path),
        _ => None,
    }
}
