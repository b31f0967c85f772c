use weir_ir::expr::CollectionKind;
use weir_ir::{Call, Expr, ExprKind, Span};

use crate::declare_rule;
use crate::facts::uses::uses_after;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};

declare_rule! {
    /// ## What it does
    /// Finds lists built only to be consumed at once: a list comprehension
    /// passed to `any`, `all`, `sum`, `min`, `max`, `len`, `set`,
    /// `frozenset`, `tuple` or `str.join`; and `list(x)` of a list, dict or
    /// set that is only iterated (`for item in list(items)`, `sorted(list(x))`).
    ///
    /// ## Why is this bad
    /// The whole list is allocated and filled before the consumer starts:
    /// memory for every element, and no short-circuit for `any`/`all`. A
    /// generator expression (or the collection itself) gives the same result
    /// without the intermediate list.
    ///
    /// ## Example
    /// ```python
    /// def has_overdue(invoices):
    ///     return any([invoice.is_overdue() for invoice in invoices])
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// def has_overdue(invoices):
    ///     return any(invoice.is_overdue() for invoice in invoices)
    /// ```
    ///
    /// ## Known limitations
    /// `list(x)` is reported only when `x` is known to be a list, dict or set
    /// built in the function (or a parameter annotated so) and the loop does
    /// not change `x`: copying before mutating while iterating is correct.
    pub struct UnnecessaryListAllocation;
    id: "RT-02",
    name: "unnecessary-list-allocation",
    category: Category::RuntimePerformance,
    summary: "a list built only to be consumed at once",
    severity: Severity::Low,
    job: None,
    init: Some(Severity::Low),
    effort: Effort::S,
    languages: PYTHON,
    sources: &[Source { title: "Python: Generator expressions", url: "https://docs.python.org/3/reference/expressions.html#generator-expressions", pack: None }],
}

/// Builtins that consume an iterable in one pass.
const CONSUMERS: &[&str] = &[
    "builtins.any",
    "builtins.all",
    "builtins.sum",
    "builtins.min",
    "builtins.max",
    "builtins.len",
    "builtins.set",
    "builtins.frozenset",
    "builtins.tuple",
];
/// Consumers for which `list(x)` around a collection adds nothing.
const LIST_WRAPPER_CONSUMERS: &[&str] = &[
    "builtins.sorted",
    "builtins.set",
    "builtins.tuple",
    "builtins.len",
    "builtins.frozenset",
];

impl Rule for UnnecessaryListAllocation {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        let mut found: Vec<(Span, String, &'static str)> = Vec::new();
        facts.call_exprs().iter().for_each(|&e| {
            let Some(call) = e.as_call() else { return };
            let consumer = call.qualified.as_deref().unwrap_or_default();
            // `sum([...], start)`, `max([...], default=0)`: the extra arguments do not need the list.
            let first = if matches!(consumer, "builtins.sum" | "builtins.min" | "builtins.max") {
                call.positional(0)
            } else {
                single_arg(call)
            };
            let Some(arg) = first else { return };
            let is_join = call.method_name() == Some("join")
                && call.receiver().is_some_and(|r| r.as_str().is_some());
            if (CONSUMERS.contains(&consumer) || is_join) && is_list_comprehension(arg) {
                let name = if is_join {
                    "str.join".to_string()
                } else {
                    consumer.trim_start_matches("builtins.").to_string()
                };
                found.push((
                    e.span,
                    format!("`{name}([...])` builds a list only to consume it"),
                    "Pass a generator expression instead: drop the square brackets.",
                ));
            } else if LIST_WRAPPER_CONSUMERS.contains(&consumer)
                && is_list_of_collection(facts, arg)
            {
                found.push((
                    e.span,
                    format!(
                        "`{}(list(...))` copies a collection into a list first",
                        consumer.trim_start_matches("builtins.")
                    ),
                    "Pass the collection itself: the consumer iterates it directly.",
                ));
            }
        });
        for lp in facts.loops.iter().filter(|l| !l.is_comprehension) {
            let Some(iter) = lp.iter else { continue };
            let Some(call) = iter
                .as_call()
                .filter(|c| c.qualified.as_deref() == Some("builtins.list"))
            else {
                continue;
            };
            let Some(source) = single_arg(call).and_then(Expr::as_name) else {
                continue;
            };
            if !facts.collections.contains(source) {
                continue;
            }
            let uses = uses_after(lp.body, source, lp.span.start);
            if uses.mutated || uses.escapes {
                continue;
            }
            found.push((
                iter.span,
                format!("`list({source})` copies `{source}` only to iterate it"),
                "Iterate the collection directly: the loop does not change it.",
            ));
        }
        for (span, message, help) in found {
            let hot = facts
                .loops
                .iter()
                .any(|l| l.span.contains(&span) && l.span != span);
            let mut f = finding(&Self::META, facts, span, message)
                .why("The intermediate list costs an allocation and a full pass before the consumer starts (and loses any/all short-circuiting).")
                .help(help);
            if hot && f.severity == Severity::Low && !facts.context.lowers_severity() {
                f = f.severity(Severity::Medium);
            }
            out.push(f);
        }
    }
}

fn single_arg(call: &Call) -> Option<&Expr> {
    (call.args.len() == 1).then(|| call.positional(0)).flatten()
}

fn is_list_comprehension(expr: &Expr) -> bool {
    matches!(&expr.kind, ExprKind::Comprehension(comp) if comp.kind == CollectionKind::List)
}

/// `list(items)` where `items` is a list, dict or set of this function.
fn is_list_of_collection(facts: &Cx<'_, '_>, expr: &Expr) -> bool {
    let Some(call) = expr
        .as_call()
        .filter(|c| c.qualified.as_deref() == Some("builtins.list"))
    else {
        return false;
    };
    single_arg(call)
        .and_then(Expr::as_name)
        .is_some_and(|n| facts.collections.contains(n))
}
