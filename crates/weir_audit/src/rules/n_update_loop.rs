use crate::declare_rule;
use crate::facts::ExecContext;
use crate::facts::{CallFact, LoopRef};
use crate::knowledge::{Effect, QueryOp};
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::{
    call_text, describe_loop, is_django, literal_loop, per_item_loop, through, with_path,
};

declare_rule! {
    /// ## What it does
    /// Finds UPDATE or DELETE statements executed once per item of a loop:
    /// `session.execute(update(M).where(M.id == x))`, a legacy
    /// `session.query(M).filter(...).update(...)`, Django
    /// `Model.objects.filter(...).update(...)`, raw `UPDATE`/`DELETE` SQL.
    ///
    /// ## Why is this bad
    /// N statements where one set-based statement does the same work: N
    /// round trips, N index lookups, N row locks taken one at a time.
    ///
    /// ## Example
    /// ```python
    /// from sqlalchemy import update
    /// from sqlalchemy.orm import Session
    ///
    /// def cancel(session: Session, ids):
    ///     for job_id in ids:
    ///         session.execute(update(Job).where(Job.id == job_id).values(status="cancelled"))
    ///     session.commit()
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from sqlalchemy import update
    /// from sqlalchemy.orm import Session
    ///
    /// def cancel(session: Session, ids):
    ///     session.execute(update(Job).where(Job.id.in_(ids)).values(status="cancelled"))
    ///     session.commit()
    /// ```
    ///
    /// ## Known limitations
    /// Django `instance.save()`/`delete()` per item is reported for rows of a
    /// queryset or a related manager only: items of other iterables may be new
    /// objects (an INSERT) or models with their own `save()` logic. Rows of
    /// a project model that overrides `save()`/`delete()` (itself, or through
    /// a project base or mixin, or a library base with hooks of its own such
    /// as django-lifecycle's), or whose `pre_save`/`post_save` a project
    /// receiver listens to, are not reported either: `QuerySet.update()`
    /// and `QuerySet.delete()` skip that method (and `update()` the save
    /// signals), and Django's documentation
    /// says to call it per instance (except in a migration, whose historical
    /// models have no custom methods). A `save(force_insert=True)`, or a
    /// save after the loop cleared the row's key (`row.pk = None`, Django's
    /// way to copy an instance), INSERTs a new row: QE-05 weighs it. Writes
    /// through helpers are reported when the helper runs the statement itself
    /// and receives the loop item, outside a per-item `try`. A write through
    /// a Django related manager of the loop's rows (`for task in
    /// Task.objects.filter(…): task.annotations.update(…)`,
    /// `order.lines.filter(…).delete()`) is one QuerySet statement per row
    /// and is reported too.
    pub struct NUpdateLoop;
    id: "QE-02",
    name: "n-update-loop",
    category: Category::QueryEfficiency,
    summary: "N-UPDATE/N-DELETE: one UPDATE or DELETE per loop item instead of one set-based statement",
    severity: Severity::High,
    job: None,
    init: None,
    effort: Effort::S,
    languages: PYTHON,
    sources: &[
        Source { title: "SQLAlchemy: ORM-Enabled INSERT, UPDATE, and DELETE statements", url: "https://docs.sqlalchemy.org/en/20/orm/queryguide/dml.html", pack: Some("sqlalchemy") },
        Source { title: "Django: Updating multiple objects at once", url: "https://docs.djangoproject.com/en/stable/topics/db/queries/#updating-multiple-objects-at-once", pack: Some("django") },
    ],
}

impl Rule for NUpdateLoop {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        for call in facts.calls_with(|e| matches!(e, Effect::Query(_))) {
            let verb = match call.op {
                Some(QueryOp::Update) => "UPDATE",
                Some(QueryOp::Delete) => "DELETE",
                _ => continue,
            };
            if call.site.in_lambda || call.call.and_then(|c| c.method_name()) == Some("executemany")
            {
                continue;
            }
            let (lp, small) = match per_item_loop(facts, call) {
                Some(lp) => (lp, false),
                None => match literal_loop(facts, call) {
                    Some(lp) => (lp, true),
                    None => continue,
                },
            };
            if runs_model_override(facts, call, lp) {
                continue;
            }
            let mut f = finding(&Self::META, facts, call.site.span, format!("{} issues one {verb} per item of the {}", call_text(call), describe_loop(lp)))
                .why("One statement per row: N round trips and N lock acquisitions where one set-based statement would do.")
                .help(if is_django(call) {
                    "Use one `QuerySet.update(...)`/`.delete()` over `filter(pk__in=ids)`, or `bulk_update()`."
                } else {
                    "Use one set-based statement: `update(M).where(M.id.in_(ids)).values(...)` / `delete(M).where(M.id.in_(ids))`."
                })
                .evidence(&facts.module.path, lp.span.line, describe_loop(lp));
            if small && f.severity == Severity::High {
                f = f.severity(Severity::Medium);
            }
            out.push(in_migration(facts, f));
        }
        for (call, (op, witness)) in facts.calls.iter().filter_map(|c| {
            let s = facts.summaries.of_call(c)?;
            s.writes
                .as_ref()
                .filter(|(_, w)| w.len() <= crate::rules::MAX_WRITE_DEPTH)
                .map(|w| (c, w))
        }) {
            if call.effect.is_some() || call.site.in_lambda || call.site.offloaded {
                continue;
            }
            let Some(lp) = per_item_loop(facts, call) else {
                continue;
            };
            if !crate::rules::is_item_work(facts, call, lp) {
                continue;
            }
            let verb = if *op == QueryOp::Update {
                "UPDATE"
            } else {
                "DELETE"
            };
            let f = finding(&Self::META, facts, call.site.span, format!("{} issues one {verb} per item of the {}{}", call_text(call), describe_loop(lp), through(witness)))
                .why("One statement per row: N round trips and N lock acquisitions where one set-based statement would do.")
                .help("Give the helper a set-based form that takes all ids (`update(M).where(M.id.in_(ids))`, `QuerySet.update()`) and call it once.")
                .evidence(&facts.module.path, lp.span.line, describe_loop(lp));
            out.push(in_migration(facts, with_path(f, witness)));
        }
        for lp in &facts.loops {
            for (call, verb, rel) in related_manager_writes(facts, lp) {
                let f = finding(&Self::META, facts, call.span, format!("`{}` issues one {verb} per item of the {}", crate::facts::callee_text(call), describe_loop(lp)))
                    .why("One statement per row: N round trips and N lock acquisitions where one set-based statement would do.")
                    .help("Use one `QuerySet.update(...)`/`.delete()` on the related model over all the rows (`filter(<fk>__in=rows)`), or `bulk_update()`.")
                    .evidence(&facts.module.path, lp.span.line, describe_loop(lp))
                    .evidence(&facts.module.path, call.span.line, format!("`{rel}` is a related manager of the loop's rows"));
                out.push(in_migration(facts, f));
            }
        }
    }
}

/// `task.annotations.update(task_id=first)`, `order.lines.filter(…).delete()`
/// on the rows of a Django query in the loop (`for task in
/// Task.objects.filter(…)`), with `annotations` a to-many relation of the
/// model: a QuerySet `update()`/`delete()` of the related model per row,
/// which the call facts do not see as a query (a loop variable is not a
/// fetched row). Returns (call, verb, `row.relation`).
fn related_manager_writes<'a>(
    facts: &Cx<'a, '_>,
    lp: &LoopRef<'a>,
) -> Vec<(&'a weir_ir::Expr, &'static str, String)> {
    let mut out = Vec::new();
    let (Some(rows), Some(var)) = (&lp.rows, lp.target_name()) else {
        return out;
    };
    if !lp.is_per_item() || lp.is_comprehension {
        return out;
    }
    let Some(model) = facts.facts.project.models.get(&rows.model) else {
        return out;
    };
    if model.orm != crate::project::Orm::Django {
        return out;
    }
    weir_ir::visit::walk_block_exprs(lp.body, &mut |e| {
        let Some(call) = e.as_call() else {
            return;
        };
        let verb = match call.method_name() {
            Some("update") if !call.args.is_empty() => "UPDATE",
            Some("delete") if call.args.is_empty() => "DELETE",
            _ => return,
        };
        let Some(receiver) = call.receiver() else {
            return;
        };
        // Only QuerySet methods between the manager and the write.
        let mut current = receiver;
        while let Some(inner) = current.as_call() {
            if !matches!(inner.method_name(), Some("filter" | "exclude" | "all")) {
                return;
            }
            let Some(next) = inner.receiver() else {
                return;
            };
            current = next;
        }
        // A write the call facts already know as a query is reported above.
        if facts
            .calls
            .iter()
            .any(|c| c.expr.span == e.span && matches!(c.effect, Some(Effect::Query(_))))
        {
            return;
        }
        let manager = crate::rules::query_in_loop::manager_of_chain(receiver);
        if let weir_ir::ExprKind::Attribute { value, attr } = &manager.kind
            && value.as_name() == Some(var)
            && model
                .relationships
                .get(attr.as_str())
                .is_some_and(|rel| rel.many)
        {
            out.push((e, verb, format!("{var}.{attr}")));
        }
    });
    out
}

/// `row.save()`/`row.delete()` on the rows of a project model that
/// overrides that method (itself or through a project base or mixin).
/// `QuerySet.update()`/`bulk_update()` and `QuerySet.delete()` do not call
/// it, and Django's documentation says to loop and call `save()` for a
/// model with a custom `save()`, and to delete instances one by one to run
/// a custom `delete()`: the loop is the way to keep that logic. (Not in
/// a migration: its historical models, `apps.get_model(...)`, have none of
/// the model's custom methods.)
fn runs_model_override(facts: &Cx<'_, '_>, call: &CallFact<'_>, lp: &LoopRef<'_>) -> bool {
    let Some(c) = call.call else {
        return false;
    };
    if facts.context == ExecContext::Migration {
        return false;
    }
    let method = match c.method_name() {
        Some("save" | "asave") => "save",
        Some("delete" | "adelete") => "delete",
        _ => return false,
    };
    crate::rules::loop_item_model(facts, call, lp)
        .is_some_and(|m| facts.project.writes_run_model_logic(&m.class, method))
}

/// A data migration runs once per database, not per request: LOW (SPEC §2).
fn in_migration(facts: &Cx<'_, '_>, f: Finding) -> Finding {
    if facts.context == ExecContext::Migration {
        f.severity(Severity::Low)
    } else {
        f
    }
}
