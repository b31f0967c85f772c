//! The Django admin's change list: the methods `list_display` names run
//! once per row of the page, with no loop in the project's code (see
//! [`crate::knowledge::django_admin`]). A query there is an N+1 per page;
//! so is a foreign key of the row the admin's queryset does not load.
//!
//! Judged only for admins registered with a site for one model
//! (`admin.site.register(Order, OrderAdmin)`, `@admin.register(Order)`):
//! the registration says which rows the methods receive.

use rayon::prelude::*;
use weir_ir::{Expr, ExprKind, Literal, Module};

use super::per_object::{
    ClassRef, Classes, Evidence, PerObject, PerObjectKind, nearest_method, object_reads,
};
use crate::collections::{HashMap, HashSet};
use crate::knowledge::django_admin as admin;
use crate::project::{ModelIndex, Orm};

/// The `list_display` methods of every registered admin, by (module
/// name, function qualname).
pub(crate) fn per_row_methods(
    modules: &[Module],
    classes: &Classes<'_>,
    models: &ModelIndex,
) -> Vec<((String, String), PerObject)> {
    let mut out = Vec::new();
    for (class, model) in registrations(modules, classes, models) {
        let mro = classes.mro(class);
        if !classes
            .library_base_names(class)
            .iter()
            .any(|b| admin::is_admin_base(b))
        {
            continue;
        }
        let Some((list_module, list_display)) =
            nearest_assignment(modules, &mro, admin::LIST_DISPLAY)
        else {
            continue;
        };
        let columns = string_literals(list_display);
        let admin_name = &modules[class.0].classes[class.1].name;
        // An admin that replaces `get_queryset()` may load anything.
        let overrides_queryset = nearest_method(modules, &mro, admin::QUERYSET_METHOD).is_some();
        let unloaded = model
            .as_deref()
            .and_then(|m| models.get(m))
            .filter(|m| m.orm == Orm::Django && !overrides_queryset)
            .map(|m| unloaded_to_one(modules, &mro, m, &columns))
            .unwrap_or_default();
        let evidence: Evidence = (
            list_module.path.clone(),
            list_display.span.line,
            format!("`{}` of the admin `{admin_name}`", admin::LIST_DISPLAY),
        );
        // Each unloaded relation once per admin: at the first column that
        // reads it (a row loads it once, and the others read its cache).
        let mut claimed: HashSet<String> = HashSet::default();
        for column in &columns {
            // The nearest definition among the admin's project classes.
            let Some((module, function)) =
                nearest_method(modules, &mro, column).filter(|(_, f)| f.params.len() >= 2)
            else {
                continue;
            };
            let mut owned: Vec<(String, weir_ir::Span)> = object_reads(function)
                .into_iter()
                .filter(|(r, _)| unloaded.contains(r) && !claimed.contains(r))
                .collect();
            owned.sort_by(|a, b| a.0.cmp(&b.0));
            claimed.extend(owned.iter().map(|(r, _)| r.clone()));
            out.push((
                (module.name.clone(), function.qualname.clone()),
                PerObject {
                    what: format!("`{column}` of `{admin_name}`'s `{}`", admin::LIST_DISPLAY),
                    evidence: evidence.clone(),
                    model: model.clone(),
                    kind: PerObjectKind::AdminChangeList,
                    unloaded_to_one: owned,
                    // Django's queryset prefetches nothing.
                    prefetched: (!overrides_queryset).then(Vec::new),
                },
            ));
        }
    }
    out
}

/// The to-one relations of the model the admin's change list does not
/// load: all of them but those `list_select_related` names, or the non-null
/// foreign keys a bare `select_related()` follows (`list_select_related =
/// True`, or a foreign key among the columns).
fn unloaded_to_one(
    modules: &[Module],
    mro: &[ClassRef],
    model: &crate::project::Model,
    columns: &[String],
) -> Vec<String> {
    let select_related =
        nearest_assignment(modules, mro, admin::LIST_SELECT_RELATED).map(|(_, v)| v);
    let mut named: HashSet<String> = HashSet::default();
    let bare = match select_related.map(|v| &v.kind) {
        Some(ExprKind::Literal(Literal::Bool(true))) => true,
        None | Some(ExprKind::Literal(Literal::Bool(false))) => columns.iter().any(|c| {
            model
                .relationships
                .get(c)
                .is_some_and(|rel| !rel.many && rel.followed_by_default)
        }),
        Some(ExprKind::Collection { elements, .. }) => {
            for path in elements.iter().filter_map(Expr::as_str) {
                named.insert(path.split("__").next().unwrap_or(path).to_string());
            }
            false
        }
        // A name or a computed list: may load anything.
        Some(_) => return Vec::new(),
    };
    let mut out: Vec<String> = model
        .relationships
        .iter()
        .filter(|(name, rel)| {
            let loaded = named.contains(*name) || (bare && rel.followed_by_default);
            !rel.many && !loaded
        })
        .map(|(name, _)| name.clone())
        .collect();
    out.sort();
    out
}

/// Each admin class registered with a site, with the project model it is
/// registered for when that is one known model: `site.register(Order,
/// OrderAdmin)`, `@admin.register(Order)`; `site.register([Order,
/// Invoice], OrderAdmin)` or an unresolved model leaves the rows unknown.
fn registrations(
    modules: &[Module],
    classes: &Classes<'_>,
    models: &ModelIndex,
) -> Vec<(ClassRef, Option<String>)> {
    // Per admin: the models met, and whether one was not a project model.
    let mut found: HashMap<ClassRef, (Vec<String>, bool)> = HashMap::default();
    let mut order: Vec<ClassRef> = Vec::new();
    let mut record = |class: ClassRef, module: &Module, model: &Expr| {
        let (known, unknown) = found.entry(class).or_insert_with(|| {
            order.push(class);
            (Vec::new(), false)
        });
        let named: Vec<&Expr> = match &model.kind {
            ExprKind::Collection { elements, .. } => elements.iter().collect(),
            _ => vec![model],
        };
        for m in named {
            match module
                .resolve_expr(m)
                .or_else(|| m.dotted())
                .and_then(|q| models.get(&q).map(|m| m.class.clone()))
            {
                Some(q) if !known.contains(&q) => known.push(q),
                Some(_) => {}
                None => *unknown = true,
            }
        }
    };
    // Admin registrations live in admin modules (`app/admin.py`, an
    // `admin` package) or in modules that import Django's admin; only
    // those are walked, side by side.
    let found_per_module: Vec<Vec<(ClassRef, &Expr)>> = modules
        .par_iter()
        .enumerate()
        .map(|(mi, module)| {
            let mut out: Vec<(ClassRef, &Expr)> = Vec::new();
            if !admin_module(module) {
                return out;
            }
            for function in &module.functions {
                weir_ir::visit::walk_block_exprs(&function.body, &mut |e| {
                    let Some(call) = e.as_call() else { return };
                    if call.method_name() != Some(admin::REGISTER) {
                        return;
                    }
                    if let (Some(model), Some(class)) = (call.positional(0), call.positional(1))
                        && let Some(class) = classes.class_named(module, class)
                    {
                        out.push((class, model));
                    }
                });
            }
            for (ci, class) in module.classes.iter().enumerate() {
                for decorator in &class.decorators {
                    let Some(call) = decorator.as_call() else {
                        continue;
                    };
                    if call.callee.dotted_last() != Some(admin::REGISTER) {
                        continue;
                    }
                    for arg in call.args.iter().filter(|a| a.name.is_none()) {
                        out.push(((mi, ci), &arg.value));
                    }
                }
            }
            out
        })
        .collect();
    for (mi, registered) in found_per_module.into_iter().enumerate() {
        for (class, model) in registered {
            record(class, &modules[mi], model);
        }
    }
    order
        .into_iter()
        .map(|class| {
            let model = match found.remove(&class) {
                Some((known, false)) if known.len() == 1 => known.into_iter().next(),
                _ => None,
            };
            (class, model)
        })
        .collect()
}

/// A module that may register admins: one named `admin` (or inside an
/// `admin` package, `sites`), or one importing Django's admin.
fn admin_module(module: &Module) -> bool {
    module
        .name
        .split('.')
        .any(|segment| segment.contains(admin::MODULE_WORD))
        || module
            .imports
            .iter()
            .any(|i| i.target.starts_with(admin::DJANGO_ADMIN))
}

/// The nearest `name = value` among the classes, with its module.
fn nearest_assignment<'m>(
    modules: &'m [Module],
    mro: &[ClassRef],
    name: &str,
) -> Option<(&'m Module, &'m Expr)> {
    mro.iter().find_map(|&(mi, ci)| {
        let m = &modules[mi];
        m.classes[ci]
            .assignments()
            .find(|(target, _)| *target == name)
            .map(|(_, value)| (m, value))
    })
}

/// The string literals of a column list: `("name", "owner_email")`, and
/// of each list joined with `+` (`BaseAdmin.list_display + ("total",)`).
fn string_literals(value: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    weir_ir::visit::walk_expr(value, &mut |e| {
        if let ExprKind::Collection { elements, .. } = &e.kind {
            out.extend(elements.iter().filter_map(Expr::as_str).map(str::to_string));
        }
    });
    out
}
