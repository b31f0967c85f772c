//! ORM models of the project, from class bodies: the table each maps to
//! (`__tablename__`, Django `Meta.db_table`, Core `Table("name", …)`) and
//! its relationships with their loading strategy. Used by the transaction
//! rules (which table an update touches) and by the async hazards check
//! (which attribute is a lazily loaded relationship).

use crate::collections::HashMap;

use weir_ir::{Expr, ExprKind, Module, StmtKind};

#[derive(Debug, Clone)]
pub struct Model {
    /// Qualified class name (`app.models.Job`); for a Core table, the
    /// qualified variable name.
    pub qualname: String,
    pub name: String,
    pub table: String,
    pub path: String,
    pub line: u32,
    /// Relationship attributes with their `lazy=` strategy (`None`: the
    /// default, `select`, a lazy load on first access).
    pub relationships: Vec<(String, Option<String>)>,
}

impl Model {
    /// A relationship loaded on attribute access (the default strategy).
    pub fn lazy_relationship(&self, attr: &str) -> bool {
        self.relationships.iter().any(|(name, lazy)| {
            name == attr && lazy.as_deref().is_none_or(|l| l == "select" || l == "True")
        })
    }
}

#[derive(Debug, Default)]
pub struct Models {
    by_qualname: HashMap<String, Model>,
}

impl Models {
    pub fn build(modules: &[Module]) -> Self {
        let mut by_qualname = HashMap::default();
        for module in modules {
            for class in &module.classes {
                let mut table = None;
                let mut relationships = Vec::new();
                for (target, value) in class.assignments() {
                    if target == "__tablename__" {
                        table = value.as_str().map(str::to_string);
                    } else if let Some(call) = value.as_call()
                        && call
                            .callee
                            .dotted()
                            .is_some_and(|c| c.rsplit('.').next() == Some("relationship"))
                    {
                        let lazy = call.keyword("lazy").and_then(|l| match &l.kind {
                            ExprKind::Literal(weir_ir::Literal::Bool(b)) => {
                                Some(if *b { "True" } else { "False" }.to_string())
                            }
                            _ => l.as_str().map(str::to_string),
                        });
                        relationships.push((target.to_string(), lazy));
                    }
                }
                // Django: `class Meta: db_table = "jobs"` (a nested class).
                if table.is_none() {
                    let meta = format!("{}.Meta", class.qualname);
                    table = module
                        .classes
                        .iter()
                        .filter(|c| c.qualname == meta)
                        .flat_map(|c| &c.body)
                        .find_map(|s| match &s.kind {
                            StmtKind::Assign {
                                targets,
                                value: Some(v),
                                ..
                            } if targets.first().and_then(Expr::as_name) == Some("db_table") => {
                                v.as_str().map(str::to_string)
                            }
                            _ => None,
                        });
                }
                if let Some(table) = table {
                    let qualname = format!("{}.{}", module.name, class.qualname);
                    by_qualname.insert(
                        qualname.clone(),
                        Model {
                            qualname,
                            name: class.name.clone(),
                            table,
                            path: module.path.clone(),
                            line: class.span.line,
                            relationships,
                        },
                    );
                }
            }
            // Core tables: `jobs = Table("jobs", metadata, …)` at module level.
            if let Some(top) = module.top_level() {
                for stmt in &top.body {
                    if let StmtKind::Assign {
                        targets,
                        value: Some(value),
                        ..
                    } = &stmt.kind
                        && let Some(name) = targets.first().and_then(Expr::as_name)
                        && let Some(call) = value.as_call()
                        && call
                            .callee
                            .dotted()
                            .is_some_and(|c| c.rsplit('.').next() == Some("Table"))
                        && let Some(table) = call.positional(0).and_then(Expr::as_str)
                    {
                        let qualname = format!("{}.{name}", module.name);
                        by_qualname.insert(
                            qualname.clone(),
                            Model {
                                qualname,
                                name: name.to_string(),
                                table: table.to_string(),
                                path: module.path.clone(),
                                line: stmt.span.line,
                                relationships: Vec::new(),
                            },
                        );
                    }
                }
            }
        }
        Models { by_qualname }
    }

    /// The model a name or attribute chain of `module` refers to
    /// (`Job`, `models.Job`, `jobs_table`).
    pub fn resolve(&self, module: &Module, expr: &Expr) -> Option<&Model> {
        let dotted = expr.dotted()?;
        if let Some(model) = module
            .resolve(&dotted)
            .and_then(|q| self.by_qualname.get(&q))
        {
            return Some(model);
        }
        let local = format!("{}.{dotted}", module.name);
        if let Some(model) = self.by_qualname.get(&local) {
            return Some(model);
        }
        // Unresolved (a re-export, a star import): a unique class name.
        let last = dotted.rsplit('.').next()?;
        let mut found = self.by_qualname.values().filter(|m| m.name == last);
        let first = found.next()?;
        found.next().is_none().then_some(first)
    }

    /// The first model named anywhere in `expr` (`session.get(Job, id)`,
    /// `select(Job).where(…)`, `Job(...)`).
    pub fn mentioned(&self, module: &Module, expr: &Expr) -> Option<&Model> {
        let mut found = None;
        weir_ir::visit::walk_expr(expr, &mut |e| {
            if found.is_none() && matches!(e.kind, ExprKind::Name { .. }) {
                found = self.resolve(module, e);
            }
        });
        found
    }

    pub fn is_empty(&self) -> bool {
        self.by_qualname.is_empty()
    }
}
