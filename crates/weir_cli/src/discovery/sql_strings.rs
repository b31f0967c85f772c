//! The SQL text Python code hands to the database, from the IR: the
//! argument of `op.execute(…)`, `RunSQL(…)`, `DDL(…)`, `execute(…)`,
//! followed through locals assigned once, module constants, `text(…)`,
//! lists, and f-strings whose values are constants or the items of a loop
//! over a literal list (`for table in ("users", "uploads"): op.execute(f"…
//! ON {table} …")` is one statement per table).

use std::collections::HashMap;

use weir_ir::visit::walk_stmts;
use weir_ir::{Expr, ExprKind, Function, Module, Stmt, StmtKind};

use super::resolve::{single_local_assignment, top_level_value};

/// Methods whose first argument is SQL that runs.
const EXECUTORS: &[&str] = &["execute", "executescript", "exec_driver_sql"];
/// Texts one f-string may expand to.
const MAX_EXPANSIONS: usize = 32;
/// Names and wrappers followed before giving up.
const MAX_DEPTH: u8 = 4;

/// The SQL argument of a call that runs it: `RunSQL(sql, reverse_sql)` (not
/// the reverse), `execute(sql)` and friends, `DDL(sql)`.
pub fn executed_sql(expr: &Expr) -> Option<&Expr> {
    let call = expr.as_call()?;
    let callee = call.qualified.as_deref().unwrap_or_default();
    if callee.ends_with("RunSQL") || call.method_name() == Some("RunSQL") {
        return call.keyword("sql").or_else(|| call.positional(0));
    }
    if EXECUTORS.contains(&call.method_name().unwrap_or_default()) || callee.ends_with(".DDL") {
        return call.positional(0).or_else(|| call.keyword("sql"));
    }
    None
}

/// Where an SQL argument is written: its names are locals of `function`
/// (assigned once), loop variables over literal lists, or constants of
/// `module`.
pub struct Scope<'m> {
    module: &'m Module,
    function: Option<&'m Function>,
    loops: HashMap<&'m str, Vec<String>>,
}

impl<'m> Scope<'m> {
    pub fn new(module: &'m Module, function: Option<&'m Function>, body: &'m [Stmt]) -> Self {
        let mut scope = Scope {
            module,
            function,
            loops: HashMap::new(),
        };
        let mut loops = HashMap::new();
        walk_stmts(body, &mut |stmt| {
            if let StmtKind::Loop(lp) = &stmt.kind
                && let Some(var) = lp.target.as_ref().and_then(Expr::as_name)
                && let Some(items) = lp.iter.as_ref().and_then(|i| scope.string_list(i, 0))
            {
                loops.insert(var, items);
            }
        });
        scope.loops = loops;
        scope
    }

    /// Calls `f` with each SQL text `expr` stands for and the expression
    /// that holds it (for its line).
    pub fn strings(&self, expr: &'m Expr, depth: u8, f: &mut dyn FnMut(&'m Expr, &str)) {
        if depth > MAX_DEPTH {
            return;
        }
        match &expr.kind {
            ExprKind::Literal(weir_ir::Literal::Str(s)) => f(expr, s),
            ExprKind::Template(template) => {
                for text in self.expand(&template.text, &template.values) {
                    f(expr, &text);
                }
            }
            ExprKind::Name { id } => {
                if let Some(value) = self.value_of(id) {
                    self.strings(value, depth + 1, f);
                }
            }
            // `text("…")`, `sa.text(…)`, `DDL("…")`, psycopg's `sql.SQL("…")`.
            ExprKind::Call(call) if matches!(call.method_name(), Some("text" | "DDL" | "SQL")) => {
                if let Some(arg) = call.positional(0) {
                    self.strings(arg, depth + 1, f);
                }
            }
            ExprKind::Collection { elements, .. } => {
                for element in elements {
                    // `RunSQL([("UPDATE …", [params])])`: the SQL is first.
                    let element = match &element.kind {
                        ExprKind::Collection { elements, .. } => elements.first(),
                        _ => Some(element),
                    };
                    if let Some(element) = element {
                        self.strings(element, depth + 1, f);
                    }
                }
            }
            _ => {}
        }
    }

    fn value_of(&self, name: &str) -> Option<&'m Expr> {
        self.function
            .and_then(|function| single_local_assignment(function, name))
            .or_else(|| top_level_value(self.module, name))
    }

    /// An f-string's texts: each `{}` filled with a constant, or with the
    /// items of the literal list a loop variable runs over (one text per
    /// item, the variable keeping its value across the string); unknown
    /// values stay `{}` (and the statement then cannot be read).
    fn expand(&self, text: &str, values: &'m [Expr]) -> Vec<String> {
        let parts: Vec<&str> = text.split("{}").collect();
        if parts.len() != values.len() + 1 {
            // A literal `{}` in the SQL itself: placeholders cannot be told apart.
            return vec![text.to_string()];
        }
        let mut variables: Vec<&str> = values
            .iter()
            .filter_map(Expr::as_name)
            .filter(|n| self.loops.contains_key(n))
            .collect();
        variables.sort_unstable();
        variables.dedup();
        let mut bindings: Vec<HashMap<&str, &str>> = vec![HashMap::new()];
        for variable in variables {
            bindings = bindings
                .iter()
                .flat_map(|b| {
                    self.loops[variable].iter().map(move |item| {
                        let mut next = b.clone();
                        next.insert(variable, item.as_str());
                        next
                    })
                })
                .take(MAX_EXPANSIONS)
                .collect();
        }
        bindings
            .iter()
            .map(|binding| {
                let mut out = parts[0].to_string();
                for (value, part) in values.iter().zip(&parts[1..]) {
                    let filled = value
                        .as_name()
                        .and_then(|n| binding.get(n).map(ToString::to_string))
                        .or_else(|| self.string(value, 0))
                        .unwrap_or_else(|| "{}".into());
                    out.push_str(&filled);
                    out.push_str(part);
                }
                out
            })
            .collect()
    }

    fn string(&self, expr: &'m Expr, depth: u8) -> Option<String> {
        if depth > MAX_DEPTH {
            return None;
        }
        match &expr.kind {
            ExprKind::Literal(weir_ir::Literal::Str(s)) => Some(s.clone()),
            ExprKind::Name { id } => self.string(self.value_of(id)?, depth + 1),
            _ => None,
        }
    }

    fn string_list(&self, expr: &'m Expr, depth: u8) -> Option<Vec<String>> {
        match &expr.kind {
            ExprKind::Collection { elements, .. } => {
                elements.iter().map(|e| self.string(e, depth + 1)).collect()
            }
            ExprKind::Name { id } if depth < MAX_DEPTH => {
                self.string_list(top_level_value(self.module, id)?, depth + 1)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<String> {
        let module = weir_lang::lower("alembic/versions/0002_audit.py", src).unwrap();
        let function = module
            .functions
            .iter()
            .find(|f| f.name == "upgrade")
            .unwrap();
        let scope = Scope::new(&module, Some(function), &function.body);
        let mut out = Vec::new();
        weir_ir::visit::walk_block_exprs(&function.body, &mut |e| {
            if let Some(sql) = executed_sql(e) {
                scope.strings(sql, 0, &mut |_, t| out.push(t.trim().to_string()));
            }
        });
        out
    }

    #[test]
    fn f_strings_over_literal_loops_and_constants() {
        let got = texts(
            r#"from alembic import op

AUDITED = ("uploads", "users")
SCHEMA = "audit"


def upgrade():
    for table in AUDITED:
        op.execute(f"CREATE TRIGGER {table}_audit AFTER UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.log()")
    name = compute()
    op.execute(f"DROP TRIGGER {name} ON jobs")
    op.execute(f"SELECT '{{}}'::jsonb, {SCHEMA}")
"#,
        );
        assert_eq!(
            got,
            vec![
                "CREATE TRIGGER uploads_audit AFTER UPDATE ON uploads FOR EACH ROW EXECUTE FUNCTION audit.log()",
                "CREATE TRIGGER users_audit AFTER UPDATE ON users FOR EACH ROW EXECUTE FUNCTION audit.log()",
                "DROP TRIGGER {} ON jobs",
                "SELECT '{}'::jsonb, {}",
            ]
        );
    }
}
