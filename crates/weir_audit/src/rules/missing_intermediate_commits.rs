use weir_ir::Span;

use crate::context::Trigger;
use crate::declare_rule;
use crate::facts::regions::{TxRegion, attribute_writes, loops_around};
use crate::knowledge::{Effect, QueryOp};
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::describe_loop;
use crate::rules::tx_common::{model_of_local, updated_table};

declare_rule! {
    /// ## What it does
    /// Finds rows of a table with an `UPDATE` trigger (read from the
    /// migrations) updated once per iteration of a loop, all inside one
    /// transaction that is committed only after the loop: ORM attribute
    /// assignments (`job.progress = …` on an instance of the model mapped
    /// to the table by `__tablename__` or Django's `db_table`), Core
    /// `update(table)`, raw `UPDATE table`, Django `save()`/`update()`.
    /// A `BEFORE` trigger that sends no `NOTIFY` is left out: it checks or
    /// rewrites the row being written, which others see at the same commit.
    ///
    /// ## Why is this bad
    /// PostgreSQL delivers `NOTIFY` only when the transaction commits, and
    /// a trigger's derived data is invisible to others until then. A
    /// progress bar fed by the trigger (SSE, WebSocket, a `LISTEN` worker)
    /// sits at 0 % and jumps to 100 % at the end; every intermediate update
    /// is lost. CRITICAL when a subscriber of the channel is in the code
    /// base, HIGH for a notifying trigger nobody here listens to or a
    /// trigger that maintains derived data, MEDIUM when the loop is inside
    /// an explicit atomic block (`with session.begin():`, `atomic()`),
    /// where one unit of work is the stated design.
    ///
    /// ## Example
    /// ```python
    /// # file: alembic/versions/0001_jobs.py
    /// from alembic import op
    ///
    /// def upgrade():
    ///     op.execute("CREATE FUNCTION notify_progress() RETURNS trigger AS $$ BEGIN PERFORM pg_notify('job_progress', NEW.id::text); RETURN NEW; END; $$ LANGUAGE plpgsql")
    ///     op.execute("CREATE TRIGGER jobs_progress AFTER UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION notify_progress()")
    /// # file: app/models.py
    /// from sqlalchemy.orm import DeclarativeBase
    ///
    /// class Job(DeclarativeBase):
    ///     __tablename__ = "jobs"
    /// # file: app/worker.py
    /// from sqlalchemy.orm import Session
    /// from app.models import Job
    ///
    /// def run(session: Session, job: Job, chunks):
    ///     session.refresh(job)
    ///     for i, chunk in enumerate(chunks):
    ///         index(chunk)
    ///         job.progress = i * 100 // len(chunks)
    ///     session.commit()
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// # file: alembic/versions/0001_jobs.py
    /// from alembic import op
    ///
    /// def upgrade():
    ///     op.execute("CREATE FUNCTION notify_progress() RETURNS trigger AS $$ BEGIN PERFORM pg_notify('job_progress', NEW.id::text); RETURN NEW; END; $$ LANGUAGE plpgsql")
    ///     op.execute("CREATE TRIGGER jobs_progress AFTER UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION notify_progress()")
    /// # file: app/models.py
    /// from sqlalchemy.orm import DeclarativeBase
    ///
    /// class Job(DeclarativeBase):
    ///     __tablename__ = "jobs"
    /// # file: app/worker.py
    /// from sqlalchemy.orm import Session
    /// from app.models import Job
    ///
    /// def run(session: Session, job: Job, chunks):
    ///     session.refresh(job)
    ///     for i, chunk in enumerate(chunks):
    ///         index(chunk)
    ///         job.progress = i * 100 // len(chunks)
    ///         session.commit()
    /// ```
    /// Commit each progress update (or every N items) so it is delivered,
    /// or publish progress outside the transaction.
    ///
    /// ## Known limitations
    /// Needs the trigger in the project's migrations. Repeated updates in a
    /// straight sequence (no loop) are not reported yet; the delivering
    /// commit in a caller is named only as "the caller's commit".
    pub struct MissingIntermediateCommits;
    id: "TX-01",
    name: "missing-intermediate-commits",
    category: Category::TransactionCorrectness,
    summary: "updates to a table with a NOTIFY trigger delivered only at the final commit",
    severity: Severity::Critical,
    job: None,
    init: None,
    effort: Effort::S,
    languages: PYTHON,
    sources: &[
        Source { title: "PostgreSQL: NOTIFY", url: "https://www.postgresql.org/docs/current/sql-notify.html", pack: None },
        Source { title: "PostgreSQL: Overview of Trigger Behavior", url: "https://www.postgresql.org/docs/current/trigger-definition.html", pack: None },
    ],
}

struct Update {
    span: Span,
    table: String,
    text: String,
}

impl Rule for MissingIntermediateCommits {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        let context = &cx.project.context;
        if context.triggers.is_empty() || cx.loops.is_empty() {
            return;
        }
        let mut updates = Vec::new();
        for write in attribute_writes(cx) {
            if let Some(model) = model_of_local(cx, &write.var, write.span.start) {
                updates.push(Update {
                    span: write.span,
                    table: model.table.clone(),
                    text: format!("`{}.{} = …`", write.var, write.attr),
                });
            }
        }
        for call in &cx.calls {
            let is_update = call.op == Some(QueryOp::Update)
                || call.call.and_then(|c| c.method_name()) == Some("save");
            if is_update
                && !call.site.in_lambda
                && let Some(table) = updated_table(cx, call)
            {
                updates.push(Update {
                    span: call.site.span,
                    table,
                    text: call.text(),
                });
            }
        }
        updates.sort_by_key(|u| u.span.start);
        let regions = cx.regions(cx.summaries);
        let mut reported_loops = Vec::new();
        for update in &updates {
            let Some(trigger) = update_trigger(cx, &update.table) else {
                continue;
            };
            let Some(&outer) = loops_around(cx, update.span).first() else {
                continue;
            };
            let lp = &cx.loops[outer];
            if reported_loops.contains(&outer) || commits_within(cx, lp.span) {
                continue;
            }
            let region = regions.at(update.span);
            // A transaction block opened inside the loop commits per iteration.
            if region.is_some_and(|r| r.is_atomic_by_design() && lp.span.contains(&r.opened_at)) {
                continue;
            }
            let delivering = delivering_commit(cx, lp.span);
            let left_open = region.is_some_and(|r| r.left_open);
            if delivering.is_none() && !left_open && region.is_none_or(|r| !r.is_atomic_by_design())
            {
                continue;
            }
            reported_loops.push(outer);
            let subscriber = trigger
                .channels
                .iter()
                .find_map(|c| context.subscribers_of(c).next());
            let mut severity = match (trigger.notifies, subscriber) {
                (true, Some(_)) => Severity::Critical,
                _ => Severity::High,
            };
            let atomic = region.is_some_and(TxRegion::is_atomic_by_design);
            if atomic {
                severity = Severity::Medium;
            }
            if matches!(
                cx.context,
                crate::facts::ExecContext::Init
                    | crate::facts::ExecContext::Migration
                    | crate::facts::ExecContext::Test
            ) {
                severity = severity.down();
            }
            let what = if trigger.notifies {
                match &trigger.channel {
                    Some(channel) => format!("NOTIFY `{channel}`"),
                    None => "a NOTIFY".to_string(),
                }
            } else {
                format!("trigger function `{}`", trigger.function)
            };
            let mut f = finding(&Self::META, cx, update.span, format!(
                "{} updates `{}` once per iteration of the {}, but {what} (trigger `{}`) is delivered only when the transaction commits{}",
                update.text, update.table, describe_loop(lp), trigger.name,
                if atomic { " at the end of the atomic block" } else { " after the loop" }
            ))
            .severity(severity)
            .why(if trigger.notifies {
                "PostgreSQL queues NOTIFY until commit: listeners see no intermediate update, only the final state."
            } else {
                "The trigger's derived data stays invisible to other transactions until the final commit."
            })
            .help(if atomic {
                "If progress must be visible, update it in its own short transaction per step; otherwise document that the block is one unit of work."
            } else {
                "Commit after each update (or every N items), or publish progress outside this transaction."
            })
            .evidence(&trigger.file, trigger.line, format!("trigger `{}` {} {} ON {} → {}", trigger.name, trigger.timing, trigger.events.join("/"), trigger.table, what))
            .evidence(&cx.module.path, lp.span.line, describe_loop(lp));
            if let Some(s) = subscriber {
                f = f.evidence(
                    &s.file,
                    s.line,
                    format!(
                        "subscriber of `{}` ({})",
                        s.channel.as_deref().unwrap_or("?"),
                        s.technology
                    ),
                );
            }
            f = match delivering {
                Some(span) => f.evidence(
                    &cx.module.path,
                    span.line,
                    "the commit that finally delivers",
                ),
                None => f.evidence(
                    &cx.module.path,
                    cx.function.span.end_line,
                    "transaction left open for the caller to commit",
                ),
            };
            out.push(f);
        }
    }
}

/// A trigger firing on UPDATE of `table`, a notifying one first. A
/// `BEFORE` trigger that sends no NOTIFY checks or rewrites the row being
/// written (PostgreSQL: "row-level BEFORE triggers are used for checking or
/// modifying the data that will be inserted or updated", while AFTER
/// triggers propagate updates to other tables): its effect is the row
/// itself, which other transactions see at the same commit as the row, so
/// it maintains no derived data that an intermediate commit would publish.
/// <https://www.postgresql.org/docs/current/trigger-definition.html>
fn update_trigger<'a>(cx: &'a Cx<'_, '_>, table: &str) -> Option<&'a Trigger> {
    let strip = |t: &str| t.strip_prefix("public.").unwrap_or(t).to_ascii_lowercase();
    let mut found: Vec<&Trigger> = cx
        .project
        .context
        .triggers
        .iter()
        .filter(|t| strip(&t.table) == strip(table))
        .filter(|t| t.events.iter().any(|e| e.eq_ignore_ascii_case("UPDATE")))
        .filter(|t| t.notifies || !t.timing.eq_ignore_ascii_case("BEFORE"))
        .collect();
    found.sort_by_key(|t| !t.notifies);
    found.first().copied()
}

/// A commit (directly or through a helper) inside the loop.
fn commits_within(cx: &Cx<'_, '_>, span: Span) -> bool {
    cx.calls.iter().any(|c| {
        span.contains(&c.site.span)
            && (c.effect == Some(Effect::Commit)
                || (c.effect.is_none()
                    && cx
                        .summaries
                        .of_call(c)
                        .is_some_and(|s| s.commits_at(c).is_some())))
    })
}

/// The first commit after the loop.
fn delivering_commit(cx: &Cx<'_, '_>, span: Span) -> Option<Span> {
    cx.calls
        .iter()
        .filter(|c| c.site.span.start > span.end)
        .filter(|c| {
            c.effect == Some(Effect::Commit)
                || (c.effect.is_none()
                    && cx
                        .summaries
                        .of_call(c)
                        .is_some_and(|s| s.commits_at(c).is_some()))
        })
        .map(|c| c.site.span)
        .min_by_key(|s| s.start)
}
