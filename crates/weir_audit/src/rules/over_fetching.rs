use weir_ir::{Expr, ExprKind};

use crate::declare_rule;
use crate::facts::rows::RowSource;
use crate::facts::uses::{EntityUses, entity_uses, entity_uses_in_comprehension};
use crate::facts::{CallFact, ExecContext, sql};
use crate::knowledge::Effect;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};

declare_rule! {
    /// ## What it does
    /// Finds whole rows fetched where a few columns are used: raw SQL
    /// `SELECT *`, and, in request handlers, rows of a wide model (more than
    /// 15 mapped columns) loaded whole and then read for at most three
    /// attributes, with no `load_only`/`defer`/column select/`only()`/`values()`.
    /// Also, in any context and as LOW, eager loads that are never used: a
    /// query with `selectinload`/`joinedload`/`subqueryload`/`immediateload`
    /// or Django `select_related`/`prefetch_related` whose rows the function
    /// reads without ever touching that relationship.
    ///
    /// ## Why is this bad
    /// Every column is read from disk, sent over the wire and turned into
    /// Python objects, for data the code drops. On wide tables (text blobs,
    /// JSON columns) that is most of the work; `SELECT *` also breaks when
    /// columns are added or reordered.
    ///
    /// ## Example
    /// ```python
    /// import psycopg2
    ///
    /// def open_invoices(cur):
    ///     cur.execute("SELECT * FROM invoices WHERE status = 'open'")
    ///     return cur.fetchall()
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// import psycopg2
    ///
    /// def open_invoices(cur):
    ///     cur.execute("SELECT id, number, total FROM invoices WHERE status = 'open'")
    ///     return cur.fetchall()
    /// ```
    /// ORM: `select(Customer.id, Customer.name)`, `.options(load_only(...))`,
    /// Django `.only(...)` / `.values(...)`.
    ///
    /// ## Known limitations
    /// Attribute use is counted in the loops that read the rows (every loop
    /// over one local); rows passed whole to a call, a serializer or a
    /// template context are assumed to need every column. An eager load
    /// is judged only when its rows stay in the function and are only read:
    /// rows returned, yielded, passed to a call or a template, or asked to
    /// act (`order.total_due()`) may use the relationship elsewhere, and are
    /// left alone. `contains_eager` (filled from a join the query needs) and
    /// the later hops of a chained option (`selectinload(A.b).selectinload(B.c)`)
    /// are not judged. A `@property` reading the relationship is not seen.
    pub struct OverFetching;
    id: "QE-04",
    name: "over-fetching",
    category: Category::QueryEfficiency,
    summary: "whole rows fetched where a few columns are used",
    severity: Severity::Medium,
    job: None,
    init: None,
    effort: Effort::S,
    languages: PYTHON,
    sources: &[
        Source { title: "SQLAlchemy: Column loading options (load_only, defer)", url: "https://docs.sqlalchemy.org/en/20/orm/queryguide/columns.html", pack: Some("sqlalchemy") },
        Source { title: "Django: QuerySet.only() and values()", url: "https://docs.djangoproject.com/en/stable/ref/models/querysets/#only", pack: Some("django") },
    ],
}

/// Models wider than this are worth narrowing (SPEC §2).
const WIDE_MODEL_COLUMNS: usize = 15;
/// Reading this many attributes or fewer of a wide row is over-fetching.
const FEW_ATTRIBUTES: usize = 3;

impl Rule for OverFetching {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        for call in facts
            .calls
            .iter()
            .filter(|c| matches!(c.effect, Some(Effect::Query(_))))
        {
            if selects_star(call) {
                out.push(
                    finding(&Self::META, facts, call.site.span, format!("{} runs `SELECT *`", crate::rules::call_text(call)))
                        .severity(Severity::Low)
                        .why("`SELECT *` reads and transfers every column, including ones the code never uses, and changes meaning when the table changes.")
                        .help("Name the columns the code uses."),
                );
            }
        }
        unused_eager_loads(facts, out);
        if facts.context != ExecContext::RequestHandler {
            return;
        }
        let mut reported = Vec::new();
        for lp in &facts.loops {
            let (Some(rows), Some(var)) = (&lp.rows, lp.target_name()) else {
                continue;
            };
            // Rows a project function returned are judged at its query.
            if rows.narrowed || rows.from_callee {
                continue;
            }
            let Some(model) = facts.facts.project.models.get(&rows.model) else {
                continue;
            };
            if model.columns <= WIDE_MODEL_COLUMNS {
                continue;
            }
            let mut attributes: Vec<String> = Vec::new();
            // `next(org for org in orgs if …)`: the comprehension hands the
            // rows themselves on.
            let mut whole = lp
                .element
                .is_some_and(|e| crate::facts::uses::entity_uses_in_value(e, var).escapes);
            let mut count = |e: &Expr| match &e.kind {
                ExprKind::Attribute { value, attr }
                    if value.as_name() == Some(var) && !attributes.iter().any(|a| a == attr) =>
                {
                    attributes.push(attr.to_string());
                }
                // The row itself passed on, or asked to act
                // (`check.rename_and_delete()`): it may need everything.
                ExprKind::Call(c)
                    if c.args.iter().any(|a| a.value.as_name() == Some(var))
                        || c.receiver().and_then(Expr::as_name) == Some(var) =>
                {
                    whole = true;
                }
                _ => {}
            };
            for e in lp.element.iter().copied().chain(lp.conditions) {
                weir_ir::visit::walk_expr(e, &mut count);
            }
            weir_ir::visit::walk_block_exprs(lp.body, &mut count);
            let Some(iter) = lp.iter else { continue };
            // Rows held by a local are judged over all its uses: passed on
            // (`sortchecks(checks)`, `{"checks": checks}` for a template) they
            // may need every column, and other loops over them read more.
            if let Some(name) = iter.as_name()
                && let Some(bound) = facts.binding_before(name, lp.span.start)
            {
                let to = facts
                    .bindings
                    .iter()
                    .find(|(n, span)| n == name && span.start > bound.start)
                    .map_or(u32::MAX, |(_, span)| span.start);
                let uses = entity_uses(&facts.function.body, name, bound.end, to);
                whole |= !uses.stays_passive();
                for attr in uses.items.iter().flat_map(|items| &items.attrs) {
                    if !attributes.contains(attr) {
                        attributes.push(attr.clone());
                    }
                }
            }
            if whole || attributes.is_empty() || attributes.len() > FEW_ATTRIBUTES {
                continue;
            }
            let span = match iter.as_name() {
                Some(name) => facts
                    .binding_before(name, lp.span.start)
                    .unwrap_or(iter.span),
                None => iter.span,
            };
            if reported.contains(&span) {
                continue;
            }
            reported.push(span);
            out.push(
                finding(&Self::META, facts, span, format!("whole `{}` rows ({} columns) are loaded but only {} read", model.name, model.columns, attributes.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")))
                    .why("Every column of a wide model is read, transferred and hydrated for each row, for a handful of fields.")
                    .help(format!("Select only those columns: `select({0}.{1})`, `.options(load_only({0}.{1}))`, or Django `.only(...)`/`.values(...)`.", model.name, attributes[0]))
                    .evidence(&facts.module.path, lp.span.line, crate::rules::describe_loop(lp)),
            );
        }
    }
}

/// Eager loads whose relationship the function never reads on the rows
/// (or the entity) they load. Rows that leave the function (returned,
/// passed on, rendered, yielded) or are asked to act (`order.total_due()`)
/// may need the relationship elsewhere: not reported.
fn unused_eager_loads(facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
    let body = &facts.function.body;
    let mut judged: Vec<(&str, RowSource, EntityUses)> = Vec::new();
    for (var, at, rows) in &facts.eager_rows {
        let to = facts
            .bindings
            .iter()
            .find(|(n, span)| n == var && span.start > at.start)
            .map_or(u32::MAX, |(_, span)| span.start);
        let uses = entity_uses(body, var, at.end, to);
        judged.push((var, rows.clone(), uses));
    }
    for lp in &facts.loops {
        let (Some(rows), Some(item), Some(iter)) = (&lp.rows, lp.target_name(), lp.iter) else {
            continue;
        };
        // Loops over a local are judged with the local above.
        if iter.unawaited().as_name().is_some()
            || !crate::facts::rows::is_query_chain(iter)
            || rows.options.is_empty()
            || rows.narrowed
        {
            continue;
        }
        let items = match lp.element {
            Some(element) => entity_uses_in_comprehension(element, lp.conditions, item),
            None => entity_uses(lp.body, item, 0, u32::MAX),
        };
        let uses = EntityUses {
            items: Some(Box::new(items)),
            ..EntityUses::default()
        };
        judged.push(("", rows.clone(), uses));
    }
    let mut reported: Vec<weir_ir::Span> = Vec::new();
    for (var, rows, uses) in judged {
        if !uses.stays_passive() {
            continue;
        }
        let mut read: Vec<&str> = uses.attrs.iter().map(String::as_str).collect();
        if let Some(items) = &uses.items {
            read.extend(items.attrs.iter().map(String::as_str));
        }
        // Rows never looked at: another rule's business (or dead code).
        if read.is_empty() {
            continue;
        }
        // `trace.display_name`, a property of the model: it may read the
        // relationship, as a method would.
        let index = &facts.project.index;
        if let Some(class) = index.canonical_class(&rows.model)
            && read.iter().any(|attr| index.method(&class, attr).is_some())
        {
            continue;
        }
        let model = short(&rows.model);
        for option in &rows.options {
            // `contains_eager` fills a relationship from a join the query needs anyway.
            if option.loader == "contains_eager"
                || read.contains(&option.attr.as_str())
                || reported.contains(&option.span)
            {
                continue;
            }
            reported.push(option.span);
            let rows_text = if var.is_empty() {
                format!("the `{model}` rows")
            } else {
                format!("`{var}`")
            };
            out.push(
                finding(&OverFetching::META, facts, option.span, format!("`{}` loads `{}` with {rows_text}, but this function never reads it", option.loader, option.attr))
                    .severity(Severity::Low)
                    .why("An eager load that nothing reads is an extra query (`selectinload`, `prefetch_related`) or a wider join (`joinedload`, `select_related`) on every call, for data that is dropped.")
                    .help(format!("Remove the `{}` option, or load it only where `{}` is read.", option.loader, option.attr)),
            );
        }
    }
}

fn short(model: &str) -> &str {
    model.rsplit('.').next().unwrap_or(model)
}

/// Raw SQL text starting `SELECT *` (literal, `text(...)`, f-string).
fn selects_star(call: &CallFact<'_>) -> bool {
    let Some(arg) = call.statement.or(call.first_arg) else {
        return false;
    };
    let text = match &arg.kind {
        ExprKind::Literal(weir_ir::Literal::Str(s)) => s.as_str(),
        ExprKind::Template(template) => template.text.as_str(),
        ExprKind::Call(c) => match c.positional(0).map(|a| &a.kind) {
            Some(ExprKind::Literal(weir_ir::Literal::Str(s))) => s.as_str(),
            _ => return false,
        },
        _ => return false,
    };
    let normalized: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase();
    sql::sql_text_op(&normalized).is_some() && normalized.starts_with("SELECT *")
}
