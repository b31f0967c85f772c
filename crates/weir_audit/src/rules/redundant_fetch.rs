use crate::declare_rule;
use crate::facts::CallFact;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::call_text;

declare_rule! {
    /// ## What it does
    /// Finds an entity loaded again when it is already at hand: one function
    /// loading the same model by the same key twice, or a caller that holds
    /// the object `job` passing `job.id` to a function that loads `Job` by
    /// that id again (`session.get(Job, job_id)`, `select(Job).where(Job.id ==
    /// job_id)`, `Job.objects.get(pk=job_id)`).
    ///
    /// ## Why is this bad
    /// A round trip for data the process already has. With SQLAlchemy's
    /// identity map `session.get` may avoid the SQL, but a `select()` never
    /// does, and across sessions or after a commit with `expire_on_commit`
    /// the object is loaded again. With `expire_on_commit=False` the held
    /// object stays valid after commit, so the reload is surely removable.
    ///
    /// ## Example
    /// ```python
    /// from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
    ///
    /// class Base(DeclarativeBase):
    ///     pass
    ///
    /// class Job(Base):
    ///     __tablename__ = "jobs"
    ///     id: Mapped[int] = mapped_column(primary_key=True)
    ///     state: Mapped[str]
    ///
    /// def start(session: Session, job_id: int):
    ///     job = session.get(Job, job_id)
    ///     audit(job)
    ///     job = session.get(Job, job_id)
    ///     job.state = "running"
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
    ///
    /// class Base(DeclarativeBase):
    ///     pass
    ///
    /// class Job(Base):
    ///     __tablename__ = "jobs"
    ///     id: Mapped[int] = mapped_column(primary_key=True)
    ///     state: Mapped[str]
    ///
    /// def start(session: Session, job_id: int):
    ///     job = session.get(Job, job_id)
    ///     audit(job)
    ///     job.state = "running"
    /// ```
    /// Across calls: pass the object (`start_job(session, job)`) instead of its id.
    ///
    /// ## Known limitations
    /// Loads by primary key only; the callee must load by the parameter
    /// itself (one function away).
    pub struct RedundantFetch;
    id: "QE-01",
    name: "redundant-fetch",
    category: Category::QueryEfficiency,
    summary: "an entity loaded again when the code already holds it",
    severity: Severity::High,
    job: Some(Severity::Medium),
    init: Some(Severity::Low),
    effort: Effort::S,
    languages: PYTHON,
    sources: &[
        Source { title: "SQLAlchemy: Session.get() and the identity map", url: "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#get-by-primary-key", pack: Some("sqlalchemy") },
        Source { title: "SQLAlchemy: Committing (expire_on_commit)", url: "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#committing", pack: Some("sqlalchemy") },
    ],
}

impl Rule for RedundantFetch {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        // The same key loaded twice in one function.
        let mut loads: Vec<(&CallFact<'_>, String, String)> = Vec::new();
        for call in &facts.calls {
            let (Some(model), Some(key)) =
                (&call.model, call.load_key().and_then(weir_ir::Expr::dotted))
            else {
                continue;
            };
            let first = loads.iter().find(|(c, m, k)| {
                dominates(c, call)
                    && m == model
                    && *k == key
                    && !facts.rebound_between(
                        key.split('.').next().unwrap_or(&key),
                        c.site.span.end,
                        call.site.span.start,
                    )
            });
            // `session.expire(job)` / `refresh` / `rollback` in between: the reload is wanted.
            let expired_between = |from: u32, to: u32| {
                let mut found = false;
                weir_ir::visit::walk_block_exprs(&facts.function.body, &mut |e| {
                    let reloads = e
                        .as_call()
                        .and_then(weir_ir::Call::method_name)
                        .is_some_and(|m| {
                            matches!(
                                m,
                                "expire"
                                    | "expire_all"
                                    | "refresh"
                                    | "rollback"
                                    | "refresh_from_db"
                            )
                        });
                    if reloads && e.span.start > from && e.span.start < to {
                        found = true;
                    }
                });
                found
            };
            let first = first.filter(|(earlier, _, _)| {
                !expired_between(earlier.site.span.end, call.site.span.start)
            });
            if let Some((earlier, _, _)) = first {
                out.push(
                    finding(
                        &Self::META,
                        facts,
                        call.site.span,
                        format!(
                            "{} loads `{}` by `{key}` again: it was loaded at line {}",
                            call_text(call),
                            short(model),
                            earlier.site.span.line
                        ),
                    )
                    .why("A second round trip for an entity the function already holds.")
                    .help("Reuse the object loaded the first time.")
                    .evidence(
                        &facts.module.path,
                        earlier.site.span.line,
                        "first load",
                    ),
                );
                continue;
            }
            loads.push((call, model.clone(), key));
        }
        // A held entity's id passed to a function that loads it again.
        for call in facts.calls.iter().filter(|c| c.target.is_some()) {
            let Some(summary) = facts.summaries.of_call(call) else {
                continue;
            };
            let Some(c) = call.call else { continue };
            for (index, model) in &summary.loads_by_param {
                let Some(arg) = c.positional(*index) else {
                    continue;
                };
                let weir_ir::ExprKind::Attribute { value, attr } = &arg.kind else {
                    continue;
                };
                let Some(holder) = value.as_name() else {
                    continue;
                };
                if !(attr == "id" || attr == "pk") || facts.entities.get(holder) != Some(model) {
                    continue;
                }
                let certainty = if expire_on_commit_off(facts) {
                    " The session keeps loaded objects valid after commit (`expire_on_commit=False`), so the reload is surely removable."
                } else {
                    ""
                };
                out.push(
                    finding(&Self::META, facts, call.site.span, format!("{} reloads the `{}` that `{holder}` already holds, by `{holder}.{attr}`", call_text(call), short(model)))
                        .why(format!("The callee loads the entity again by its id: a round trip for an object the caller has in hand.{certainty}"))
                        .help(format!("Pass `{holder}` itself and let the callee use it."))
                        .evidence(&facts.module.path, call.site.span.line, format!("`{holder}` is a loaded `{}`", short(model))),
                );
            }
        }
    }
}

fn short(model: &str) -> &str {
    model.rsplit('.').next().unwrap_or(model)
}

/// Every session factory the context knows keeps objects after commit.
fn expire_on_commit_off(facts: &Cx<'_, '_>) -> bool {
    let sessions = &facts.facts.project.context.db_config.sessions;
    !sessions.is_empty()
        && sessions
            .iter()
            .all(|s| s.effective_expire_on_commit() == Some(false))
}

/// `earlier` runs whenever `later` does: its enclosing scopes are a prefix
/// of `later`'s (not the other arm of an `if`/`elif`).
fn dominates(earlier: &CallFact<'_>, later: &CallFact<'_>) -> bool {
    use crate::facts::Scope;
    let key = |s: &Scope<'_>| -> (u8, u32, u32) {
        match s {
            Scope::Loop(i) => (0, u32::try_from(*i).unwrap_or(u32::MAX), 0),
            Scope::If(test, _) => (1, test.span.start, 0),
            Scope::Else(test) => (2, test.span.start, 0),
            Scope::Try(stmt, part) => (
                3,
                stmt.span.start,
                match part {
                    crate::facts::TryPart::Body => 0,
                    crate::facts::TryPart::Handler(h) => 1 + u32::try_from(*h).unwrap_or(0),
                    crate::facts::TryPart::Else => 1000,
                    crate::facts::TryPart::Finally => 1001,
                },
            ),
            Scope::With(stmt) => (4, stmt.span.start, 0),
        }
    };
    earlier.site.scopes.len() <= later.site.scopes.len()
        && earlier
            .site
            .scopes
            .iter()
            .zip(&later.site.scopes)
            .all(|(a, b)| key(a) == key(b))
}
