use crate::declare_rule;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::call_text;
use crate::rules::redundant_fetch::{held_entity_reloads, short};

declare_rule! {
    /// ## What it does
    /// Finds a call that hands a function the id of an entity the caller
    /// already holds (`order.id`), where that function loads the same model
    /// by the id only to read a few of its fields (`order.number`,
    /// `customer.points`): values the caller could have passed, or read
    /// itself. Followed across files through the project's call graph.
    ///
    /// ## Why is this bad
    /// A database round trip to resolve values already in memory. A
    /// `select()` always runs SQL; even `session.get` does once the session
    /// has expired its objects or when the callee opens its own session.
    /// When a function takes ids everywhere, every caller pays one extra
    /// query per call, and inside loops one per item.
    ///
    /// ## Example
    /// ```python
    /// from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
    ///
    /// class Base(DeclarativeBase):
    ///     pass
    ///
    /// class Customer(Base):
    ///     __tablename__ = "customers"
    ///     id: Mapped[int] = mapped_column(primary_key=True)
    ///     email: Mapped[str]
    ///
    /// def mail_to(session: Session, customer_id: int) -> str:
    ///     customer = session.get(Customer, customer_id)
    ///     return f"<{customer.email}>"
    ///
    /// def notify(session: Session, customer_id: int) -> str:
    ///     customer = session.get(Customer, customer_id)
    ///     if customer.email.endswith(".invalid"):
    ///         return ""
    ///     return mail_to(session, customer.id)
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
    ///
    /// class Base(DeclarativeBase):
    ///     pass
    ///
    /// class Customer(Base):
    ///     __tablename__ = "customers"
    ///     id: Mapped[int] = mapped_column(primary_key=True)
    ///     email: Mapped[str]
    ///
    /// def mail_to(customer: Customer) -> str:
    ///     return f"<{customer.email}>"
    ///
    /// def notify(session: Session, customer_id: int) -> str:
    ///     customer = session.get(Customer, customer_id)
    ///     if customer.email.endswith(".invalid"):
    ///         return ""
    ///     return mail_to(customer)
    /// ```
    /// Pass the object, or the values the callee needs.
    ///
    /// ## Known limitations
    /// The callee must load by the parameter itself (one call away) and keep
    /// the entity to itself; a callee that changes, returns or passes on the
    /// entity it reloads is QE-01's. Locking reloads (`with_for_update()`,
    /// `select_for_update()`) are deliberate and not reported. After a
    /// commit in the caller, with `expire_on_commit` on, the held object is
    /// expired and the reload may be wanted: reported LOW, and said so.
    /// Not reported in tests, which read stored state back on purpose.
    pub struct UnnecessaryResolve;
    id: "QE-03",
    name: "unnecessary-resolve",
    category: Category::QueryEfficiency,
    summary: "a callee loads an entity by id to read fields its caller already holds",
    severity: Severity::Medium,
    job: None,
    init: None,
    effort: Effort::S,
    languages: PYTHON,
    sources: &[
        Source { title: "SQLAlchemy: Session.get() and the identity map", url: "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#get-by-primary-key", pack: Some("sqlalchemy") },
        Source { title: "SQLAlchemy: Committing (expire_on_commit)", url: "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#committing", pack: Some("sqlalchemy") },
        Source { title: "Django: QuerySet.get()", url: "https://docs.djangoproject.com/en/stable/ref/models/querysets/#get", pack: Some("django") },
    ],
}

impl Rule for UnnecessaryResolve {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        // Tests read the database back on purpose, to see what was stored.
        if facts.context == crate::facts::ExecContext::Test {
            return;
        }
        for reload in held_entity_reloads(facts) {
            let Some(reads) = &reload.load.reads else {
                continue;
            };
            let (holder, model) = (reload.holder, short(&reload.load.model));
            let fields = reads
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let f = finding(
                &Self::META,
                facts,
                reload.call.site.span,
                format!(
                    "{} looks `{model}` up again by `{holder}.{}` to read {fields}, which `{holder}` already holds",
                    call_text(reload.call),
                    reload.attr
                ),
            )
            .why(format!(
                "The callee resolves values from the database that its caller has in memory: one more query per call.{}",
                reload.certainty()
            ))
            .help(format!(
                "Pass `{holder}` (or the values {fields}) instead of its id."
            ))
            .evidence(
                &facts.module.path,
                reload.held_line,
                format!("`{holder}` is a loaded `{model}`"),
            )
            .evidence(
                &reload.load.path,
                reload.load.line,
                format!("{} loads it again to read {fields}", reload.load.label),
            );
            out.push(reload.lowered_after_commit(f, &facts.module.path));
        }
    }
}
