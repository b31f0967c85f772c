//! Django REST framework list views whose serializer reads a relation of
//! each object that the view's queryset does not load: DRF serializes the
//! page object by object, so each object loads it with a query of its own,
//! with no loop in the project's code. The canonical N+1 of a DRF API
//! (<https://www.django-rest-framework.org/api-guide/relations/>, Django's
//! `select_related()`/`prefetch_related()`).
//!
//! Judged only where the view shows all it does to the rows: a
//! `queryset = Model.objects…` class attribute (its own or a project
//! base's) and no `get_queryset()` override, a default manager the model
//! does not replace, and literal eager loads.

use weir_ir::{Class, Expr, ExprKind, Literal, Module};

use super::per_object::{ClassRef, Classes, base_name, many, meta_model};
use crate::collections::HashMap;
use crate::knowledge::drf;
use crate::project::ModelIndex;

/// One relation a list view's serializer reads per object, unloaded.
#[derive(Debug, Clone)]
pub struct UnloadedRelation {
    /// The view class's name and its `class` line.
    pub view: String,
    pub span: weir_ir::Span,
    pub serializer: String,
    /// The model's name.
    pub model: String,
    /// The serializer field that reads it, and where it is declared.
    pub field: String,
    pub field_path: String,
    pub field_line: u32,
    /// The relation of the model (`author`, `tags`).
    pub relation: String,
    /// A to-many relation (`prefetch_related`) rather than a foreign key
    /// (`select_related`).
    pub many: bool,
}

/// Unloaded relations of list views, by the module that defines the view.
#[derive(Debug, Default)]
pub struct UnloadedRelations {
    by_module: HashMap<String, Vec<UnloadedRelation>>,
    serializers: HashMap<String, SerializerReads>,
}

impl UnloadedRelations {
    pub fn in_module(&self, module: &str) -> &[UnloadedRelation] {
        self.by_module.get(module).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn build(
        modules: &[Module],
        classes: &Classes<'_>,
        list_views: &[(ClassRef, ClassRef)],
        models: &ModelIndex,
    ) -> Self {
        let serializers = serializer_reads(modules, classes, models);
        let mut by_module: HashMap<String, Vec<UnloadedRelation>> = HashMap::default();
        for &(view, serializer) in list_views {
            let found = unloaded(modules, classes, (view, serializer), models, &serializers);
            if !found.is_empty() {
                by_module
                    .entry(modules[view.0].name.clone())
                    .or_default()
                    .extend(found);
            }
        }
        UnloadedRelations {
            by_module,
            serializers,
        }
    }

    /// What the serializer class of this qualified name reads of each object.
    pub fn serializer(&self, qualified: &str) -> Option<&SerializerReads> {
        self.serializers.get(qualified)
    }
}

fn unloaded(
    modules: &[Module],
    classes: &Classes<'_>,
    (view, serializer): (ClassRef, ClassRef),
    models: &ModelIndex,
    reads: &HashMap<String, SerializerReads>,
) -> Vec<UnloadedRelation> {
    let mut out = Vec::new();
    let view_mro = classes.mro(view);
    // A project class that replaces DRF's `list()` may serialize the rows
    // some other way (kolibri's `ValuesViewset` lists `.values()` dicts):
    // not judged, unless it hands them on to `super().list(…)`.
    let own_list = view_mro.iter().any(|&(mi, ci)| {
        let m = &modules[mi];
        m.classes[ci].methods.iter().any(|&f| {
            let function = &m.functions[f];
            let mut calls_super = false;
            weir_ir::visit::walk_block_exprs(&function.body, &mut |e| {
                calls_super |= e.as_call().is_some_and(|c| {
                    c.method_name() == Some("list")
                        && c.receiver()
                            .and_then(Expr::as_call)
                            .is_some_and(|r| r.callee.as_name() == Some("super"))
                });
            });
            function.name == "list" && !calls_super
        })
    });
    if own_list {
        return out;
    }
    // The nearest `get_queryset()` replaces the `queryset` attribute.
    let get_queryset = super::per_object::nearest_method(modules, &view_mro, "get_queryset");
    // Relations the rows are filtered to lack: `filter(parent__isnull=True)`.
    let mut absent: Vec<String> = Vec::new();
    let (rows, model) = if let Some((module, function)) = get_queryset {
        // Judged when every `return` gives rows of one model's query built
        // in the method (`return Routine.objects.filter(user=self.request.user)`),
        // with literal eager loads; `super().get_queryset()`,
        // `self.queryset` or a helper's rows may load anything.
        let Some(rows) = super::returns::returned_rows(module, function, models) else {
            return out;
        };
        let Some(model) = models.get(&rows.model) else {
            return out;
        };
        let mut literal = true;
        weir_ir::visit::walk_block_exprs(&function.body, &mut |e| {
            literal &= !e.as_call().is_some_and(|c| {
                c.method_name() == Some("prefetch_related")
                    || c.method_name() == Some("select_related")
            }) || literal_eager_loads(e);
        });
        if !literal || !judgeable_rows(&rows, model) {
            return out;
        }
        weir_ir::visit::walk_block_exprs(&function.body, &mut |e| {
            filtered_to_lack(e, &mut absent);
        });
        (rows, model)
    } else {
        let Some((module, queryset)) = view_mro.iter().find_map(|&(mi, ci)| {
            let m = &modules[mi];
            m.classes[ci]
                .assignments()
                .find(|(target, _)| *target == "queryset")
                .map(|(_, value)| (m, value))
        }) else {
            return out;
        };
        let empty: HashMap<String, &Expr> = HashMap::default();
        let Some(rows) = super::rows::row_source(queryset, &empty, module, models) else {
            return out;
        };
        let Some(model) = models.get(&rows.model) else {
            return out;
        };
        if !judgeable(queryset, &rows, model) {
            return out;
        }
        weir_ir::visit::walk_expr(queryset, &mut |e| filtered_to_lack(e, &mut absent));
        (rows, model)
    };
    let Some(reads) = reads.get(&format!(
        "{}.{}",
        modules[serializer.0].name, modules[serializer.0].classes[serializer.1].qualname
    )) else {
        return out;
    };
    if reads.model != model.class {
        return out;
    }
    let (vm, vc) = view;
    for (read, many) in unloaded_reads(&reads.reads, model, &rows.eager) {
        // No row has one to load (paperless lists only root documents and
        // reads `obj.root_document` for versions).
        if absent.contains(&read.relation) {
            continue;
        }
        out.push(UnloadedRelation {
            view: modules[vm].classes[vc].name.clone(),
            span: {
                let class = modules[vm].classes[vc].span;
                weir_ir::Span {
                    end: class.start,
                    end_line: class.line,
                    ..class
                }
            },
            serializer: reads.serializer.clone(),
            model: model.name.clone(),
            field: read.field.clone(),
            field_path: read.path.clone(),
            field_line: read.line,
            relation: read.relation.clone(),
            many,
        });
    }
    out
}

/// The relations a `filter(…)` call at `e` keeps the rows without:
/// `filter(root__isnull=True)`, `filter(root=None)`.
fn filtered_to_lack(e: &Expr, absent: &mut Vec<String>) {
    let Some(call) = e.as_call() else { return };
    if call.method_name() != Some("filter") {
        return;
    }
    for arg in &call.args {
        let Some(name) = arg.name.as_deref() else {
            continue;
        };
        let relation = match (name.strip_suffix("__isnull"), &arg.value.kind) {
            (Some(relation), ExprKind::Literal(Literal::Bool(true))) => relation,
            (None, ExprKind::Literal(Literal::Null)) => name,
            _ => continue,
        };
        if !relation.contains("__") {
            absent.push(relation.to_string());
        }
    }
}

/// `select_related`/`prefetch_related` given only string lookups or
/// `Prefetch("lookup", …)`: what they load is known. A name
/// (`prefetch_related(*PREFETCH)`) may load anything.
fn literal_eager_loads(queryset: &Expr) -> bool {
    let mut known = true;
    weir_ir::visit::walk_expr(queryset, &mut |e| {
        let Some(call) = e.as_call() else { return };
        if !matches!(
            call.method_name(),
            Some("select_related" | "prefetch_related")
        ) {
            return;
        }
        for arg in &call.args {
            let literal = arg.value.as_str().is_some()
                || arg.value.as_call().is_some_and(|c| {
                    c.callee.dotted_last() == Some("Prefetch")
                        && c.positional(0).and_then(Expr::as_str).is_some()
                });
            known &= literal && arg.name.is_none();
        }
    });
    known
}

/// A serializer field that reads a relation of each object.
#[derive(Debug, Clone)]
pub struct RelationRead {
    pub field: String,
    pub relation: String,
    /// Reads only the related key (`PrimaryKeyRelatedField`).
    pub key_only: bool,
    /// Read as an attribute of the object in a method field's getter
    /// (`obj.author.name`): counted for to-one relations only, since a
    /// to-many one read there is a query the getter reports itself.
    pub in_getter: bool,
    pub path: String,
    pub line: u32,
}

/// What a serializer with a Django `Meta.model` reads of each object.
#[derive(Debug, Clone)]
pub struct SerializerReads {
    pub serializer: String,
    /// Qualified class of the model.
    pub model: String,
    pub reads: Vec<RelationRead>,
}

/// The serializers whose fields read relations, by qualified class name.
pub(crate) fn serializer_reads(
    modules: &[Module],
    classes: &Classes<'_>,
    models: &ModelIndex,
) -> HashMap<String, SerializerReads> {
    let mut out = HashMap::default();
    for &(mi, ci) in &classes.serializers {
        let mro = classes.mro((mi, ci));
        let Some(model) = mro.iter().find_map(|&c| meta_model(modules, c, models)) else {
            continue;
        };
        if models
            .get(&model)
            .is_none_or(|m| m.orm != crate::project::Orm::Django)
        {
            continue;
        }
        let reads = relation_reads(modules, classes, &mro);
        if reads.is_empty() {
            continue;
        }
        let class = &modules[mi].classes[ci];
        out.insert(
            format!("{}.{}", modules[mi].name, class.qualname),
            SerializerReads {
                serializer: class.name.clone(),
                model,
                reads,
            },
        );
    }
    out
}

/// The relations of `model` that `reads` needs and `eager` does not
/// load, once each: (read, the relation is to-many).
pub fn unloaded_reads<'r>(
    reads: &'r [RelationRead],
    model: &crate::project::Model,
    eager: &[String],
) -> Vec<(&'r RelationRead, bool)> {
    let mut out: Vec<(&RelationRead, bool)> = Vec::new();
    for read in reads {
        let Some(rel) = model.relationships.get(&read.relation) else {
            continue;
        };
        // A to-one relation read for its key only is no query.
        if eager.contains(&read.relation)
            || (read.key_only && !rel.many)
            || (read.in_getter && rel.many)
            || out.iter().any(|(o, _)| o.relation == read.relation)
        {
            continue;
        }
        out.push((read, rel.many));
    }
    out
}

/// The queryset shows what it loads: a Django model whose default
/// manager is Django's (a replaced one may load relations in its
/// `get_queryset()`), whole rows, and literal eager loads.
pub fn judgeable(
    queryset: &Expr,
    rows: &super::rows::RowSource,
    model: &crate::project::Model,
) -> bool {
    literal_eager_loads(queryset) && judgeable_rows(rows, model)
}

/// Whole rows of a Django model whose default manager is Django's own:
/// not declared, or declared as `objects = models.Manager()`.
fn judgeable_rows(rows: &super::rows::RowSource, model: &crate::project::Model) -> bool {
    let mut objects = model
        .manager_classes
        .iter()
        .filter(|(field, _)| field == "objects")
        .peekable();
    let djangos_own = objects.peek().is_some()
        && objects.all(|(_, class)| {
            matches!(
                class.as_str(),
                "django.db.models.Manager" | "django.db.models.manager.Manager"
            )
        });
    !rows.narrowed
        && model.orm == crate::project::Orm::Django
        && (djangos_own || !model.managers.iter().any(|m| m == "objects"))
}

/// The relations a serializer's fields read, over its class and its
/// project bases (the nearest declaration of a field wins): a nested
/// serializer (`author = AuthorSerializer()`), a relational field
/// (`StringRelatedField`, `SlugRelatedField`; `PrimaryKeyRelatedField`
/// reads the key only), a dotted `source="author.name"`, and the
/// relations `Meta.fields` names that no field declares
/// (`PrimaryKeyRelatedField`s, nested serializers with `Meta.depth`).
fn relation_reads(
    modules: &[Module],
    classes: &Classes<'_>,
    mro: &[ClassRef],
) -> Vec<RelationRead> {
    let mut out = Vec::new();
    let mut declared: Vec<&str> = Vec::new();
    for &(mi, ci) in mro {
        let module = &modules[mi];
        let class = &module.classes[ci];
        for stmt in &class.body {
            let Some((targets, value)) = stmt.plain_assign() else {
                continue;
            };
            let Some(field) = targets.first().and_then(Expr::as_name) else {
                continue;
            };
            if declared.contains(&field) {
                continue;
            }
            declared.push(field);
            let Some(call) = value.as_call() else {
                continue;
            };
            let source = call.keyword("source").and_then(Expr::as_str);
            let (relation, dotted) = match source {
                Some("*") => continue,
                Some(source) => match source.split_once('.') {
                    Some((first, _)) => (first, true),
                    None => (source, false),
                },
                None => (field, false),
            };
            let kind = base_name(module, &call.callee);
            let nested = classes.serializer_named(module, &call.callee).is_some();
            let reads_object = nested
                || dotted
                || kind
                    .as_deref()
                    .is_some_and(|k| drf::OBJECT_READING_FIELDS.contains(&k));
            let key_only = !reads_object
                && kind
                    .as_deref()
                    .is_some_and(|k| drf::KEY_ONLY_FIELDS.contains(&k));
            if reads_object || (key_only && many(call)) {
                out.push(RelationRead {
                    field: field.to_string(),
                    relation: relation.to_string(),
                    key_only: false,
                    in_getter: false,
                    path: module.path.clone(),
                    line: stmt.span.line,
                });
            } else if key_only {
                out.push(RelationRead {
                    field: field.to_string(),
                    relation: relation.to_string(),
                    key_only: true,
                    in_getter: false,
                    path: module.path.clone(),
                    line: stmt.span.line,
                });
            }
        }
    }
    getter_reads(modules, mro, &mut out);
    // `Meta.fields`, from the nearest `Meta`.
    let Some((module, meta)) = mro.iter().find_map(|&(mi, ci)| {
        meta_class(&modules[mi], &modules[mi].classes[ci]).map(|meta| (&modules[mi], meta))
    }) else {
        return out;
    };
    let mut fields: Vec<(&str, u32)> = Vec::new();
    let mut depth = 0;
    for stmt in &meta.body {
        let Some((targets, value)) = stmt.plain_assign() else {
            continue;
        };
        match targets.first().and_then(Expr::as_name) {
            Some("fields") => {
                if let ExprKind::Collection { elements, .. } = &value.kind {
                    fields.extend(
                        elements
                            .iter()
                            .filter_map(Expr::as_str)
                            .map(|f| (f, stmt.span.line)),
                    );
                }
            }
            Some("depth") => {
                if let ExprKind::Literal(Literal::Int(d)) = value.kind {
                    depth = d;
                }
            }
            _ => {}
        }
    }
    for (field, line) in fields {
        if declared.contains(&field) {
            continue;
        }
        // A relation named in `fields` is a `PrimaryKeyRelatedField`: its
        // key, or with `depth` a nested serializer of the related object.
        out.push(RelationRead {
            field: field.to_string(),
            relation: field.to_string(),
            key_only: depth == 0,
            in_getter: false,
            path: module.path.clone(),
            line,
        });
    }
    out
}

/// The attributes a `SerializerMethodField`'s getter reads of the object
/// it receives (`def get_author_name(self, obj): return obj.author.name`),
/// each a possible relation, from the nearest declaration of each field
/// and getter. A getter that rebinds the parameter is not read.
fn getter_reads(modules: &[Module], mro: &[ClassRef], out: &mut Vec<RelationRead>) {
    let mut fields: Vec<(String, String)> = Vec::new();
    // A subclass listing a subset of its parent's fields serializes those.
    let listed = super::per_object::listed_fields(modules, mro);
    for &(mi, ci) in mro {
        for (field, getter) in
            super::per_object::method_fields(&modules[mi], &modules[mi].classes[ci])
        {
            if listed.as_ref().is_some_and(|l| !l.contains(&field)) {
                continue;
            }
            if !fields.iter().any(|(f, _)| *f == field) {
                fields.push((field, getter));
            }
        }
    }
    for (field, getter) in fields {
        let Some((module, function)) = super::per_object::nearest_method(modules, mro, &getter)
        else {
            continue;
        };
        for (relation, read) in super::per_object::object_reads(function) {
            out.push(RelationRead {
                field: field.clone(),
                relation,
                key_only: false,
                in_getter: true,
                path: module.path.clone(),
                line: read.line,
            });
        }
    }
}

/// `class Meta:` inside the class.
fn meta_class<'m>(module: &'m Module, class: &Class) -> Option<&'m Class> {
    let qualname = format!("{}.Meta", class.qualname);
    module.classes.iter().find(|c| c.qualname == qualname)
}
