use weir_ir::{Expr, ExprKind};

use crate::declare_rule;
use crate::facts::uses::{captured_by_closure, uses_after};
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};

declare_rule! {
    /// ## What it does
    /// Finds copies of a list, dict or set (`list(x)`, `dict(x)`, `set(x)`,
    /// `x.copy()`, `copy.copy(x)`, `x[:]`) whose result is only read: the
    /// copy is never changed, never leaves the function, and the original is
    /// not changed afterwards either.
    ///
    /// ## Why is this bad
    /// The copy costs an allocation and a pass over every element, for
    /// nothing: reading the original gives the same values.
    ///
    /// ## Example
    /// ```python
    /// def total(prices: list[float]) -> float:
    ///     snapshot = list(prices)
    ///     return sum(snapshot)
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// def total(prices: list[float]) -> float:
    ///     return sum(prices)
    /// ```
    ///
    /// ## Known limitations
    /// Only copies of collections known to be a list, dict or set (built in
    /// the function, or a parameter annotated so) are checked: `list(x)` of
    /// an iterator or generator is a materialisation, not a copy.
    pub struct RedundantCopy;
    id: "RT-06",
    name: "redundant-copy",
    category: Category::RuntimePerformance,
    summary: "a collection copied but only read",
    severity: Severity::Low,
    job: None,
    init: Some(Severity::Low),
    effort: Effort::S,
    languages: PYTHON,
    sources: &[Source { title: "Python: copy — shallow and deep copy operations", url: "https://docs.python.org/3/library/copy.html", pack: None }],
}

impl Rule for RedundantCopy {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        let body = &facts.function.body;
        let mut found = Vec::new();
        weir_ir::visit::walk_stmts(body, &mut |stmt| {
            let Some((targets, value)) = stmt.plain_assign() else {
                return;
            };
            let [target] = targets else { return };
            let Some(copy) = target.as_name() else { return };
            let Some(source) = copied_collection(value) else {
                return;
            };
            if !facts.collections.contains(source) || copy == source {
                return;
            }
            let after = stmt.span.end;
            let copy_uses = uses_after(body, copy, after);
            let source_uses = uses_after(body, source, after);
            let rebound = facts.bindings.iter().filter(|(n, _)| n == copy).count() > 1;
            if copy_uses.mutated
                || copy_uses.escapes
                || rebound
                || source_uses.mutated
                || source_uses.escapes
            {
                return;
            }
            if captured_by_closure(facts.module, body, copy)
                || captured_by_closure(facts.module, body, source)
            {
                return;
            }
            found.push((value.span, copy.to_string(), source.to_string()));
        });
        // `for k, v in dict(settings).items():` — a copy made only to iterate
        // (`for x in list(items)` is RT-02's case).
        for lp in facts.loops.iter().filter(|l| !l.is_comprehension) {
            let Some(iter) = lp.iter else { continue };
            let copy_expr = crate::facts::loops::dict_view_of(iter).or_else(|| {
                iter.as_call()
                    .filter(|c| c.qualified.as_deref() != Some("builtins.list"))
                    .map(|_| iter)
            });
            let Some(copy_expr) = copy_expr else { continue };
            let Some(source) = copied_collection(copy_expr) else {
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
                copy_expr.span,
                "the loop's iterable".to_string(),
                source.to_string(),
            ));
        }
        for (span, copy, source) in found {
            out.push(
                finding(&Self::META, facts, span, if copy.starts_with("the loop") {
                    format!("the loop iterates a copy of `{source}` that it only reads")
                } else {
                    format!("`{copy}` is a copy of `{source}` that is only read")
                })
                    .why("Copying allocates and walks every element; neither the copy nor the original changes afterwards, so the copy buys nothing.")
                    .help(format!("Read `{source}` directly and drop the copy.")),
            );
        }
    }
}

/// The name copied by `list(x)`, `dict(x)`, `set(x)`, `x.copy()`, `copy.copy(x)`, `x[:]`.
fn copied_collection(value: &Expr) -> Option<&str> {
    match &value.kind {
        ExprKind::Call(call) => {
            let q = call.qualified.as_deref();
            if matches!(
                q,
                Some("builtins.list" | "builtins.dict" | "builtins.set" | "copy.copy")
            ) && call.args.len() == 1
            {
                return call.positional(0)?.as_name();
            }
            if call.method_name() == Some("copy") && call.args.is_empty() {
                return call.receiver()?.as_name();
            }
            None
        }
        ExprKind::Subscript { value, index } => {
            let is_full_slice =
                matches!(&index.kind, ExprKind::Other { children } if children.is_empty());
            if is_full_slice { value.as_name() } else { None }
        }
        _ => None,
    }
}
