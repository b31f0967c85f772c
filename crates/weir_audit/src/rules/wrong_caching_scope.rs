use weir_ir::ExprKind;

use crate::declare_rule;
use crate::knowledge::ObjKind;
use crate::project::summary::is_memoized;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};

declare_rule! {
    /// ## What it does
    /// Finds caches whose scope does not fit what they hold: `@lru_cache`,
    /// `@cache` or `@cached` on a function that takes a session, and
    /// module-level dicts that keep ORM objects loaded through a session.
    ///
    /// ## Why is this bad
    /// A memoised function keyed by a session keeps the session (and its
    /// connection's objects) alive, and hands later callers ORM objects bound
    /// to a session that is closed or belongs to another request: detached
    /// instances, stale data, `DetachedInstanceError` on lazy loads, and
    /// memory that only grows.
    ///
    /// ## Example
    /// ```python
    /// from functools import lru_cache
    ///
    /// from sqlalchemy import select
    /// from sqlalchemy.orm import Session
    ///
    /// @lru_cache(maxsize=128)
    /// def plan_by_code(session: Session, code: str):
    ///     return session.scalars(select(Plan).where(Plan.code == code)).one()
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from functools import lru_cache
    ///
    /// from sqlalchemy import select
    ///
    /// @lru_cache(maxsize=128)
    /// def plan_limits(code: str) -> dict:
    ///     with SessionLocal() as session:
    ///         plan = session.scalars(select(Plan).where(Plan.code == code)).one()
    ///         return {"seats": plan.seats, "storage": plan.storage}
    /// ```
    /// Cache plain values, keyed by what identifies them, not ORM objects keyed by a session.
    ///
    /// ## Known limitations
    /// Per-request objects that cache reference data (a FastAPI dependency
    /// instance) are not detected yet.
    pub struct WrongCachingScope;
    id: "QE-06",
    name: "wrong-caching-scope",
    category: Category::QueryEfficiency,
    summary: "cache keyed by a session or holding ORM objects",
    severity: Severity::Medium,
    job: None,
    init: None,
    effort: Effort::M,
    languages: PYTHON,
    sources: &[
        Source { title: "functools.lru_cache", url: "https://docs.python.org/3/library/functools.html#functools.lru_cache", pack: None },
        Source { title: "SQLAlchemy: Session states and detached objects", url: "https://docs.sqlalchemy.org/en/20/orm/session_state_management.html", pack: Some("sqlalchemy") },
    ],
}

impl Rule for WrongCachingScope {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        let function = facts.function;
        // Memoisation first: it is cheap, typing the parameters is not.
        let session_param = if is_memoized(facts.module, function) {
            session_param(facts)
        } else {
            None
        };
        if let Some(param) = session_param {
            let aggregates = facts.calls.iter().any(|c| {
                let mut found = false;
                for source in [c.statement, Some(c.expr)].into_iter().flatten() {
                    weir_ir::visit::walk_expr(source, &mut |e| {
                        if e.as_call()
                            .and_then(weir_ir::Call::method_name)
                            .is_some_and(|m| {
                                matches!(m, "join" | "group_by" | "count" | "sum" | "outerjoin")
                            })
                        {
                            found = true;
                        }
                    });
                }
                found
            });
            // The `def` line, after the decorators.
            let line = function
                .decorators
                .iter()
                .map(|d| d.span.end_line + 1)
                .max()
                .unwrap_or(function.span.line);
            let span = weir_ir::Span {
                line,
                end_line: line,
                ..function.span
            };
            let mut f = finding(&Self::META, facts, span, format!("`{}` is memoised but takes the session `{}`", function.name, param.name))
                .why("The cache keys on the session and keeps the ORM objects it returned: later callers get objects bound to a closed or foreign session.")
                .help("Cache plain values keyed by their identifying arguments, opening a session inside; or cache per request.");
            if aggregates {
                f = f.severity(Severity::High);
            }
            out.push(f);
        }
        // `_CACHE[key] = session.get(Model, key)` into a module-level dict:
        // only where the function holds ORM objects at all.
        if facts.entities.is_empty() && !facts.calls.iter().any(|c| c.model.is_some()) {
            return;
        }
        weir_ir::visit::walk_stmts(&function.body, &mut |stmt| {
            let Some((targets, value)) = stmt.plain_assign() else {
                return;
            };
            let Some(ExprKind::Subscript { value: base, .. }) = targets.first().map(|t| &t.kind)
            else {
                return;
            };
            let Some(cache) = base.as_name() else { return };
            let is_module_level = facts.bindings.iter().all(|(n, _)| n != cache)
                && !facts.params.contains(cache)
                && facts.module.resolve(cache).is_some();
            let holds_entity = match value.as_name() {
                Some(v) => facts.entities.contains_key(v),
                None => facts.calls.iter().any(|c| {
                    c.model.is_some() && value.span.contains(&c.site.span) && !is_narrow_select(c)
                }),
            };
            if is_module_level && holds_entity {
                out.push(
                    finding(&Self::META, facts, stmt.span, format!("module-level cache `{cache}` stores ORM objects"))
                        .why("Objects stored past their session's life are detached: stale, and failing on lazy loads; the cache also grows without bound.")
                        .help("Store plain values (ids, names, dicts) or use a bounded cache of values, not ORM instances."),
                );
            }
        });
    }
}

/// The parameter holding an ORM session: annotated so, or named so.
fn session_param<'f>(facts: &'f Cx<'_, '_>) -> Option<&'f weir_ir::Param> {
    facts.function.params.iter().find(|p| {
        let annotated = p.annotation.as_ref().and_then(|a| {
            facts.facts.project.types.annotation_kind(
                facts.module,
                &facts.facts.project.knowledge,
                a,
            )
        });
        annotated.is_some_and(ObjKind::is_session)
            || matches!(p.name.as_str(), "session" | "db" | "db_session")
    })
}

/// `select(Tenant.name)`: columns, not entities.
fn is_narrow_select(call: &crate::facts::CallFact<'_>) -> bool {
    let mut narrow = false;
    if let Some(statement) = call.statement.or(call.call.and_then(|c| c.positional(0))) {
        weir_ir::visit::walk_expr(statement, &mut |e| {
            if let Some(c) = e.as_call()
                && c.method_name() == Some("select")
                && c.args
                    .iter()
                    .all(|a| matches!(a.value.kind, ExprKind::Attribute { .. }))
                && !c.args.is_empty()
            {
                narrow = true;
            }
        });
    }
    narrow
}
