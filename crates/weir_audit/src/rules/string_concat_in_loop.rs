use weir_ir::{ExprKind, Literal};

use crate::declare_rule;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::describe_loop;

declare_rule! {
    /// ## What it does
    /// Finds a string grown with `+=` inside a loop, when the variable is
    /// known to be a string (assigned a literal, an f-string or `str(...)`,
    /// or grown with string literals).
    ///
    /// ## Why is this bad
    /// Strings are immutable: each `+=` may copy everything built so far, so
    /// the loop can become quadratic in the size of the output.
    ///
    /// ## Example
    /// ```python
    /// def render(rows):
    ///     out = ""
    ///     for row in rows:
    ///         out += f"{row.id},{row.name}\n"
    ///     return out
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// def render(rows):
    ///     return "".join(f"{row.id},{row.name}\n" for row in rows)
    /// ```
    ///
    /// ## Known limitations
    /// Strings whose type is only known from annotations of other functions
    /// are not tracked.
    pub struct StringConcatInLoop;
    id: "RT-04",
    name: "string-concat-in-loop",
    category: Category::RuntimePerformance,
    summary: "string built with += in a loop",
    severity: Severity::Low,
    job: None,
    init: Some(Severity::Low),
    effort: Effort::S,
    languages: PYTHON,
    sources: &[Source { title: "Python FAQ: most efficient way to concatenate many strings", url: "https://docs.python.org/3/faq/programming.html#what-is-the-most-efficient-way-to-concatenate-many-strings-together", pack: None }],
}

impl Rule for StringConcatInLoop {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        for acc in &facts.accumulations {
            let Some(index) = acc.site.innermost_loop() else {
                continue;
            };
            let is_str_value = matches!(
                acc.value.kind,
                ExprKind::Literal(Literal::Str(_)) | ExprKind::Template { .. }
            );
            if !facts.strings.contains_key(&acc.var) && !is_str_value {
                continue;
            }
            let lp = &facts.loops[index];
            // Re-initialised inside the loop (or the loop variable itself):
            // it never grows across iterations.
            let reset_each_iteration = acc
                .bound_at
                .is_some_and(|b| b == lp.span || lp.body.iter().any(|stmt| stmt.span == b));
            if reset_each_iteration {
                continue;
            }
            out.push(
                finding(&Self::META, facts, acc.site.span, format!("string `{}` is grown with `+=` on every iteration of the {}", acc.var, describe_loop(lp)))
                    .why("Each concatenation may copy the whole string built so far, making the loop quadratic in the output size.")
                    .help("Collect the pieces in a list and `\"\".join(parts)` once, or write to an `io.StringIO`.")
                    .evidence(&facts.module.path, lp.span.line, describe_loop(lp)),
            );
        }
    }
}
