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
    /// The eager-loading options that name a relationship of the rows
    /// themselves (not a nested path's later hops), in source order.
    pub options: Vec<EagerOption>,
    /// Rows a project function returned (`orders = await repo.recent()`):
    /// the query in that function decides what they load, so it is judged
    /// there (QE-04), not again at every caller.
    pub from_callee: bool,
}

/// One eager-loading option: `selectinload(Order.lines)`, `select_related("customer")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EagerOption {
    /// The attribute the rows get: the relationship, or a `Prefetch`'s `to_attr`.
    pub attr: String,
    /// `selectinload`, `joinedload`, `select_related`, …
    pub loader: String,
    pub span: weir_ir::Span,
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
/// assigned values (a few hops). A name last bound to a chain on itself
/// (`qs = qs.exclude(…)`) is followed to what it held before, in `refined`.
fn sources<'a, S: std::hash::BuildHasher>(
    expr: &'a Expr,
    assigned: &HashMap<String, &'a Expr, S>,
    refined: Option<&HashMap<String, &'a Expr, S>>,
) -> Vec<&'a Expr> {
    let mut out = vec![expr];
    let mut i = 0;
    while i < out.len() && out.len() < 12 {
        let current = out[i];
        let mut owners = Vec::new();
        relation_owners(current, false, &mut owners);
        walk_outer_query(current, &mut |e| {
            let Some(name) = e.as_name().filter(|n| !owners.contains(n)) else {
                return;
            };
            let before = refined.and_then(|r| r.get(name));
            for value in assigned.get(name).into_iter().chain(before) {
                if !is_embedded_query(value)
                    && !out.iter().any(|o| std::ptr::eq(*o, *value))
                    && out.len() < 12
                {
                    out.push(value);
                }
            }
        });
        i += 1;
    }
    out
}

/// The locals whose relation the expression reads (`shelf` in
/// `shelf.entries.filter(…)`, an attribute not called): their rows are the
/// owner's, not those of the relation; their query does not say the model.
/// A called attribute is a method of the local's own rows (`qs.filter(…)`).
fn relation_owners<'a>(expr: &'a Expr, called: bool, out: &mut Vec<&'a str>) {
    if is_embedded_query(expr) {
        return;
    }
    match &expr.kind {
        ExprKind::Attribute { value, attr } => {
            if !called
                && !matches!(attr.as_str(), "objects" | "_default_manager" | "query")
                && let Some(name) = value.as_name()
            {
                out.push(name);
            }
            relation_owners(value, false, out);
        }
        ExprKind::Call(call) => {
            relation_owners(&call.callee, true, out);
            for arg in &call.args {
                relation_owners(&arg.value, false, out);
            }
        }
        _ => weir_ir::visit::child_exprs(expr, &mut |child| relation_owners(child, false, out)),
    }
}

/// `Subquery(…)`, `Exists(…)`: a Django expression that embeds another
/// queryset in the SQL of the outer one (an annotation, a filter); its
/// model is not the model of the outer query's rows. Nor is that of the
/// queryset a `Prefetch("component", queryset=Component.objects…)` runs
/// for a relation of the rows.
fn is_embedded_query(expr: &Expr) -> bool {
    expr.as_call()
        .and_then(|c| c.callee.dotted_last())
        .is_some_and(|last| matches!(last, "Subquery" | "Exists" | "Prefetch"))
}

/// Walks `expr` as `walk_expr` does, but not into embedded queries, nor
/// into the selectors of `itertools.compress(data, selectors)`: its items
/// are those of `data` (a mask computed from a query is not its rows),
/// nor into the keyword arguments of a query method: those are lookups and
/// annotations (`filter(object_types=content_type)` with `content_type`
/// another model's row), never what hands out the rows. A project
/// helper's keyword arguments are walked: `Food.exclude_descendants(
/// queryset=Food.objects.filter(…))` hands back the rows it is given.
fn walk_outer_query<'a>(expr: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    f(expr);
    if is_embedded_query(expr) {
        return;
    }
    if let Some(call) = expr.as_call()
        && call.callee.dotted_last() == Some("compress")
        && let Some(data) = call.positional(0)
    {
        walk_outer_query(data, f);
        return;
    }
    if let ExprKind::Call(call) = &expr.kind
        && call
            .method_name()
            .is_some_and(|m| LOOKUP_KEYWORDS.binary_search(&m).is_ok())
    {
        walk_outer_query(&call.callee, f);
        for arg in call.args.iter().filter(|a| a.name.is_none()) {
            walk_outer_query(&arg.value, f);
        }
        return;
    }
    weir_ir::visit::child_exprs(expr, &mut |child| walk_outer_query(child, f));
}

/// Query methods whose keyword arguments are field lookups, values or
/// annotations (Django's QuerySet, SQLAlchemy's `filter_by`).
const LOOKUP_KEYWORDS: &[&str] = &[
    "aggregate",
    "alias",
    "annotate",
    "create",
    "exclude",
    "filter",
    "filter_by",
    "get",
    "get_or_create",
    "update",
    "update_or_create",
    "values",
];

/// The rows an iterable yields, when it is (built from) a query of a project model.
pub fn row_source<S: std::hash::BuildHasher>(
    iter: &Expr,
    assigned: &HashMap<String, &Expr, S>,
    module: &Module,
    models: &ModelIndex,
) -> Option<RowSource> {
    refined_row_source(iter, assigned, None, module, models)
}

/// `row_source` with the values of locals refined from themselves (`qs =
/// Content.objects.filter(…)` then `qs = qs.exclude(…)`).
pub fn refined_row_source<'a, S: std::hash::BuildHasher>(
    iter: &'a Expr,
    assigned: &HashMap<String, &'a Expr, S>,
    refined: Option<&HashMap<String, &'a Expr, S>>,
    module: &Module,
    models: &ModelIndex,
) -> Option<RowSource> {
    if models.is_empty() {
        return None;
    }
    let exprs = sources(iter, assigned, refined);
    // `Order.objects.none()`: Django's empty queryset, no rows to load
    // anything for (the value a name holds when a search has no scope).
    // Not the value before a refinement: `qs = A.objects.filter(…)` in
    // one branch, `qs = A.objects.none()` in the other, then `qs =
    // qs.exclude(…)` holds the first branch's rows.
    if sources(iter, assigned, None).iter().any(|e| {
        e.as_call().is_some_and(|c| {
            c.method_name() == Some("none") && c.args.is_empty() && c.receiver().is_some()
        })
    }) {
        return None;
    }
    let mut model = None;
    let mut eager = Vec::new();
    let mut narrowed = false;
    let mut options = Vec::new();
    let mut all_foreign_keys = false;
    spine_options(iter, assigned, 0, &mut options);
    for (hop, expr) in exprs.iter().enumerate() {
        walk_outer_query(expr, &mut |e| {
            // `Translation.objects.prefetch()`: a project QuerySet method
            // that adds eager loads; also its callee alone, the source of a
            // call that runs the project's method.
            if let ExprKind::Attribute { attr, .. } = &e.kind
                && let Some(loads) = models.queryset_method_eager(attr)
            {
                eager.extend(loads.iter().cloned());
            }
            match &e.kind {
                ExprKind::Call(call) => {
                    let name = call.method_name().unwrap_or_default();
                    // Django's shortcuts take the model (or a queryset) first:
                    // `get_object_or_404(Order, pk=pk)` is `Order.objects.get(pk=pk)`.
                    // Only in the value itself: a name that merely passed through
                    // one (`prov = Paypal(event)`) does not hold its rows.
                    let is_query_builder = matches!(name, "select" | "query" | "get" | "get_one")
                        || call.qualified.as_deref().is_some_and(|q| {
                            q.ends_with(".select")
                                || (hop == 0
                                    && matches!(
                                        q,
                                        "django.shortcuts.get_object_or_404"
                                            | "django.shortcuts.get_list_or_404"
                                    ))
                        });
                    if is_query_builder
                        && model.is_none()
                        && let Some(first) = call.positional(0)
                    {
                        model = model_of(first, module, models);
                    }
                    if EAGER_LOADERS.contains(&name) {
                        eager.extend(call.args.iter().filter_map(|a| relationship_name(&a.value)));
                    }
                    if matches!(name, "bulk_create" | "abulk_create") {
                        eager.extend(constructor_keywords(call.positional(0), assigned));
                    }
                    all_foreign_keys |= name == "select_related" && call.args.is_empty();
                    if matches!(name, "select_related" | "prefetch_related") {
                        // `prefetch_related(bids)` with `bids = Prefetch("bid_set", ...)`;
                        // `prefetch_related(*prefetch)` with `prefetch = ("object", "object_type")`.
                        for arg in &call.args {
                            let value = match arg.value.as_name() {
                                Some(n) => assigned.get(n).copied(),
                                None => Some(&arg.value),
                            };
                            match value.map(|v| &v.kind) {
                                Some(ExprKind::Collection { elements, .. }) => {
                                    eager.extend(elements.iter().filter_map(django_path));
                                }
                                _ => eager.extend(value.and_then(django_path)),
                            }
                        }
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
                // Django `Order.objects…`, or a manager the model declares
                // (`Issue.issue_objects…`).
                // Flask-SQLAlchemy's `User.query…` (a query property).
                ExprKind::Attribute { value, attr } if model.is_none() && attr == "query" => {
                    model = module
                        .resolve_expr(value)
                        .or_else(|| value.dotted())
                        .and_then(|q| models.query_property_model(&q))
                        .map(|m| m.class.clone());
                }
                ExprKind::Attribute { value, attr }
                    if model.is_none()
                        && (attr == "objects"
                            || attr == "_default_manager"
                            || models.declares_manager(attr)) =>
                {
                    let default = attr == "objects" || attr == "_default_manager";
                    model = class_model(value, assigned, module, models)
                        .map(|m| m.class.clone())
                        .filter(|m| {
                            default
                                || models
                                    .get(m)
                                    .is_some_and(|m| m.managers.iter().any(|x| x == attr))
                        });
                }
                _ => {}
            }
        });
    }
    // A bare `select_related()` joins every non-null foreign key.
    if all_foreign_keys && let Some(m) = model.as_deref().and_then(|m| models.get(m)) {
        eager.extend(m.foreign_keys_followed_by_default());
    }
    model.map(|model| RowSource {
        model,
        eager,
        narrowed,
        options,
        from_callee: false,
    })
}

/// A call that locks the rows it reads: `select_for_update()` (Django),
/// `with_for_update()` (SQLAlchemy), or `with_for_update=` given anything
/// but `False`/`None` (`session.get(M, id, with_for_update=True)`).
pub fn locks_rows(call: &weir_ir::Call) -> bool {
    matches!(
        call.method_name(),
        Some("select_for_update" | "with_for_update")
    ) || call.keyword("with_for_update").is_some_and(|v| {
        !matches!(
            v.kind,
            ExprKind::Literal(weir_ir::Literal::Bool(false) | weir_ir::Literal::Null)
        )
    })
}

/// A row's model and the relations loaded with it.
pub type Owner<'a> = (&'a str, &'a [String]);

/// `owner.accessor` under a chain of QuerySet methods that keep a related
/// manager's rows (`order.lines.all()`, `book.seriesbooks.filter(…)`), or
/// bare (`order.lines`, a SQLAlchemy collection).
pub struct RelatedChain<'e> {
    pub owner: &'e Expr,
    pub accessor: &'e str,
    /// The relations the chain loads eagerly (`select_related`, `prefetch_related`).
    pub eager: Vec<String>,
    /// At least one method is called: a Django related manager.
    pub called: bool,
    /// A bare `select_related()`: every non-null foreign key is joined.
    pub all_foreign_keys: bool,
}

pub fn related_chain(iter: &Expr) -> Option<RelatedChain<'_>> {
    let mut expr = iter.unawaited();
    let mut eager = Vec::new();
    let mut called = false;
    let mut all_foreign_keys = false;
    while let Some(call) = expr.as_call() {
        let method = call.method_name()?;
        // Methods that keep the related manager's rows, or iterate them.
        if !(crate::knowledge::DJANGO_SAME_ROWS.contains(&method) || method == "iterator") {
            return None;
        }
        if matches!(method, "select_related" | "prefetch_related") {
            eager.extend(call.args.iter().filter_map(|a| django_path(&a.value)));
        }
        all_foreign_keys |= method == "select_related" && call.args.is_empty();
        called = true;
        expr = call.receiver()?;
    }
    let ExprKind::Attribute { value, attr } = &expr.kind else {
        return None;
    };
    Some(RelatedChain {
        owner: value,
        accessor: attr.as_str(),
        eager,
        called,
        all_foreign_keys,
    })
}

/// The rows of a to-many relation of an object whose model is known:
/// `order.lines.all()` (a Django related manager) or `order.lines` (a
/// SQLAlchemy collection). `owner` gives the model of a local and the
/// relations loaded with it (`None` when unknown: a parameter). When the
/// relation itself was loaded eagerly its nested relations may have been
/// too (`prefetch_related("lines__product")`), so nothing is claimed.
pub fn related_rows<'e>(
    iter: &'e Expr,
    owner: &dyn Fn(&str) -> Option<Owner<'e>>,
    models: &ModelIndex,
) -> Option<RowSource> {
    let RelatedChain {
        owner: value,
        accessor: attr,
        mut eager,
        all_foreign_keys,
        ..
    } = related_chain(iter)?;
    let (model, loaded) = owner(value.as_name()?)?;
    if loaded.iter().any(|l| l == attr) {
        return None;
    }
    let relationship = models.get(model)?.relationships.get(attr)?;
    if !relationship.many {
        return None;
    }
    let target = models.related(relationship)?;
    if all_foreign_keys {
        eager.extend(target.foreign_keys_followed_by_default());
    }
    // Each row's reference back to the owner is the owner itself: Django's
    // related manager sets it on the rows it returns, and SQLAlchemy finds
    // the owner in the identity map.
    let owner_name = models.get(model).map(|m| m.name.as_str());
    eager.extend(
        target
            .relationships
            .iter()
            .filter(|(_, r)| !r.many && r.target.as_deref() == owner_name)
            .map(|(name, _)| name.clone()),
    );
    Some(RowSource {
        model: target.class.clone(),
        eager,
        narrowed: false,
        options: Vec::new(),
        from_callee: false,
    })
}

/// The model a class expression names, including a local bound to
/// Django's `get_user_model()` (`UserModel = get_user_model()` in a view).
pub fn class_model<'m, S: std::hash::BuildHasher>(
    expr: &Expr,
    assigned: &HashMap<String, &Expr, S>,
    module: &Module,
    models: &'m ModelIndex,
) -> Option<&'m crate::project::Model> {
    if let Some(value) = expr.as_name().and_then(|n| assigned.get(n))
        && crate::project::models::is_get_user_model(value, module)
    {
        return models.user_model();
    }
    let qualified = module.resolve_expr(expr).or_else(|| expr.dotted())?;
    models.get(&qualified)
}

fn model_of(expr: &Expr, module: &Module, models: &ModelIndex) -> Option<String> {
    let qualified = module.resolve_expr(expr).or_else(|| expr.dotted())?;
    models.get(&qualified).map(|m| m.class.clone())
}

/// `Job.items` → `items`; `"items"` → `items`.
fn relationship_name(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Attribute { attr, .. } => Some(attr.to_string()),
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

/// Django's `bulk_create(objs)` hands back the objects it was given, not
/// rows read from the database: a relation set by keyword when each was
/// built (`TeamInvite(team=team, email=e) for e in emails`) is cached on
/// the instance, and reading it runs no query. `team_id=…` sets the key
/// only: `invite.team` still loads. The objects are a comprehension or a
/// display of constructor calls, itself or through a local.
fn constructor_keywords<S: std::hash::BuildHasher>(
    objs: Option<&Expr>,
    assigned: &HashMap<String, &Expr, S>,
) -> Vec<String> {
    let Some(mut objs) = objs else {
        return Vec::new();
    };
    if let Some(value) = objs.as_name().and_then(|n| assigned.get(n)) {
        objs = value;
    }
    let built: Vec<&Expr> = match &objs.kind {
        ExprKind::Comprehension(comp) => vec![&comp.element],
        ExprKind::Collection { elements, .. } => elements.iter().collect(),
        _ => Vec::new(),
    };
    built
        .into_iter()
        .filter_map(Expr::as_call)
        .flat_map(|call| {
            call.args
                .iter()
                .filter_map(|a| a.name.as_deref().map(str::to_string))
        })
        .collect()
}

/// The attribute a Django eager path puts on the rows: `"customer__address"`
/// → `customer`; `Prefetch("lines", to_attr="open_lines")` → `open_lines`.
fn django_attr(expr: &Expr) -> Option<String> {
    if let ExprKind::Call(call) = &expr.kind
        && let Some(to_attr) = call.keyword("to_attr").and_then(Expr::as_str)
    {
        return Some(to_attr.to_string());
    }
    django_path(expr)
}

/// The value is a query (or its rows) itself: a method chain on a session,
/// a manager or a statement (`session.scalars(stmt).all()`,
/// `Order.objects.select_related(…)`), possibly in `list()`/`sorted()` or
/// `get_object_or_404()`. Not something built from one (`Paginator(qs)`,
/// `page.object_list`, `order.lines`) or an alias.
pub fn is_query_chain(expr: &Expr) -> bool {
    let mut current = expr.unawaited();
    let mut calls = 0;
    loop {
        match &current.kind {
            ExprKind::Call(call) => {
                calls += 1;
                match &call.callee.kind {
                    ExprKind::Attribute { value, .. } => current = value.unawaited(),
                    ExprKind::Name { id } => {
                        if matches!(
                            id.as_str(),
                            "list" | "sorted" | "tuple" | "get_object_or_404" | "select"
                        ) && let Some(first) = call.positional(0)
                        {
                            current = first.unawaited();
                            continue;
                        }
                        return false;
                    }
                    _ => return false,
                }
            }
            // `Order.objects`, `session`, `self.db`
            ExprKind::Attribute { .. } | ExprKind::Name { .. } => return calls > 0,
            _ => return false,
        }
    }
}

/// The eager-loading options of the query `expr` itself: along its method
/// chain and into the statement it executes (`session.scalars(stmt)` with
/// `stmt = select(...).options(...)`), not into names used in its filters.
fn spine_options<'a, S: std::hash::BuildHasher>(
    expr: &'a Expr,
    assigned: &HashMap<String, &'a Expr, S>,
    depth: usize,
    out: &mut Vec<EagerOption>,
) {
    if depth > 4 {
        return;
    }
    let mut current = expr.unawaited();
    loop {
        match &current.kind {
            ExprKind::Call(call) => {
                let name = call
                    .method_name()
                    .or_else(|| call.callee.as_name())
                    .unwrap_or_default();
                let follow = |e: &'a Expr| -> Option<&'a Expr> {
                    match e.as_name() {
                        Some(n) => assigned.get(n).copied(),
                        None => Some(e),
                    }
                };
                match name {
                    "options" => {
                        for arg in &call.args {
                            if let Some(value) = follow(&arg.value) {
                                push_loader(value, out);
                            }
                        }
                    }
                    "select_related" | "prefetch_related" => {
                        for arg in call.args.iter().filter(|a| a.name.is_none()) {
                            if let Some(attr) = follow(&arg.value).and_then(django_attr) {
                                push(out, attr, name, current.span);
                            }
                        }
                    }
                    _ => {}
                }
                // `session.get(Order, id, options=[joinedload(Order.rep)])`
                if let Some(ExprKind::Collection { elements, .. }) =
                    call.keyword("options").map(|o| &o.kind)
                {
                    for e in elements {
                        push_loader(e, out);
                    }
                }
                // The statement a session runs, the queryset a helper wraps.
                if matches!(
                    name,
                    "execute"
                        | "scalars"
                        | "scalar"
                        | "list"
                        | "sorted"
                        | "tuple"
                        | "get_object_or_404"
                ) && let Some(first) = call.positional(0)
                {
                    spine_options(first, assigned, depth + 1, out);
                }
                match &call.callee.kind {
                    ExprKind::Attribute { value, .. } => current = value.unawaited(),
                    _ => return,
                }
            }
            ExprKind::Name { id } => {
                if let Some(value) = assigned.get(id.as_str()) {
                    spine_options(value, assigned, depth + 1, out);
                }
                return;
            }
            _ => return,
        }
    }
}

fn push(out: &mut Vec<EagerOption>, attr: String, loader: &str, span: weir_ir::Span) {
    if !out.iter().any(|o| o.attr == attr && o.span == span) {
        out.push(EagerOption {
            attr,
            loader: loader.to_string(),
            span,
        });
    }
}

/// `selectinload(Order.lines)`, or the root of a chained option
/// (`selectinload(Order.lines).selectinload(Line.product)` loads `lines` on
/// the rows; `product` is loaded on the lines).
fn push_loader(option: &Expr, out: &mut Vec<EagerOption>) {
    let mut root = option;
    while let Some(inner) = root
        .as_call()
        .and_then(|c| c.receiver())
        .filter(|r| r.as_call().is_some())
    {
        root = inner;
    }
    let Some(call) = root.as_call() else { return };
    let name = call
        .method_name()
        .or_else(|| call.callee.as_name())
        .unwrap_or_default();
    if EAGER_LOADERS.contains(&name)
        && let Some(attr) = call.positional(0).and_then(relationship_name)
    {
        push(out, attr, name, root.span);
    }
}
