use crate::declare_rule;
use crate::knowledge::{Effect, QueryOp};
use crate::project::Summary;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::{
    call_text, calls_through_at, describe_loop, is_django, is_raw_driver,
    passes_persistent_loop_item, per_item_loop, per_item_loop_where, through, with_path,
};

declare_rule! {
    /// ## What it does
    /// Finds queries executed once per item of a loop: a `select`, `session.get`,
    /// a legacy `session.query(...).first()` (also through a model's query
    /// property: Flask-SQLAlchemy's `User.query.filter_by(...).first()`,
    /// or `Base.query = Session.query_property()`), a Django `Model.objects.get(...)`
    /// (or through another manager the model or its abstract parent declares)
    /// or a QuerySet iterated, tested with `in` (which iterates it) or poured
    /// into a list (`rows.extend(qs)`, `rows += qs`, `yield from qs`) inside
    /// a `for` loop or a comprehension, also
    /// through the project's helpers. A helper that reads through a memoised
    /// function (`@lru_cache`, Flask-Caching's `@cache.memoize()`) queries
    /// once per cache key: it is reported only when the key changes with
    /// the loop's item (`get_setting(row.key)`, not `get_setting("mode")`).
    /// In a DataLoader's batch function (`class CountLoader(DataLoader[K,
    /// V])`'s `_load_fn`, `batch_load_fn`) a query per group of keys is how
    /// it batches: reported one level lower.
    ///
    /// On the rows of a query, a method of the model called per row
    /// (`order.open_line_count()`) and a `@property` or `@cached_property`
    /// read per row (`order.unpaid_total`) run their queries once per row
    /// (a `cached_property` caches on the instance, and each row is a new
    /// one). Reads a prefetch can serve (`self.lines.all()`, `.count()`)
    /// are not counted; a migration's rows are historical models without
    /// these methods. Such a method or property that reads a lazy
    /// relationship of `self` (`def to_dict(self): … self.tags`, `def
    /// get_absolute_url(self): … self.section.slug`), itself or through
    /// other methods it calls on `self`, loads that relationship once per
    /// row when the query did not load it eagerly. Reads under a test of
    /// one of the method's parameters (`if with_tags:`) depend on the
    /// caller and are not counted, nor is a relationship the loop sets on
    /// the row before the call (`row.section = target`), nor the row's
    /// reference back to the object whose collection the loop walks
    /// (`for tag in trace.tags: tag.describe()` reading `self.trace`),
    /// which Django's related managers set and SQLAlchemy finds in the
    /// identity map. SQLAlchemy relationships declared from the other side
    /// with `backref=` are known on both models. So does a project
    /// function the loop hands the row to (`notify_owner(publisher)` reading
    /// `publisher.added_by`), or the row's key when the function loads it
    /// back with `Session.get` (`self.decline(application.id)` with
    /// `application = self.get_application(application_id)`), itself or
    /// through the functions it hands the row on to (three deep), with the
    /// same exceptions; a function already reported for its own queries is
    /// not reported twice. A pydantic (or SQLModel)
    /// schema validated from each row's attributes
    /// (`UserOut.model_validate(user)`, pydantic 1's `from_orm`) reads
    /// every field it declares, its bases' included, under the field's
    /// name or its `alias`/`validation_alias`: a field named as a lazy
    /// relationship the query did not load is loaded once per row. So is a
    /// FastAPI route that returns query rows (its own query, or the rows
    /// a project function returns) for a list response model
    /// (`response_model=list[UserOut]`, or `-> list[UserOut]` on the
    /// route function): FastAPI validates each row with the schema.
    ///
    /// Django REST framework runs some of the project's methods once per
    /// object with no loop in the code: a list serializer calls the
    /// serializer's `to_representation(instance)` for each object, and that
    /// calls each `SerializerMethodField`'s `get_<field>(obj)` (or the
    /// method it names). A query there (`Model.objects.filter(owner=obj)
    /// .count()`, `obj.items.filter(…).exists()`, a model method or a helper
    /// that queries, across files) runs once per serialized object. It is
    /// reported when the project serializes that class (or a subclass) as a
    /// list: called with `many=True`, nested with `many=True` in another
    /// serializer or as a field of a serializer that is itself serialized
    /// as a list, the `serializer_class` of a list view (`ListAPIView`,
    /// `ListCreateAPIView`, `ModelViewSet`, `ReadOnlyModelViewSet`, a view
    /// with `ListModelMixin`, also through the project's base views) unless
    /// its `get_serializer_class()` returns another one for the `list`
    /// action, the serializer that method returns for `list`, or the
    /// `serializer_class` of a view that calls `get_serializer(…,
    /// many=True)`. A serializer only used for one object (a detail view,
    /// `Serializer(instance).data`) runs its methods once: not reported.
    ///
    /// The serializer's fields read relations of each object too: a
    /// nested serializer (`agency = AgencySerializer()`), a
    /// `StringRelatedField` or `SlugRelatedField`, a dotted
    /// `source="agency.slug"`, a to-many relation named in `Meta.fields`
    /// (a `PrimaryKeyRelatedField(many=True)`), any relation there with
    /// `Meta.depth`, a foreign key a `SerializerMethodField`'s getter reads
    /// of its object (`obj.author.name`). A foreign key read for its key only
    /// (`PrimaryKeyRelatedField`, a foreign key in `Meta.fields`) is no
    /// query. A list view (`ListAPIView`, `ModelViewSet`…) whose
    /// `queryset = Model.objects…` does not `select_related`/
    /// `prefetch_related` what its serializer reads is reported at the
    /// view, and so is `Serializer(queryset, many=True)` on a queryset
    /// built in the same function (`Story.objects.filter(…)`, or a local
    /// bound once to one). Views that override `get_queryset()`, models
    /// whose default manager is the project's own, and eager loads given
    /// by a name (`prefetch_related(*PREFETCH)`) may load anything: not
    /// judged.
    ///
    /// Django's admin does the same for its change list: every method a
    /// registered `ModelAdmin`'s `list_display` names runs once per row of
    /// the page. A query there is reported (`obj.comments.count()`,
    /// `Task.objects.filter(ticket=obj).exists()`, through helpers), and so
    /// is a foreign key of the row it reads (`obj.customer.email`) that the
    /// change list does not load: Django loads what `list_select_related`
    /// names, or with `True` (or a non-null foreign key among the columns)
    /// the non-null foreign keys; an admin that overrides `get_queryset()`
    /// may load anything and is judged only for its queries. A relation is
    /// reported once per admin, at the first column that reads it.
    ///
    /// ## Why is this bad
    /// This is the N+1 query problem: one round trip per item. Latency and
    /// database load grow with the size of the collection, and what is fast
    /// on a developer's ten rows times out on production's ten thousand.
    ///
    /// ## Example
    /// ```python
    /// from sqlalchemy import select
    /// from sqlalchemy.orm import Session
    ///
    /// def order_totals(session: Session, orders):
    ///     totals = {}
    ///     for order in orders:
    ///         items = session.scalars(select(Item).where(Item.order_id == order.id)).all()
    ///         totals[order.id] = sum(i.price for i in items)
    ///     return totals
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from sqlalchemy import select
    /// from sqlalchemy.orm import Session
    ///
    /// def order_totals(session: Session, orders):
    ///     ids = [order.id for order in orders]
    ///     items = session.scalars(select(Item).where(Item.order_id.in_(ids))).all()
    ///     totals = {}
    ///     for item in items:
    ///         totals[item.order_id] = totals.get(item.order_id, 0) + item.price
    ///     return totals
    /// ```
    /// Or eager-load the relationship (`selectinload`, `joinedload`; Django
    /// `select_related`/`prefetch_related`).
    ///
    /// ## Known limitations
    /// Queries behind helper functions are followed across files (the
    /// finding lists the path loop → call → … → query), also behind the
    /// methods of a model class taken from Django's app registry
    /// (`apps.get_model("app.Model")`). Lazy relationship
    /// loads are reported on the rows of a query in the same function that
    /// does not load the relationship eagerly, and on the rows a project
    /// function returns from its own query (`for o in await repo.recent()`,
    /// `for d in self.get_children()`), with the relationships that query
    /// loads; rows that come from elsewhere (a parameter, an attribute) are
    /// not followed. Eager loads added by a method of the
    /// project's Django QuerySet or Manager classes (`def for_display(self):
    /// return self.select_related(…)`) count wherever a chain calls it
    /// (matched by the method's name, not by the model's QuerySet class).
    /// The model of the rows never comes from a queryset embedded in
    /// `Subquery(…)`/`Exists(…)` (an annotation or a filter of the outer
    /// query) or given to `Prefetch(…, queryset=…)` (the rows of a relation),
    /// nor from the selectors of `itertools.compress(rows, mask)`; a name
    /// bound to Django's empty `Model.objects.none()` yields no rows; a local rebound to a chain on itself (`qs = qs.annotate(…)`)
    /// loses the model, and is not followed. A write through a Django related
    /// manager (`row.tags.add(t)`, `row.notes.create(…)`,
    /// `row.checks.filter(…).delete()`) reads no collection a prefetch could
    /// hold: it is not a lazy load (QE-02 and QE-05 weigh writes). Loops that do not run once per item of
    /// data are not reported: `while` and endless worker loops (also a loop
    /// over a project generator that polls, yielding from a `while` loop
    /// that sleeps: `async for event in source.paid_invoices_stream()`), retries,
    /// chunked batches (one statement per chunk is the fix, also `for i in
    /// range(num_batches)`, also behind a progress bar: `tqdm(range(0, n,
    /// size))`; a name that reads as chunks but holds the rows of one
    /// query, `_pages = Pages.query.all()`, is rows, one item each),
    /// a collection under a test that it holds one item (`if len(realms)
    /// == 1: for name in realms:`), literal lists
    /// (and dicts filled only at keys written in the code; also a class
    /// attribute every class body declares as a display and no code
    /// reassigns: `for path in cls.previous_dotted_paths`, and a helper
    /// without arguments whose every return is a display:
    /// `for key in _editable_keys()`), Django's
    /// configured databases (`for conn in connections.all()`),
    /// a model's own fields (`Model._meta.get_fields()`,
    /// `Model.__table__.columns`), the definitions of a module or class
    /// (`vars(module).items()`, `module.__dict__`, `inspect.getmembers(obj)`:
    /// a migration runner's steps), and loops over tables, models or
    /// statements (also through a model class or queryset bound in the
    /// iteration: `model = ct.model_class(); model.objects.filter(…)`, or
    /// looked up inline from the item: `apps.get_model(app_label,
    /// name).objects.iterator()`), and the rows of a queryset bound per
    /// group of keys (`for ct_id, ids in ids_by_type.items(): qs =
    /// model.objects.filter(pk__in=ids)`, or the same over the dict's keys:
    /// `for ct_id in ids_by_type: ids = ids_by_type[ct_id]`), and queries on a session or
    /// connection opened in the iteration for the item (`with
    /// get_organization_session(slug) as db_session:`: another tenant
    /// database or schema each time). A helper whose query runs only when an
    /// optional argument is left out (`grants if grants is not None else
    /// await load_grants(doc.id)`) is not reported where the loop passes
    /// that argument: the caller loaded it in bulk. Likewise a helper whose
    /// query runs only when an optional argument is given (`if
    /// attachments: for a in attachments: File.objects.get(pk=a)`) is not
    /// reported where the loop leaves it out or passes `None`. A model
    /// method whose query runs only once the instance is saved (under `if
    /// self.pk:`, `if not self._state.adding:`) is not reported where it is
    /// called on an instance built in place without a key
    /// (`QueuedMail(to=address).send()`). A SQLAlchemy `Session.get(Model,
    /// key)` given the key of the loop's own row of that model (`for team
    /// in teams: session.get(Team, team.id)`), also inside a helper whose
    /// only reads are such gets by the parameter the loop passes `team.id`
    /// to (`self.delete_team(team.id)` calling `self.db.get(Team,
    /// team_id)`, through helpers that hand the key on), returns the row
    /// the session holds from its identity map without SQL: not reported
    /// (a `with_for_update=` or `populate_existing=` get still queries).
    /// Work the loop hands to a
    /// task, thread or job of its own (`asyncio.create_task(send(item))`,
    /// also through a helper that schedules it, `self.issue(item)` with
    /// `asyncio.create_task(self.step(item))` in it, or through a project
    /// function that schedules the coroutine it is given,
    /// `safe_create_task(step(item))`) is not reported: it is one unit of
    /// work per item, not a round trip of the loop. Nor is a loop that only collects the coroutines of an
    /// `async def` helper to run them together afterwards
    /// (`tasks.append(fetch(url))` with `tasks` bound before the loop, or
    /// `[fetch(url) for url in urls]`, then `await asyncio.gather(*tasks)`):
    /// the helper's body runs after the loop, concurrently; a loop around
    /// the `gather` is still reported. Work followed in its block by `break`, `return` or
    /// `raise` (with no `continue` between) runs once, on the item searched
    /// for; so does work under a test of the loop's item against a
    /// constant (`for field in fields: if field == "content": …`, `if kind
    /// == Notice.REVIEW:`), the branch of a dispatch over distinct kinds.
    ///
    /// In DRF serializer methods, what a prefetch on the view's queryset
    /// can serve is not reported: `obj.items.all()` iterated,
    /// `obj.items.count()`, `.exists()` and `.first()` on the object's
    /// related manager, and attributes and `@property` reads of the object
    /// (the view's queryset is not followed to see whether it prefetches or
    /// annotates them), unless the project prefetches no relation of that
    /// name anywhere (no `prefetch_related("items")`, `Prefetch("items")`,
    /// nor a lookup path through `items`): then each object reads it with
    /// a query. Chained methods that no prefetch serves
    /// (`obj.items.filter(…)`, `.get(…)`, `.aggregate(…)`) are reported
    /// when the serializer's `Meta.model` is a project model. A query under
    /// the fallback of a value the view attaches to each object (`if
    /// hasattr(obj, "_prefetched_user"): … else: User.objects.get(…)`, or
    /// after `if hasattr(obj, "_admin"): return obj._admin`) or in an
    /// `except` handler is not reported. Model properties and methods
    /// named in `Meta.fields` or `source=` are not followed, nor are
    /// `Field` subclasses' `to_representation`, nor serializers chosen at
    /// run time (`get_serializer_for_model(obj)(…, many=True)`), nor a list that a view's `get_queryset()` limits to one row
    /// (`filter(user=request.user)` on a one-to-one).
    pub struct QueryInLoop;
    id: "QE-07",
    name: "query-in-loop",
    category: Category::QueryEfficiency,
    summary: "N+1 select: a query executed once per item of a loop",
    severity: Severity::High,
    job: None,
    init: None,
    effort: Effort::M,
    languages: PYTHON,
    sources: &[
        Source { title: "SQLAlchemy: Relationship Loading Techniques", url: "https://docs.sqlalchemy.org/en/20/orm/queryguide/relationships.html", pack: Some("sqlalchemy") },
        Source { title: "Django: Database access optimization", url: "https://docs.djangoproject.com/en/stable/topics/db/optimization/", pack: Some("django") },
        Source { title: "Django REST framework: SerializerMethodField", url: "https://www.django-rest-framework.org/api-guide/fields/#serializermethodfield", pack: Some("drf") },
        Source { title: "Django admin: ModelAdmin.list_select_related", url: "https://docs.djangoproject.com/en/stable/ref/contrib/admin/#django.contrib.admin.ModelAdmin.list_select_related", pack: Some("django") },
    ],
}

impl Rule for QueryInLoop {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        let start = out.len();
        Self::check_loops(facts, out);
        Self::check_per_object(facts, out);
        Self::check_list_views(facts, out);
        Self::check_serialized_querysets(facts, out);
        Self::check_response_models(facts, out);
        if in_dataloader_batch(facts) {
            for f in &mut out[start..] {
                f.severity = f.severity.down();
                f.why.push_str(" This is a DataLoader's batch function, which already turns N loads into one call per batch of keys: a query per group of keys (one per distinct filter or range) is how it batches, so the finding is one level lower.");
            }
        }
    }
}

/// The schema a FastAPI route's list response is validated with: the
/// item class of `response_model=list[UserOut]` (also `List[…]`,
/// `Sequence[…]`), or of the return annotation of a function a route
/// decorator (`@router.get(…)`) registers; a project pydantic or SQLModel
/// class, qualified.
fn response_list_schema(facts: &Cx<'_, '_>) -> Option<String> {
    const ROUTES: &[&str] = &["get", "post", "put", "patch", "delete", "api_route"];
    let function = facts.function;
    let routes: Vec<&weir_ir::Call> = function
        .decorators
        .iter()
        .filter_map(weir_ir::Expr::as_call)
        .filter(|c| c.method_name().is_some_and(|m| ROUTES.contains(&m)))
        .collect();
    let declared = routes
        .iter()
        .find_map(|c| c.keyword("response_model"))
        .or_else(|| {
            (!routes.is_empty())
                .then_some(function.returns.as_ref())
                .flatten()
        })?;
    let weir_ir::ExprKind::Subscript { value, index } = &declared.kind else {
        return None;
    };
    if !value
        .dotted_last()
        .is_some_and(|c| matches!(c, "list" | "List" | "Sequence"))
    {
        return None;
    }
    let project = &facts.project.index;
    let schema = facts
        .module
        .resolve_expr(index)
        .and_then(|q| project.canonical_class(&q))?;
    is_schema_class(project, &schema).then_some(schema)
}

/// The schema fields (read from a row's attributes) that are lazy
/// relationships of `model` its rows did not load (`eager`): each is a
/// query per row.
fn unloaded_fields<'f>(
    fields: &[&'f str],
    model: &crate::project::Model,
    eager: &[String],
) -> Vec<&'f str> {
    fields
        .iter()
        .copied()
        .filter(|field| {
            !eager.iter().any(|e| e == field)
                && model
                    .relationships
                    .get(*field)
                    .is_some_and(|r| r.loading == crate::project::Loading::Lazy)
        })
        .collect()
}

/// A project class deriving (through project bases) from pydantic's
/// `BaseModel` (or another pydantic class) or SQLModel's `SQLModel`: it
/// validates objects field by field, from attributes when asked to.
fn is_schema_class(index: &crate::project::ProjectIndex<'_>, qualified: &str) -> bool {
    index.has_base(qualified, |b| {
        b.starts_with("pydantic.") || b == "sqlmodel.SQLModel" || b == "sqlmodel.main.SQLModel"
    })
}

/// The Django eager loads that load these relations (name, to-many):
/// `.select_related("agency")`, `.prefetch_related("topics")`.
fn eager_fixes(relations: &[(&str, bool)]) -> Vec<String> {
    let mut fixes = Vec::new();
    for (many, loader) in [(false, "select_related"), (true, "prefetch_related")] {
        let names: Vec<String> = relations
            .iter()
            .filter(|(_, m)| *m == many)
            .map(|(r, _)| format!("\"{r}\""))
            .collect();
        if !names.is_empty() {
            fixes.push(format!("`.{loader}({})`", names.join(", ")));
        }
    }
    fixes
}

/// Locals assigned exactly once in the function (`qs = Article.objects…`):
/// a name bound twice (`qs = qs.filter(…)`) may hold either value.
fn single_assignments(
    function: &weir_ir::Function,
) -> crate::collections::HashMap<String, &weir_ir::Expr> {
    let mut seen: crate::collections::HashMap<String, Option<&weir_ir::Expr>> =
        crate::collections::HashMap::default();
    weir_ir::visit::walk_stmts(&function.body, &mut |stmt| {
        if let weir_ir::StmtKind::Assign { targets, value, .. } = &stmt.kind {
            for target in targets {
                if let Some(name) = target.as_name() {
                    seen.entry(name.to_string())
                        .and_modify(|v| *v = None)
                        .or_insert(value.as_ref());
                }
            }
        }
    });
    seen.into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
        .collect()
}

/// The batch function of a DataLoader (`class CountLoader(DataLoader[K, V]):
/// async def _load_fn(self, keys)`, aiodataloader's `batch_load_fn`).
fn in_dataloader_batch(facts: &Cx<'_, '_>) -> bool {
    let function = facts.function;
    if function.name == "batch_load_fn" {
        return true;
    }
    let Some(class) = function.class.and_then(|id| facts.module.classes.get(id)) else {
        return false;
    };
    function.name.contains("load")
        && class.bases.iter().any(|base| {
            let base = match &base.kind {
                weir_ir::ExprKind::Subscript { value, .. } => value,
                _ => base,
            };
            base.dotted_last()
                .is_some_and(|name| name.ends_with("DataLoader"))
        })
}

impl QueryInLoop {
    fn check_loops(facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        for call in facts.calls_with(|e| matches!(e, Effect::Query(_))) {
            if call.op != Some(QueryOp::Select) || call.site.in_lambda {
                continue;
            }
            // `in_bulk(ids)` is the batched fetch itself; `merge(item)` of the
            // loop's own item finds it in the identity map.
            let method = call.call.and_then(|c| c.method_name());
            if method == Some("in_bulk")
                || (method == Some("merge") && passes_persistent_loop_item(facts, call))
            {
                continue;
            }
            let Some(lp) = per_item_loop(facts, call) else {
                continue;
            };
            if call
                .load_key()
                .is_some_and(|key| is_key_of_held_row(call, lp, key))
            {
                continue;
            }
            let help = if is_django(call) {
                "Fetch all rows before the loop (`filter(pk__in=ids)`, `in_bulk(ids)`), or load related rows with `select_related()` / `prefetch_related()`."
            } else if is_raw_driver(call) {
                "Fetch all rows in one statement before the loop (`WHERE id = ANY(%s)` / `IN (...)`), then look them up in a dict."
            } else {
                "Load everything in one query before the loop (`select(M).where(M.id.in_(ids))`), or eager-load the relationship with `selectinload()` / `joinedload()`."
            };
            out.push(
                finding(&Self::META, facts, call.site.span, format!("{} runs a query on every iteration of the {}", call_text(call), describe_loop(lp)))
                    .why("N+1 queries: one database round trip per item, so latency and load grow with the collection.")
                    .help(help)
                    .evidence(&facts.module.path, lp.span.line, describe_loop(lp)),
            );
        }
        // Lazy relationships touched on rows of a query, once per row:
        // directly, through a method of the rows' model, through a schema.
        for lp in &facts.loops {
            push_row_loads(
                facts,
                lp,
                lazy_loads(facts, lp),
                out,
                "Each row loads its relationship with a query of its own on first access: N+1 queries.",
                "Eager-load it in the query: `.options(selectinload(Model.rel))` (collections) or `joinedload` (single objects); Django: `select_related()` / `prefetch_related()`.",
            );
            push_row_loads(
                facts,
                lp,
                method_relation_reads(facts, lp),
                out,
                "The method reads a relationship the query did not load: each row loads it with a query of its own on first access, N+1 queries.",
                "Eager-load what the method reads in the query: `.options(selectinload(Model.rel))` (collections) or `joinedload` (single objects); Django: `select_related()` / `prefetch_related()`.",
            );
            push_row_loads(
                facts,
                lp,
                helper_relation_reads(facts, lp),
                out,
                "The function reads a relationship of the row it is given that the query did not load: each row loads it with a query of its own on first access, N+1 queries.",
                "Eager-load what the function reads in the query: `.options(selectinload(Model.rel))` (collections) or `joinedload` (single objects); Django: `select_related()` / `prefetch_related()`.",
            );
            push_row_loads(
                facts,
                lp,
                schema_reads(facts, lp),
                out,
                "The schema reads its fields from the row's attributes; a relationship the query did not load is fetched with a query of its own for each row (and raises `MissingGreenlet` on an async session): N+1 queries.",
                "Eager-load the relationships the schema reads: `.options(selectinload(Model.rel))` (collections) or `joinedload` (single objects).",
            );
        }
        // Properties of the rows that query, read once per row.
        for lp in &facts.loops {
            for (span, message, witness) in property_reads(facts, lp) {
                let f = finding(&Self::META, facts, span, message)
                    .why("The property runs a query each time it is read on a new row: one round trip per row, N+1 queries.")
                    .help("Compute it for all rows in the query: `annotate()` a count or aggregate, `prefetch_related()` what it reads (and have the property read the prefetched rows), or a `Subquery`.")
                    .evidence(&facts.module.path, lp.span.line, describe_loop(lp));
                out.push(with_path(f, witness));
            }
        }
        // The same through helpers, in this file or others.
        for (call, witness) in calls_through_at(facts, Summary::uncached_reads_at) {
            let Some(lp) = helper_call_loop(facts, call) else {
                continue;
            };
            if gets_held_row(facts, call, lp) {
                continue;
            }
            out.push(through_helper(facts, call, lp, "", witness));
        }
        // Through a memoised helper the query runs once per distinct
        // argument: per item only when the arguments change with the item.
        for (call, (keys, computed, witness)) in calls_through_at(facts, Summary::memo_reads_at) {
            let Some(lp) = helper_call_loop(facts, call)
                .filter(|lp| computed || key_varies_per_item(call, keys, lp))
            else {
                continue;
            };
            let cached = ": its cache is keyed by the item, so each new item misses it";
            out.push(through_helper(facts, call, lp, cached, witness));
        }
    }
}

impl QueryInLoop {
    /// DRF list views of this module whose serializer reads a relation
    /// the view's queryset does not load (see `facts::list_views`):
    /// reported once per view and relation, at the view, from the
    /// module's top-level facts, in the request handler's severity.
    fn check_list_views(facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        if facts.function.kind != weir_ir::FunctionKind::Module {
            return;
        }
        let unloaded = facts
            .project
            .per_object
            .unloaded
            .in_module(&facts.module.name);
        // One finding per view, naming every relation it leaves unloaded.
        let mut views: Vec<&str> = unloaded.iter().map(|u| u.view.as_str()).collect();
        views.dedup();
        for view in views {
            let relations: Vec<_> = unloaded.iter().filter(|u| u.view == view).collect();
            let first = relations[0];
            let fixes = eager_fixes(
                &relations
                    .iter()
                    .map(|u| (u.relation.as_str(), u.many))
                    .collect::<Vec<_>>(),
            );
            let read: Vec<String> = relations
                .iter()
                .map(|u| format!("`{}` (field `{}`)", u.relation, u.field))
                .collect();
            let mut f = finding(
                &Self::META,
                facts,
                first.span,
                format!(
                    "`{view}` lists `{}` rows with `{}`, which reads {} of each row: the queryset does not load {}, so each row runs a query of its own",
                    first.model,
                    first.serializer,
                    read.join(", "),
                    if relations.len() > 1 { "them" } else { "it" }
                ),
            )
            .why("DRF serializes the page object by object; a relation the queryset did not load is fetched with a query of its own for each object: N+1 queries per request.")
            .help(format!("Load what it reads in the view's queryset: {}.", fixes.join(" and ")));
            for u in &relations {
                f = f.evidence(
                    &u.field_path,
                    u.field_line,
                    format!("`{}.{}` reads `{}`", u.serializer, u.field, u.relation),
                );
            }
            f.severity = Self::META.severity_in(crate::facts::ExecContext::RequestHandler);
            f.context = crate::facts::ExecContext::RequestHandler;
            f.function = view.to_string();
            out.push(f);
        }
    }

    /// `ArticleSerializer(Article.objects.filter(…), many=True)` (or a
    /// local bound to such a queryset) in a view or a helper: the
    /// serializer reads relations the queryset does not load, once per
    /// object (see `facts::list_views`).
    fn check_serialized_querysets(facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        let unloaded = &facts.project.per_object.unloaded;
        let mut assigned: Option<crate::collections::HashMap<String, &weir_ir::Expr>> = None;
        for e in facts.call_exprs() {
            let Some(call) = e.as_call() else { continue };
            if !crate::facts::per_object::many(call) {
                continue;
            }
            let Some(reads) = facts
                .module
                .resolve_expr(&call.callee)
                .and_then(|q| facts.project.index.canonical_class(&q))
                .and_then(|q| unloaded.serializer(&q))
            else {
                continue;
            };
            let Some(arg) = call.positional(0).or_else(|| call.keyword("instance")) else {
                continue;
            };
            let assigned = assigned.get_or_insert_with(|| single_assignments(facts.function));
            let queryset = arg
                .as_name()
                .and_then(|n| assigned.get(n).copied())
                .unwrap_or(arg);
            let models = &facts.project.models;
            let Some(rows) =
                crate::facts::rows::row_source(queryset, assigned, facts.module, models)
            else {
                continue;
            };
            let Some(model) = models.get(&rows.model) else {
                continue;
            };
            if rows.model != reads.model
                || !crate::facts::list_views::judgeable(queryset, &rows, model)
            {
                continue;
            }
            let missing =
                crate::facts::list_views::unloaded_reads(&reads.reads, model, &rows.eager);
            if missing.is_empty() {
                continue;
            }
            let read: Vec<String> = missing
                .iter()
                .map(|(r, _)| format!("`{}` (field `{}`)", r.relation, r.field))
                .collect();
            let fixes = eager_fixes(
                &missing
                    .iter()
                    .map(|(r, many)| (r.relation.as_str(), *many))
                    .collect::<Vec<_>>(),
            );
            let mut f = finding(
                &Self::META,
                facts,
                e.span,
                format!(
                    "`{}(…, many=True)` serializes `{}` rows and reads {} of each: the queryset does not load {}, so each row runs a query of its own",
                    reads.serializer,
                    model.name,
                    read.join(", "),
                    if missing.len() > 1 { "them" } else { "it" }
                ),
            )
            .why("DRF serializes the list object by object; a relation the queryset did not load is fetched with a query of its own for each object: N+1 queries.")
            .help(format!("Load what the serializer reads in the queryset: {}.", fixes.join(" and ")));
            for (r, _) in &missing {
                f = f.evidence(
                    &r.path,
                    r.line,
                    format!("`{}.{}` reads `{}`", reads.serializer, r.field, r.relation),
                );
            }
            out.push(f);
        }
    }

    /// A FastAPI route that returns query rows for a list response model
    /// (`response_model=list[UserOut]`, or `-> list[UserOut]`): FastAPI
    /// validates each row with the schema from its attributes, so a field
    /// named as a lazy relationship the query did not load is loaded once
    /// per row, after the handler returned.
    fn check_response_models(facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        let function = facts.function;
        let Some(schema) = response_list_schema(facts) else {
            return;
        };
        let index = &facts.project.index;
        let models = &facts.project.models;
        let fields = index.annotated_fields(&schema);
        let assigned = single_assignments(function);
        let mut reported = false;
        weir_ir::visit::walk_stmts(&function.body, &mut |stmt| {
            let weir_ir::StmtKind::Return { value: Some(value) } = &stmt.kind else {
                return;
            };
            if reported {
                return;
            }
            let value = value.unawaited();
            let value = value
                .as_name()
                .and_then(|n| assigned.get(n).copied())
                .map_or(value, weir_ir::Expr::unawaited);
            // Rows a project function returns (`crud.get_users(db)`), or a
            // query written here.
            let from_callee = value.as_call().and_then(|call| {
                facts
                    .calls
                    .iter()
                    .find(|c| c.site.span == value.span)
                    .and_then(|c| c.target)
                    .or_else(|| {
                        facts
                            .module
                            .resolve_expr(&call.callee)
                            .and_then(|q| index.resolve_function(&q))
                    })
                    .and_then(|t| facts.project.returned_rows.get(t))
                    .cloned()
            });
            let Some(rows) = from_callee.or_else(|| {
                crate::facts::rows::is_query_chain(value)
                    .then(|| crate::facts::rows::row_source(value, &assigned, facts.module, models))
                    .flatten()
            }) else {
                return;
            };
            let Some(model) = models.get(&rows.model) else {
                return;
            };
            let loaded: Vec<String> = unloaded_fields(&fields, model, &rows.eager)
                .iter()
                .map(|f| format!("`{f}`"))
                .collect();
            if loaded.is_empty() || rows.narrowed {
                return;
            }
            reported = true;
            let name = schema.rsplit('.').next().unwrap_or(&schema);
            out.push(
                finding(
                    &Self::META,
                    facts,
                    stmt.span,
                    format!(
                        "`{}` returns `{}` rows for the response model `list[{name}]`, which reads {} of each row: the query does not load {}, so each row runs a query of its own",
                        function.name,
                        model.name,
                        loaded.join(", "),
                        if loaded.len() > 1 { "them" } else { "it" }
                    ),
                )
                .why("FastAPI validates each returned row with the response model from its attributes; a relationship the query did not load is fetched with a query of its own for each row (and raises `MissingGreenlet` on an async session): N+1 queries.")
                .help("Eager-load the relationships the response model reads: `.options(selectinload(Model.rel))` (collections) or `joinedload` (single objects)."),
            );
        });
    }

    /// A method the framework calls once per item (a DRF serializer's
    /// `get_<field>` or `to_representation` on a list): each query in it,
    /// or behind a helper it calls, runs once per serialized object. A
    /// query in a per-item loop of the method is reported by the loop;
    /// one in an `except` handler runs for failing objects only.
    fn check_per_object(facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        use crate::facts::{Scope, TryPart};
        let Some(per) = facts.per_object() else {
            return;
        };
        let outside_loops = |call: &crate::facts::CallFact<'_>| {
            !call.site.in_lambda
                && !call.site.offloaded
                && !call
                    .site
                    .scopes
                    .iter()
                    .any(|s| matches!(s, Scope::Try(_, TryPart::Handler(_))))
                && per_item_loop(facts, call).is_none()
                && !facts.handed_to_long_lived_work(call)
                && !fallback_of_attached_value(facts, call)
        };
        let (path, line, label) = &per.evidence;
        let admin = per.kind == crate::facts::per_object::PerObjectKind::AdminChangeList;
        let message = |text: String, witness: String| {
            if admin {
                format!(
                    "{text} runs a query once per row of the admin change list: Django calls {} for every row of the page{witness}",
                    per.what
                )
            } else {
                format!(
                    "{text} runs a query once per serialized object: DRF calls {} for every object of a list{witness}",
                    per.what
                )
            }
        };
        let (why, help) = if admin {
            (
                "The admin change list calls each `list_display` method once per row of the page (`list_per_page`, 100 by default): one query per row, an N+1 with no loop in the code.",
                "Compute the value on the admin's queryset in one query: override `get_queryset()` to `annotate()` the count or aggregate (or `prefetch_related()` the relation) and read the annotated or prefetched attribute here; load foreign keys with `list_select_related`.",
            )
        } else {
            (
                "DRF's list serializer calls this method once per object of the page: one query per row, an N+1 with no loop in the code.",
                "Compute the value on the view's queryset in one query: `annotate()` the count or aggregate, `select_related()` / `prefetch_related()` the relation (and read it with `.all()` in the method), then read the annotated or prefetched attribute here.",
            )
        };
        Self::check_unloaded_to_one(facts, per, out);
        for call in facts.calls_with(|e| matches!(e, Effect::Query(_))) {
            if call.op != Some(QueryOp::Select) || !outside_loops(call) {
                continue;
            }
            out.push(
                finding(
                    &Self::META,
                    facts,
                    call.site.span,
                    message(call_text(call), String::new()),
                )
                .why(why)
                .help(help)
                .evidence(path, *line, label.clone()),
            );
        }
        for (call, witness) in calls_through_at(facts, Summary::uncached_reads_at) {
            if call.effect.is_some() || !outside_loops(call) {
                continue;
            }
            let f = finding(
                &Self::META,
                facts,
                call.site.span,
                message(call_text(call), through(witness)),
            )
            .why(why)
            .help(help)
            .evidence(path, *line, label.clone());
            out.push(with_path(f, witness));
        }
    }
}

impl QueryInLoop {
    /// `obj.customer.name` in a `list_display` method: a foreign key of the
    /// row the change list's queryset does not load, read once per row.
    /// One finding per relation, at its first read.
    fn check_unloaded_to_one(
        facts: &Cx<'_, '_>,
        per: &crate::facts::per_object::PerObject,
        out: &mut Vec<Finding>,
    ) {
        // The relations this method is the first column to read, each at
        // its first read (found with the admin's facts).
        let Some(param) = facts.per_object_param() else {
            return;
        };
        let model = per
            .model
            .as_deref()
            .map_or("row", |m| m.rsplit('.').next().unwrap_or(m));
        let (path, line, label) = &per.evidence;
        for (attr, read) in &per.unloaded_to_one {
            out.push(
                finding(
                    &Self::META,
                    facts,
                    *read,
                    format!(
                        "`{param}.{attr}` loads the related row of each `{model}` with a query of its own: Django calls {} for every row of the admin change list, and its queryset does not load `{attr}`",
                        per.what
                    ),
                )
                .why("The admin change list calls each `list_display` method once per row of the page; a foreign key its queryset did not load is fetched with a query per row: an N+1 per page.")
                .help(format!("Load it with the change list's query: `list_select_related = [\"{attr}\"]` on the admin (or `select_related(\"{attr}\")` in its `get_queryset()`)."))
                .evidence(path, *line, label.clone()),
            );
        }
    }
}

/// The call runs only when the object lacks a value the view attached to
/// every object of the page in bulk: `if hasattr(obj, "_prefetched_user"):
/// user = obj._prefetched_user else: user = User.objects.get(…)`. The
/// list path reads the attached value; the query is the fallback for
/// other callers.
fn fallback_of_attached_value(facts: &Cx<'_, '_>, call: &crate::facts::CallFact<'_>) -> bool {
    use crate::facts::Scope;
    use weir_ir::{ExprKind, Operator};
    let Some(param) = facts.per_object_param() else {
        return false;
    };
    let has_attr = |test: &weir_ir::Expr| {
        test.as_call().is_some_and(|c| {
            c.callee.as_name() == Some("hasattr")
                && c.positional(0).and_then(weir_ir::Expr::as_name) == Some(param)
        })
    };
    call.site.scopes.iter().any(|scope| match scope {
        Scope::Else(test) => has_attr(test),
        Scope::If(test, _) => matches!(&test.kind,
            ExprKind::Unary { op: Operator::Not, operand } if has_attr(operand)),
        _ => false,
    }) || returns_attached_value_before(facts, call, has_attr)
}

/// The early-return form of the same fallback: `if hasattr(obj, "_admin"):
/// return obj._admin` at the top of the method, the query after it.
fn returns_attached_value_before(
    facts: &Cx<'_, '_>,
    call: &crate::facts::CallFact<'_>,
    has_attr: impl Fn(&weir_ir::Expr) -> bool,
) -> bool {
    facts.statements_before(call).any(|stmt| {
        crate::facts::guards::returning_if(stmt).is_some_and(|(test, _)| has_attr(test))
    })
}

/// The per-item loop a call into a querying helper runs in. Not for a call
/// with an effect of its own (reported as a direct query), nor one handed
/// to a task or thread (one unit of work per item there); a loop that only
/// collects the coroutine of an `async def` helper, to be run after it, is
/// looked through.
fn helper_call_loop<'a>(
    facts: &'a Cx<'_, '_>,
    call: &crate::facts::CallFact<'_>,
) -> Option<&'a crate::facts::LoopRef<'a>> {
    if call.effect.is_some() {
        return None;
    }
    let coroutine = !call.site.awaited && facts.summaries.of_call(call).is_some_and(|s| s.is_async);
    per_item_loop_where(facts, call, |lp| {
        !(coroutine && collects_for_later(facts, call, lp))
    })
    .filter(|_| {
        !facts.handed_to_long_lived_work(call)
            && (!coroutine || !facts.summaries.handed_to_spawner(call))
    })
}

/// A helper whose only reads are `Session.get(Model, key)` by one of its
/// parameters, called with the key of the loop's own row of that model
/// (`for team in teams: self.delete_team(team.id)`): the session holds
/// the row, and `get` returns it from the identity map without SQL.
fn gets_held_row(
    facts: &Cx<'_, '_>,
    call: &crate::facts::CallFact<'_>,
    lp: &crate::facts::LoopRef<'_>,
) -> bool {
    let Some((arg, model)) = facts
        .summaries
        .of_call(call)
        .zip(call.call)
        .and_then(|(summary, c)| summary.identity_reads.key_arg(c))
    else {
        return false;
    };
    lp.rows.as_ref().is_some_and(|rows| rows.model == model) && is_loop_row_key(lp, arg)
}

/// `session.get(Team, team.id)` in a loop over `Team` rows: the row the
/// loop holds, returned from the identity map (SQLAlchemy only; Django's
/// `get` always queries).
fn is_key_of_held_row(
    call: &crate::facts::CallFact<'_>,
    lp: &crate::facts::LoopRef<'_>,
    key: &weir_ir::Expr,
) -> bool {
    use crate::knowledge::ObjKind;
    call.receiver_kind
        .is_some_and(|t| matches!(t.kind, ObjKind::Session | ObjKind::AsyncSession))
        && call
            .call
            .is_some_and(|c| matches!(c.method_name(), Some("get" | "get_one")))
        && lp
            .rows
            .as_ref()
            .zip(call.model.as_ref())
            .is_some_and(|(rows, model)| rows.model == *model)
        && is_loop_row_key(lp, key)
}

/// `team.id` (or `team.pk`) with `team` the loop's variable.
fn is_loop_row_key(lp: &crate::facts::LoopRef<'_>, key: &weir_ir::Expr) -> bool {
    let weir_ir::ExprKind::Attribute { value, attr } = &key.kind else {
        return false;
    };
    matches!(attr.as_str(), "id" | "pk")
        && value.as_name().is_some_and(|v| Some(v) == lp.target_name())
}

/// The coroutine `call` makes is kept, not run, by each iteration of `lp`:
/// it is the element of the comprehension `lp` (`[fetch(u) for u in urls]`),
/// or stored into a collection that outlives the iteration
/// (`tasks.append(fetch(u))`, `pending[u] = fetch(u)`, with `tasks` bound
/// before the loop). The body runs when the collection is awaited
/// (`asyncio.gather(*tasks)`), after the loop and concurrently.
fn collects_for_later(
    facts: &Cx<'_, '_>,
    call: &crate::facts::CallFact<'_>,
    lp: &crate::facts::LoopRef<'_>,
) -> bool {
    use weir_ir::{ExprKind, StmtKind};
    let span = call.expr.span;
    if lp.is_comprehension {
        return lp.element.is_some_and(|e| e.span == span);
    }
    let outlives = |container: &weir_ir::Expr| {
        let Some(path) = container.dotted() else {
            return false;
        };
        let head = path.split('.').next().unwrap_or(&path);
        matches!(head, "self" | "cls")
            || facts.params.contains(head)
            || (facts.binding_before(head, lp.span.start).is_some()
                && !facts.rebound_between(head, lp.span.start, lp.span.end))
    };
    let mut found = false;
    weir_ir::visit::walk_block_exprs(lp.body, &mut |e| {
        if let ExprKind::Call(c) = &e.kind
            && matches!(
                c.method_name(),
                Some("append" | "appendleft" | "add" | "insert")
            )
            && c.args.last().is_some_and(|a| a.value.span == span)
            && c.receiver().is_some_and(outlives)
        {
            found = true;
        }
    });
    weir_ir::visit::walk_stmts(lp.body, &mut |stmt| {
        if let StmtKind::Assign {
            targets,
            value: Some(value),
            op: None,
            ..
        } = &stmt.kind
            && value.span == span
            && targets
                .iter()
                .any(|t| matches!(&t.kind, ExprKind::Subscript { value, .. } if outlives(value)))
        {
            found = true;
        }
    });
    found
}

/// A query in a loop reached through the project's helpers, with the
/// witness path as evidence; `why_per_item` explains a cached helper.
fn through_helper(
    facts: &Cx<'_, '_>,
    call: &crate::facts::CallFact<'_>,
    lp: &crate::facts::LoopRef<'_>,
    why_per_item: &str,
    witness: &crate::project::summary::Witness,
) -> Finding {
    let message = format!(
        "{} runs a query on every iteration of the {}{why_per_item}{}",
        call_text(call),
        describe_loop(lp),
        through(witness)
    );
    let f = finding(&QueryInLoop::META, facts, call.site.span, message)
        .why("N+1 queries: one database round trip per item, so latency and load grow with the collection.")
        .help("Give the helper a batch form that loads all items in one query (`WHERE id IN (...)`), or eager-load what it reads, and call it once before the loop.")
        .evidence(&facts.module.path, lp.span.line, describe_loop(lp));
    with_path(f, witness)
}

/// The arguments the call passes for the cache key change with the loop's
/// item: they name the loop variable or a local assigned in the loop body
/// (`get_config(row.key)`, not `get_config("end")`).
fn key_varies_per_item(
    call: &crate::facts::CallFact<'_>,
    keys: &[crate::project::summary::KeyParam],
    lp: &crate::facts::LoopRef<'_>,
) -> bool {
    // The names the loop binds: `self.pages[entry.name] = …` binds none
    // (it stores into `self.pages`; `self` is the same on every item).
    fn bound<'e>(target: &'e weir_ir::Expr, names: &mut Vec<&'e str>) {
        match &target.kind {
            weir_ir::ExprKind::Name { id } => names.push(id),
            weir_ir::ExprKind::Collection { elements, .. } => {
                for element in elements {
                    bound(element, names);
                }
            }
            weir_ir::ExprKind::Spread { value } => bound(value, names),
            _ => {}
        }
    }
    let mut names: Vec<&str> = Vec::new();
    if let Some(target) = lp.target {
        bound(target, &mut names);
    }
    weir_ir::visit::walk_stmts(lp.body, &mut |stmt| {
        if let weir_ir::StmtKind::Assign { targets, .. } = &stmt.kind {
            for target in targets {
                bound(target, &mut names);
            }
        }
    });
    let Some(c) = call.call else {
        return false;
    };
    let mut found = false;
    for arg in crate::project::summary::key_args(c, keys) {
        weir_ir::visit::walk_expr(arg, &mut |e| {
            found |= e.as_name().is_some_and(|n| names.contains(&n));
        });
    }
    found
}

/// One finding per lazy load a loop's rows run, with the loop and the
/// rows' query as evidence.
fn push_row_loads(
    facts: &Cx<'_, '_>,
    lp: &crate::facts::LoopRef<'_>,
    loads: Vec<(weir_ir::Span, String, (u32, String))>,
    out: &mut Vec<Finding>,
    why: &str,
    help: &str,
) {
    for (span, message, (line, label)) in loads {
        out.push(
            finding(&QueryInLoop::META, facts, span, message)
                .why(why)
                .help(help)
                .evidence(&facts.module.path, lp.span.line, describe_loop(lp))
                .evidence(&facts.module.path, line, label),
        );
    }
}

/// `row.relationship` reads on the rows of a query that does not load
/// that relationship eagerly: (span, message, (line, label) of the relationship).
fn lazy_loads(
    cx: &Cx<'_, '_>,
    lp: &crate::facts::LoopRef<'_>,
) -> Vec<(weir_ir::Span, String, (u32, String))> {
    let mut out = Vec::new();
    let (Some(rows), Some(var)) = (&lp.rows, lp.target_name()) else {
        return out;
    };
    if !lp.is_per_item() {
        return out;
    }
    let Some(model) = cx.facts.project.models.get(&rows.model) else {
        return out;
    };
    // `row.books.count()` is a query of its own, reported as one: the
    // relation is not loaded.
    let queried: Vec<weir_ir::Span> = cx
        .facts
        .calls
        .iter()
        .filter(|c| matches!(c.effect, Some(Effect::Query(_))))
        .filter_map(|c| c.call?.receiver().map(|r| r.span))
        .collect();
    // `row.owner = user` stores; `row.count += 1` reads first.
    let stored: Vec<weir_ir::Span> = crate::facts::regions::attribute_writes(cx.facts)
        .into_iter()
        .filter(|w| !w.augmented && w.var == var)
        .map(|w| w.target)
        .collect();
    // `row.tags.add(tag)`, `row.comments.create(…)`, `row.checks.filter(…).delete()`:
    // writes through a Django related manager, which no prefetch serves.
    let mut written: Vec<weir_ir::Span> = Vec::new();
    if model.orm == crate::project::Orm::Django {
        let mut note = |e: &weir_ir::Expr| {
            if let Some(call) = e.as_call()
                && call
                    .method_name()
                    .is_some_and(|m| RELATED_MANAGER_WRITES.contains(&m))
                && let Some(manager) = call.receiver().map(manager_of_chain)
            {
                written.push(manager.span);
            }
        };
        for e in lp.element.iter().copied().chain(lp.conditions) {
            weir_ir::visit::walk_expr(e, &mut note);
        }
        weir_ir::visit::walk_block_exprs(lp.body, &mut note);
    }
    row_attribute_reads(lp, var, |e, attr| {
        if rows.eager.iter().any(|e| e == attr) || queried.contains(&e.span) {
            return false;
        }
        let Some(rel) = model.relationships.get(attr) else {
            return false;
        };
        // `row.owner = user` sets the foreign key without reading the old
        // related row. Replacing a collection (`row.tags = [...]`) does load
        // it: SQLAlchemy compares the old members with the new.
        if rel.loading != crate::project::Loading::Lazy
            || (!rel.many && stored.contains(&e.span))
            || (rel.many && written.contains(&e.span))
        {
            return false;
        }
        let what = if rel.many {
            "collection"
        } else {
            "relationship"
        };
        out.push((
            e.span,
            format!(
                "`{var}.{attr}` lazily loads a {what} of `{}` on every row of the {}",
                model.name,
                describe_loop(lp)
            ),
            (
                lp.span.line,
                format!("`{}` rows queried without loading `{attr}`", model.name),
            ),
        ));
        true
    });
    out
}

/// `row.open_count` on the rows of a query, where `open_count` is a
/// `@property` (or `@cached_property`, which caches per instance) of the
/// project model that runs a query: (span, message, witness), once per
/// property and loop.
fn property_reads<'s>(
    cx: &'s Cx<'_, '_>,
    lp: &crate::facts::LoopRef<'_>,
) -> Vec<(weir_ir::Span, String, &'s crate::project::summary::Witness)> {
    let mut out = Vec::new();
    let (Some(rows), Some(var)) = (&lp.rows, lp.target_name()) else {
        return out;
    };
    // A migration's rows are historical models, without the properties.
    if !lp.is_per_item() || cx.facts.context == crate::facts::ExecContext::Migration {
        return out;
    }
    let index = &cx.facts.project.index;
    let Some(class) = index.canonical_class(&rows.model) else {
        return out;
    };
    let stored: Vec<weir_ir::Span> = crate::facts::regions::attribute_writes(cx.facts)
        .into_iter()
        .filter(|w| w.var == var)
        .map(|w| w.target)
        .collect();
    row_attribute_reads(lp, var, |e, attr| {
        if rows.eager.iter().any(|e| e == attr) || stored.contains(&e.span) {
            return false;
        }
        let Some(target) = index.method(&class, attr) else {
            return false;
        };
        let function = index.function(target);
        // `cached_property` keeps the value on the instance: each new row
        // runs the query once, which is once per row here.
        let per_instance_cache = function.decorated_with("cached_property");
        if !per_instance_cache && !function.decorated_with("property") {
            return false;
        }
        let Some(summary) = cx.summaries.get(target) else {
            return false;
        };
        // Another cache (`@lru_cache` under the property) may be shared
        // by the rows.
        let witness = if summary.memoized && !per_instance_cache {
            None
        } else {
            summary
                .reads
                .as_ref()
                .or(summary.persisted_reads.as_ref())
                .or(summary.memo_reads.as_ref().map(|m| &m.witness))
        };
        let Some(witness) = witness else {
            return false;
        };
        out.push((
            e.span,
            format!(
                "`{var}.{attr}` runs a query on every row of the {}: `{attr}` is a property of `{}`{}",
                describe_loop(lp),
                function.qualname.split('.').next().unwrap_or(&function.qualname),
                through(witness)
            ),
            witness,
        ));
        true
    });
    out
}

/// What the per-row checks of a loop work from: its rows, its variable,
/// their project model, and the relations each row holds already (loaded
/// by the query, or set in the loop: `row.event = event` before
/// `row.save()` reads it). `None` outside per-item loops, and in a
/// migration, whose rows are historical models without the methods.
struct PerRow<'a> {
    rows: &'a crate::facts::rows::RowSource,
    var: &'a str,
    model: &'a crate::project::Model,
    loaded: Vec<String>,
}

fn per_row<'a>(cx: &'a Cx<'_, '_>, lp: &'a crate::facts::LoopRef<'_>) -> Option<PerRow<'a>> {
    let (Some(rows), Some(var)) = (&lp.rows, lp.target_name()) else {
        return None;
    };
    if !lp.is_per_item() || cx.facts.context == crate::facts::ExecContext::Migration {
        return None;
    }
    let model = cx.facts.project.models.get(&rows.model)?;
    let mut loaded = rows.eager.clone();
    loaded.extend(
        crate::facts::regions::attribute_writes(cx.facts)
            .into_iter()
            .filter(|w| !w.augmented && w.var == var && lp.span.contains(&w.span))
            .map(|w| w.attr),
    );
    Some(PerRow {
        rows,
        var,
        model,
        loaded,
    })
}

/// `row.to_dict()` on the rows of a query, where the project model's
/// method (or property) reads a lazy relationship of `self` (`self.tags`,
/// `self.author.name`), itself or through another method it calls on
/// `self`, that the query does not load: each row loads it with a query
/// of its own. (span, message, (line, label) of the rows), once per
/// method and loop. A method that runs queries of its own is reported
/// through its summary instead.
fn method_relation_reads(
    cx: &Cx<'_, '_>,
    lp: &crate::facts::LoopRef<'_>,
) -> Vec<(weir_ir::Span, String, (u32, String))> {
    let mut out = Vec::new();
    let Some(PerRow {
        rows,
        var,
        model,
        loaded,
    }) = per_row(cx, lp)
    else {
        return out;
    };
    let index = &cx.facts.project.index;
    let Some(class) = index.canonical_class(&rows.model) else {
        return out;
    };
    row_attribute_reads(lp, var, |e, attr| {
        if model.relationships.contains_key(attr) {
            return false;
        }
        let Some(target) = index.method(&class, attr) else {
            return false;
        };
        let queries = |f: crate::project::FnRef| {
            cx.summaries.get(f).is_some_and(|s| {
                s.reads.is_some() || s.persisted_reads.is_some() || s.memo_reads.is_some()
            })
        };
        if queries(target) {
            return false;
        }
        let mut seen = vec![target];
        let Some(relation) = self_relation_read(cx, &class, model, &loaded, target, &mut seen)
        else {
            return false;
        };
        if seen.iter().any(|&f| queries(f)) {
            return false;
        }
        let function = index.function(target);
        let call = if ["property", "cached_property", "hybrid_property"]
            .iter()
            .any(|d| function.decorated_with(d))
        {
            format!("`{var}.{attr}`")
        } else {
            format!("`{var}.{attr}()`")
        };
        out.push((
            e.span,
            format!(
                "{call} lazily loads `{relation}` of `{}` on every row of the {}: `{attr}` reads `self.{relation}`",
                model.name,
                describe_loop(lp)
            ),
            (
                lp.span.line,
                format!("`{}` rows queried without loading `{relation}`", model.name),
            ),
        ));
        true
    });
    out
}

/// How a project function receives the loop's row: the row itself
/// (`notify(publisher)`), or its key, which the function loads back with
/// `Session.get` (`self.decline(application.id)`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Handed {
    Row,
    Key,
}

/// How `arg` hands over the row `var`: `var`, or `var.id` / `var.pk`.
fn handed(arg: &weir_ir::Expr, var: &str) -> Option<Handed> {
    if arg.as_name() == Some(var) {
        return Some(Handed::Row);
    }
    match &arg.kind {
        weir_ir::ExprKind::Attribute { value, attr }
            if value.as_name() == Some(var) && matches!(attr.as_str(), "id" | "pk") =>
        {
            Some(Handed::Key)
        }
        _ => None,
    }
}

/// The parameters of `function` a call fills, by name, in order: `self`
/// (or `cls`) of a method is the receiver, not an argument.
fn call_params<'f>(
    function: &'f weir_ir::Function,
    call: &'f weir_ir::Call,
) -> impl Iterator<Item = (&'f str, &'f weir_ir::Expr)> + 'f {
    let skip = usize::from(
        function.kind == weir_ir::FunctionKind::Method && !function.decorated_with("staticmethod"),
    );
    function
        .params
        .iter()
        .skip(skip)
        .filter(|p| {
            p.kind != weir_ir::ParamKind::VarPositional && p.kind != weir_ir::ParamKind::VarKeyword
        })
        .enumerate()
        .filter_map(move |(i, p)| {
            let arg = call.keyword(&p.name).or_else(|| {
                (p.kind != weir_ir::ParamKind::KeywordOnly)
                    .then(|| call.positional(i))
                    .flatten()
            })?;
            Some((p.name.as_str(), arg))
        })
}

/// The project function a call in `function` (of `module`) runs:
/// `self.method(…)` on its own class, or a function or class method by
/// its qualified name.
fn resolve_in(
    index: &crate::project::ProjectIndex<'_>,
    module: &weir_ir::Module,
    function: &weir_ir::Function,
    call: &weir_ir::Call,
) -> Option<crate::project::FnRef> {
    if let weir_ir::ExprKind::Attribute { value, attr } = &call.callee.kind
        && matches!(value.as_name(), Some("self" | "cls"))
    {
        return index.method(&index.class_of(module, function)?, attr);
    }
    let qualified = module.resolve_expr(&call.callee)?;
    index.resolve_function(&qualified)
}

/// What `helper_relation_reads` looks for: the rows' model, the
/// relations they hold already, the functions followed so far.
struct RowReads<'m> {
    model_qualified: &'m str,
    model: &'m crate::project::Model,
    loaded: &'m [String],
    seen: Vec<crate::project::FnRef>,
}

/// The lazy relationship of the row that `target` reads when handed it
/// as `param` (`how`), itself or through the project functions it hands
/// it on to (three deep): (function, parameter or local, relationship).
fn param_relation_read(
    cx: &Cx<'_, '_>,
    wanted: &mut RowReads<'_>,
    target: crate::project::FnRef,
    param: &str,
    how: Handed,
) -> Option<(String, String, String)> {
    let index = &cx.facts.project.index;
    let function = index.function(target);
    let module = index.module(target);
    let body = &function.body;
    // The names the row goes by in the function: the parameter, or the
    // locals its key loads (`application = self.get_application(key)`,
    // `session.get(Application, key)`).
    let mut names: Vec<&str> = Vec::new();
    if how == Handed::Row {
        names.push(param);
    } else {
        weir_ir::visit::walk_stmts(body, &mut |stmt| {
            let Some((targets, value)) = stmt.plain_assign() else {
                return;
            };
            let [target_expr] = targets else { return };
            let (Some(local), Some(load)) = (target_expr.as_name(), value.unawaited().as_call())
            else {
                return;
            };
            if loads_by_key(cx, module, function, load, param, wanted.model_qualified) {
                names.push(local);
            }
        });
    }
    if names.is_empty() {
        return None;
    }
    let others: Vec<&str> = function
        .params
        .iter()
        .map(|p| p.name.as_str())
        .filter(|n| *n != param && *n != "self" && *n != "cls")
        .collect();
    let mentions_other = |e: &weir_ir::Expr| {
        let mut found = false;
        weir_ir::visit::walk_expr(e, &mut |n| {
            found |= n.as_name().is_some_and(|n| others.contains(&n));
        });
        found
    };
    let mut stored: Vec<weir_ir::Span> = Vec::new();
    weir_ir::visit::walk_stmts(body, &mut |stmt| {
        if let weir_ir::StmtKind::Assign {
            targets, op: None, ..
        } = &stmt.kind
        {
            stored.extend(targets.iter().map(|t| t.span));
        }
    });
    let mut reads: Vec<(&str, &str)> = Vec::new();
    let mut onward: Vec<&weir_ir::Call> = Vec::new();
    walk_unconditional(body, &mentions_other, &mut |e| {
        if let weir_ir::ExprKind::Attribute { value, attr } = &e.kind
            && let Some(name) = value.as_name().filter(|n| names.contains(n))
            && !stored.contains(&e.span)
        {
            reads.push((name, attr));
        }
        if let Some(call) = e.as_call() {
            onward.push(call);
        }
    });
    let model = wanted.model;
    let found = reads.iter().find(|(_, attr)| {
        !wanted.loaded.iter().any(|l| l == attr)
            && model.relationships.get(*attr).is_some_and(|r| {
                r.loading == crate::project::Loading::Lazy
                    && !(r.many && model.orm == crate::project::Orm::Django)
            })
    });
    if let Some((name, attr)) = found {
        return Some((
            function.qualname.clone(),
            (*name).to_string(),
            (*attr).to_string(),
        ));
    }
    if wanted.seen.len() >= 3 {
        return None;
    }
    for call in onward {
        for name in &names {
            let Some(next) = resolve_in(index, module, function, call) else {
                continue;
            };
            if wanted.seen.contains(&next) {
                continue;
            }
            let next_function = index.function(next);
            let Some((next_param, next_how)) = call_params(next_function, call)
                .find_map(|(p, arg)| handed(arg, name).map(|h| (p, h)))
            else {
                continue;
            };
            wanted.seen.push(next);
            if let Some(found) = param_relation_read(cx, wanted, next, next_param, next_how) {
                return Some(found);
            }
        }
    }
    None
}

/// `load` loads the row of `model` whose key is `param`: `session.get(Model,
/// param)`, or a project function whose only reads are such a get by the
/// parameter `load` hands `param` to.
fn loads_by_key(
    cx: &Cx<'_, '_>,
    module: &weir_ir::Module,
    function: &weir_ir::Function,
    load: &weir_ir::Call,
    param: &str,
    model: &str,
) -> bool {
    if matches!(load.method_name(), Some("get" | "get_one")) {
        return load.positional(1).and_then(weir_ir::Expr::as_name) == Some(param)
            && load
                .positional(0)
                .and_then(|m| module.resolve_expr(m))
                .and_then(|q| cx.facts.project.index.canonical_class(&q))
                .is_some_and(|q| q == model);
    }
    let Some(target) = resolve_in(&cx.facts.project.index, module, function, load) else {
        return false;
    };
    cx.summaries
        .get(target)
        .and_then(|summary| summary.identity_reads.key_arg(load))
        .is_some_and(|(arg, got)| got == model && arg.as_name() == Some(param))
}

/// A project function called with the loop's row (`notify_owner(publisher)`,
/// `self.decline(application.id)` that loads it back with `Session.get`)
/// that reads a lazy relationship of it the query did not load
/// (`publisher.added_by`): one load per row. Model methods called on the
/// row are `method_relation_reads`'; a function already reported for its
/// own queries is not reported again.
fn helper_relation_reads(
    cx: &Cx<'_, '_>,
    lp: &crate::facts::LoopRef<'_>,
) -> Vec<(weir_ir::Span, String, (u32, String))> {
    let mut out = Vec::new();
    let Some(PerRow {
        rows,
        var,
        model,
        loaded,
    }) = per_row(cx, lp)
    else {
        return out;
    };
    let index = &cx.facts.project.index;
    for call in &cx.facts.calls {
        let (Some(c), Some(target)) = (call.call, call.target) else {
            continue;
        };
        if call.effect.is_some()
            || c.receiver().and_then(weir_ir::Expr::as_name) == Some(var)
            || helper_call_loop(cx, call).is_none_or(|l| l.span != lp.span)
        {
            continue;
        }
        let reported = cx
            .summaries
            .of_call(call)
            .is_some_and(|s| s.uncached_reads_at(call).is_some())
            && !gets_held_row(cx, call, lp);
        if reported {
            continue;
        }
        let function = index.function(target);
        let Some((param, how)) =
            call_params(function, c).find_map(|(p, arg)| handed(arg, var).map(|h| (p, h)))
        else {
            continue;
        };
        let mut wanted = RowReads {
            model_qualified: &rows.model,
            model,
            loaded: &loaded,
            seen: vec![target],
        };
        let Some((reader, name, relation)) =
            param_relation_read(cx, &mut wanted, target, param, how)
        else {
            continue;
        };
        out.push((
            call.site.span,
            format!(
                "{} lazily loads `{relation}` of `{}` on every row of the {}: `{reader}` reads `{name}.{relation}`",
                call_text(call),
                model.name,
                describe_loop(lp)
            ),
            (
                lp.span.line,
                format!("`{}` rows queried without loading `{relation}`", model.name),
            ),
        ));
    }
    out
}

/// `UserOut.model_validate(user)` (pydantic 2, also `from_orm`, pydantic
/// 1's, and SQLModel's) on the rows of a query: the schema reads each of
/// its fields from the row's attributes (`from_attributes`), so a field
/// named as a lazy relationship of the model (`posts: list[PostOut]`)
/// loads it once per row. (span, message, (line, label)), once per call.
fn schema_reads(
    cx: &Cx<'_, '_>,
    lp: &crate::facts::LoopRef<'_>,
) -> Vec<(weir_ir::Span, String, (u32, String))> {
    const FROM_ATTRIBUTES: &[&str] = &["model_validate", "from_orm"];
    let mut out = Vec::new();
    let (Some(rows), Some(var)) = (&lp.rows, lp.target_name()) else {
        return out;
    };
    if !lp.is_per_item() {
        return out;
    }
    let Some(model) = cx.facts.project.models.get(&rows.model) else {
        return out;
    };
    let index = &cx.facts.project.index;
    let mut check = |e: &weir_ir::Expr| {
        let Some(call) = e.as_call() else { return };
        if !call
            .method_name()
            .is_some_and(|m| FROM_ATTRIBUTES.contains(&m))
            || call.positional(0).and_then(weir_ir::Expr::as_name) != Some(var)
        {
            return;
        }
        let Some(schema) = call
            .receiver()
            .and_then(|r| cx.facts.module.resolve_expr(r))
            .and_then(|q| index.canonical_class(&q))
        else {
            return;
        };
        if !is_schema_class(index, &schema) {
            return;
        }
        let loaded = unloaded_fields(&index.annotated_fields(&schema), model, &rows.eager);
        if loaded.is_empty() || out.iter().any(|(s, _, _)| *s == e.span) {
            return;
        }
        let name = schema.rsplit('.').next().unwrap_or(&schema);
        let fields: Vec<String> = loaded.iter().map(|f| format!("`{f}`")).collect();
        out.push((
            e.span,
            format!(
                "`{name}.{}({var})` reads {} of each `{}` row, which the query does not load: one query per row of the {}",
                call.method_name().unwrap_or_default(),
                fields.join(", "),
                model.name,
                describe_loop(lp)
            ),
            (
                lp.span.line,
                format!("`{}` rows queried without loading `{}`", model.name, loaded[0]),
            ),
        ));
    };
    for e in lp.element.iter().copied().chain(lp.conditions) {
        weir_ir::visit::walk_expr(e, &mut check);
    }
    weir_ir::visit::walk_block_exprs(lp.body, &mut check);
    out
}

/// A lazy relationship of `model` that `function` (a method of `class`)
/// loads by reading it on `self` unconditionally, or through a method it calls on
/// `self` (at most three deep; `seen` collects the methods visited).
/// Reads under a test of one of its parameters
/// (`if include_tags: … self.tags`) depend on the caller and are left out,
/// as are the relationships the rows load (`eager`) and a to-one
/// relationship the method only assigns (`self.owner = user`).
fn self_relation_read(
    cx: &Cx<'_, '_>,
    class: &str,
    model: &crate::project::Model,
    eager: &[String],
    target: crate::project::FnRef,
    seen: &mut Vec<crate::project::FnRef>,
) -> Option<String> {
    let index = &cx.facts.project.index;
    let function = index.function(target);
    if !function.is_instance_method() {
        return None;
    }
    let mut params = function.params.iter().map(|p| p.name.as_str());
    let this = params.next()?;
    let params: Vec<&str> = params.collect();
    let mentions_param = |e: &weir_ir::Expr| {
        let mut found = false;
        weir_ir::visit::walk_expr(e, &mut |n| {
            found |= n.as_name().is_some_and(|n| params.contains(&n));
        });
        found
    };
    let mut stored: Vec<weir_ir::Span> = Vec::new();
    weir_ir::visit::walk_stmts(&function.body, &mut |stmt| {
        if let weir_ir::StmtKind::Assign {
            targets, op: None, ..
        } = &stmt.kind
        {
            stored.extend(targets.iter().map(|t| t.span));
        }
    });
    let mut reads: Vec<&str> = Vec::new();
    let mut calls: Vec<&str> = Vec::new();
    walk_unconditional(&function.body, &mentions_param, &mut |e| {
        if let weir_ir::ExprKind::Attribute { value, attr } = &e.kind
            && value.as_name() == Some(this)
            && !stored.contains(&e.span)
        {
            reads.push(attr);
        }
        if let Some(call) = e.as_call()
            && let weir_ir::ExprKind::Attribute { value, attr } = &call.callee.kind
            && value.as_name() == Some(this)
        {
            calls.push(attr);
        }
    });
    // A Django to-many relation is a manager: reading it runs nothing,
    // and what the method does with it (`self.tags.filter(…)`, `.add(…)`)
    // is in its summary.
    let found = reads.iter().find(|attr| {
        !eager.iter().any(|e| e == **attr)
            && model.relationships.get(**attr).is_some_and(|r| {
                r.loading == crate::project::Loading::Lazy
                    && !(r.many && model.orm == crate::project::Orm::Django)
            })
    });
    if let Some(attr) = found {
        return Some((*attr).to_string());
    }
    if seen.len() >= 3 {
        return None;
    }
    for name in calls {
        let Some(callee) = index.method(class, name) else {
            continue;
        };
        if seen.contains(&callee) {
            continue;
        }
        seen.push(callee);
        if let Some(found) = self_relation_read(cx, class, model, eager, callee, seen) {
            return Some(found);
        }
    }
    None
}

/// Walks the statements and expressions of `block` that run whatever the
/// function's arguments: the branches of an `if` (or of a conditional
/// expression) whose test mentions a parameter are skipped, and so are
/// `except` handlers and `raise` statements (the error path). Nested
/// functions and lambdas are not entered: they run when called.
fn walk_unconditional<'a>(
    block: &'a [weir_ir::Stmt],
    conditional: &dyn Fn(&weir_ir::Expr) -> bool,
    on_expr: &mut dyn FnMut(&'a weir_ir::Expr),
) {
    fn expr<'a>(
        e: &'a weir_ir::Expr,
        conditional: &dyn Fn(&weir_ir::Expr) -> bool,
        on_expr: &mut dyn FnMut(&'a weir_ir::Expr),
    ) {
        match &e.kind {
            weir_ir::ExprKind::Conditional { test, .. } if conditional(test) => {
                expr(test, conditional, on_expr);
            }
            weir_ir::ExprKind::Lambda { .. } => {}
            _ => {
                on_expr(e);
                weir_ir::visit::child_exprs(e, &mut |c| expr(c, conditional, on_expr));
            }
        }
    }
    for stmt in block {
        // The message of an error being raised is built on the error path.
        if matches!(stmt.kind, weir_ir::StmtKind::Raise { .. }) {
            continue;
        }
        weir_ir::visit::stmt_exprs(stmt, &mut |e| expr(e, conditional, on_expr));
        match &stmt.kind {
            weir_ir::StmtKind::If { test, .. } if conditional(test) => {}
            weir_ir::StmtKind::FunctionDef { .. } | weir_ir::StmtKind::ClassDef { .. } => {}
            // `except` handlers run on the error path only.
            weir_ir::StmtKind::Try {
                body,
                orelse,
                finally,
                ..
            } => {
                for b in [body, orelse, finally] {
                    walk_unconditional(b, conditional, on_expr);
                }
            }
            _ => weir_ir::visit::each_child_block(stmt, &mut |b| {
                walk_unconditional(b, conditional, on_expr);
            }),
        }
    }
}

/// The `var.attr` reads of a loop's row variable (in its conditions, its
/// element and its body): `read` is called on each until it counts one
/// read of that attribute (returns true).
fn row_attribute_reads(
    lp: &crate::facts::LoopRef<'_>,
    var: &str,
    mut read: impl FnMut(&weir_ir::Expr, &str) -> bool,
) {
    let mut counted: Vec<String> = Vec::new();
    let mut check = |e: &weir_ir::Expr| {
        let weir_ir::ExprKind::Attribute { value, attr } = &e.kind else {
            return;
        };
        if value.as_name() == Some(var) && !counted.iter().any(|c| c == attr) && read(e, attr) {
            counted.push(attr.to_string());
        }
    };
    for e in lp.conditions.iter().chain(lp.element) {
        weir_ir::visit::walk_expr(e, &mut check);
    }
    weir_ir::visit::walk_block_exprs(lp.body, &mut check);
}

/// Methods of a Django related manager (or of a queryset built from it)
/// that write rows: they never read the collection a prefetch would hold.
/// Per-item writes are QE-02's and QE-05's business.
const RELATED_MANAGER_WRITES: &[&str] = &[
    "add",
    "remove",
    "set",
    "clear",
    "create",
    "get_or_create",
    "update_or_create",
    "bulk_create",
    "bulk_update",
    "update",
    "delete",
];

/// `row.checks` in `row.checks.filter(…).exclude(…)`: the manager a
/// method chain starts from.
pub(crate) fn manager_of_chain(expr: &weir_ir::Expr) -> &weir_ir::Expr {
    let mut current = expr;
    while let Some(call) = current.as_call()
        && let weir_ir::ExprKind::Attribute { value, .. } = &call.callee.kind
    {
        current = value;
    }
    current
}
