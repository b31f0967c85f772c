use crate::collections::HashMap;

use weir_ir::{Expr, ExprKind, Literal, Operator, StmtKind};

use crate::declare_rule;
use crate::facts::CallFact;
use crate::knowledge::{Effect, QueryOp};
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};

declare_rule! {
    /// ## What it does
    /// Finds rows loaded only to be counted or tested for emptiness:
    /// `len(session.scalars(q).all())`, `len(session.query(M).all())`,
    /// `len(Model.objects.filter(...))`, `len(list(qs))`, and `len(rows)` of
    /// a local bound once to such rows and read nowhere else; `count()`
    /// compared to test existence (`> 0`, `>= 1`, `== 0`, `!= 0`, `< 1`;
    /// not `== 1`, which asks for exactly one row) or tested for truth
    /// (`if qs.count():`, `if not qs.count():`), also through a Django
    /// related manager of an object fetched in the function
    /// (`order.items.count() > 0`); a QuerySet used only as `if qs:`; rows
    /// fetched in place only to be tested (`if session.query(M).filter(...).all():`,
    /// `if not Model.objects.filter(...):`, `bool(q.all())`) or searched
    /// for one object (`item in order.items.all()`, where Django's
    /// `contains()` or `filter(pk=...).exists()` asks the database).
    ///
    /// ## Why is this bad
    /// Counting in Python transfers and builds every row; the database
    /// answers `COUNT(*)` from an index. Testing existence with a count
    /// still counts every match, where `EXISTS` stops at the first.
    ///
    /// ## Example
    /// ```python
    /// from sqlalchemy import select
    /// from sqlalchemy.orm import Session
    ///
    /// def open_tickets(session: Session, project_id: int) -> int:
    ///     return len(session.scalars(select(Ticket).where(Ticket.project_id == project_id)).all())
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from sqlalchemy import func, select
    /// from sqlalchemy.orm import Session
    ///
    /// def open_tickets(session: Session, project_id: int) -> int:
    ///     return session.scalar(select(func.count(Ticket.id)).where(Ticket.project_id == project_id))
    /// ```
    /// For existence: `session.query(q.exists()).scalar()`, Django `qs.exists()`;
    /// for membership: Django `qs.contains(obj)`.
    ///
    /// ## Known limitations
    /// `len()` of rows kept in a variable and used for more than the count is
    /// not reported (the rows were needed anyway).
    pub struct CountExistsMisuse;
    id: "QE-08",
    name: "count-exists-misuse",
    category: Category::QueryEfficiency,
    summary: "rows loaded only to count them or to test for emptiness or membership",
    severity: Severity::Medium,
    job: None,
    init: None,
    effort: Effort::S,
    languages: PYTHON,
    sources: &[
        Source { title: "Django: QuerySet.count() and exists()", url: "https://docs.djangoproject.com/en/stable/ref/models/querysets/#exists", pack: Some("django") },
        Source { title: "Django: QuerySet.contains()", url: "https://docs.djangoproject.com/en/stable/ref/models/querysets/#contains", pack: Some("django") },
        Source { title: "SQLAlchemy: Query.exists()", url: "https://docs.sqlalchemy.org/en/20/orm/queryguide/query.html#sqlalchemy.orm.Query.exists", pack: Some("sqlalchemy") },
    ],
}

const EMPTINESS: &str = "loads every row only to test whether there is one";

impl Rule for CountExistsMisuse {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        // Every finding needs a query or a lazy query in the function: most
        // functions have none, and walking their bodies showed in profiles.
        let selects = |c: &CallFact<'_>| {
            matches!(c.effect, Some(Effect::Query(_))) && c.op == Some(QueryOp::Select)
        };
        let lazy = |c: &CallFact<'_>| {
            c.returns
                .is_some_and(crate::knowledge::ObjKind::is_lazy_query)
                || (c.call.is_none() && c.receiver_kind.is_some_and(|k| k.kind.is_lazy_query()))
        };
        if facts.lazy_query_vars.is_empty() && !facts.calls.iter().any(|c| selects(c) || lazy(c)) {
            return;
        }
        let mut by_span: HashMap<(u32, u32), Vec<&CallFact<'_>>> = HashMap::default();
        for c in &facts.calls {
            by_span
                .entry((c.site.span.start, c.site.span.end))
                .or_default()
                .push(c);
        }
        let at = |e: &Expr| {
            by_span
                .get(&(e.span.start, e.span.end))
                .map(Vec::as_slice)
                .unwrap_or_default()
        };
        let is_query = |e: &Expr| at(e).iter().any(|c| c.call.is_some() && selects(c));
        // A lazy query: returned by a builder, or evaluated right here.
        let is_lazy = |e: &Expr| match &e.kind {
            ExprKind::Name { id } => facts.lazy_query_vars.contains(id.as_str()),
            _ => at(e).iter().any(|c| lazy(c)),
        };
        // Rows fetched right here only for a yes/no answer: `.all()` on a
        // query, or a QuerySet built in place (`Model.objects.filter(…)`,
        // `user.blocks.all()`). A name is left to the `if qs:` check below,
        // which knows whether the rows are used later.
        let runs_for_truth = |e: &Expr| {
            let e = e.unawaited();
            match &e.kind {
                ExprKind::Call(inner)
                    if matches!(inner.method_name(), Some("all" | "fetchall")) =>
                {
                    is_query(e)
                        || is_lazy(e)
                        || inner.receiver().is_some_and(|r| is_query(r.unawaited()))
                }
                // A call building the QuerySet; not a name, nor a bare
                // attribute such as `self.objects` (a manager cannot be iterated).
                ExprKind::Call(_) => is_lazy(e),
                _ => false,
            }
        };
        // The rows `arg` stands for are loaded by it: `x.all()` ran the
        // query (or unwrapped its result), `list(rows)`, a QuerySet built in place.
        let loads_rows = |arg: &Expr| match &arg.kind {
            ExprKind::Call(inner) if matches!(inner.method_name(), Some("all" | "fetchall")) => {
                is_query(arg) || inner.receiver().is_some_and(|r| is_query(r.unawaited()))
            }
            ExprKind::Call(inner) if inner.qualified.as_deref() == Some("builtins.list") => inner
                .positional(0)
                .is_some_and(|a| is_query(a.unawaited()) || is_lazy(a)),
            _ => !matches!(arg.kind, ExprKind::Name { .. }) && is_lazy(arg),
        };
        let mut found: Vec<(weir_ir::Span, &'static str, Severity)> = Vec::new();
        weir_ir::visit::walk_block_exprs(&facts.function.body, &mut |e| match &e.kind {
            ExprKind::Call(call)
                if call.qualified.as_deref() == Some("builtins.len") && call.args.len() == 1 =>
            {
                let Some(arg) = call.positional(0) else {
                    return;
                };
                // `len(qs.values_list("id")[:30]) == 30`: a slice loads at
                // most its few rows, to cap what a count would scan.
                if matches!(arg.kind, ExprKind::Subscript { .. }) {
                    return;
                }
                // `rows = q.all()` … `len(rows)`, the rows used for nothing else.
                let counted_local = arg
                    .as_name()
                    .and_then(|name| only_counted(facts.module, facts.function, name, arg))
                    .is_some_and(&loads_rows);
                if loads_rows(arg) || counted_local {
                    found.push((e.span, "loads every row to count them", Severity::Medium));
                }
            }
            // `bool(session.query(M).all())`
            ExprKind::Call(call)
                if call.qualified.as_deref() == Some("builtins.bool")
                    && call.args.len() == 1
                    && call.positional(0).is_some_and(runs_for_truth) =>
            {
                found.push((e.span, EMPTINESS, Severity::Medium));
            }
            ExprKind::Compare(cmp) => {
                let weir_ir::Compare {
                    left,
                    ops,
                    comparators,
                } = &**cmp;
                // `obj in user.blocks.all()`: every row is built to find one.
                if let ([Operator::In | Operator::NotIn], [rows]) =
                    (ops.as_slice(), comparators.as_slice())
                    && runs_for_truth(rows)
                {
                    found.push((
                        e.span,
                        "loads every row only to test whether one object is among them",
                        Severity::Medium,
                    ));
                    return;
                }
                let counts = left
                    .as_call()
                    .is_some_and(|c| c.method_name() == Some("count"))
                    && is_query(left);
                // `> 0`, `>= 1`, `== 0`, `!= 0`, `< 1`, `<= 0` ask whether
                // a row exists; `== 1` asks for exactly one, which
                // `exists()` cannot answer.
                let bound = comparators.first().and_then(|c| match c.kind {
                    ExprKind::Literal(Literal::Int(n)) => Some(n),
                    _ => None,
                });
                let existence = matches!(
                    (ops.first(), bound),
                    (
                        Some(Operator::Gt | Operator::Eq | Operator::NotEq | Operator::LtE),
                        Some(0)
                    ) | (Some(Operator::GtE | Operator::Lt), Some(1))
                );
                if counts && existence {
                    found.push((
                        e.span,
                        "counts every match only to test whether one exists",
                        Severity::Low,
                    ));
                }
            }
            _ => {}
        });
        // `if qs:` on a QuerySet that is used for nothing else.
        weir_ir::visit::walk_stmts(&facts.function.body, &mut |stmt| {
            let StmtKind::If { test, .. } = &stmt.kind else {
                return;
            };
            // `if invalid.count():`, `if not qs.count():`: the number is
            // only tested for truth, an existence test.
            truth_tested_counts(test, &mut |count| {
                if is_query(count) {
                    found.push((
                        count.span,
                        "counts every match only to test whether one exists",
                        Severity::Low,
                    ));
                }
            });
            // `if session.query(M).filter(…).all():`, `if not Model.objects.filter(…):`
            let tested = match &test.kind {
                ExprKind::Unary {
                    op: Operator::Not,
                    operand,
                } => operand,
                _ => test,
            };
            if runs_for_truth(tested) {
                found.push((tested.span, EMPTINESS, Severity::Medium));
                return;
            }
            // `if qs:` and `if not qs:` alike.
            let Some(name) = tested
                .as_name()
                .filter(|n| facts.lazy_query_vars.contains(*n))
            else {
                return;
            };
            let mut other_uses = 0;
            weir_ir::visit::walk_block_exprs(&facts.function.body, &mut |e| {
                if e.as_name() == Some(name) && e.span != tested.span {
                    other_uses += 1;
                }
            });
            // The assignment target counts once.
            if other_uses <= 1 {
                found.push((
                    test.span,
                    "evaluates the whole QuerySet only to test whether it is empty",
                    Severity::Medium,
                ));
            }
        });
        for (span, what, severity) in found {
            let severity = if facts.context.lowers_severity() {
                severity.down()
            } else {
                severity
            };
            let mut f = finding(&Self::META, facts, span, format!("this expression {what}"))
                .why("Counting or testing for rows in Python fetches and builds every row; the database answers COUNT/EXISTS directly.")
                .help("Use `select(func.count(...))` / `query.count()` / `qs.count()` for numbers, and `exists()` / `qs.exists()` for existence, and `qs.contains(obj)` for membership.");
            if f.severity != severity {
                f = f.severity(severity);
            }
            out.push(f);
        }
    }
}

/// The `count()` calls whose result `test` only tests for truth: the test
/// itself, under `not`, or an operand of `and`/`or` (`if a.count():`,
/// `if not qs.count() or force:`).
fn truth_tested_counts<'e>(test: &'e Expr, f: &mut impl FnMut(&'e Expr)) {
    match &test.kind {
        ExprKind::Unary {
            op: Operator::Not,
            operand,
        } => truth_tested_counts(operand, f),
        ExprKind::Binary {
            op: Operator::And | Operator::Or,
            left,
            right,
        } => {
            truth_tested_counts(left, f);
            truth_tested_counts(right, f);
        }
        ExprKind::Call(call) if call.method_name() == Some("count") && call.args.is_empty() => {
            f(test);
        }
        _ => {}
    }
}

/// The value of `name` when it is bound once, by a plain assignment, and
/// read nowhere but in `counted` (`orders = q.all()` … `len(orders)`), nor
/// by a function nested in this one (a closure may iterate the rows).
fn only_counted<'a>(
    module: &weir_ir::Module,
    function: &'a weir_ir::Function,
    name: &str,
    counted: &Expr,
) -> Option<&'a Expr> {
    let body = &function.body;
    let mut values = Vec::new();
    weir_ir::visit::walk_stmts(body, &mut |stmt| {
        if let Some((targets, value)) = stmt.plain_assign()
            && targets.iter().any(|t| t.as_name() == Some(name))
        {
            values.push(value);
        }
    });
    let [value] = values.as_slice() else {
        return None;
    };
    let mut uses = 0;
    weir_ir::visit::walk_block_exprs(body, &mut |e| {
        if e.as_name() == Some(name) && e.span != counted.span {
            uses += 1;
        }
    });
    for nested in &module.functions {
        if nested.id != function.id && function.span.contains(&nested.span) {
            weir_ir::visit::walk_block_exprs(&nested.body, &mut |e| {
                if e.as_name() == Some(name) {
                    uses += 1;
                }
            });
        }
    }
    // The assignment's target is the one other mention.
    (uses == 1).then_some(*value)
}
