//! Values of configuration expressions, from the IR: literals, and names
//! that lead to literals through simple constants (`POOL_SIZE = 10`),
//! imports (`from app.config import POOL_SIZE`), settings objects
//! (`settings.pool_size` with `settings = Settings()` and a class attribute
//! or pydantic/dataclass field default), Django's `django.conf.settings`,
//! and the environment (`os.getenv("POOL_SIZE", "10")`). Anything else is
//! kept as the expression it is.

use std::collections::HashMap;

use weir_audit::context::ConfigValue;
use weir_ir::{Class, Expr, ExprKind, Function, Literal, Module, Operator, StmtKind};

/// Constant chains longer than this are not followed.
const MAX_DEPTH: u8 = 8;

pub struct Project<'m> {
    by_name: HashMap<&'m str, &'m Module>,
    /// Django settings modules (`*.settings`, `settings/*.py`), sorted.
    settings: Vec<&'m Module>,
}

impl<'m> Project<'m> {
    pub fn new(modules: &'m [Module]) -> Self {
        let mut settings: Vec<&Module> = modules
            .iter()
            .filter(|m| {
                m.name == "settings"
                    || m.name.ends_with(".settings")
                    || m.name.contains(".settings.")
            })
            .collect();
        settings.sort_by(|a, b| a.name.cmp(&b.name));
        Project {
            by_name: modules.iter().map(|m| (m.name.as_str(), m)).collect(),
            settings,
        }
    }

    /// The value of `expr` as written in `function` of `module` (`None` for
    /// module-level code).
    pub fn value(
        &self,
        module: &'m Module,
        function: Option<&'m Function>,
        expr: &'m Expr,
    ) -> ConfigValue {
        self.eval(module, function, expr, 0)
    }

    /// A string value, when it is one (channel names).
    pub fn string(
        &self,
        module: &'m Module,
        function: Option<&'m Function>,
        expr: &'m Expr,
    ) -> Option<String> {
        match self.value(module, function, expr) {
            ConfigValue::Str(s) => Some(s),
            _ => None,
        }
    }

    fn eval(
        &self,
        module: &'m Module,
        function: Option<&'m Function>,
        expr: &'m Expr,
        depth: u8,
    ) -> ConfigValue {
        if depth > MAX_DEPTH {
            return unresolved(expr);
        }
        match &expr.kind {
            ExprKind::Literal(literal) => match literal {
                Literal::Str(s) => ConfigValue::Str(s.clone()),
                Literal::Int(i) => ConfigValue::Int(*i),
                Literal::Bool(b) => ConfigValue::Bool(*b),
                Literal::Null => ConfigValue::Null,
                _ => unresolved(expr),
            },
            ExprKind::Unary {
                op: Operator::Neg,
                operand,
            } => match self.eval(module, function, operand, depth + 1) {
                ConfigValue::Int(i) => ConfigValue::Int(-i),
                _ => unresolved(expr),
            },
            ExprKind::Name { id } => {
                if let Some(function) = function
                    && let Some(value) = single_local_assignment(function, id)
                {
                    return self.eval(module, Some(function), value, depth + 1);
                }
                if let Some(value) = top_level_value(module, id) {
                    return self.eval(module, None, value, depth + 1);
                }
                match module.resolve(id) {
                    Some(qualified) => self
                        .lookup(&qualified, depth + 1)
                        .unwrap_or_else(|| unresolved(expr)),
                    None => unresolved(expr),
                }
            }
            ExprKind::Attribute { .. } => match module.resolve_expr(expr) {
                Some(qualified) => self
                    .lookup(&qualified, depth + 1)
                    .unwrap_or_else(|| unresolved(expr)),
                None => unresolved(expr),
            },
            ExprKind::Call(call) => self.eval_call(module, function, expr, call, depth),
            // `os.environ["POOL_SIZE"]`
            ExprKind::Subscript { value, index } => {
                match (module.resolve_expr(value).as_deref(), index.as_str()) {
                    (Some("os.environ"), Some(name)) => ConfigValue::Env {
                        env: name.to_string(),
                        default: None,
                    },
                    _ => unresolved(expr),
                }
            }
            _ => unresolved(expr),
        }
    }

    fn eval_call(
        &self,
        module: &'m Module,
        function: Option<&'m Function>,
        expr: &'m Expr,
        call: &'m weir_ir::Call,
        depth: u8,
    ) -> ConfigValue {
        let callee = call.qualified.as_deref().unwrap_or_default();
        match callee {
            "os.getenv" | "os.environ.get" => {
                let Some(name) = call.positional(0).and_then(Expr::as_str) else {
                    return unresolved(expr);
                };
                let default = call
                    .positional(1)
                    .or_else(|| call.keyword("default"))
                    .map(|d| self.eval(module, function, d, depth + 1));
                ConfigValue::Env {
                    env: name.to_string(),
                    default: default.and_then(|d| match d {
                        ConfigValue::Str(s) => Some(s),
                        ConfigValue::Int(i) => Some(i.to_string()),
                        ConfigValue::Bool(b) => {
                            Some(if b { "True".into() } else { "False".into() })
                        }
                        _ => None,
                    }),
                }
            }
            // Conversions keep what they convert: `int(os.getenv("N", "5"))`.
            "builtins.int" | "builtins.bool" | "builtins.str" | "builtins.float" => {
                let Some(inner) = call.positional(0) else {
                    return unresolved(expr);
                };
                match (callee, self.eval(module, function, inner, depth + 1)) {
                    ("builtins.int", ConfigValue::Str(s)) => s
                        .trim()
                        .parse()
                        .map_or_else(|_| unresolved(expr), ConfigValue::Int),
                    (
                        _,
                        value @ (ConfigValue::Env { .. }
                        | ConfigValue::Int(_)
                        | ConfigValue::Bool(_)),
                    )
                    | ("builtins.str", value @ ConfigValue::Str(_)) => value,
                    _ => unresolved(expr),
                }
            }
            // Field defaults: `Field(10)`, `Field(default=10)`, `field(default=10)`.
            _ if callee.ends_with(".Field") || callee == "dataclasses.field" => {
                match call.keyword("default").or_else(|| call.positional(0)) {
                    Some(default) => self.eval(module, function, default, depth + 1),
                    None => unresolved(expr),
                }
            }
            _ => unresolved(expr),
        }
    }

    /// The value behind a qualified name: a project global, an attribute of
    /// a settings object or class, a Django setting — or a library symbol.
    fn lookup(&self, qualified: &str, depth: u8) -> Option<ConfigValue> {
        if depth > MAX_DEPTH {
            return None;
        }
        if let Some(name) = qualified.strip_prefix("django.conf.settings.") {
            return self.settings.iter().find_map(|m| {
                let value = top_level_value(m, name)?;
                Some(self.eval(m, None, value, depth + 1))
            });
        }
        let Some((module, rest)) = self.split_module(qualified) else {
            return Some(ConfigValue::Symbol {
                symbol: qualified.to_string(),
            });
        };
        let mut parts = rest.split('.');
        let head = parts.next()?;
        let attrs: Vec<&str> = parts.collect();
        match attrs.as_slice() {
            [] => {
                let value = top_level_value(module, head)?;
                Some(self.eval(module, None, value, depth + 1))
            }
            [attr] => {
                if let Some(class) = class_named(module, head) {
                    return self.class_attribute(module, class, attr, depth);
                }
                let value = top_level_value(module, head)?;
                self.attribute_of(module, value, attr, depth)
            }
            _ => None,
        }
    }

    /// `attr` of the object a global holds: a settings instance
    /// (`Settings(pool_size=5)` or the class default), or another name.
    fn attribute_of(
        &self,
        module: &'m Module,
        value: &'m Expr,
        attr: &str,
        depth: u8,
    ) -> Option<ConfigValue> {
        match &value.kind {
            ExprKind::Call(call) => {
                if let Some(arg) = call.keyword(attr) {
                    return Some(self.eval(module, None, arg, depth + 1));
                }
                let class = qualify(module, &call.callee)?;
                let (class_module, class_name) = self.split_module(&class)?;
                let class = class_named(class_module, class_name)?;
                self.class_attribute(class_module, class, attr, depth)
            }
            ExprKind::Name { .. } | ExprKind::Attribute { .. } => {
                let target = qualify(module, value)?;
                self.lookup(&format!("{target}.{attr}"), depth + 1)
            }
            _ => None,
        }
    }

    fn class_attribute(
        &self,
        module: &'m Module,
        class: &'m Class,
        attr: &str,
        depth: u8,
    ) -> Option<ConfigValue> {
        class.body.iter().rev().find_map(|stmt| {
            let (targets, value) = stmt.plain_assign()?;
            targets
                .iter()
                .any(|t| t.as_name() == Some(attr))
                .then(|| self.eval(module, None, value, depth + 1))
        })
    }

    /// The project module a qualified name starts with, and the rest.
    fn split_module<'q>(&self, qualified: &'q str) -> Option<(&'m Module, &'q str)> {
        let mut end = qualified.len();
        while let Some(dot) = qualified[..end].rfind('.') {
            if let Some(module) = self.by_name.get(&qualified[..dot]) {
                return Some((module, &qualified[dot + 1..]));
            }
            end = dot;
        }
        None
    }
}

fn unresolved(expr: &Expr) -> ConfigValue {
    ConfigValue::Unresolved {
        expr: weir_audit::rules::short_text(expr).unwrap_or_else(|| "<expression>".into()),
    }
}

/// The qualified name a name/attribute expression stands for: a project
/// global (`app.db.engine`) or a library symbol.
pub fn qualify(module: &Module, expr: &Expr) -> Option<String> {
    if let Some(id) = expr.as_name()
        && top_level_value(module, id).is_some()
    {
        return Some(format!("{}.{id}", module.name));
    }
    module.resolve_expr(expr)
}

/// The value last assigned to a module-level name, in straight-line code.
pub fn top_level_value<'m>(module: &'m Module, name: &str) -> Option<&'m Expr> {
    let top = module.top_level()?;
    top.body.iter().rev().find_map(|stmt| {
        let (targets, value) = stmt.plain_assign()?;
        targets
            .iter()
            .any(|t| t.as_name() == Some(name))
            .then_some(value)
    })
}

/// The value of a local assigned exactly once in the function.
pub fn single_local_assignment<'m>(function: &'m Function, name: &str) -> Option<&'m Expr> {
    let mut found = Vec::new();
    weir_ir::visit::walk_stmts(&function.body, &mut |stmt| {
        if let StmtKind::Assign { targets, value, .. } = &stmt.kind
            && targets.iter().any(|t| t.as_name() == Some(name))
        {
            found.push(value.as_ref());
        }
    });
    match found.as_slice() {
        [Some(value)] => Some(value),
        _ => None,
    }
}

fn class_named<'m>(module: &'m Module, name: &str) -> Option<&'m Class> {
    module.classes.iter().find(|c| c.qualname == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modules(files: &[(&str, &str)]) -> Vec<Module> {
        files
            .iter()
            .map(|(path, src)| weir_lang::lower(path, src).unwrap())
            .collect()
    }

    /// The value of the first keyword argument `kw` of a call in `path`.
    fn kwarg(modules: &[Module], path: &str, kw: &str) -> ConfigValue {
        let project = Project::new(modules);
        let module = modules.iter().find(|m| m.path == path).unwrap();
        let mut found = None;
        for function in &module.functions {
            weir_ir::visit::walk_block_exprs(&function.body, &mut |e| {
                if found.is_none()
                    && let Some(arg) = e.as_call().and_then(|c| c.keyword(kw))
                {
                    let scope = (function.id != 0).then_some(function);
                    found = Some(project.value(module, scope, arg));
                }
            });
        }
        found.expect("keyword found")
    }

    #[test]
    fn constants_imports_settings_and_env() {
        let ms = modules(&[
            (
                "app/config.py",
                "import os\nfrom pydantic import Field\nfrom pydantic_settings import BaseSettings\n\nPOOL_SIZE = 20\n\nclass Settings(BaseSettings):\n    db_pool_recycle: int = 1800\n    db_echo: bool = Field(default=False)\n    db_timeout: int = Field(30)\n\nsettings = Settings(db_echo=True)\nPRE_PING = os.getenv(\"DB_PRE_PING\", \"1\")\n",
            ),
            (
                "app/db.py",
                "import os\nfrom sqlalchemy import create_engine\nfrom sqlalchemy.pool import NullPool\nfrom app import config\nfrom app.config import POOL_SIZE, settings\n\nOVERFLOW = -1\n\ndef make():\n    timeout = settings.db_timeout\n    return create_engine(\n        \"postgresql://\",\n        pool_size=POOL_SIZE,\n        max_overflow=OVERFLOW,\n        pool_recycle=settings.db_pool_recycle,\n        echo=settings.db_echo,\n        pool_timeout=timeout,\n        poolclass=NullPool,\n        pool_pre_ping=config.PRE_PING,\n        isolation_level=int(os.getenv(\"LEVEL\", \"5\")),\n        connect_args=build_args(),\n    )\n",
            ),
        ]);
        let at = |kw| kwarg(&ms, "app/db.py", kw);
        assert_eq!(at("pool_size"), ConfigValue::Int(20));
        assert_eq!(at("max_overflow"), ConfigValue::Int(-1));
        assert_eq!(at("pool_recycle"), ConfigValue::Int(1800));
        assert_eq!(
            at("echo"),
            ConfigValue::Bool(true),
            "constructor argument wins over the default"
        );
        assert_eq!(at("pool_timeout"), ConfigValue::Int(30));
        assert_eq!(
            at("poolclass"),
            ConfigValue::Symbol {
                symbol: "sqlalchemy.pool.NullPool".into()
            }
        );
        assert_eq!(
            at("pool_pre_ping"),
            ConfigValue::Env {
                env: "DB_PRE_PING".into(),
                default: Some("1".into())
            }
        );
        assert_eq!(
            at("isolation_level"),
            ConfigValue::Env {
                env: "LEVEL".into(),
                default: Some("5".into())
            }
        );
        assert_eq!(
            at("connect_args"),
            ConfigValue::Unresolved {
                expr: "build_args(…)".into()
            }
        );
    }

    #[test]
    fn django_settings() {
        let ms = modules(&[
            ("mysite/settings.py", "CONN_AGE = 60\n"),
            (
                "shop/db.py",
                "from django.conf import settings\nconnect(age=settings.CONN_AGE, other=settings.MISSING)\n",
            ),
        ]);
        assert_eq!(kwarg(&ms, "shop/db.py", "age"), ConfigValue::Int(60));
        assert_eq!(
            kwarg(&ms, "shop/db.py", "other"),
            ConfigValue::Unresolved {
                expr: "settings.MISSING".into()
            }
        );
    }
}
