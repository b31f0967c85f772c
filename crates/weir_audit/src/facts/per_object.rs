//! Functions a framework calls once per item of a collection, with no loop
//! in the project's code: the methods of a Django REST framework serializer
//! that DRF runs for every object it serializes. A `ListSerializer`
//! (`many=True`, or the serializer of a list view) calls the child's
//! `to_representation(instance)` once per object, and that calls each
//! `SerializerMethodField`'s `get_<field>(obj)`
//! (<https://www.django-rest-framework.org/api-guide/serializers/#listserializer>,
//! <https://www.django-rest-framework.org/api-guide/fields/#serializermethodfield>).
//! A query there runs once per row of the page: an N+1 the rules weigh as
//! a query in a per-item loop.
//!
//! A serializer only ever used for one object (a detail view,
//! `Serializer(instance).data`) runs them once: evidence of list use is
//! required, seen anywhere in the project (see [`ListUse`]).

use weir_ir::{Call, Class, Expr, ExprKind, Literal, Module, StmtKind};

use rayon::prelude::*;

use crate::collections::{HashMap, HashSet};
use crate::knowledge::drf;
use crate::project::{ModelIndex, ProjectIndex};

/// A method run once per serialized object or listed row.
#[derive(Debug, Clone)]
pub struct PerObject {
    /// What calls it, for messages: "`get_total` of `OrderSerializer`'s
    /// `SerializerMethodField` `total`".
    pub what: String,
    pub kind: PerObjectKind,
    /// Where the serializer is used for a list: (path, line, label).
    pub evidence: (String, u32, String),
    /// The project model of the serialized objects (`Meta.model`), when
    /// every list-serialized class that runs the method agrees on one.
    pub model: Option<String>,
    /// The to-one relations of `model` that the rows arrive without and
    /// that this method is the first of its list to read, each with that
    /// read (known for the
    /// admin's change list; empty when not known).
    pub unloaded_to_one: Vec<(String, weir_ir::Span)>,
    /// The relations the rows arrive with prefetched, when known (the
    /// admin's own queryset: none); else any relation the project
    /// prefetches somewhere may be.
    pub prefetched: Option<Vec<String>>,
}

/// Which framework calls the method once per object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerObjectKind {
    /// DRF, for each object a list serializer serializes.
    Serializer,
    /// Django's admin, for each row of a change list (see
    /// [`super::admin_lists`]).
    AdminChangeList,
}

/// Per-object methods by (module name, function qualname).
#[derive(Debug, Default)]
pub struct PerObjectMethods {
    methods: HashMap<(String, String), PerObject>,
    /// Every relation name the project prefetches somewhere, written out
    /// (`prefetch_related("tags", "author__follows")`, `Prefetch("tags")`,
    /// `prefetch_related_objects(objs, "tags")`): each segment of each path.
    prefetched: HashSet<String>,
    /// List views whose serializer reads relations their queryset does not load.
    pub unloaded: super::list_views::UnloadedRelations,
}

impl PerObjectMethods {
    pub fn get(&self, module: &str, qualname: &str) -> Option<&PerObject> {
        if self.methods.is_empty() {
            return None;
        }
        self.methods
            .get(&(module.to_string(), qualname.to_string()))
    }

    /// Whether the project prefetches a relation of this name anywhere. A
    /// related manager read in a per-object method (`obj.favorited_by
    /// .count()`) is served by a prefetch on the view's queryset when there
    /// is one; a relation no code ever prefetches is read with a query per
    /// object.
    pub fn prefetched_anywhere(&self, relation: &str) -> bool {
        self.prefetched.contains(relation)
    }

    pub fn build(modules: &[Module], index: &ProjectIndex<'_>, models: &ModelIndex) -> Self {
        let classes = Classes::new(modules, index);
        let admin_methods = super::admin_lists::per_row_methods(modules, &classes, models);
        if classes.serializers.is_empty() && admin_methods.is_empty() {
            return Self::default();
        }
        let (uses, prefetched, list_views) = list_uses(modules, &classes);
        let unloaded =
            super::list_views::UnloadedRelations::build(modules, &classes, &list_views, models);
        let mut methods: HashMap<(String, String), PerObject> = HashMap::default();
        let mut conflicting: HashSet<(String, String)> = HashSet::default();
        for (&class, evidence) in &uses {
            let (mi, ci) = class;
            let serializer = &modules[mi].classes[ci];
            let mro = classes.mro(class);
            let model = mro.iter().find_map(|&c| meta_model(modules, c, models));
            let mut wanted: Vec<(String, String)> = vec![(
                drf::PER_OBJECT_METHOD.to_string(),
                format!("`{}` of `{}`", drf::PER_OBJECT_METHOD, serializer.name),
            )];
            let listed = listed_fields(modules, &mro);
            for &(mj, cj) in &mro {
                for (field, getter) in method_fields(&modules[mj], &modules[mj].classes[cj]) {
                    // A subclass that lists a subset of its parent's fields
                    // in `Meta.fields` serializes only those: DRF does not
                    // require the fields declared in a parent class.
                    if listed.as_ref().is_some_and(|l| !l.contains(&field)) {
                        continue;
                    }
                    wanted.push((
                        getter.clone(),
                        format!(
                            "`{getter}` of `{}`'s `{}` `{field}`",
                            serializer.name,
                            drf::METHOD_FIELD
                        ),
                    ));
                }
            }
            for (name, what) in wanted {
                // The nearest definition in the project's classes; DRF's own
                // `to_representation` is not the project's code.
                let Some((module, function)) = nearest_method(modules, &mro, &name) else {
                    continue;
                };
                let key = (module.name.clone(), function.qualname.clone());
                match methods.get_mut(&key) {
                    Some(existing) => {
                        if existing.model != model {
                            conflicting.insert(key);
                        }
                    }
                    None => {
                        methods.insert(
                            key,
                            PerObject {
                                what,
                                kind: PerObjectKind::Serializer,
                                evidence: evidence.clone(),
                                model: model.clone(),
                                unloaded_to_one: Vec::new(),
                                prefetched: None,
                            },
                        );
                    }
                }
            }
        }
        for key in conflicting {
            if let Some(m) = methods.get_mut(&key) {
                m.model = None;
            }
        }
        // A method both an admin lists and a serializer calls keeps the
        // serializer's reading.
        for (key, per_row) in admin_methods {
            methods.entry(key).or_insert(per_row);
        }
        PerObjectMethods {
            methods,
            prefetched,
            unloaded,
        }
    }
}

/// The relation names a prefetch written at `e` names: the literal lookups
/// of `prefetch_related(…)`, `prefetch_related_objects(…)` and
/// `Prefetch(…)`, each segment of each `__` path.
fn prefetch_lookups(e: &Expr, names: &mut Vec<String>) {
    let Some(call) = e.as_call() else { return };
    let lookups: Vec<&Expr> = match call.method_name() {
        Some("prefetch_related" | "prefetch_related_objects") => {
            call.args.iter().map(|a| &a.value).collect()
        }
        Some("Prefetch") => call
            .keyword("lookup")
            .or_else(|| call.positional(0))
            .into_iter()
            .collect(),
        _ => return,
    };
    for lookup in lookups {
        let literals: Vec<&str> = match &lookup.kind {
            ExprKind::Collection { elements, .. } => {
                elements.iter().filter_map(Expr::as_str).collect()
            }
            _ => lookup.as_str().into_iter().collect(),
        };
        for path in literals {
            names.extend(path.split("__").map(ToString::to_string));
        }
    }
}

pub(crate) type ClassRef = (usize, usize);

/// The project's classes, and which are DRF serializers.
pub(crate) struct Classes<'a> {
    index: &'a ProjectIndex<'a>,
    /// Per module, per class: its bases, each with its last segment (an
    /// import alias resolved) and the project class it names. Resolved
    /// once, in parallel: the fixed point below and every ancestor walk
    /// read them many times.
    bases: Vec<Vec<Vec<Base>>>,
    /// Serializers of one object (not `ListSerializer`s).
    pub(crate) serializers: HashSet<ClassRef>,
}

/// One base of a class: its last segment (`ModelSerializer`) and the
/// project class it names, if any.
struct Base {
    name: Option<String>,
    project: Option<ClassRef>,
}

impl<'a> Classes<'a> {
    fn new(modules: &[Module], index: &'a ProjectIndex<'a>) -> Self {
        let bases = modules
            .par_iter()
            .map(|module| {
                module
                    .classes
                    .iter()
                    .map(|class| {
                        class
                            .bases
                            .iter()
                            .map(|base| Base {
                                name: base_name(module, base),
                                project: lookup(index, module, base),
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let mut classes = Classes {
            index,
            bases,
            serializers: HashSet::default(),
        };
        // A serializer derives from a class whose name ends in `Serializer`
        // (DRF's, a library's such as drf-writable-nested's, or the
        // project's), directly or through the project's mixins and bases.
        let mut list_serializers: HashSet<ClassRef> = HashSet::default();
        let mut changed = true;
        while changed {
            changed = false;
            for (mi, module_bases) in classes.bases.iter().enumerate() {
                for (ci, class_bases) in module_bases.iter().enumerate() {
                    let key = (mi, ci);
                    if classes.serializers.contains(&key) || list_serializers.contains(&key) {
                        continue;
                    }
                    let mut serializer = false;
                    let mut list = false;
                    for base in class_bases {
                        let Some(name) = &base.name else {
                            continue;
                        };
                        let project = base.project;
                        if name == drf::LIST_SERIALIZER
                            || project.is_some_and(|c| list_serializers.contains(&c))
                        {
                            list = true;
                        } else if project.is_some_and(|c| classes.serializers.contains(&c))
                            || (project.is_none() && name.ends_with("Serializer"))
                        {
                            serializer = true;
                        }
                    }
                    if list {
                        list_serializers.insert(key);
                        changed = true;
                    } else if serializer {
                        classes.serializers.insert(key);
                        changed = true;
                    }
                }
            }
        }
        classes
    }

    /// The class and its project ancestors, depth first, left to right.
    pub(crate) fn mro(&self, class: ClassRef) -> Vec<ClassRef> {
        let mut out = vec![class];
        let mut i = 0;
        while i < out.len() && out.len() < 32 {
            let (mi, ci) = out[i];
            for base in &self.bases[mi][ci] {
                if let Some(c) = base.project
                    && !out.contains(&c)
                {
                    out.push(c);
                }
            }
            i += 1;
        }
        out
    }

    /// The serializer class a call or a name refers to: `OrderSerializer`,
    /// `serializers.OrderSerializer`.
    pub(crate) fn serializer_named(&self, module: &Module, expr: &Expr) -> Option<ClassRef> {
        lookup(self.index, module, expr).filter(|c| self.serializers.contains(c))
    }

    /// The project class a base, a callee or a name refers to.
    pub(crate) fn class_named(&self, module: &Module, expr: &Expr) -> Option<ClassRef> {
        lookup(self.index, module, expr)
    }

    /// The last segments of the library classes the class and its project
    /// ancestors derive from (`ModelAdmin`, `ModelSerializer`).
    pub(crate) fn library_base_names(&self, class: ClassRef) -> Vec<&str> {
        self.mro(class)
            .into_iter()
            .flat_map(|(mi, ci)| self.bases[mi][ci].iter())
            .filter(|b| b.project.is_none())
            .filter_map(|b| b.name.as_deref())
            .collect()
    }

    /// The class derives (through the project's classes) from one of DRF's
    /// list views.
    fn is_list_view(&self, class: ClassRef) -> bool {
        self.mro(class).iter().any(|&(mi, ci)| {
            self.bases[mi][ci].iter().any(|b| {
                b.name
                    .as_deref()
                    .is_some_and(|n| drf::LIST_VIEWS.contains(&n))
            })
        })
    }
}

/// The project class a base or a callee names.
fn lookup(index: &ProjectIndex<'_>, module: &Module, base: &Expr) -> Option<ClassRef> {
    let base = match &base.kind {
        ExprKind::Subscript { value, .. } => value,
        _ => base,
    };
    let qualified = module.resolve_expr(base)?;
    index.class_ref(&qualified)
}

/// The last segment of a base class or callee: `serializers.ModelSerializer`,
/// `ModelSerializer[User]`, an imported alias resolved (`WNMS` →
/// `WritableNestedModelSerializer`).
pub(crate) fn base_name(module: &Module, base: &Expr) -> Option<String> {
    let base = match &base.kind {
        ExprKind::Subscript { value, .. } => value,
        _ => base,
    };
    if let Some(q) = module.resolve_expr(base) {
        return q.rsplit('.').next().map(str::to_string);
    }
    base.dotted_last().map(str::to_string)
}

/// `many=True` among the call's arguments.
/// `many=True`: a DRF serializer built for a list of objects.
pub(crate) fn many(call: &Call) -> bool {
    call.keyword("many")
        .is_some_and(|v| matches!(v.kind, ExprKind::Literal(Literal::Bool(true))))
}

/// Where each serializer is used for a list, with the first evidence seen:
/// called with `many=True` (in a view, or as a field of another
/// serializer), the `serializer_class` of a list view (`ListAPIView`,
/// `ModelViewSet`… whose `list()` serializes the page with `many=True`)
/// or of a view that calls `self.get_serializer(…, many=True)`, or a field
/// of a serializer used for a list (each of its objects serializes its
/// own). A subclass's list use runs the methods it inherits.
fn list_uses(modules: &[Module], classes: &Classes) -> ListUses {
    // Each module's evidence in the order it is met; merged in module
    // order below, so the first evidence seen is the same as in one pass.
    let found: Vec<ModuleUses> = modules
        .par_iter()
        .enumerate()
        .map(|(mi, module)| module_uses(modules, classes, mi, module))
        .collect();
    let mut uses: HashMap<ClassRef, Evidence> = HashMap::default();
    // Fields: (owning serializer, field's serializer).
    let mut nested: Vec<(ClassRef, ClassRef)> = Vec::new();
    let mut prefetched: HashSet<String> = HashSet::default();
    let mut list_views: Vec<(ClassRef, ClassRef)> = Vec::new();
    for (module_uses, module_nested, module_prefetched, module_views) in found {
        for (class, evidence) in module_uses {
            uses.entry(class).or_insert(evidence);
        }
        nested.extend(module_nested);
        prefetched.extend(module_prefetched);
        list_views.extend(module_views);
    }
    // A serializer nested in a list serializer serializes one object per
    // object of the list.
    let mut changed = true;
    while changed {
        changed = false;
        for &(owner, field) in &nested {
            if uses.contains_key(&field) {
                continue;
            }
            if let Some(evidence) = uses.get(&owner).cloned() {
                uses.insert(field, evidence);
                changed = true;
            }
        }
    }
    // A list-serialized subclass runs the methods of its bases: handled by
    // walking its ancestors in `build`.
    (uses, prefetched, list_views)
}

/// What [`list_uses`] finds: the list uses of each serializer, the
/// relation names prefetched anywhere, and the list views with the
/// serializer each lists with: (view, serializer).
type ListUses = (
    HashMap<ClassRef, Evidence>,
    HashSet<String>,
    Vec<(ClassRef, ClassRef)>,
);

/// Evidence of list use: (path, line, label).
pub(crate) type Evidence = (String, u32, String);

/// One module's list uses in the order met, its nested serializer fields,
/// and the relation names its prefetches name (same walk, see
/// [`prefetch_lookups`]).
type ModuleUses = (
    Vec<(ClassRef, Evidence)>,
    Vec<(ClassRef, ClassRef)>,
    Vec<String>,
    Vec<(ClassRef, ClassRef)>,
);

/// Records a use unless the module already recorded one for the class.
fn push(
    uses: &mut Vec<(ClassRef, Evidence)>,
    class: ClassRef,
    evidence: impl FnOnce() -> Evidence,
) {
    if !uses.iter().any(|(c, _)| *c == class) {
        uses.push((class, evidence()));
    }
}

/// [`list_uses`] within one module: its functions' calls, then its classes.
fn module_uses(modules: &[Module], classes: &Classes, mi: usize, module: &Module) -> ModuleUses {
    let mut uses: Vec<(ClassRef, Evidence)> = Vec::new();
    let mut nested: Vec<(ClassRef, ClassRef)> = Vec::new();
    let mut prefetched: Vec<String> = Vec::new();
    let mut list_views: Vec<(ClassRef, ClassRef)> = Vec::new();
    for function in &module.functions {
        weir_ir::visit::walk_block_exprs(&function.body, &mut |e| {
            prefetch_lookups(e, &mut prefetched);
            if let Some(call) = e.as_call()
                && many(call)
                && let Some(c) = classes.serializer_named(module, &call.callee)
            {
                push(&mut uses, c, || {
                    let name = call.callee.dotted().unwrap_or_default();
                    (
                        module.path.clone(),
                        e.span.line,
                        format!("`{name}(…, many=True)`"),
                    )
                });
            }
        });
    }
    for (ci, class) in module.classes.iter().enumerate() {
        let mut serializer_class = None;
        for (target, value) in class.assignments() {
            if target == "serializer_class" {
                serializer_class = classes.serializer_named(module, value);
                continue;
            }
            weir_ir::visit::walk_expr(value, &mut |e| {
                prefetch_lookups(e, &mut prefetched);
                let Some(call) = e.as_call() else {
                    return;
                };
                // Only a list field or a serializer's own field counts: the
                // model fields of every other class are not resolved.
                if !many(call) && !classes.serializers.contains(&(mi, ci)) {
                    return;
                }
                let Some(c) = classes.serializer_named(module, &call.callee) else {
                    return;
                };
                if many(call) {
                    push(&mut uses, c, || {
                        (
                            module.path.clone(),
                            e.span.line,
                            format!("field `{target}` of `{}` serializes a list", class.name),
                        )
                    });
                } else if classes.serializers.contains(&(mi, ci)) {
                    nested.push(((mi, ci), c));
                }
            });
        }
        // `get_serializer_class()` picks the serializer per action:
        // the one it returns for `list` is the list's, and
        // `serializer_class` only when that is what it falls back to.
        let chooser = classes.mro((mi, ci)).into_iter().find_map(|(mj, cj)| {
            let m = &modules[mj];
            m.classes[cj]
                .methods
                .iter()
                .map(|&f| &m.functions[f])
                .find(|f| f.name == drf::SERIALIZER_CHOOSER)
                .map(|f| (m, f))
        });
        let serializer_class = match chooser {
            Some((m, chooser)) => {
                let listed = list_action_returns(&chooser.body);
                if !listed.is_empty() {
                    for value in listed {
                        if let Some(c) = classes.serializer_named(m, value) {
                            push(&mut uses, c, || {
                                (
                                    m.path.clone(),
                                    value.span.line,
                                    format!(
                                        "returned by `{}.{}()` for the `list` action",
                                        class.name,
                                        drf::SERIALIZER_CHOOSER
                                    ),
                                )
                            });
                        }
                    }
                    None
                } else if falls_back_to_serializer_class(&chooser.body) {
                    serializer_class
                } else {
                    None
                }
            }
            None => serializer_class,
        };
        let Some(serializer_class) = serializer_class else {
            continue;
        };
        let label = if classes.is_list_view((mi, ci)) {
            if lists_no_rows(modules, classes, (mi, ci)) {
                continue;
            }
            list_views.push(((mi, ci), serializer_class));
            Some(format!(
                "`serializer_class` of the list view `{}`",
                class.name
            ))
        } else if gets_many_serializer(module, class) {
            Some(format!(
                "`serializer_class` of `{}`, which calls `get_serializer(…, many=True)`",
                class.name
            ))
        } else {
            None
        };
        if let Some(label) = label {
            uses.push((
                serializer_class,
                (module.path.clone(), class.span.line, label),
            ));
        }
    }
    (uses, nested, prefetched, list_views)
}

/// The values `get_serializer_class()` returns under a test naming the
/// `list` action (`if self.action == "list": return RecipeOverviewSerializer`,
/// `if self.action in ("list", "retrieve"):`).
fn list_action_returns(body: &[weir_ir::Stmt]) -> Vec<&Expr> {
    let mut out = Vec::new();
    for stmt in body {
        let StmtKind::If { test, then, orelse } = &stmt.kind else {
            continue;
        };
        let mut names_list = false;
        weir_ir::visit::walk_expr(test, &mut |e| {
            names_list |= e.as_str() == Some(drf::LIST_ACTION);
        });
        if names_list {
            weir_ir::visit::walk_stmts(then, &mut |s| {
                if let StmtKind::Return { value: Some(v) } = &s.kind {
                    out.push(v);
                }
            });
        } else {
            out.extend(list_action_returns(then));
        }
        out.extend(list_action_returns(orelse));
    }
    out
}

/// A list view whose `queryset` is `Model.objects.none()` and that
/// overrides neither `get_queryset()` nor `list()`: a view kept for its
/// other actions (`retrieve` of `get_object()`, `update`), whose list is
/// always empty, so its serializer never serializes a list.
fn lists_no_rows(modules: &[Module], classes: &Classes, view: ClassRef) -> bool {
    let mro = classes.mro(view);
    let overrides = mro.iter().any(|&(mi, ci)| {
        let m = &modules[mi];
        m.classes[ci]
            .methods
            .iter()
            .any(|&f| matches!(m.functions[f].name.as_str(), "get_queryset" | "list"))
    });
    if overrides {
        return false;
    }
    mro.iter()
        .find_map(|&(mi, ci)| {
            modules[mi].classes[ci]
                .assignments()
                .find(|(target, _)| *target == "queryset")
                .map(|(_, value)| value)
        })
        .and_then(Expr::as_call)
        .is_some_and(|c| c.method_name() == Some("none") && c.args.is_empty())
}

/// `get_serializer_class()` returns `self.serializer_class` (or the
/// inherited choice, `super().get_serializer_class()`) somewhere: for the
/// actions it does not single out, `list` among them.
fn falls_back_to_serializer_class(body: &[weir_ir::Stmt]) -> bool {
    let mut found = false;
    weir_ir::visit::walk_stmts(body, &mut |s| {
        if let StmtKind::Return { value: Some(v) } = &s.kind {
            found |= v.dotted().is_some_and(|d| d.ends_with(".serializer_class"))
                || v.as_call()
                    .is_some_and(|c| c.method_name() == Some(drf::SERIALIZER_CHOOSER));
        }
    });
    found
}

/// A method of the class calls `self.get_serializer(…, many=True)`.
fn gets_many_serializer(module: &Module, class: &Class) -> bool {
    class.methods.iter().any(|&f| {
        let mut found = false;
        weir_ir::visit::walk_block_exprs(&module.functions[f].body, &mut |e| {
            found |= e
                .as_call()
                .is_some_and(|c| c.method_name() == Some("get_serializer") && many(c));
        });
        found
    })
}

/// The `SerializerMethodField`s a class declares: (field, method name).
/// `total = SerializerMethodField()` calls `get_total`;
/// `SerializerMethodField("compute")` or `method_name="compute"` calls
/// `compute`.
pub(crate) fn method_fields(module: &Module, class: &Class) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (field, value) in class.assignments() {
        let Some(call) = value.as_call() else {
            continue;
        };
        if base_name(module, &call.callee).as_deref() != Some(drf::METHOD_FIELD) {
            continue;
        }
        let getter = call
            .keyword("method_name")
            .or_else(|| call.positional(0))
            .and_then(Expr::as_str)
            .map_or_else(|| format!("get_{field}"), str::to_string);
        out.push((field.to_string(), getter));
    }
    out
}

/// The field names of the nearest `Meta.fields` over `mro`, when it is
/// written out as a list or tuple of strings (`fields = ("uid", "name")`).
/// A `ModelSerializer` serializes those fields only, whatever its classes
/// declare. `None` when it is `"__all__"`, computed
/// (`Parent.Meta.fields + (…)`) or absent: every declared field then.
pub(crate) fn listed_fields(modules: &[Module], mro: &[ClassRef]) -> Option<Vec<String>> {
    for &(mi, ci) in mro {
        let module = &modules[mi];
        let meta = format!("{}.Meta", module.classes[ci].qualname);
        let Some(meta) = module.classes.iter().find(|c| c.qualname == meta) else {
            continue;
        };
        let assigned = |name: &str| {
            meta.body.iter().find_map(|stmt| {
                let (targets, value) = stmt.plain_assign()?;
                (targets.first().and_then(Expr::as_name) == Some(name)).then_some(value)
            })
        };
        if assigned("exclude").is_some() {
            return None;
        }
        let Some(value) = assigned("fields") else {
            continue;
        };
        let ExprKind::Collection { elements, .. } = &value.kind else {
            return None;
        };
        return elements
            .iter()
            .map(|e| e.as_str().map(str::to_string))
            .collect();
    }
    None
}

/// The nearest definition of a method among `mro` (a class and its
/// project ancestors), with its module.
pub(crate) fn nearest_method<'m>(
    modules: &'m [Module],
    mro: &[ClassRef],
    name: &str,
) -> Option<(&'m Module, &'m weir_ir::Function)> {
    mro.iter().find_map(|&(mi, ci)| {
        let m = &modules[mi];
        m.classes[ci]
            .methods
            .iter()
            .map(|&f| &m.functions[f])
            .find(|f| f.name == name)
            .map(|f| (m, f))
    })
}

/// The attributes a method run per object reads of the object it
/// receives, its second parameter (`obj.customer` in `obj.customer.email`),
/// each with its first read; none when it rebinds the
/// parameter.
pub(crate) fn object_reads(function: &weir_ir::Function) -> Vec<(String, weir_ir::Span)> {
    let Some(param) = function.params.get(1).map(|p| p.name.as_str()) else {
        return Vec::new();
    };
    let mut rebound = false;
    weir_ir::visit::walk_stmts(&function.body, &mut |stmt| {
        if let Some((targets, _)) = stmt.plain_assign() {
            rebound |= targets.iter().any(|t| t.as_name() == Some(param));
        }
    });
    if rebound {
        return Vec::new();
    }
    let mut out: Vec<(String, weir_ir::Span)> = Vec::new();
    weir_ir::visit::walk_block_exprs(&function.body, &mut |e| {
        if let weir_ir::ExprKind::Attribute { value, attr } = &e.kind
            && value.as_name() == Some(param)
            && !out.iter().any(|(o, _)| o == attr.as_str())
        {
            out.push((attr.to_string(), e.span));
        }
    });
    out
}

/// The project model of `class Meta: model = Order` in the class.
pub(crate) fn meta_model(
    modules: &[Module],
    (mi, ci): ClassRef,
    models: &ModelIndex,
) -> Option<String> {
    let module = &modules[mi];
    let meta = format!("{}.Meta", module.classes[ci].qualname);
    let meta = module.classes.iter().find(|c| c.qualname == meta)?;
    meta.body.iter().find_map(|stmt| {
        let StmtKind::Assign {
            targets,
            value: Some(value),
            ..
        } = &stmt.kind
        else {
            return None;
        };
        if targets.first().and_then(Expr::as_name) != Some("model") {
            return None;
        }
        let qualified = module.resolve_expr(value).or_else(|| value.dotted())?;
        models.get(&qualified).map(|m| m.class.clone())
    })
}
