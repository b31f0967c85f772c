//! ORM models of the project: SQLAlchemy declarative classes and Django
//! models, with their table, their column count and their relationships
//! (and how each relationship loads). Rows from a query of model M have
//! type M; touching a lazy relationship per row is an N+1.

use crate::collections::HashMap;
use rayon::prelude::*;

use weir_ir::{Expr, ExprKind, Module, StmtKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orm {
    SqlAlchemy,
    Django,
}

/// How a relationship loads when first touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loading {
    /// A query on first access: `lazy="select"` (the default), Django FKs.
    Lazy,
    /// Loaded with its parent: `selectin`, `joined`, `subquery`, `immediate`.
    Eager,
    /// Never implicitly (`raise`, `noload`, `write_only`, `dynamic`).
    Explicit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relationship {
    /// The related model as written (`"Item"`, `Item`, `"app.Item"`), last segment.
    pub target: Option<String>,
    /// The related model's qualified class, once known: the class a
    /// `ForeignKey(Item)` names through the module's imports, then (see
    /// `ModelIndex::resolve_targets`) the project model the declaration
    /// means among those of that name. Two apps may each have an `Item`.
    pub target_class: Option<String>,
    /// The Django app label of a `"app_label.Item"` reference.
    pub target_app: Option<String>,
    pub loading: Loading,
    /// A collection (one-to-many, many-to-many) rather than one object.
    pub many: bool,
    /// A Django `ForeignKey`/`OneToOneField` declared on the model without
    /// `null=True`: what a bare `select_related()` follows ("all non-null
    /// foreign keys", Django's QuerySet reference).
    pub followed_by_default: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// Qualified class name.
    pub class: String,
    pub name: String,
    pub orm: Orm,
    pub table: Option<String>,
    pub columns: usize,
    pub relationships: HashMap<String, Relationship>,
    /// Tables its columns reference: `ForeignKey("orders.id")` → `orders`.
    pub foreign_tables: Vec<String>,
    /// Django managers declared on the class or inherited from an abstract
    /// parent (`issue_objects = IssueManager()`,
    /// `published = PostQuerySet.as_manager()`): `Model.<manager>` is a
    /// QuerySet entry point like `Model.objects`.
    pub managers: Vec<String>,
    /// The classes behind those managers, as their declarations name them
    /// (`objects = SettingsManager()` → (`objects`,
    /// `app.managers.SettingsManager`); `PostQuerySet.as_manager()` and
    /// `Manager.from_queryset(PostQuerySet)()` give the QuerySet class):
    /// a method one of them defines runs instead of Django's.
    pub manager_classes: Vec<(String, String)>,
    /// Django relation fields: field → (`related_name`, is one-to-one), for
    /// the reverse accessors on the related model.
    reverse: HashMap<String, (Option<String>, bool)>,
    /// A Django abstract base (`class Meta: abstract = True`): no table, no
    /// reverse accessors of its own; its subclasses get its fields.
    abstract_base: bool,
    /// Django properties that hand out a relation of the instance:
    /// `@property def positions(self): return self.all_positions(manager="objects")`
    /// → (`positions`, `all_positions`).
    property_relations: Vec<(String, String)>,
    /// SQLAlchemy `relationship(…, backref=…)`: the relationship it adds
    /// to the related model, added there once every model is known.
    backrefs: Vec<Backref>,
    /// SQLAlchemy relationships taken for collections for want of a sign
    /// (no annotation, `uselist=` or `secondary=`): settled once every
    /// model's table is known (see `settle_guessed_collections`).
    guessed_many: Vec<String>,
}

/// `relationship("Trace", backref=backref("tags", lazy=…))` on `TraceTag`
/// declares `Trace.tags` too
/// (<https://docs.sqlalchemy.org/en/20/orm/backref.html>).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Backref {
    /// The attribute on the related model (`tags`).
    accessor: String,
    /// The related model, as the forward relationship names it.
    on: String,
    loading: Loading,
    /// `uselist=` given to `backref(…)`, when given.
    uselist: Option<bool>,
    /// The forward relationship goes through an association table
    /// (`secondary=`): both sides are collections.
    secondary: bool,
    /// The forward relationship's attribute on the declaring model.
    forward: String,
    /// The class `foreign_keys=` names (`"Users.team_id"` → `Users`).
    key_holder: Option<String>,
}

impl Model {
    /// The relations a bare `select_related()` joins: the model's own
    /// non-null `ForeignKey`s and `OneToOneField`s.
    pub fn foreign_keys_followed_by_default(&self) -> impl Iterator<Item = String> + '_ {
        self.relationships
            .iter()
            .filter(|(_, r)| r.followed_by_default)
            .map(|(name, _)| name.clone())
    }
}

#[derive(Default)]
pub struct ModelIndex {
    by_class: HashMap<String, Model>,
    by_name: HashMap<String, Vec<String>>,
    /// Qualified names of all the project's classes, models or not.
    classes: crate::collections::HashSet<String>,
    /// Methods of the project's Django QuerySet and Manager classes that
    /// add eager loads (`def prefetch(self): return
    /// self.prefetch_related("component", …)`): method name → the
    /// attributes they load on the rows.
    queryset_eager: HashMap<String, Vec<String>>,
    /// The project's SQLAlchemy models carry a query property: it uses
    /// Flask-SQLAlchemy (`db.Model` gives every model `Model.query`) or
    /// declares one with `scoped_session.query_property()`.
    query_property: bool,
    /// Module-level names bound to `get_user_model()`
    /// (`UserModel = get_user_model()` in `accounts/forms.py` gives
    /// `accounts.forms.UserModel`): Django's user model under another name.
    user_model_aliases: crate::collections::HashSet<String>,
    /// Every manager name a Django model declares (`issue_objects`), so a
    /// walk asks the model of `X.attr` only when `attr` could be one: most
    /// attribute reads are not, and naming the model builds its path.
    manager_names: crate::collections::HashSet<String>,
}

/// Django's documented way to name the user model from any module.
pub const GET_USER_MODEL: &str = "django.contrib.auth.get_user_model";

/// Methods of Django's own QuerySet API: a project class that overrides
/// one does not make every chain that calls it eager.
const QUERYSET_API: &[&str] = &[
    "get_queryset",
    "all",
    "filter",
    "exclude",
    "get",
    "order_by",
    "annotate",
    "values",
    "values_list",
    "iterator",
    "first",
    "last",
    "count",
    "exists",
    "none",
    "using",
    "only",
    "defer",
    "distinct",
    "create",
    "update",
    "delete",
    "select_related",
    "prefetch_related",
];

const SQLALCHEMY_BASES: &[&str] = &[
    "Base",
    "DeclarativeBase",
    "Model",
    "SQLModel",
    "DeclarativeBaseNoMeta",
    "AsyncAttrs",
];

impl ModelIndex {
    pub fn build(modules: &[Module]) -> Self {
        let mut index = ModelIndex::default();
        // Every class of the project: a base that names one of them is
        // that class, never a model of the same name elsewhere (a
        // serializer `Edition(Book)` next to the model `Book`).
        let (classes, read) = rayon::join(
            || {
                modules
                    .par_iter()
                    .flat_map_iter(|m| {
                        m.classes
                            .iter()
                            .map(|c| format!("{}.{}", m.name, c.qualname))
                    })
                    .collect::<crate::collections::HashSet<String>>()
            },
            // Each class read in parallel, inserted in module order (a
            // later model of the same name wins, as in one pass).
            || {
                modules
                    .par_iter()
                    .map(|m| {
                        m.classes
                            .iter()
                            .map(|c| read_model(m, c, false))
                            .collect::<Vec<_>>()
                    })
                    .collect::<Vec<_>>()
            },
        );
        index.classes = classes;
        let mut rest = Vec::new();
        for (module, models) in modules.iter().zip(read) {
            for (class, model) in module.classes.iter().zip(models) {
                match model {
                    Some(model) => index.insert(model),
                    None => rest.push((module, class)),
                }
            }
        }
        // Subclasses of the project's own Django models (abstract bases
        // such as `class Tag(OwnedModel)`, multi-table children) are models
        // too, however deep the chain.
        loop {
            let before = rest.len();
            rest.retain(|(module, class)| {
                let parent = base_names(module, class)
                    .iter()
                    .any(|b| index.base(b).is_some_and(|m| m.orm == Orm::Django));
                match parent.then(|| read_model(module, class, true)).flatten() {
                    Some(model) => {
                        index.insert(model);
                        false
                    }
                    None => true,
                }
            });
            if rest.len() == before {
                break;
            }
        }
        index.inherit_relationships(modules);
        index.resolve_targets();
        index.settle_guessed_collections();
        index.add_backrefs();
        index.manager_names = index
            .by_class
            .values()
            .flat_map(|m| m.managers.iter().cloned())
            .collect();
        index.user_model_aliases = user_model_aliases(modules);
        let calls_get_user_model = modules.iter().any(imports_get_user_model);
        index.add_user_model(calls_get_user_model);
        index.add_reverse_accessors();
        index.queryset_eager = queryset_eager(modules);
        index.query_property = modules.iter().any(|m| {
            m.imports.iter().any(|i| {
                i.target == "flask_sqlalchemy" || i.target.starts_with("flask_sqlalchemy.")
            })
        }) || modules.iter().any(declares_query_property);
        index
    }

    /// `Model.query` on a SQLAlchemy model of this project is a legacy
    /// `Query` of that model: Flask-SQLAlchemy's query property
    /// (`User.query.filter_by(name=n).first()`), or one the project
    /// declares with `Base.query = Session.query_property()`.
    pub fn query_property_model(&self, qualified: &str) -> Option<&Model> {
        if !self.query_property {
            return None;
        }
        self.get(qualified).filter(|m| m.orm == Orm::SqlAlchemy)
    }

    /// Some Django model of the project declares a manager named `attr`.
    pub fn declares_manager(&self, attr: &str) -> bool {
        self.manager_names.contains(attr)
    }

    /// The attributes a project QuerySet/Manager method loads eagerly on
    /// the rows of the chain that calls it.
    pub fn queryset_method_eager(&self, method: &str) -> Option<&[String]> {
        self.queryset_eager.get(method).map(Vec::as_slice)
    }

    /// Django's user model, which most projects relate to without defining
    /// it: `ForeignKey(settings.AUTH_USER_MODEL)` (or `"auth.User"`) is a
    /// relation to the project's own `User` when it has one, else to
    /// `django.contrib.auth.models.User`, added here so its rows
    /// (`User.objects.filter(…)`) and reverse accessors (`user.profile`
    /// from `Profile.user = OneToOneField(settings.AUTH_USER_MODEL)`) are
    /// known like those of any other model.
    fn add_user_model(&mut self, calls_get_user_model: bool) {
        let mut related = calls_get_user_model;
        for model in self.by_class.values_mut().filter(|m| m.orm == Orm::Django) {
            for rel in model.relationships.values_mut() {
                match rel.target.as_deref() {
                    Some("AUTH_USER_MODEL") => {
                        rel.target = Some("User".to_string());
                        related = true;
                    }
                    Some("User") => related = true,
                    _ => {}
                }
            }
        }
        if !related || self.by_name.contains_key("User") {
            return;
        }
        self.insert(Model {
            class: "django.contrib.auth.models.User".to_string(),
            name: "User".to_string(),
            orm: Orm::Django,
            table: Some("auth_user".to_string()),
            // id, password, last_login, is_superuser, username, first_name,
            // last_name, email, is_staff, is_active, date_joined
            columns: 11,
            relationships: HashMap::default(),
            foreign_tables: Vec::new(),
            managers: Vec::new(),
            manager_classes: Vec::new(),
            reverse: HashMap::default(),
            abstract_base: false,
            property_relations: Vec::new(),
            backrefs: Vec::new(),
            guessed_many: Vec::new(),
        });
    }

    fn insert(&mut self, model: Model) {
        self.by_name
            .entry(model.name.clone())
            .or_default()
            .push(model.class.clone());
        self.by_class.insert(model.class.clone(), model);
    }

    /// A Django model has the relation fields of the project models it
    /// derives from: `owner` declared on an abstract `OwnedModel` is a lazy
    /// foreign key of every subclass.
    fn inherit_relationships(&mut self, modules: &[Module]) {
        let mut parents: Vec<(String, Vec<String>)> = Vec::new();
        for module in modules {
            for class in &module.classes {
                let qualified = format!("{}.{}", module.name, class.qualname);
                let Some(model) = self.by_class.get(&qualified) else {
                    continue;
                };
                if model.orm != Orm::Django {
                    continue;
                }
                let bases: Vec<String> = base_names(module, class)
                    .iter()
                    .filter_map(|b| self.base(b))
                    .filter(|m| m.orm == Orm::Django && m.class != qualified)
                    .map(|m| m.class.clone())
                    .collect();
                if !bases.is_empty() {
                    parents.push((qualified, bases));
                }
            }
        }
        // Each round copies one more level of the hierarchy down.
        for _ in 0..parents.len().min(8) {
            let mut changed = false;
            for (child, bases) in &parents {
                let inherited: Vec<(String, Relationship)> = bases
                    .iter()
                    .filter_map(|b| self.by_class.get(b))
                    .flat_map(|m| m.relationships.iter().map(|(k, v)| (k.clone(), v.clone())))
                    .collect();
                let managers: Vec<String> = bases
                    .iter()
                    .filter_map(|b| self.by_class.get(b))
                    .flat_map(|m| m.managers.iter().cloned())
                    .collect();
                // The relation fields of an abstract base are declared
                // again on each subclass, reverse accessors included
                // (a concrete parent keeps its own).
                let reverse: Vec<(String, (Option<String>, bool))> = bases
                    .iter()
                    .filter_map(|b| self.by_class.get(b))
                    .filter(|m| m.abstract_base)
                    .flat_map(|m| m.reverse.iter().map(|(k, v)| (k.clone(), v.clone())))
                    .collect();
                let manager_classes: Vec<(String, String)> = bases
                    .iter()
                    .filter_map(|b| self.by_class.get(b))
                    .flat_map(|m| m.manager_classes.iter().cloned())
                    .collect();
                if let Some(model) = self.by_class.get_mut(child) {
                    for pair in manager_classes {
                        if !model.manager_classes.iter().any(|(a, _)| *a == pair.0) {
                            model.manager_classes.push(pair);
                            changed = true;
                        }
                    }
                    for manager in managers {
                        if !model.managers.contains(&manager) {
                            model.managers.push(manager);
                            changed = true;
                        }
                    }
                    for (field, entry) in reverse {
                        if let std::collections::hash_map::Entry::Vacant(slot) =
                            model.reverse.entry(field)
                        {
                            slot.insert(entry);
                            changed = true;
                        }
                    }
                    for (field, rel) in inherited {
                        if let std::collections::hash_map::Entry::Vacant(slot) =
                            model.relationships.entry(field)
                        {
                            slot.insert(rel);
                            changed = true;
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_class.is_empty()
    }

    /// The project model a relationship leads to: its resolved class, else
    /// the only model of its name.
    pub fn related(&self, relationship: &Relationship) -> Option<&Model> {
        match relationship.target_class.as_deref() {
            Some(class) => self.by_class.get(class),
            None => self.get(relationship.target.as_deref()?),
        }
    }

    /// Settles each relationship's `target_class` to a model of the
    /// project. A name several models share is the one of the app the
    /// reference names (`"shop.Order"`), else the one closest to the
    /// declaring model (same app, then the longest common package), as
    /// Django resolves `"Order"` in the model's own app. Left unknown when
    /// that does not single one out.
    fn resolve_targets(&mut self) {
        let mut settled: Vec<(String, String, Option<String>)> = Vec::new();
        for model in self.by_class.values() {
            for (field, rel) in &model.relationships {
                let resolved = self.resolve_target(model, rel);
                if resolved != rel.target_class {
                    settled.push((model.class.clone(), field.clone(), resolved));
                }
            }
        }
        for (class, field, resolved) in settled {
            if let Some(rel) = self
                .by_class
                .get_mut(&class)
                .and_then(|m| m.relationships.get_mut(&field))
            {
                rel.target_class = resolved;
            }
        }
    }

    fn resolve_target(&self, model: &Model, rel: &Relationship) -> Option<String> {
        if let Some(class) = rel.target_class.as_deref()
            && self.by_class.contains_key(class)
        {
            return Some(class.to_string());
        }
        let candidates = self.by_name.get(rel.target.as_deref()?)?;
        if let [only] = candidates.as_slice() {
            return Some(only.clone());
        }
        // A class named through imports that are not its definition (a
        // re-export): its app still tells.
        let app = rel
            .target_app
            .as_deref()
            .or_else(|| rel.target_class.as_deref().map(app_label))
            .unwrap_or_else(|| app_label(&model.class));
        let in_app: Vec<&String> = candidates.iter().filter(|c| app_label(c) == app).collect();
        if let [only] = in_app.as_slice() {
            return Some((*only).clone());
        }
        if rel.target_app.is_some() {
            return None;
        }
        let shared = |c: &str| {
            c.split('.')
                .zip(model.class.split('.'))
                .take_while(|(a, b)| a == b)
                .count()
        };
        let best = candidates.iter().map(|c| shared(c)).max()?;
        let mut closest = candidates.iter().filter(|c| shared(c) == best);
        match (closest.next(), closest.next()) {
            (Some(one), None) => Some(one.clone()),
            _ => None,
        }
    }

    /// `child` points at `parent`: a foreign key to its table, a Django
    /// relation field or a SQLAlchemy `relationship` to it, or a collection
    /// relationship on `parent` whose items are `child`s.
    pub fn references(&self, child: &Model, parent: &Model) -> bool {
        if child.class == parent.class {
            return false;
        }
        let leads_to = |r: &Relationship, model: &Model| match r.target_class.as_deref() {
            Some(class) => class == model.class,
            None => r.target.as_deref() == Some(model.name.as_str()),
        };
        let to_parent = child
            .relationships
            .values()
            .any(|r| leads_to(r, parent) && !(r.many && child.orm == Orm::Django));
        let fk = parent
            .table
            .as_deref()
            .is_some_and(|t| child.foreign_tables.iter().any(|f| f == t));
        let from_parent = parent
            .relationships
            .values()
            .any(|r| r.many && leads_to(r, child));
        to_parent || fk || from_parent
    }

    /// The model of the items of a Django to-many accessor named `accessor`
    /// (`seriesbooks`, `status_set`) when every project model that has one
    /// by that name relates to the same model: the rows of `x.seriesbooks.all()`
    /// whatever `x` is.
    pub fn to_many_target(&self, accessor: &str) -> Option<&Model> {
        let mut found: Option<&Model> = None;
        for model in self.by_class.values().filter(|m| m.orm == Orm::Django) {
            let Some(rel) = model.relationships.get(accessor).filter(|r| r.many) else {
                continue;
            };
            let target = self.related(rel)?;
            match found {
                Some(seen) if seen.class != target.class => return None,
                _ => found = Some(target),
            }
        }
        found
    }

    /// The model a base class names: the project class it resolves to, or
    /// when it resolves to none (a re-export, a star import), the model of
    /// that name.
    fn base(&self, qualified: &str) -> Option<&Model> {
        if self.classes.contains(qualified) {
            self.by_class.get(qualified)
        } else {
            self.get(qualified)
        }
    }

    /// The model a qualified class name (or, failing that, a bare class
    /// name that is unique in the project) refers to.
    pub fn get(&self, qualified: &str) -> Option<&Model> {
        if let Some(m) = self.by_class.get(qualified) {
            return Some(m);
        }
        if self.user_model_aliases.contains(qualified) {
            return self.user_model();
        }
        let name = qualified.rsplit('.').next()?;
        match self.by_name.get(name).map(Vec::as_slice) {
            Some([only]) => self.by_class.get(only),
            _ => None,
        }
    }

    /// The model `get_user_model()` returns: the project's `User`, or
    /// Django's own when the project relates to it without defining one
    /// (see `add_user_model`).
    pub fn user_model(&self) -> Option<&Model> {
        match self.by_name.get("User").map(Vec::as_slice) {
            Some([only]) => self.by_class.get(only).filter(|m| m.orm == Orm::Django),
            _ => None,
        }
    }

    /// The relationships SQLAlchemy's `backref=` declares on the related
    /// model. The backref is a collection when the forward side is a
    /// many-to-one (the declaring model holds the foreign key to the related
    /// table, or the forward side is one object) or goes through a
    /// `secondary` table; else it is one object. It loads lazily unless
    /// `backref(…, lazy=…)` says otherwise: the forward's `lazy=` is its own.
    /// `query_rel = relationship(Query)` next to `query_id =
    /// Column(ForeignKey("queries.id"))`: the model holds the key to the
    /// related table (and not the other way round), so the relationship
    /// is a many-to-one, one object.
    fn settle_guessed_collections(&mut self) {
        let mut settled: Vec<(String, String)> = Vec::new();
        for model in self.by_class.values() {
            for field in &model.guessed_many {
                let Some(related) = model.relationships.get(field).and_then(|r| self.related(r))
                else {
                    continue;
                };
                if holds_key_to(model, related) && !holds_key_to(related, model) {
                    settled.push((model.class.clone(), field.clone()));
                }
            }
        }
        for (class, field) in settled {
            if let Some(rel) = self
                .by_class
                .get_mut(&class)
                .and_then(|m| m.relationships.get_mut(&field))
            {
                rel.many = false;
            }
        }
    }

    fn add_backrefs(&mut self) {
        let mut added: Vec<(String, String, Relationship)> = Vec::new();
        for model in self.by_class.values() {
            for backref in &model.backrefs {
                let Some(related) = self.get(&backref.on) else {
                    continue;
                };
                let many = backref.uselist.unwrap_or_else(|| {
                    backref.secondary || backref_is_collection(backref, model, related)
                });
                added.push((
                    related.class.clone(),
                    backref.accessor.clone(),
                    Relationship {
                        target: Some(model.name.clone()),
                        target_class: Some(model.class.clone()),
                        target_app: None,
                        loading: backref.loading,
                        many,
                        followed_by_default: false,
                    },
                ));
            }
        }
        for (class, accessor, rel) in added {
            if let Some(model) = self.by_class.get_mut(&class) {
                model.relationships.entry(accessor).or_insert(rel);
            }
        }
    }

    /// Django reverse accessors: a `ForeignKey(Order, related_name="lines")`
    /// on `Line` gives `Order.lines` (or `Order.line_set`), a lazy collection.
    fn add_reverse_accessors(&mut self) {
        let mut reverse: Vec<(String, String, Relationship)> = Vec::new();
        for model in self
            .by_class
            .values()
            .filter(|m| m.orm == Orm::Django && !m.abstract_base)
        {
            for (field, (related_name, one_to_one)) in &model.reverse {
                let Some(related) = model.relationships.get(field).and_then(|r| self.related(r))
                else {
                    continue;
                };
                let accessor = match (related_name, one_to_one) {
                    // `related_name="%(app_label)s_%(class)s_related"` on an
                    // abstract base: each subclass's own app label and
                    // lower-cased class name (Django's model docs, "Be
                    // careful with related_name and related_query_name").
                    (Some(name), _) => name
                        .replace("%(class)s", &model.name.to_ascii_lowercase())
                        .replace(
                            "%(app_label)s",
                            &app_label(&model.class).to_ascii_lowercase(),
                        ),
                    (None, true) => model.name.to_ascii_lowercase(),
                    (None, false) => format!("{}_set", model.name.to_ascii_lowercase()),
                };
                let many = !one_to_one;
                reverse.push((
                    related.class.clone(),
                    accessor,
                    Relationship {
                        target: Some(model.name.clone()),
                        target_class: Some(model.class.clone()),
                        target_app: None,
                        loading: Loading::Lazy,
                        many,
                        followed_by_default: false,
                    },
                ));
            }
        }
        for (class, accessor, rel) in reverse {
            if let Some(model) = self.by_class.get_mut(&class) {
                model.relationships.entry(accessor).or_insert(rel);
            }
        }
        // A property handing out a collection of the instance is that
        // collection (`order.positions` → `order.all_positions(…)`).
        for model in self.by_class.values_mut() {
            let aliases: Vec<(String, Relationship)> = model
                .property_relations
                .iter()
                .filter_map(|(property, relation)| {
                    let rel = model.relationships.get(relation).filter(|r| r.many)?;
                    Some((property.clone(), rel.clone()))
                })
                .collect();
            for (property, rel) in aliases {
                model.relationships.entry(property).or_insert(rel);
            }
        }
    }
}

/// `Base.query = db_session.query_property()` (or `query = …query_property()`
/// in a class body): SQLAlchemy's documented way to give models a
/// `Model.query` attribute without Flask-SQLAlchemy.
fn declares_query_property(module: &Module) -> bool {
    let is_property = |value: &Option<Expr>| {
        value
            .as_ref()
            .and_then(Expr::as_call)
            .is_some_and(|c| c.method_name() == Some("query_property"))
    };
    let assigns = |body: &[weir_ir::Stmt]| {
        body.iter().any(|stmt| {
            matches!(&stmt.kind, StmtKind::Assign { targets, value, .. }
                if is_property(value) && targets.iter().any(|t| t.dotted().is_some_and(|d| d == "query" || d.ends_with(".query"))))
        })
    };
    module.top_level().is_some_and(|top| assigns(&top.body))
        || module.classes.iter().any(|c| assigns(&c.body))
}

/// The Django app label of a qualified class: the package that holds its
/// `models` module (`shop.models.Order`, `shop.models.orders.Order` →
/// `shop`; `apps.shop.models.Order` → `shop`), else its module's package.
fn app_label(class: &str) -> &str {
    let package = match class.find(".models.").or_else(|| class.find(".models")) {
        Some(at) => &class[..at],
        None => class.rsplitn(3, '.').nth(2).unwrap_or(""),
    };
    last(package)
}

fn last(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

fn base_names(module: &Module, class: &weir_ir::Class) -> Vec<String> {
    class
        .bases
        .iter()
        .filter_map(|b| module.resolve_expr(b).or_else(|| b.dotted()))
        .collect()
}

/// A field of `django.db.models` declared in the class body: only a model
/// (whatever base it names, `SoftDeleteModel` from a package included)
/// declares one.
fn declares_django_field(module: &Module, class: &weir_ir::Class) -> bool {
    class.body.iter().any(|stmt| {
        let StmtKind::Assign {
            value: Some(value), ..
        } = &stmt.kind
        else {
            return false;
        };
        value
            .as_call()
            .and_then(|c| module.resolve_expr(&c.callee))
            .is_some_and(|q| {
                q.strip_prefix("django.db.models.").is_some_and(|f| {
                    let f = last(f);
                    f.ends_with("Field") || f == "ForeignKey"
                })
            })
    })
}

/// `class Meta: abstract = True` inside the class.
fn is_abstract(module: &Module, class: &weir_ir::Class) -> bool {
    let meta = format!("{}.Meta", class.qualname);
    module
        .classes
        .iter()
        .filter(|c| c.qualname == meta)
        .flat_map(|c| &c.body)
        .filter_map(weir_ir::Stmt::plain_assign)
        .any(|(targets, value)| {
            targets.first().and_then(Expr::as_name) == Some("abstract")
                && matches!(value.kind, ExprKind::Literal(weir_ir::Literal::Bool(true)))
        })
}

/// `parent_django`: a base is one of the project's Django models.
fn read_model(module: &Module, class: &weir_ir::Class, parent_django: bool) -> Option<Model> {
    let bases = base_names(module, class);
    let django = parent_django
        || bases
            .iter()
            // `models.Model`; not the other classes of `django.db.models`
            // (`TextChoices`, `Manager`, `QuerySet`, fields, `Func`).
            .any(|b| {
                (b.starts_with("django.db.models") && last(b) == "Model") || b == "models.Model"
            })
        || declares_django_field(module, class);
    let mut table = None;
    let mut columns = 0;
    let mut relationships = HashMap::default();
    let mut reverse = HashMap::default();
    let mut foreign_tables = Vec::new();
    let mut managers = Vec::new();
    let mut backrefs = Vec::new();
    let mut guessed_many = Vec::new();
    let mut manager_classes = Vec::new();
    let mut has_tablename = false;
    // SQLModel: `class Hero(HeroBase, table=True)` is a table; a class
    // without `table=True` is a data model (a pydantic model), whatever
    // its fields (SQLModel docs, "Multiple Models with FastAPI").
    let sqlmodel = class.keywords.iter().any(|k| {
        k.name.as_deref() == Some("table")
            && matches!(
                k.value.kind,
                ExprKind::Literal(weir_ir::Literal::Bool(true))
            )
    });
    let data_model = !sqlmodel && bases.iter().any(|b| last(b) == "SQLModel");
    for stmt in &class.body {
        let StmtKind::Assign {
            targets,
            value,
            annotation,
            ..
        } = &stmt.kind
        else {
            continue;
        };
        let Some(field) = targets.first().and_then(Expr::as_name) else {
            continue;
        };
        if field == "__tablename__" {
            has_tablename = true;
            table = value
                .as_ref()
                .and_then(Expr::as_str)
                .map(ToString::to_string);
            continue;
        }
        let call = value.as_ref().and_then(|v| v.as_call());
        let callee = call
            .and_then(|c| module.resolve_expr(&c.callee).or_else(|| c.callee.dotted()))
            .unwrap_or_default();
        match last(&callee) {
            "relationship" => {
                let call = call.expect("callee came from a call");
                let forward = sqlalchemy_relationship(call, annotation.as_deref());
                if let Some(target) = &forward.target {
                    backrefs.extend(backref(call, target, field));
                }
                if annotation.is_none()
                    && call.keyword("uselist").is_none()
                    && call.keyword("secondary").is_none()
                {
                    guessed_many.push(field.to_string());
                }
                relationships.insert(field.to_string(), forward);
            }
            // SQLModel's `team: Optional["Team"] = Relationship(back_populates="heroes")`:
            // SQLAlchemy's `relationship()` underneath, its target and
            // cardinality in the annotation.
            "Relationship" if callee.starts_with("sqlmodel") => {
                let call = call.expect("callee came from a call");
                relationships.insert(
                    field.to_string(),
                    sqlmodel_relationship(call, annotation.as_deref()),
                );
            }
            "Column" | "mapped_column" | "column_property" => {
                columns += 1;
                // `ForeignKey("orders.id")` among the column's arguments.
                let call = call.expect("callee came from a call");
                for arg in &call.args {
                    if let Some(fk) = arg.value.as_call()
                        && fk.callee.dotted().is_some_and(|c| last(&c) == "ForeignKey")
                        && let Some(target) = fk.positional(0).and_then(Expr::as_str)
                        && let Some((table, _)) = target.rsplit_once('.')
                    {
                        foreign_tables.push(last(table).to_string());
                    }
                }
            }
            "ForeignKey"
            | "OneToOneField"
            | "ManyToManyField"
            | "ParentalKey"
            | "ParentalManyToManyField"
                if django || callee.contains("models") =>
            {
                let call = call.expect("callee came from a call");
                let kind = last(&callee);
                let target_expr = call.positional(0).or_else(|| call.keyword("to"));
                let target = target_expr
                    .and_then(|t| t.as_str().map(ToString::to_string).or_else(|| t.dotted()));
                // `ForeignKey(Order)` names a class through the module's
                // imports; `"shop.Order"` an app label, `"self"` the model.
                let (target_class, target_app) = match target_expr.and_then(Expr::as_str) {
                    Some("self") => (Some(format!("{}.{}", module.name, class.qualname)), None),
                    Some(text) => (None, text.rsplit_once('.').map(|(app, _)| app.to_string())),
                    None => (target_expr.and_then(|t| module.resolve_expr(t)), None),
                };
                let many = kind.contains("ManyToMany");
                relationships.insert(
                    field.to_string(),
                    Relationship {
                        target: target.map(|t| last(&t).to_string()),
                        target_class,
                        target_app,
                        loading: Loading::Lazy,
                        many,
                        followed_by_default: !many
                            && !matches!(
                                call.keyword("null").map(|e| &e.kind),
                                Some(ExprKind::Literal(weir_ir::Literal::Bool(true)))
                            ),
                    },
                );
                let related_name = call
                    .keyword("related_name")
                    .and_then(Expr::as_str)
                    .map(ToString::to_string);
                reverse.insert(field.to_string(), (related_name, kind == "OneToOneField"));
                if !many {
                    columns += 1;
                }
            }
            // django-taggit's `tags = TaggableManager()` (or a project
            // subclass of that name): a many-to-many to `Tag` through a
            // tagged-item model, read with `obj.tags.all()` and loaded with
            // `prefetch_related("tags")` (django-taggit, "The API").
            "TaggableManager" if django => {
                relationships.insert(
                    field.to_string(),
                    Relationship {
                        target: Some("Tag".to_string()),
                        target_class: None,
                        target_app: None,
                        loading: Loading::Lazy,
                        many: true,
                        followed_by_default: false,
                    },
                );
            }
            name if name.ends_with("Field") => columns += 1,
            _ if django && call.is_some_and(is_manager_call) => {
                managers.push(field.to_string());
                let call = call.expect("a manager call");
                manager_classes.extend(
                    manager_class_exprs(call)
                        .filter_map(|e| module.resolve_expr(e))
                        .map(|class| (field.to_string(), class)),
                );
            }
            _ => {
                // `name: Mapped[str]` with no value, or `= mapped_column(...)` already counted.
                let wrapper = annotation.as_ref().and_then(|a| match &a.kind {
                    ExprKind::Subscript { value, .. } => value.dotted(),
                    _ => None,
                });
                if wrapper.as_deref().is_some_and(|w| last(w) == "Mapped")
                    // SQLModel's `name: str`: every annotated field is a column.
                    || (sqlmodel
                        && value.is_none()
                        && annotation.is_some()
                        && wrapper.as_deref().is_none_or(|w| last(w) != "ClassVar"))
                {
                    columns += 1;
                }
            }
        }
    }
    // `tag_type = relationship("TagType")` next to `tag_type_id = Column(ForeignKey(...))`:
    // unannotated, but the foreign key is here, so it is many-to-one.
    let fields: Vec<&str> = class
        .body
        .iter()
        .filter_map(|stmt| match &stmt.kind {
            StmtKind::Assign { targets, .. } => targets.first().and_then(Expr::as_name),
            _ => None,
        })
        .collect();
    if !django {
        for (name, rel) in &mut relationships {
            if rel.many && fields.contains(&format!("{name}_id").as_str()) {
                rel.many = false;
            }
        }
    }
    let sqlalchemy = has_tablename
        || sqlmodel
        || (!data_model
            && bases
                .iter()
                .any(|b| SQLALCHEMY_BASES.contains(&last(b)) && !b.contains("pydantic")));
    let orm = if django {
        Orm::Django
    } else if sqlalchemy && (has_tablename || !relationships.is_empty() || columns > 0) {
        Orm::SqlAlchemy
    } else {
        return None;
    };
    if orm == Orm::Django {
        table = table.or_else(|| {
            Some(format!(
                "{}_{}",
                module.name.split('.').next().unwrap_or(""),
                class.name.to_ascii_lowercase()
            ))
        });
    }
    Some(Model {
        class: format!("{}.{}", module.name, class.qualname),
        name: class.name.clone(),
        orm,
        table,
        columns,
        relationships,
        foreign_tables,
        managers,
        manager_classes,
        reverse,
        abstract_base: orm == Orm::Django && is_abstract(module, class),
        backrefs,
        guessed_many,
        property_relations: if orm == Orm::Django {
            property_relations(module, class)
        } else {
            Vec::new()
        },
    })
}

/// `@property` (or `cached_property`) methods of a Django model whose body
/// returns a relation of the instance, called or narrowed:
/// `return self.all_positions(manager="objects")` (a reverse manager
/// called with another manager, Django's documented way), `return
/// self.lines.filter(active=True)`. Reading the property runs a query of
/// that relation, as the relation itself would.
fn property_relations(module: &Module, class: &weir_ir::Class) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for id in &class.methods {
        let function = module.function(*id);
        let is_property =
            function.decorated_with("property") || function.decorated_with("cached_property");
        if !is_property || function.params.len() != 1 {
            continue;
        }
        // The body is the `return` alone (after a docstring).
        let mut body = function.body.iter().filter(
            |stmt| !matches!(&stmt.kind, StmtKind::Expr { value } if value.as_str().is_some()),
        );
        let (Some(stmt), None) = (body.next(), body.next()) else {
            continue;
        };
        let StmtKind::Return { value: Some(value) } = &stmt.kind else {
            continue;
        };
        // Down the chain to the attribute read on `self`.
        let mut expr = value;
        let mut called = false;
        let relation = loop {
            match &expr.kind {
                ExprKind::Call(call) => {
                    called = true;
                    expr = &call.callee;
                }
                ExprKind::Attribute { value, attr } => {
                    if value.as_name() == Some("self") {
                        break Some(attr.to_string());
                    }
                    // Only methods that give back a QuerySet of the same
                    // rows: `self.lines.count()` is a number.
                    if !crate::knowledge::DJANGO_SAME_ROWS.contains(&attr.as_str()) {
                        break None;
                    }
                    expr = value;
                }
                _ => break None,
            }
        };
        if let Some(relation) = relation.filter(|r| called && *r != function.name) {
            out.push((function.name.clone(), relation));
        }
    }
    out
}

/// A Django manager instance on a model class: `models.Manager()`, a
/// `…Manager()` subclass (Django's naming, as `BaseUserManager`),
/// `SomeQuerySet.as_manager()` or `Manager.from_queryset(SomeQuerySet)()`.
fn is_manager_call(call: &weir_ir::Call) -> bool {
    if call.method_name() == Some("as_manager") {
        return true;
    }
    if let Some(inner) = call.callee.as_call() {
        return inner.method_name() == Some("from_queryset");
    }
    call.callee
        .dotted()
        .is_some_and(|c| last(&c).ends_with("Manager"))
}

/// The classes a manager declaration names, whose methods the manager
/// has: `SettingsManager()`, `PostQuerySet.as_manager()`,
/// `BaseManager.from_queryset(PostQuerySet)()` (both).
fn manager_class_exprs(call: &weir_ir::Call) -> impl Iterator<Item = &Expr> {
    let (manager, queryset) = if call.method_name() == Some("as_manager") {
        (None, call.receiver())
    } else if let Some(inner) = call.callee.as_call() {
        (inner.receiver(), inner.positional(0))
    } else {
        (Some(&call.callee), None)
    };
    manager.into_iter().chain(queryset)
}

/// The related class of a SQLAlchemy 2.0 relationship, from its
/// annotation: `Mapped[list["OrderLine"]]`, `Mapped[Optional[Customer]]`,
/// `Mapped["Customer | None"]` → the first class named inside `Mapped[…]`
/// that is not a container or `Optional`.
fn annotated_target(annotation: &Expr) -> Option<String> {
    const WRAPPERS: &[&str] = &[
        "Mapped",
        "list",
        "List",
        "set",
        "Set",
        "Optional",
        "Union",
        "None",
        "WriteOnlyMapped",
        "DynamicMapped",
        "typing",
    ];
    let mut found = None;
    weir_ir::visit::walk_expr(annotation, &mut |e| {
        if found.is_some() {
            return;
        }
        let candidate = match &e.kind {
            ExprKind::Literal(weir_ir::Literal::Str(text)) => text
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                .find(|word| !word.is_empty() && !WRAPPERS.contains(&last(word)))
                .map(|word| last(word).to_string()),
            ExprKind::Name { id } if !WRAPPERS.contains(&id.as_str()) => Some(id.to_string()),
            ExprKind::Attribute { attr, .. } if !WRAPPERS.contains(&attr.as_str()) => {
                Some(attr.to_string())
            }
            _ => None,
        };
        found = candidate;
    });
    found
}

/// Whether the backref `model` declares on `related` (no `secondary`, no
/// `uselist=`) is a collection: the forward side is a many-to-one, so
/// `model` holds the foreign key. Its `foreign_keys=` names the key
/// column's class when given (`foreign_keys="Users.team_id"` on `Teams`:
/// the key is `related`'s); else whichever side alone has a foreign key to
/// the other's table; else the forward side's own cardinality decides.
fn backref_is_collection(backref: &Backref, model: &Model, related: &Model) -> bool {
    if let Some(holder) = &backref.key_holder {
        if holder == &related.name {
            return false;
        }
        if holder == &model.name {
            return true;
        }
    }
    match (holds_key_to(model, related), holds_key_to(related, model)) {
        (true, false) => true,
        (false, true) => false,
        _ => !model
            .relationships
            .get(&backref.forward)
            .is_some_and(|r| r.many),
    }
}

/// `from` has a foreign key column to `to`'s table (`to` another model).
fn holds_key_to(from: &Model, to: &Model) -> bool {
    from.class != to.class
        && to
            .table
            .as_deref()
            .is_some_and(|t| from.foreign_tables.iter().any(|f| f == t))
}

/// The backref a `relationship(…)` call declares on `target`:
/// `backref="tags"` or `backref=backref("tags", lazy="dynamic", uselist=False)`.
fn backref(call: &weir_ir::Call, target: &str, forward: &str) -> Option<Backref> {
    let value = call.keyword("backref")?;
    let (accessor, options) = if let Some(name) = value.as_str() {
        (name.to_string(), None)
    } else {
        let options = value.as_call()?;
        if options
            .callee
            .dotted()
            .is_none_or(|c| last(&c) != "backref")
        {
            return None;
        }
        (options.positional(0)?.as_str()?.to_string(), Some(options))
    };
    let uselist = options
        .and_then(|o| o.keyword("uselist"))
        .and_then(|e| match &e.kind {
            ExprKind::Literal(weir_ir::Literal::Bool(b)) => Some(*b),
            _ => None,
        });
    Some(Backref {
        accessor,
        on: target.to_string(),
        loading: options.map_or(Loading::Lazy, loading),
        uselist,
        secondary: call.keyword("secondary").is_some(),
        forward: forward.to_string(),
        key_holder: call.keyword("foreign_keys").and_then(key_holder),
    })
}

/// `"Users.team_id"`, `Users.team_id`, `[Users.team_id]` → `Users`.
fn key_holder(expr: &Expr) -> Option<String> {
    let column = match &expr.kind {
        ExprKind::Collection { elements, .. } => elements.first()?,
        _ => expr,
    };
    let path = column
        .as_str()
        .map(ToString::to_string)
        .or_else(|| column.dotted())?;
    let (class, _) = path.rsplit_once('.')?;
    Some(last(class).to_string())
}

/// How a `relationship(…)` or `backref(…)` call's `lazy=` loads.
fn loading(call: &weir_ir::Call) -> Loading {
    lazy_loading(call.keyword("lazy"))
}

/// The loading strategy a `lazy=` value names (absent: `"select"`).
fn lazy_loading(lazy: Option<&Expr>) -> Loading {
    // `lazy=False` is SQLAlchemy's synonym for "joined", `lazy=True` for
    // "select" and `lazy=None` for "noload".
    let lazy = match lazy.map(|e| (e, &e.kind)) {
        Some((_, ExprKind::Literal(weir_ir::Literal::Bool(false)))) => "joined",
        Some((_, ExprKind::Literal(weir_ir::Literal::Null))) => "noload",
        Some((_, ExprKind::Literal(weir_ir::Literal::Bool(true)))) | None => "select",
        Some((e, _)) => e.as_str().unwrap_or("select"),
    };
    match lazy {
        "select" | "True" => Loading::Lazy,
        "selectin" | "joined" | "subquery" | "immediate" => Loading::Eager,
        _ => Loading::Explicit,
    }
}

fn sqlalchemy_relationship(call: &weir_ir::Call, annotation: Option<&Expr>) -> Relationship {
    let loading = loading(call);
    let target = call
        .positional(0)
        .and_then(|t| t.as_str().map(ToString::to_string).or_else(|| t.dotted()))
        .map(|t| last(&t).to_string())
        .or_else(|| annotation.and_then(annotated_target));
    let uselist_false = matches!(
        call.keyword("uselist").map(|e| &e.kind),
        Some(ExprKind::Literal(weir_ir::Literal::Bool(false)))
    );
    let annotated_many = annotation.and_then(Expr::dotted).is_none()
        && annotation.is_some_and(|a| {
            let mut many = false;
            weir_ir::visit::walk_expr(a, &mut |e| {
                if e.dotted()
                    .is_some_and(|d| matches!(last(&d), "List" | "list" | "Set" | "set"))
                {
                    many = true;
                }
            });
            many
        });
    Relationship {
        target,
        target_class: None,
        target_app: None,
        loading,
        many: !uselist_false && (annotated_many || annotation.is_none()),
        followed_by_default: false,
    }
}

/// SQLModel's `Relationship()`: the loading strategy is SQLAlchemy's, given
/// through `sa_relationship_kwargs={"lazy": "selectin"}` or a whole
/// `sa_relationship=relationship(...)`; the default is a lazy load
/// (SQLModel docs, "Relationship Attributes"). The annotation names the
/// target and, as a list, a collection.
fn sqlmodel_relationship(call: &weir_ir::Call, annotation: Option<&Expr>) -> Relationship {
    if let Some(inner) = call.keyword("sa_relationship").and_then(Expr::as_call) {
        return sqlalchemy_relationship(inner, annotation);
    }
    let mut relationship = sqlalchemy_relationship(call, annotation);
    let lazy = call
        .keyword("sa_relationship_kwargs")
        .and_then(|kwargs| match &kwargs.kind {
            ExprKind::Dict { entries } => entries
                .iter()
                .find_map(|(key, value)| (key.as_ref()?.as_str()? == "lazy").then_some(value)),
            _ => None,
        });
    relationship.loading = lazy_loading(lazy);
    relationship
}

/// Methods of the project's Django QuerySet/Manager classes (a base named
/// `…QuerySet` or `…Manager`) that call `select_related`/`prefetch_related`,
/// directly or through another such method on `self`
/// (`prefetch_for_render` → `self.prefetch()`); Django documents custom
/// QuerySet methods as the way to reuse such chains (`as_manager()`,
/// `Manager.from_queryset()`).
fn queryset_eager(modules: &[Module]) -> HashMap<String, Vec<String>> {
    let mut own: HashMap<String, Vec<String>> = HashMap::default();
    let mut calls: Vec<(String, String)> = Vec::new();
    for module in modules {
        for class in &module.classes {
            let is_queryset = class.bases.iter().any(|b| {
                // `models.QuerySet["Change"]`
                let b = match &b.kind {
                    ExprKind::Subscript { value, .. } => value,
                    _ => b,
                };
                module
                    .resolve_expr(b)
                    .or_else(|| b.dotted())
                    .is_some_and(|n| {
                        let last = n.rsplit('.').next().unwrap_or(&n);
                        last.ends_with("QuerySet") || last.ends_with("Manager")
                    })
            });
            if !is_queryset {
                continue;
            }
            for &id in &class.methods {
                let function = module.function(id);
                let name = function.name.as_str();
                if QUERYSET_API.contains(&name) || name.starts_with('_') {
                    continue;
                }
                let mut loads = Vec::new();
                weir_ir::visit::walk_block_exprs(&function.body, &mut |e| {
                    let Some(call) = e.as_call() else { return };
                    match call.method_name() {
                        Some("select_related" | "prefetch_related") => {
                            for arg in &call.args {
                                match arg.value.as_name() {
                                    // `prefetch_related(component_prefetch, …)`,
                                    // `prefetch_related(*PREFETCH_FIELDS)`: every
                                    // value the local or module constant is given.
                                    Some(local) => {
                                        let constants = module
                                            .top_level()
                                            .into_iter()
                                            .flat_map(|top| assigned_values(top, local));
                                        for value in
                                            assigned_values(function, local).chain(constants)
                                        {
                                            match &value.kind {
                                                ExprKind::Collection { elements, .. } => {
                                                    loads.extend(
                                                        elements.iter().filter_map(eager_attr),
                                                    );
                                                }
                                                _ => loads.extend(eager_attr(value)),
                                            }
                                        }
                                    }
                                    None => loads.extend(eager_attr(&arg.value)),
                                }
                            }
                        }
                        Some(other)
                            if call
                                .receiver()
                                .and_then(Expr::as_name)
                                .is_some_and(|r| r == "self") =>
                        {
                            calls.push((name.to_string(), other.to_string()));
                        }
                        _ => {}
                    }
                });
                if !loads.is_empty() {
                    own.entry(name.to_string()).or_default().extend(loads);
                }
            }
        }
    }
    // Through `self.other()`, to a fixed point.
    loop {
        let mut changed = false;
        for (caller, callee) in &calls {
            let Some(inherited) = own.get(callee).cloned() else {
                continue;
            };
            let entry = own.entry(caller.clone()).or_default();
            for attr in inherited {
                if !entry.contains(&attr) {
                    entry.push(attr);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    own
}

/// The values a function's body assigns to the local `name`.
fn assigned_values<'a>(
    function: &'a weir_ir::Function,
    name: &'a str,
) -> impl Iterator<Item = &'a Expr> {
    let mut out = Vec::new();
    weir_ir::visit::walk_stmts(&function.body, &mut |stmt| {
        if let StmtKind::Assign {
            targets,
            value: Some(value),
            ..
        } = &stmt.kind
            && targets.iter().any(|t| t.as_name() == Some(name))
        {
            out.push(value);
        }
    });
    out.into_iter()
}

/// `"component__project"` → `component`; `Prefetch("lines",
/// to_attr="open_lines")` → `open_lines`.
fn eager_attr(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Literal(weir_ir::Literal::Str(s)) => {
            Some(s.split("__").next().unwrap_or(s).to_string())
        }
        ExprKind::Call(call) => call
            .keyword("to_attr")
            .and_then(Expr::as_str)
            .map(ToString::to_string)
            .or_else(|| call.positional(0).and_then(eager_attr)),
        _ => None,
    }
}

/// `UserModel = get_user_model()` at the top of a module: the qualified
/// names that hold Django's user model.
fn user_model_aliases(modules: &[Module]) -> crate::collections::HashSet<String> {
    let mut aliases = crate::collections::HashSet::default();
    for module in modules {
        if !imports_get_user_model(module) {
            continue;
        }
        let Some(top) = module.top_level() else {
            continue;
        };
        for stmt in &top.body {
            if let StmtKind::Assign {
                targets,
                value: Some(value),
                ..
            } = &stmt.kind
                && is_get_user_model(value, module)
            {
                for name in targets.iter().filter_map(Expr::as_name) {
                    aliases.insert(format!("{}.{name}", module.name));
                }
            }
        }
    }
    aliases
}

/// The module imports `get_user_model` (or `django.contrib.auth` itself).
fn imports_get_user_model(module: &Module) -> bool {
    module
        .imports
        .iter()
        .any(|i| i.target == GET_USER_MODEL || i.target == "django.contrib.auth")
}

/// A call of `django.contrib.auth.get_user_model()`.
pub fn is_get_user_model(expr: &Expr, module: &Module) -> bool {
    expr.as_call()
        .and_then(|c| module.resolve_expr(&c.callee))
        .is_some_and(|q| q == GET_USER_MODEL)
}

#[cfg(test)]
mod tests {
    use super::app_label;

    #[test]
    fn app_label_is_the_package_that_holds_the_models() {
        assert_eq!(app_label("shop.models.Order"), "shop");
        assert_eq!(app_label("shop.models.orders.Order"), "shop");
        assert_eq!(app_label("apps.shop.models.Order"), "shop");
        assert_eq!(app_label("billing.invoices.Invoice"), "billing");
        assert_eq!(app_label("Order"), "");
    }
}
