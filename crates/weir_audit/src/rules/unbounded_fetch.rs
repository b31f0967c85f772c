use crate::collections::HashMap;

use weir_ir::{Expr, ExprKind};

use crate::declare_rule;
use crate::facts::{CallFact, ExecContext};
use crate::knowledge::{Effect, ObjKind, QueryOp};
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};

declare_rule! {
    /// ## What it does
    /// Finds queries in request handlers that return every matching row with
    /// no limit or pagination: `session.scalars(select(M)...).all()`,
    /// `session.query(M)...all()`, iterating or `list()`-ing a Django
    /// QuerySet with no slice.
    ///
    /// ## Why is this bad
    /// The response grows with the table. What returns 50 rows today returns
    /// 500,000 next year: memory, serialisation time and database load all
    /// follow, on a path users wait on.
    ///
    /// ## Example
    /// ```python
    /// from fastapi import APIRouter, Depends
    /// from sqlalchemy import select
    /// from sqlalchemy.orm import Session
    ///
    /// router = APIRouter()
    ///
    /// @router.get("/articles")
    /// def list_articles(db: Session = Depends(get_db)):
    ///     return db.scalars(select(Article).order_by(Article.published_at.desc())).all()
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from fastapi import APIRouter, Depends
    /// from sqlalchemy import select
    /// from sqlalchemy.orm import Session
    ///
    /// router = APIRouter()
    ///
    /// @router.get("/articles")
    /// def list_articles(page: int = 1, db: Session = Depends(get_db)):
    ///     stmt = select(Article).order_by(Article.published_at.desc()).offset((page - 1) * 20).limit(20)
    ///     return db.scalars(stmt).all()
    /// ```
    ///
    /// ## Known limitations
    /// Only request handlers are checked. Handlers that take a paging
    /// parameter (`limit`, `page`, `per_page`, `offset`, `cursor`) and
    /// queries bounded by their input (`where(M.id.in_(ids))`, Django
    /// `filter(pk=pk)`, `filter(pk__in=ids)`) are trusted. A QuerySet held
    /// in a local is judged on the value bound to it before the statement
    /// that evaluates it (`users = qs[:8]; users = list(users)` is bounded).
    pub struct UnboundedFetch;
    id: "QE-09",
    name: "unbounded-fetch",
    category: Category::QueryEfficiency,
    summary: "all rows fetched without limit or pagination in a request handler",
    severity: Severity::Medium,
    job: None,
    init: None,
    effort: Effort::M,
    languages: PYTHON,
    sources: &[
        Source { title: "SQLAlchemy: LIMIT / OFFSET (Select.limit)", url: "https://docs.sqlalchemy.org/en/20/core/selectable.html#sqlalchemy.sql.expression.Select.limit", pack: Some("sqlalchemy") },
        Source { title: "Django: Pagination", url: "https://docs.djangoproject.com/en/stable/topics/pagination/", pack: Some("django") },
    ],
}

const PAGING_PARAMS: &[&str] = &[
    "limit",
    "page",
    "per_page",
    "page_size",
    "offset",
    "cursor",
    "size",
    "skip",
    "first",
    "after",
];
const BOUNDING_METHODS: &[&str] = &[
    "limit",
    "offset",
    "slice",
    "paginate",
    "fetch",
    "in_",
    "in_bulk",
    "first",
    "one",
    "one_or_none",
    "scalar",
    "scalar_one",
    "get",
    "count",
    "exists",
    "aggregate",
];

impl Rule for UnboundedFetch {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        if facts.context != ExecContext::RequestHandler {
            return;
        }
        if facts
            .function
            .params
            .iter()
            .any(|p| PAGING_PARAMS.contains(&p.name.as_str()))
        {
            return;
        }
        let by_span: HashMap<(u32, u32), &CallFact<'_>> = facts
            .calls
            .iter()
            .map(|c| ((c.site.span.start, c.site.span.end), c))
            .collect();
        let mut reported: Vec<(u32, u32)> = Vec::new();
        let mut report = |span: weir_ir::Span, out: &mut Vec<Finding>| {
            if reported.contains(&(span.start, span.end)) {
                return;
            }
            reported.push((span.start, span.end));
            out.push(
                finding(&Self::META, facts, span, "this query returns every matching row, with no limit or pagination, in a request handler")
                    .why("The response grows with the table: memory, serialisation and database time all scale with data the user never asked to see at once.")
                    .help("Paginate: `.limit(n).offset(...)` (or keyset pagination), Django `Paginator` or a slice `[:n]`; take the page size from the request."),
            );
        };
        // Multi-row consumption of a query result: `.all()`, iteration, `list(...)`.
        facts.call_exprs().iter().for_each(|&e| {
            let ExprKind::Call(call) = &e.kind else {
                return;
            };
            if matches!(call.method_name(), Some("all" | "fetchall")) {
                // `session.query(M)...all()`: the `.all()` call is the query.
                if let Some(fact) = by_span.get(&(e.span.start, e.span.end)) {
                    if is_select(fact) && !is_bounded(e) {
                        report(e.span, out);
                    }
                    return;
                }
                // `session.scalars(stmt).all()`: the receiver (through `.scalars()`/`.unique()`) is the query.
                let mut receiver = call.receiver().map(Expr::unawaited);
                while let Some(r) = receiver {
                    if let Some(fact) = by_span.get(&(r.span.start, r.span.end)) {
                        if is_select(fact)
                            && fact
                                .receiver_kind
                                .is_some_and(|k| k.kind != ObjKind::QuerySet)
                            && !fact.statement.is_some_and(is_bounded)
                            && !is_bounded(r)
                        {
                            report(r.span, out);
                        }
                        return;
                    }
                    receiver = r
                        .as_call()
                        .filter(|c| {
                            matches!(c.method_name(), Some("scalars" | "unique" | "mappings"))
                        })
                        .and_then(|c| c.receiver())
                        .map(Expr::unawaited);
                }
            }
        });
        // Django: a QuerySet iterated or `list()`-ed with no slice.
        for fact in facts.calls.iter().filter(|c| {
            c.call.is_none() && c.receiver_kind.is_some_and(|k| k.kind == ObjKind::QuerySet)
        }) {
            if is_bounded(fact.expr) {
                continue;
            }
            // Report where the QuerySet is built: `products = Product.objects.filter(...)`.
            let bound = fact
                .expr
                .as_name()
                .and_then(|var| facts.binding_before(var, fact.site.span.start));
            // `users = User.objects.filter(…)[:8]` then `list(users)`, also
            // as `users = list(users)`: the value of the binding before the
            // statement that reads it.
            let built = fact.expr.as_name().and_then(|var| {
                facts
                    .bindings
                    .iter()
                    .rev()
                    .find(|(name, span)| name == var && span.end <= fact.site.span.start)
                    .and_then(|(_, span)| value_bound_at(&facts.function.body, *span))
            });
            if built.is_some_and(is_bounded) {
                continue;
            }
            report(bound.unwrap_or(fact.site.span), out);
        }
    }
}

/// The value of the plain assignment whose statement spans `span`.
pub(crate) fn value_bound_at(body: &[weir_ir::Stmt], span: weir_ir::Span) -> Option<&Expr> {
    let mut value = None;
    weir_ir::visit::walk_stmts(body, &mut |stmt| {
        if stmt.span == span
            && let Some(([_], v)) = stmt.plain_assign()
        {
            value = Some(v);
        }
    });
    value
}

fn is_select(fact: &CallFact<'_>) -> bool {
    matches!(fact.effect, Some(Effect::Query(_))) && fact.op == Some(QueryOp::Select)
}

/// The query expression limits its rows: `.limit()`, a slice, `.in_(ids)`,
/// a single-row method, an aggregate.
fn is_bounded(expr: &Expr) -> bool {
    let mut bounded = false;
    weir_ir::visit::walk_expr(expr, &mut |e| match &e.kind {
        ExprKind::Call(c) => {
            let name = c.method_name().unwrap_or_default();
            if BOUNDING_METHODS.contains(&name)
                || name.ends_with("count")
                || c.args.iter().any(|a| {
                    a.name
                        .as_deref()
                        .is_some_and(|n| n.ends_with("__in") || n == "pk" || n == "id")
                })
            {
                bounded = true;
            }
            if c.qualified
                .as_deref()
                .is_some_and(|q| q.ends_with("func.count") || q.ends_with(".count"))
            {
                bounded = true;
            }
        }
        ExprKind::Subscript { .. } => bounded = true,
        _ => {}
    });
    bounded
}
