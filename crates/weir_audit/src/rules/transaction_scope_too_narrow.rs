use crate::collections::HashSet;

use weir_ir::{Expr, ExprKind, Span, Stmt, StmtKind};

use crate::declare_rule;
use crate::facts::ExecContext;
use crate::facts::regions::attribute_writes;
use crate::knowledge::units_of_work::{STATUS_ATTRIBUTES, is_audit_record};
use crate::knowledge::{Effect, ObjKind, QueryOp};
use crate::project::models::{Model, Orm};
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};

declare_rule! {
    /// ## What it does
    /// Finds one logical change split over two transactions:
    /// - a parent row inserted and committed, then its children (rows of a
    ///   model that references the parent by foreign key or relationship,
    ///   built from the parent object) inserted in a later transaction
    ///   (HIGH);
    /// - a status change committed, then the audit, history, event or outbox
    ///   row that records it written in a later transaction (MEDIUM).
    ///
    /// SQLAlchemy: a `commit()` (directly, or in a helper that commits)
    /// between the two writes. Django: both writes made with the ORM's
    /// autocommit (no `transaction.atomic`, no `ATOMIC_REQUESTS`) in a view
    /// or a task, where each statement commits on its own.
    ///
    /// ## Why is this bad
    /// If the process dies, the request times out or the second write fails
    /// between the two commits, the database keeps half the change: an order
    /// without its lines, a job marked cancelled with no audit entry. Every
    /// reader can also see the half-done state in between.
    ///
    /// ## Example
    /// ```python
    /// # file: app/models.py
    /// from sqlalchemy import ForeignKey
    /// from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
    ///
    /// class Base(DeclarativeBase):
    ///     pass
    ///
    /// class Order(Base):
    ///     __tablename__ = "orders"
    ///     id: Mapped[int] = mapped_column(primary_key=True)
    ///
    /// class OrderLine(Base):
    ///     __tablename__ = "order_lines"
    ///     id: Mapped[int] = mapped_column(primary_key=True)
    ///     order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    /// # file: app/checkout.py
    /// from sqlalchemy.orm import Session
    /// from app.models import Order, OrderLine
    ///
    /// def place_order(session: Session, cart):
    ///     order = Order(customer_id=cart.customer_id)
    ///     session.add(order)
    ///     session.commit()
    ///     for item in cart.items:
    ///         session.add(OrderLine(order_id=order.id, sku=item.sku))
    ///     session.commit()
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// # file: app/models.py
    /// from sqlalchemy import ForeignKey
    /// from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
    ///
    /// class Base(DeclarativeBase):
    ///     pass
    ///
    /// class Order(Base):
    ///     __tablename__ = "orders"
    ///     id: Mapped[int] = mapped_column(primary_key=True)
    ///
    /// class OrderLine(Base):
    ///     __tablename__ = "order_lines"
    ///     id: Mapped[int] = mapped_column(primary_key=True)
    ///     order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    /// # file: app/checkout.py
    /// from sqlalchemy.orm import Session
    /// from app.models import Order, OrderLine
    ///
    /// def place_order(session: Session, cart):
    ///     order = Order(customer_id=cart.customer_id)
    ///     session.add(order)
    ///     session.flush()
    ///     for item in cart.items:
    ///         session.add(OrderLine(order_id=order.id, sku=item.sku))
    ///     session.commit()
    /// ```
    /// `flush()` sends the INSERT and fills `order.id` without committing;
    /// or wrap both writes in `with session.begin():` /
    /// `transaction.atomic()`.
    ///
    /// ## Known limitations
    /// The two writes must be in one function, the child built from the
    /// parent object (`order.id`, `order=order`). Not reported: children
    /// written in a loop that itself commits (batch jobs committing every N
    /// items), commits in an error handler or a branch the second write is
    /// not in, Django helpers that may run inside a caller's `atomic` (only
    /// views and tasks are checked). Audit and status words come from a
    /// table (`knowledge/units_of_work.rs`).
    pub struct TransactionScopeTooNarrow;
    id: "TX-03",
    name: "transaction-scope-too-narrow",
    category: Category::TransactionCorrectness,
    summary: "one logical change split over two commits (parent then children, status then audit row)",
    severity: Severity::High,
    job: None,
    init: None,
    effort: Effort::S,
    languages: PYTHON,
    sources: &[
        Source { title: "SQLAlchemy: Transactions and Connection Management (Session)", url: "https://docs.sqlalchemy.org/en/20/orm/session_transaction.html", pack: Some("sqlalchemy") },
        Source { title: "Django: Database transactions", url: "https://docs.djangoproject.com/en/stable/topics/db/transactions/", pack: Some("django") },
    ],
}

/// What a write does, for pairing.
enum WriteKind<'m> {
    /// A new row of `model`, held in `var` when assigned.
    Insert {
        model: &'m Model,
        var: Option<String>,
    },
    /// An entity's status set: `order.status = …`, `update(...).values(status=…)`.
    Status,
    /// Django `obj.save()` of a loaded object: commits whatever changed.
    Save,
}

struct Write<'m> {
    kind: WriteKind<'m>,
    span: Span,
    /// Locals the write reads or writes (`order` in `OrderLine(order=order)`).
    names: HashSet<String>,
    text: String,
    /// A Django ORM call: it commits on its own outside `atomic`.
    django_call: bool,
}

/// A point where a transaction ends.
struct CommitPoint {
    span: Span,
    text: String,
}

fn names_in(expr: &Expr, out: &mut HashSet<String>) {
    weir_ir::visit::walk_expr(expr, &mut |e| {
        if let ExprKind::Name { id } = &e.kind {
            out.insert(id.to_string());
        }
    });
}

/// The project model a constructor call builds: `Order(...)`.
fn constructed<'m>(cx: &'m Cx<'_, '_>, expr: &Expr) -> Option<&'m Model> {
    let call = expr.unawaited().as_call()?;
    let name = cx
        .module
        .resolve_expr(&call.callee)
        .or_else(|| call.callee.dotted())?;
    cx.project.models.get(&name)
}

/// `Order.objects.create(...)` / `bulk_create(...)` / `acreate(...)`: the model.
fn manager_model<'m>(cx: &'m Cx<'_, '_>, call: &weir_ir::Call) -> Option<&'m Model> {
    let ExprKind::Attribute { value, .. } = &call.callee.kind else {
        return None;
    };
    let ExprKind::Attribute { value: base, attr } = &value.kind else {
        return None;
    };
    if attr != "objects" {
        return None;
    }
    let name = cx.module.resolve_expr(base).or_else(|| base.dotted())?;
    cx.project
        .models
        .get(&name)
        .filter(|m| m.orm == Orm::Django)
}

/// The local a statement assigns the call at `span` to: `order = …create(…)`.
fn assigned_to(cx: &Cx<'_, '_>, span: Span) -> Option<String> {
    let mut found = None;
    weir_ir::visit::walk_stmts(&cx.function.body, &mut |s: &Stmt| {
        if let StmtKind::Assign {
            targets,
            value: Some(value),
            ..
        } = &s.kind
            && value.span.start <= span.start
            && span.end <= value.span.end
            && let Some(name) = targets.first().and_then(Expr::as_name)
        {
            found = Some(name.to_string());
        }
    });
    found
}

/// The value last assigned to `var` before `offset`.
fn bound_value<'a>(cx: &'a Cx<'_, '_>, var: &str, offset: u32) -> Option<&'a Expr> {
    let bound = cx.binding_before(var, offset)?;
    let mut value = None;
    weir_ir::visit::walk_stmts(&cx.function.body, &mut |s: &Stmt| {
        if s.span == bound
            && let StmtKind::Assign { value: Some(v), .. } = &s.kind
        {
            value = Some(v);
        }
    });
    value
}

fn writes<'m>(cx: &'m Cx<'_, '_>) -> Vec<Write<'m>> {
    let mut out = Vec::new();
    // Receivers known to be ORM sessions here: `add_all` is read on them.
    let sessions: HashSet<&str> = cx
        .calls
        .iter()
        .filter(|c| {
            c.receiver_kind
                .is_some_and(|t| matches!(t.kind, ObjKind::Session | ObjKind::AsyncSession))
        })
        .filter_map(|c| c.receiver.as_deref())
        .collect();
    let mut seen = HashSet::default();
    cx.call_exprs().iter().for_each(|&expr| {
        let Some(call) = expr.as_call() else { return };
        // Most calls are none of these: decide before any text is built.
        let method = call.method_name();
        if !matches!(
            method,
            Some(
                "add"
                    | "add_all"
                    | "create"
                    | "acreate"
                    | "bulk_create"
                    | "abulk_create"
                    | "save"
                    | "asave"
            )
        ) {
            return;
        }
        if !seen.insert(expr.span) {
            return;
        }
        let receiver = call.receiver().and_then(Expr::dotted);
        let on_session = receiver.as_deref().is_some_and(|r| sessions.contains(r));
        let text = crate::rules::short_text(expr).unwrap_or_else(|| "the write".into());
        match method {
            Some("add" | "add_all") if on_session => {
                let Some(arg) = call.positional(0) else {
                    return;
                };
                let (value, var) = match arg.as_name() {
                    Some(name) => (
                        bound_value(cx, name, expr.span.start),
                        Some(name.to_string()),
                    ),
                    None => (Some(arg), None),
                };
                let Some(value) = value else { return };
                let mut model = constructed(cx, value);
                if model.is_none() {
                    // `add_all([OrderLine(...) for ...])`
                    weir_ir::visit::walk_expr(value, &mut |e| {
                        if model.is_none() && e.as_call().is_some() {
                            model = constructed(cx, e);
                        }
                    });
                }
                let Some(model) = model else { return };
                let mut names = HashSet::default();
                names_in(value, &mut names);
                if let Some(v) = &var {
                    names.insert(v.clone());
                }
                out.push(Write {
                    kind: WriteKind::Insert { model, var },
                    span: expr.span,
                    names,
                    text: format!("{text} of a new `{}`", model.name),
                    django_call: false,
                });
            }
            Some("create" | "acreate" | "bulk_create" | "abulk_create") => {
                let Some(model) = manager_model(cx, call) else {
                    return;
                };
                let mut names = HashSet::default();
                for arg in &call.args {
                    names_in(&arg.value, &mut names);
                }
                out.push(Write {
                    kind: WriteKind::Insert {
                        model,
                        var: assigned_to(cx, expr.span),
                    },
                    span: expr.span,
                    names,
                    text,
                    django_call: true,
                });
            }
            Some("save" | "asave") => {
                // `line = OrderLine(order=order); line.save()`: an insert.
                let Some(var) = receiver.as_deref().filter(|r| !r.contains('.')) else {
                    return;
                };
                let value = bound_value(cx, var, expr.span.start);
                let model = value
                    .and_then(|v| constructed(cx, v))
                    .filter(|m| m.orm == Orm::Django);
                let mut names = HashSet::from_iter([var.to_string()]);
                match model {
                    Some(model) => {
                        if let Some(v) = value {
                            names_in(v, &mut names);
                        }
                        out.push(Write {
                            kind: WriteKind::Insert {
                                model,
                                var: Some(var.to_string()),
                            },
                            span: expr.span,
                            names,
                            text,
                            django_call: true,
                        });
                    }
                    None if cx.project.knowledge.is_active("django") => {
                        // Saving a loaded object: commits its changes (a
                        // status change is read from the attribute writes).
                        out.push(Write {
                            kind: WriteKind::Save,
                            span: expr.span,
                            names,
                            text,
                            django_call: true,
                        });
                    }
                    None => {}
                }
            }
            _ => {}
        }
    });
    // Status changes: `order.status = …`, and UPDATE statements setting one.
    for w in attribute_writes(cx) {
        if STATUS_ATTRIBUTES.contains(&w.attr.as_str()) {
            out.push(Write {
                kind: WriteKind::Status,
                span: w.span,
                names: HashSet::from_iter([w.var.clone()]),
                text: format!("`{}.{} = …`", w.var, w.attr),
                django_call: false,
            });
        }
    }
    for call in &cx.calls {
        if call.op != Some(QueryOp::Update) || call.site.in_lambda {
            continue;
        }
        let mut sets_status = false;
        weir_ir::visit::walk_expr(call.statement.unwrap_or(call.expr), &mut |e| {
            if let Some(c) = e.as_call()
                && c.args.iter().any(|a| {
                    a.name
                        .as_deref()
                        .is_some_and(|n| STATUS_ATTRIBUTES.contains(&n))
                })
            {
                sets_status = true;
            }
        });
        if sets_status {
            let mut names = HashSet::default();
            names_in(call.statement.unwrap_or(call.expr), &mut names);
            names_in(call.expr, &mut names);
            out.push(Write {
                kind: WriteKind::Status,
                span: call.site.span,
                names,
                text: call.text(),
                django_call: cx.project.knowledge.is_active("django")
                    && call.call.and_then(|c| c.method_name()) == Some("update"),
            });
        }
    }
    out.sort_by_key(|w| w.span.start);
    out
}

/// Spans of the `if`/`try`/loop statements of the function.
fn branches(cx: &Cx<'_, '_>) -> Vec<Span> {
    let mut out = Vec::new();
    weir_ir::visit::walk_stmts(&cx.function.body, &mut |s: &Stmt| {
        if matches!(
            s.kind,
            StmtKind::If { .. }
                | StmtKind::Try { .. }
                | StmtKind::Loop(_)
                | StmtKind::Switch { .. }
        ) {
            out.push(s.span);
        }
    });
    out
}

fn inside(outer: Span, inner: Span) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

impl Rule for TransactionScopeTooNarrow {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        if matches!(cx.context, ExecContext::Test | ExecContext::Migration) {
            return;
        }
        let writes = writes(cx);
        if writes.len() < 2 {
            return;
        }
        let branches = branches(cx);
        let regions = cx.regions(cx.summaries);
        let in_loop = |span: Span| {
            cx.loops
                .iter()
                .filter(|l| !l.is_comprehension && inside(l.span, span) && l.span != span)
                .map(|l| l.span)
                .min_by_key(|s| s.end - s.start)
        };
        // Commits: explicit, or through a project helper that commits.
        let commits: Vec<CommitPoint> = cx
            .calls
            .iter()
            .filter(|c| !c.site.in_lambda)
            .filter(|c| {
                c.effect == Some(Effect::Commit)
                    || (c.effect.is_none()
                        && cx
                            .summaries
                            .of_call(c)
                            .is_some_and(|s| s.commits_at(c).is_some()))
            })
            .map(|c| CommitPoint {
                span: c.site.span,
                text: c.text(),
            })
            .collect();
        let commit_in = |span: Span| commits.iter().any(|k| inside(span, k.span));
        // Django autocommit is read only where nothing can wrap the view or
        // task in a transaction.
        let entry = matches!(
            cx.context,
            ExecContext::RequestHandler | ExecContext::BackgroundJob
        ) && !wrapped_in_transaction(cx);
        let mut reported: Vec<u32> = Vec::new();
        for (i, first) in writes.iter().enumerate() {
            for second in &writes[i + 1..] {
                if second.span.start <= first.span.end {
                    continue;
                }
                let Some((facet, parent_var)) = pair(cx, first, second) else {
                    continue;
                };
                let mentioned = match &parent_var {
                    Some(v) => second.names.contains(v),
                    None => first.names.iter().any(|n| second.names.contains(n)),
                };
                if !mentioned {
                    continue;
                }
                // Batch jobs commit children every N items by design.
                if let Some(lp) = in_loop(second.span)
                    && commit_in(lp)
                {
                    continue;
                }
                let split = commits.iter().find(|k| {
                    k.span.start > first.span.end
                        && k.span.end < second.span.start
                        && !branches
                            .iter()
                            .any(|b| inside(*b, k.span) && !inside(*b, second.span))
                        && regions.at(k.span).is_none_or(|r| !r.is_atomic_by_design())
                });
                let autocommit = entry
                    && first.django_call
                    && second.django_call
                    && regions.at(first.span).is_none()
                    && regions.at(second.span).is_none();
                // The status change committed by a later `save()`.
                let autocommit_status = entry
                    && matches!(first.kind, WriteKind::Status)
                    && !first.django_call
                    && second.django_call
                    && regions.at(second.span).is_none()
                    && writes.iter().any(|w| {
                        w.django_call
                            && w.span.start > first.span.end
                            && w.span.end < second.span.start
                            && regions.at(w.span).is_none()
                            && w.names.iter().any(|n| first.names.contains(n))
                    });
                let (at, how) = match (split, autocommit || autocommit_status) {
                    (Some(k), _) => (k.span, format!("{} commits", k.text)),
                    (None, true) => (
                        second.span,
                        format!(
                            "Django's autocommit (no `transaction.atomic` around the {}) commits",
                            if cx.context == ExecContext::BackgroundJob {
                                "task"
                            } else {
                                "view"
                            }
                        ),
                    ),
                    (None, false) => continue,
                };
                if reported.contains(&at.start) {
                    continue;
                }
                reported.push(at.start);
                let (severity, message, why) = match facet {
                    Facet::ParentChild => (
                        Self::META.severity_in(cx.context),
                        format!(
                            "{how} the parent row ({}) before its children are written ({}): one change split over two transactions",
                            first.text, second.text
                        ),
                        "A failure between the commits leaves a parent without its children, and readers see the half-written state.",
                    ),
                    Facet::Audit => (
                        Self::META.severity_in(cx.context).down(),
                        format!(
                            "{how} the status change ({}) before the record of it is written ({}): one change split over two transactions",
                            first.text, second.text
                        ),
                        "A failure between the commits leaves the change without its audit/history/event row, or an outbox message never sent.",
                    ),
                };
                out.push(
                    finding(&Self::META, cx, at, message)
                        .severity(severity)
                        .why(why)
                        .help("Write both in one transaction: `flush()` instead of the first `commit()` when an id is needed, or wrap them in `with session.begin():` / `transaction.atomic()`.")
                        .evidence(&cx.module.path, first.span.line, format!("first write: {}", first.text))
                        .evidence(&cx.module.path, second.span.line, format!("written in a later transaction: {}", second.text)),
                );
            }
        }
    }
}

/// A project decorator that opens a transaction around the function
/// (`@traced_atomic_transaction()`, `@atomic_with_retry`): its name says so.
fn wrapped_in_transaction(cx: &Cx<'_, '_>) -> bool {
    cx.function.decorators.iter().any(|d| {
        let target = d.as_call().map_or(d, |c| &c.callee);
        target.dotted().is_some_and(|name| {
            let name = name.to_ascii_lowercase();
            name.contains("atomic") || name.contains("transaction")
        })
    })
}

#[derive(Clone, Copy)]
enum Facet {
    ParentChild,
    Audit,
}

/// The two writes belong together: a parent and a row that references it
/// (parent/child), or a status change and a record of it (audit). With the
/// parent's local, which the second write must use.
fn pair(cx: &Cx<'_, '_>, first: &Write<'_>, second: &Write<'_>) -> Option<(Facet, Option<String>)> {
    let WriteKind::Insert { model: child, .. } = &second.kind else {
        return None;
    };
    let audit = is_audit_record(&child.name, child.table.as_deref());
    match &first.kind {
        WriteKind::Insert {
            model: parent,
            var: Some(var),
        } if cx.project.models.references(child, parent) => Some((
            if audit {
                Facet::Audit
            } else {
                Facet::ParentChild
            },
            Some(var.clone()),
        )),
        WriteKind::Status if audit => Some((Facet::Audit, None)),
        _ => None,
    }
}
