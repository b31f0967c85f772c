//! Django ORM. <https://docs.djangoproject.com/en/stable/topics/db/queries/>

use super::{
    Effect::{Commit, Query, Rollback},
    FuncEntry,
    ObjKind::{Connection, DjangoModel, QuerySet},
    Pack,
    QueryOp::{Delete, Insert, Select, Update},
    method, returns,
};

const QS: &[super::ObjKind] = &[QuerySet];
const MODEL: &[super::ObjKind] = &[DjangoModel];

pub const PACK: Pack = Pack {
    name: "django",
    roots: &["django"],
    funcs: &[
        FuncEntry {
            name: "django.db.transaction.commit",
            effect: Some(Commit),
            returns: None,
        },
        FuncEntry {
            name: "django.db.transaction.rollback",
            effect: Some(Rollback),
            returns: None,
        },
    ],
    // `django.db.connection` and `connections["default"]` are DB-API connections
    // (their cursors come from dbapi.rs, which Django switches on too).
    types: &[
        ("django.db.connection", Connection),
        ("django.db.connections[]", Connection),
    ],
    methods: &[
        // Builders: a QuerySet stays lazy until evaluated.
        returns(QS, "all", QuerySet),
        returns(QS, "filter", QuerySet),
        returns(QS, "exclude", QuerySet),
        returns(QS, "order_by", QuerySet),
        returns(QS, "select_related", QuerySet),
        returns(QS, "prefetch_related", QuerySet),
        returns(QS, "annotate", QuerySet),
        returns(QS, "alias", QuerySet),
        returns(QS, "values", QuerySet),
        returns(QS, "values_list", QuerySet),
        returns(QS, "only", QuerySet),
        returns(QS, "defer", QuerySet),
        returns(QS, "distinct", QuerySet),
        returns(QS, "using", QuerySet),
        returns(QS, "select_for_update", QuerySet),
        returns(QS, "reverse", QuerySet),
        returns(QS, "none", QuerySet),
        returns(QS, "union", QuerySet),
        returns(QS, "extra", QuerySet),
        // `self.model(**kwargs)` in a Manager or QuerySet method builds an
        // unsaved instance of its model.
        returns(QS, "model", DjangoModel),
        // Evaluation.
        method(QS, "get", Query(Select)),
        method(QS, "first", Query(Select)),
        method(QS, "last", Query(Select)),
        method(QS, "count", Query(Select)),
        method(QS, "exists", Query(Select)),
        method(QS, "aggregate", Query(Select)),
        method(QS, "earliest", Query(Select)),
        method(QS, "latest", Query(Select)),
        method(QS, "in_bulk", Query(Select)),
        method(QS, "iterator", Query(Select)),
        method(QS, "aiterator", Query(Select)),
        method(QS, "contains", Query(Select)),
        method(QS, "get_or_create", Query(Select)),
        method(QS, "update_or_create", Query(Update)),
        method(QS, "create", Query(Insert)),
        method(QS, "update", Query(Update)),
        method(QS, "delete", Query(Delete)),
        method(QS, "aget", Query(Select)),
        method(QS, "afirst", Query(Select)),
        method(QS, "alast", Query(Select)),
        method(QS, "acount", Query(Select)),
        method(QS, "aexists", Query(Select)),
        method(QS, "aaggregate", Query(Select)),
        method(QS, "acreate", Query(Insert)),
        method(QS, "aupdate", Query(Update)),
        method(QS, "adelete", Query(Delete)),
        method(QS, "aget_or_create", Query(Select)),
        // Model instances: one statement per call.
        method(MODEL, "save", Query(Update)),
        method(MODEL, "delete", Query(Delete)),
        method(MODEL, "refresh_from_db", Query(Select)),
        method(MODEL, "asave", Query(Update)),
        method(MODEL, "adelete", Query(Delete)),
        method(MODEL, "arefresh_from_db", Query(Select)),
    ],
    hints: &[],
    attributes: &[
        ("objects", QuerySet),
        ("_default_manager", QuerySet),
        ("_base_manager", QuerySet),
    ],
};

/// Model bases of libraries that override `save()`/`delete()` with logic
/// of their own, by package and class name, with the methods they
/// override: django-lifecycle's `LifecycleModelMixin`/`LifecycleModel` run
/// the model's `@hook` methods from `save()` and `delete()`
/// (<https://rsinger86.github.io/django-lifecycle/>), django-mptt's
/// `MPTTModel` maintains the tree fields in both
/// (<https://django-mptt.readthedocs.io/en/latest/models.html>), and
/// django-polymorphic's `PolymorphicModel` sets the content type in
/// `save()` (<https://django-polymorphic.readthedocs.io/en/stable/>).
const LIBRARY_MODEL_BASES: &[(&str, &str, &[&str])] = &[
    (
        "django_lifecycle",
        "LifecycleModelMixin",
        &["save", "delete"],
    ),
    ("django_lifecycle", "LifecycleModel", &["save", "delete"]),
    ("mptt", "MPTTModel", &["save", "delete"]),
    ("polymorphic", "PolymorphicModel", &["save"]),
];

/// The base (qualified as its module imports it:
/// `django_lifecycle.LifecycleModelMixin`,
/// `django_lifecycle.mixins.LifecycleModelMixin`) is a library model base
/// whose `method` runs logic of its own (see [`LIBRARY_MODEL_BASES`]).
pub fn library_base_overrides(base: &str, method: &str) -> bool {
    let package = base.split('.').next().unwrap_or(base);
    let class = base.rsplit('.').next().unwrap_or(base);
    LIBRARY_MODEL_BASES
        .iter()
        .any(|(p, c, methods)| *p == package && *c == class && methods.contains(&method))
}

/// QuerySet methods whose result holds rows of the same model, filtered,
/// ordered or with other columns loaded, rather than values or a number
/// (<https://docs.djangoproject.com/en/stable/ref/models/querysets/#methods-that-return-new-querysets>):
/// `order.lines.filter(…)` is still the order's lines.
pub const SAME_ROWS: &[&str] = &[
    "all",
    "filter",
    "exclude",
    "order_by",
    "select_related",
    "prefetch_related",
    "using",
    "distinct",
    "annotate",
    "only",
    "defer",
];

/// QuerySet methods that return a narrowed QuerySet and that only a
/// QuerySet has: called on what an unknown manager or QuerySet method
/// returned (`Project.objects.public(user).filter(…)`), they say it was a
/// QuerySet. Narrower than [`SAME_ROWS`]: `all()`, `order_by()`,
/// `distinct()` and `using()` are as much other objects' methods;
/// `values_list()` changes the rows' shape but is a QuerySet's alone.
pub const QUERYSET_ONLY: &[&str] = &[
    "filter",
    "exclude",
    "select_related",
    "prefetch_related",
    "values_list",
    "annotate",
    "only",
    "defer",
];

/// QuerySet methods that return one model instance (or raise), and their
/// async forms:
/// <https://docs.djangoproject.com/en/stable/ref/models/querysets/#methods-that-do-not-return-querysets>.
pub const ONE_INSTANCE: &[&str] = &[
    "acreate",
    "aearliest",
    "afirst",
    "aget",
    "alast",
    "alatest",
    "create",
    "earliest",
    "first",
    "get",
    "last",
    "latest",
];
/// QuerySet methods that return `(instance, created)`.
pub const PAIR_OF_INSTANCE: &[&str] = &[
    "aget_or_create",
    "aupdate_or_create",
    "get_or_create",
    "update_or_create",
];

/// Django's async ORM API: coroutines and async iterators, never a
/// blocking call even where they are not awaited on the spot
/// (`[x async for x in qs.aiterator()]`, `gather(qs.acount(), …)`).
pub const ASYNC_API: &[&str] = &[
    "aget",
    "afirst",
    "alast",
    "acount",
    "aexists",
    "acontains",
    "aaggregate",
    "acreate",
    "aupdate",
    "adelete",
    "aget_or_create",
    "aupdate_or_create",
    "abulk_create",
    "abulk_update",
    "ain_bulk",
    "aiterator",
    "aearliest",
    "alatest",
    "aexplain",
    "asave",
    "arefresh_from_db",
    "aadd",
    "aremove",
    "aclear",
    "aset",
];
