use crate::declare_rule;
use crate::facts::{ExecContext, FunctionFacts};
use crate::knowledge::{Effect, ObjKind, QueryOp};
use crate::project::Orm;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::{
    call_text, calls_through, describe_loop, is_django, per_item_loop, through, with_path,
};
use weir_ir::ExprKind;
use weir_ir::expr::CollectionKind;

declare_rule! {
    /// ## What it does
    /// Finds rows added, deleted or inserted one at a time in a loop:
    /// `session.add(x)` / `session.delete(x)`, Django `Model.objects.create(...)`,
    /// or an `INSERT` statement per item.
    ///
    /// ## Why is this bad
    /// Each item becomes its own INSERT (or DELETE) at flush time, or its own
    /// round trip for `objects.create`. Bulk APIs send the same rows in one
    /// statement or a few batches.
    ///
    /// ## Example
    /// ```python
    /// from sqlalchemy.orm import Session
    ///
    /// def import_rows(session: Session, rows):
    ///     for row in rows:
    ///         session.add(Product(sku=row["sku"], name=row["name"]))
    ///     session.commit()
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from sqlalchemy.orm import Session
    ///
    /// def import_rows(session: Session, rows):
    ///     session.add_all([Product(sku=r["sku"], name=r["name"]) for r in rows])
    ///     session.commit()
    /// ```
    /// Or `session.execute(insert(Product), rows)`; Django `bulk_create()`.
    ///
    /// ## Known limitations
    /// A DB-API cursor's `execute(sql, params)` inserts the one row of its
    /// parameters (only `executemany` sends many); an `execute(stmt, rows)`
    /// of a SQLAlchemy connection or session is taken as bulk unless its
    /// parameters are a tuple or dict written in place.
    /// Helpers that add rows are not followed yet. Django `row.save()` is an
    /// INSERT here when forced (`force_insert=True`) or after `row.pk =
    /// None` (copying rows). `Model.objects.create()`, or such a copy,
    /// for a project model that overrides `save()`, or whose
    /// `pre_save`/`post_save` a project receiver listens to, is not reported:
    /// `bulk_create()` skips that method and the `pre_save`/`post_save`
    /// signals (except in a migration, whose historical models have no
    /// custom methods).
    pub struct MissingBulkOperation;
    id: "QE-05",
    name: "missing-bulk-operation",
    category: Category::QueryEfficiency,
    summary: "rows added, deleted or inserted one per loop item instead of in bulk",
    severity: Severity::Medium,
    job: None,
    init: None,
    effort: Effort::S,
    languages: PYTHON,
    sources: &[
        Source { title: "SQLAlchemy: ORM Bulk INSERT Statements", url: "https://docs.sqlalchemy.org/en/20/orm/queryguide/dml.html#orm-bulk-insert-statements", pack: Some("sqlalchemy") },
        Source { title: "Django: bulk_create", url: "https://docs.djangoproject.com/en/stable/ref/models/querysets/#bulk-create", pack: Some("django") },
    ],
}

/// `Model.objects.create(...)` for a project model that overrides `save()`
/// (itself or through a project base or mixin): `bulk_create()` does not
/// call it (nor send `pre_save`/`post_save`), so one `create()` per item is
/// how the model's own logic runs. Not in a migration, whose historical
/// models have no custom methods.
fn creates_through_custom_save(facts: &Cx<'_, '_>, call: &crate::facts::CallFact<'_>) -> bool {
    if facts.context == ExecContext::Migration {
        return false;
    }
    let Some(c) = call.call else {
        return false;
    };
    if !matches!(c.method_name(), Some("create" | "acreate")) {
        return false;
    }
    let Some(ExprKind::Attribute { value, attr }) = c.receiver().map(|r| &r.kind) else {
        return false;
    };
    if attr != "objects" && attr != "_default_manager" {
        return false;
    }
    let Some(qualified) = facts.module.resolve_expr(value).or_else(|| value.dotted()) else {
        return false;
    };
    facts.project.models.get(&qualified).is_some_and(|m| {
        m.orm == Orm::Django && facts.project.writes_run_model_logic(&m.class, "save")
    })
}

/// `row.pk = None; row.save()` (or `save(force_insert=True)`) copying the
/// rows of a project model that overrides `save()` or has save-signal
/// receivers: `bulk_create()` would skip that logic. Not in a migration.
fn copies_through_custom_save(
    facts: &Cx<'_, '_>,
    call: &crate::facts::CallFact<'_>,
    lp: &crate::facts::LoopRef<'_>,
) -> bool {
    facts.context != ExecContext::Migration
        && call
            .call
            .is_some_and(|c| matches!(c.method_name(), Some("save" | "asave")))
        && crate::rules::loop_item_model(facts, call, lp).is_some_and(|m| {
            m.orm == Orm::Django && facts.project.writes_run_model_logic(&m.class, "save")
        })
}

/// `execute(insert(T), rows)` and `insert(T).values(rows)` send many rows,
/// also when the statement was refined afterwards (`stmt =
/// stmt.on_conflict_do_nothing()`). A DB-API cursor's `execute(sql,
/// params)` (and asyncpg's `execute(sql, *args)`) takes the parameters of
/// one row, as does a tuple or dict written in place (`conn.execute(sql,
/// {"id": 1})`): only `executemany` sends many.
fn is_already_bulk(call: &crate::facts::CallFact<'_>) -> bool {
    let Some(c) = call.call else { return false };
    let one_row_params = call.receiver_kind.is_some_and(|t| {
        matches!(
            t.kind,
            ObjKind::Cursor | ObjKind::AsyncPool | ObjKind::AsyncConnection
        )
    });
    if c.positional(1).is_some_and(|params| {
        !one_row_params
            && !matches!(
                params.kind,
                ExprKind::Dict { .. }
                    | ExprKind::Collection {
                        kind: CollectionKind::Tuple,
                        ..
                    }
            )
    }) {
        return true;
    }
    let mut multi_row = false;
    for statement in [call.statement, call.statement_base].into_iter().flatten() {
        weir_ir::visit::walk_expr(statement, &mut |e| {
            if let Some(v) = e.as_call().filter(|v| v.method_name() == Some("values"))
                && v.positional(0)
                    .is_some_and(|a| !matches!(a.kind, weir_ir::ExprKind::Dict { .. }))
            {
                multi_row = true;
            }
        });
    }
    multi_row
}

/// `session.add(job)` of the loop's own item: the object came from the
/// database and is already in the session; no INSERT is issued.
fn re_adds_loop_item(facts: &FunctionFacts<'_>, call: &crate::facts::CallFact<'_>) -> bool {
    if call.effect != Some(Effect::Stage(QueryOp::Insert)) {
        return false;
    }
    crate::rules::passes_persistent_loop_item(facts, call)
}

impl Rule for MissingBulkOperation {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        for call in facts.calls_with(|e| {
            matches!(
                e,
                Effect::Stage(_) | Effect::Query(QueryOp::Insert | QueryOp::FromArgument)
            )
        }) {
            let is_staged = matches!(call.effect, Some(Effect::Stage(_)));
            if (!is_staged && call.op != Some(QueryOp::Insert)) || call.site.in_lambda {
                continue;
            }
            if call
                .call
                .and_then(|c| c.method_name())
                .is_some_and(|m| m.starts_with("executemany") || m.starts_with("copy_"))
            {
                continue;
            }
            if is_already_bulk(call) || re_adds_loop_item(facts, call) {
                continue;
            }
            let Some(lp) = per_item_loop(facts, call) else {
                continue;
            };
            if creates_through_custom_save(facts, call)
                || copies_through_custom_save(facts, call, lp)
            {
                continue;
            }
            let what = match (call.effect, call.op) {
                (Some(Effect::Stage(QueryOp::Delete)), _) => "deletes one row",
                (Some(Effect::Stage(_)), _) => "adds one row",
                _ => "inserts one row",
            };
            let help = if is_django(call) {
                "Build the objects in a list and save them with one `bulk_create()` call."
            } else if matches!(call.effect, Some(Effect::Stage(QueryOp::Delete))) {
                "Delete the rows with one statement: `delete(M).where(M.id.in_(ids))`."
            } else {
                "Build the objects first and stage them with one `session.add_all([...])`, or insert with `session.execute(insert(M), rows)`."
            };
            out.push(
                finding(&Self::META, facts, call.site.span, format!("{} {what} per item of the {}", call_text(call), describe_loop(lp)))
                    .why("One INSERT/DELETE per item where a bulk operation sends the rows in one statement or a few batches.")
                    .help(help)
                    .evidence(&facts.module.path, lp.span.line, describe_loop(lp)),
            );
        }
        for (call, witness) in calls_through(facts, |s| {
            s.stages
                .as_ref()
                .filter(|w| w.len() <= crate::rules::MAX_WRITE_DEPTH)
        }) {
            if call.effect.is_some() {
                continue;
            }
            let Some(lp) = per_item_loop(facts, call) else {
                continue;
            };
            if !crate::rules::is_item_work(facts, call, lp) {
                continue;
            }
            let f = finding(&Self::META, facts, call.site.span, format!("{} writes one row per item of the {}{}", call_text(call), describe_loop(lp), through(witness)))
                .why("One INSERT/DELETE per item where a bulk operation sends the rows in one statement or a few batches.")
                .help("Give the helper a bulk form (`add_all`, `insert(M)` with a list of rows, `bulk_create`) and call it once with all items.")
                .evidence(&facts.module.path, lp.span.line, describe_loop(lp));
            out.push(with_path(f, witness));
        }
    }
}
