use crate::declare_rule;
use crate::facts::CallFact;
use crate::facts::regions::RegionKind;
use crate::knowledge::QueryOp;
use crate::project::summary::ParamLoad;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::call_text;

declare_rule! {
    /// ## What it does
    /// Finds an entity loaded again when it is already at hand: one function
    /// loading the same model by the same key twice, or a caller that holds
    /// the object `job` passing `job.id` to a function that loads `Job` by
    /// that id again (`session.get(Job, job_id)`, `select(Job).where(Job.id ==
    /// job_id)`, `Job.objects.get(pk=job_id)`) and then changes, returns or
    /// passes it on. A callee that reloads it only to read a few fields is
    /// QE-03 (unnecessary resolve); a locking reload (`with_for_update()`)
    /// is deliberate and not reported, nor is a reload inside a transaction
    /// block (`with transaction.atomic():`) opened after the first load,
    /// which reads the row back after the block's own writes, nor one under
    /// `if row is None:` (or `if row is None and …:`) after a first query (often a join) that found
    /// nothing: the branch looks again to tell what is missing. A call of
    /// a queue's task (`@shared_task`, `@app.task`, `@dramatiq.actor`) is
    /// not reported either: a task takes ids by design, and calling it
    /// directly is the fallback when no worker runs.
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
    /// itself (one function away). A callee that loads on a session it opens
    /// itself (`with SessionLocal() as session:`) is not reported: the
    /// caller's object belongs to another session, and a short unit of work
    /// of its own is the point. When the caller commits between holding
    /// the object and the call, and the session expires objects on commit,
    /// the reload may be wanted: reported LOW, and said so.
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
            // An UPDATE/DELETE statement in between changed rows behind the
            // loaded object: reading them back is the point.
            let written_between = |from: u32, to: u32| {
                facts.calls.iter().any(|c| {
                    matches!(c.op, Some(QueryOp::Update | QueryOp::Delete))
                        && c.site.span.start > from
                        && c.site.span.start < to
                })
            };
            // A transaction block opened after the first load: the second
            // reads the row again inside it, after the block's own writes
            // (`with transaction.atomic(): move(page); Page.objects.get(…)`).
            let regions = facts.regions(facts.summaries);
            let inside_later_block = |earlier: &CallFact<'_>| {
                regions.regions.iter().any(|r| {
                    r.kind == RegionKind::Block
                        && r.contains(call.site.span)
                        && !r.contains(earlier.site.span)
                })
            };
            let first = first.filter(|(earlier, _, _)| {
                !expired_between(earlier.site.span.end, call.site.span.start)
                    && !written_between(earlier.site.span.end, call.site.span.start)
                    && !inside_later_block(earlier)
                    && !in_not_found_branch(facts, earlier, call)
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
        // A held entity's id passed to a function that loads it again and
        // uses it as a whole (QE-03 takes the loads that only read fields).
        for reload in held_entity_reloads(facts) {
            // A callee that loads on a session of its own needs the row in
            // that session: the caller's object cannot be handed over.
            if reload.load.reads.is_some() || reload.load.own_session {
                continue;
            }
            let (holder, attr) = (reload.holder, reload.attr);
            let model = short(&reload.load.model);
            let f = finding(&Self::META, facts, reload.call.site.span, format!("{} reloads the `{model}` that `{holder}` already holds, by `{holder}.{attr}`", call_text(reload.call)))
                .why(format!("The callee loads the entity again by its id: a round trip for an object the caller has in hand.{}", reload.certainty()))
                .help(format!("Pass `{holder}` itself and let the callee use it."))
                .evidence(&facts.module.path, reload.held_line, format!("`{holder}` is a loaded `{model}`"))
                .evidence(&reload.load.path, reload.load.line, format!("{} loads it again by `{}`", reload.load.label, reload.load.param));
            out.push(reload.lowered_after_commit(f, &facts.module.path));
        }
    }
}

/// A call passing a held entity's key (`job.id`) to a project function
/// that loads the same model by that parameter.
pub struct HeldReload<'a, 'ir> {
    pub call: &'a CallFact<'ir>,
    pub holder: &'a str,
    pub attr: &'a str,
    pub load: &'a ParamLoad,
    /// Where the holder was loaded or received.
    pub held_line: u32,
    /// A commit between holding the entity and the call, with
    /// `expire_on_commit` not known to be off: the held object is expired,
    /// so the reload may be deliberate.
    pub committed_at: Option<u32>,
    /// The session keeps objects valid after commit.
    pub keeps_objects: bool,
}

impl HeldReload<'_, '_> {
    /// A sentence on how sure the finding is, from the session configuration.
    pub fn certainty(&self) -> String {
        match self.committed_at {
            Some(line) => format!(" The caller commits at line {line} after loading it and the session expires objects on commit (`expire_on_commit` is not off), so the reload may be intended to read fresh state: lower confidence."),
            None if self.keeps_objects => " The session keeps loaded objects valid after commit (`expire_on_commit=False`), so the reload is surely removable.".into(),
            None => String::new(),
        }
    }

    /// A commit expired the held object: the reload may be deliberate, so
    /// the finding is LOW, with the commit as evidence.
    pub fn lowered_after_commit(&self, finding: Finding, path: &str) -> Finding {
        match self.committed_at {
            Some(line) => finding.severity(Severity::Low).evidence(
                path,
                line,
                "commit: the held object is expired here",
            ),
            None => finding,
        }
    }
}

/// Calls of `facts` that hand a held entity's id to a function loading it
/// again. Locking loads (`with_for_update()`) are left out: they are
/// deliberate.
/// The statement at `binding` is an assignment whose value contains
/// `call`: the name it binds still holds its earlier value during the call.
fn assignment_runs(
    function: &weir_ir::Function,
    binding: weir_ir::Span,
    call: weir_ir::Span,
) -> bool {
    let mut runs = false;
    weir_ir::visit::walk_stmts(&function.body, &mut |stmt| {
        if stmt.span == binding
            && let weir_ir::StmtKind::Assign {
                value: Some(value), ..
            } = &stmt.kind
        {
            runs |= value.span.start <= call.start && call.end <= value.span.end;
        }
    });
    runs
}

pub fn held_entity_reloads<'a, 'ir>(facts: &'a Cx<'_, 'ir>) -> Vec<HeldReload<'a, 'ir>> {
    let mut out = Vec::new();
    for call in facts.facts.calls.iter().filter(|c| c.target.is_some()) {
        let Some(summary) = facts.summaries.of_call(call) else {
            continue;
        };
        // A memoised loader (`@lru_cache def tier_for(customer_id)`) reads
        // once per id, then answers from its cache.
        if summary.memoized {
            continue;
        }
        let Some(c) = call.call else { continue };
        // A queue's task takes ids by design (the broker carries no
        // objects): the synchronous call of it, the fallback when no worker
        // runs, passes the id like the `.delay(…)` beside it.
        if call.target.is_some_and(|t| {
            crate::facts::context::is_queued_task(facts.facts.project.index.function(t))
        }) {
            continue;
        }
        for load in summary.loads_by_param.iter().filter(|l| !l.locking) {
            let Some(arg) = c.positional(load.index).or_else(|| c.keyword(&load.param)) else {
                continue;
            };
            // `resolve_scope(db, memory_base_id=mb.id, memory_base=mb)`:
            // the callee loads by the id only when the object is missing.
            if load.unless_given.as_ref().is_some_and(|g| g.supplied_by(c)) {
                continue;
            }
            let weir_ir::ExprKind::Attribute { value, attr } = &arg.kind else {
                continue;
            };
            let Some(holder) = value.as_name() else {
                continue;
            };
            if !(attr == "id" || attr == "pk")
                || facts.facts.entities.get(holder) != Some(&load.model)
            {
                continue;
            }
            let bound = facts.facts.binding_before(holder, call.site.span.start);
            // `signal = get(db, signal_id=signal.id)` in `for signal in
            // payload.signals`: the statement binding the entity runs the
            // call, which reads what the name held before (a payload item).
            if bound.is_some_and(|b| assignment_runs(facts.facts.function, b, call.site.span)) {
                continue;
            }
            let held_line = bound.map_or(facts.facts.function.span.line, |s| s.line);
            let from = bound.map_or(facts.facts.function.span.start, |s| s.start);
            let keeps_objects = expire_on_commit_off(facts);
            let django = facts
                .facts
                .project
                .models
                .get(&load.model)
                .is_some_and(|m| m.orm == crate::project::Orm::Django);
            let committed_at = (!keeps_objects && !django)
                .then(|| {
                    facts.facts.calls.iter().find(|k| {
                        k.effect == Some(crate::knowledge::Effect::Commit)
                            && k.site.span.start > from
                            && k.site.span.end < call.site.span.start
                    })
                })
                .flatten()
                .map(|k| k.site.span.line);
            out.push(HeldReload {
                call,
                holder,
                attr,
                load,
                held_line,
                committed_at,
                keeps_objects,
            });
        }
    }
    out
}

/// `later` runs only when what the earlier load returned came back empty:
/// it sits under `if row is None:` / `if not row:` (alone or in an `and`
/// chain: `if row is None and is_admin:`) where `row` was bound by
/// the earlier load's statement or after it (`row = result.one_or_none()`).
/// The first query (often a join, or with filters) found nothing, and the
/// branch looks again to tell what is missing: no entity is held yet.
fn in_not_found_branch(facts: &Cx<'_, '_>, earlier: &CallFact<'_>, later: &CallFact<'_>) -> bool {
    later.site.scopes[earlier.site.scopes.len().min(later.site.scopes.len())..]
        .iter()
        .any(|scope| {
            let crate::facts::Scope::If(test, _) = scope else {
                return false;
            };
            let mut conjuncts = Vec::new();
            and_conjuncts(test, &mut conjuncts);
            conjuncts.into_iter().any(|test| {
                crate::project::summary::absent_name(test).is_some_and(|name| {
                    facts
                        .facts
                        .binding_before(name, test.span.start)
                        .is_some_and(|bound| bound.end >= earlier.site.span.start)
                })
            })
        })
}

/// The operands of an `and` chain (`row is None and is_admin` → both), or
/// the test itself.
fn and_conjuncts<'e>(test: &'e weir_ir::Expr, out: &mut Vec<&'e weir_ir::Expr>) {
    match &test.kind {
        weir_ir::ExprKind::Binary {
            op: weir_ir::Operator::And,
            left,
            right,
        } => {
            and_conjuncts(left, out);
            and_conjuncts(right, out);
        }
        _ => out.push(test),
    }
}

pub fn short(model: &str) -> &str {
    model.rsplit('.').next().unwrap_or(model)
}

/// Every session factory the context knows keeps objects after commit.
pub fn expire_on_commit_off(facts: &Cx<'_, '_>) -> bool {
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
