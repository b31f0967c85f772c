//! Object kinds of module-level names, across the project:
//! `SessionLocal = sessionmaker(...)` in `app/db.py` makes
//! `app.db.SessionLocal` a session factory for every module importing it.

use crate::collections::{HashMap, HashSet};

use rayon::prelude::*;
use weir_ir::{Expr, ExprKind, Module, StmtKind};

use crate::knowledge::{Knowledge, ObjKind};

/// An inferred kind; `certain` is false when it only comes from a name hint
/// (`db`, `session`), which is enough to find queries but not to claim a
/// sync/async distinction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Typed {
    pub kind: ObjKind,
    pub certain: bool,
}

impl Typed {
    pub fn certain(kind: ObjKind) -> Self {
        Typed {
            kind,
            certain: true,
        }
    }

    pub fn hinted(kind: ObjKind) -> Self {
        Typed {
            kind,
            certain: false,
        }
    }
}

#[derive(Default)]
pub struct ProjectTypes {
    globals: HashMap<String, Typed>,
    /// Module-level type aliases: `SessionDep = Annotated[Session, Depends(...)]`.
    aliases: HashMap<String, ObjKind>,
    /// `module.Class.attr` → kind, from `self.attr = …` in the class's methods.
    class_attrs: HashMap<String, Typed>,
    /// `module.qualname` → kind, from a function's return annotation:
    /// `def get_client() -> aiohttp.ClientSession`.
    returns: HashMap<String, ObjKind>,
}

impl ProjectTypes {
    pub fn build(modules: &[Module], knowledge: &Knowledge) -> Self {
        let mut types = ProjectTypes::default();
        for module in modules {
            types.cursor_classes(module);
        }
        // Two rounds let a factory built from another module's engine resolve.
        for _ in 0..2 {
            for module in modules {
                types.module_level(module, knowledge);
            }
        }
        for module in modules {
            for function in &module.functions {
                let kind = function.returns.as_ref().and_then(|a| {
                    types.annotation_kind(module, knowledge, a).or_else(|| {
                        is_context_manager(function)
                            .then(|| yielded(a))
                            .flatten()
                            .and_then(|y| types.annotation_kind(module, knowledge, y))
                    })
                });
                if let Some(kind) = kind {
                    types
                        .returns
                        .insert(format!("{}.{}", module.name, function.qualname), kind);
                }
            }
        }
        // Unannotated helpers that hand out a legacy Query:
        // `def session_query(model): return db.session.query(model)`.
        let built: Vec<String> = modules
            .par_iter()
            .flat_map_iter(|module| {
                module
                    .functions
                    .iter()
                    .filter(|f| f.returns.is_none() && returns_legacy_query(f, knowledge))
                    .map(move |f| format!("{}.{}", module.name, f.qualname))
            })
            .collect();
        for key in built {
            types.returns.entry(key).or_insert(ObjKind::LegacyQuery);
        }
        // The walk over every method body is the costly part; it reads only
        // the module-level kinds above, so it runs in parallel and the
        // results are applied in module order (later modules win, as before).
        let attributes: Vec<Vec<(String, Typed)>> = modules
            .par_iter()
            .map(|module| types.self_attributes(module, knowledge))
            .collect();
        for (key, kind) in attributes.into_iter().flatten() {
            types.class_attrs.insert(key, kind);
        }
        types
    }

    fn module_level(&mut self, module: &Module, knowledge: &Knowledge) {
        let Some(top) = module.top_level() else {
            return;
        };
        for stmt in &top.body {
            let StmtKind::Assign {
                targets,
                value: Some(value),
                annotation,
                op: None,
            } = &stmt.kind
            else {
                continue;
            };
            let names = targets.iter().filter_map(Expr::as_name);
            if let Some(alias) = self.alias_kind(module, knowledge, value) {
                for name in names {
                    self.aliases
                        .insert(format!("{}.{name}", module.name), alias);
                }
                continue;
            }
            let kind = annotation
                .as_ref()
                .and_then(|a| self.annotation_kind(module, knowledge, a))
                .or_else(|| self.value_kind(module, knowledge, value));
            let Some(kind) = kind else { continue };
            for name in names {
                self.globals
                    .insert(format!("{}.{name}", module.name), Typed::certain(kind));
            }
        }
    }

    /// Project classes with the DB-API cursor interface (PEP 249: blocking
    /// `execute()`, `fetchone()` and `fetchall()` or `fetchmany()`): a
    /// cursor wrapper that logs or times each statement (Synapse's
    /// `LoggingTransaction` around a psycopg2 or sqlite3 cursor), or a
    /// `Protocol` stating that interface. An object annotated with one is
    /// a cursor: its `execute()` runs a statement. Nested classes are left
    /// out, as are classes whose `execute` is a coroutine (an async cursor
    /// is awaited, not blocking).
    /// <https://peps.python.org/pep-0249/#cursor-objects>
    fn cursor_classes(&mut self, module: &Module) {
        for class in &module.classes {
            if class.qualname != class.name {
                continue;
            }
            let method = |name: &str| {
                class
                    .methods
                    .iter()
                    .map(|&m| module.function(m))
                    .find(|f| f.name == name)
            };
            let sync_execute = method("execute").is_some_and(|f| !f.is_async);
            if sync_execute
                && method("fetchone").is_some()
                && (method("fetchall").is_some() || method("fetchmany").is_some())
            {
                self.aliases
                    .insert(format!("{}.{}", module.name, class.name), ObjKind::Cursor);
            }
        }
    }

    /// `self.x = <param annotated with a known type>` or `self.x = <known constructor>()`.
    fn self_attributes(&self, module: &Module, knowledge: &Knowledge) -> Vec<(String, Typed)> {
        let mut found = Vec::new();
        for class in &module.classes {
            for &method in &class.methods {
                let function = module.function(method);
                weir_ir::visit::walk_stmts(&function.body, &mut |stmt| {
                    let Some((targets, value)) = stmt.plain_assign() else {
                        return;
                    };
                    let Some(attr) = targets.first().and_then(Expr::dotted) else {
                        return;
                    };
                    let Some(attr) = attr.strip_prefix("self.") else {
                        return;
                    };
                    let from_param = value
                        .as_name()
                        .and_then(|n| function.params.iter().find(|p| p.name == n));
                    let kind = match from_param {
                        Some(param) => param
                            .annotation
                            .as_ref()
                            .and_then(|a| self.annotation_kind(module, knowledge, a)),
                        None => self.value_kind(module, knowledge, value),
                    };
                    if let Some(kind) = kind {
                        let key = format!("{}.{}.{attr}", module.name, class.qualname);
                        found.push((key, Typed::certain(kind)));
                    }
                });
            }
        }
        found
    }

    pub fn global(&self, qualified: &str) -> Option<Typed> {
        self.globals.get(qualified).copied()
    }

    /// The kind a project function declares it returns (`-> requests.Session`).
    pub fn declared_return(&self, module: &str, qualname: &str) -> Option<ObjKind> {
        crate::collections::get_dotted(&self.returns, &[module, qualname]).copied()
    }

    /// Whether any project function declares a known return kind.
    pub fn has_declared_returns(&self) -> bool {
        !self.returns.is_empty()
    }

    pub fn class_attribute(&self, module: &str, class: &str, attr: &str) -> Option<Typed> {
        crate::collections::get_dotted(&self.class_attrs, &[module, class, attr]).copied()
    }

    /// The kind of a module-level value expression (no local environment).
    fn value_kind(&self, module: &Module, knowledge: &Knowledge, value: &Expr) -> Option<ObjKind> {
        let call = value.unawaited().as_call()?;
        let qualified = module.resolve_expr(&call.callee)?;
        if let Some(entry) = knowledge.func(&qualified) {
            return entry.returns;
        }
        self.global(&qualified)
            .and_then(|t| t.kind.called())
            .or_else(|| self.returns.get(&qualified).copied())
    }

    /// A value that is itself a type: `Annotated[Session, Depends(get_db)]`.
    fn alias_kind(&self, module: &Module, knowledge: &Knowledge, value: &Expr) -> Option<ObjKind> {
        match &value.kind {
            ExprKind::Subscript { .. } => self.annotation_kind(module, knowledge, value),
            _ => None,
        }
    }

    /// The kind named by a type annotation: `Session`, `Optional[AsyncSession]`,
    /// `AsyncSession | None`, `Annotated[Session, Depends(get_db)]`, `"Session"`,
    /// or a project type alias of one of those.
    pub fn annotation_kind(
        &self,
        module: &Module,
        knowledge: &Knowledge,
        annotation: &Expr,
    ) -> Option<ObjKind> {
        let named = |q: String| {
            knowledge
                .type_kind(&q)
                .or_else(|| self.aliases.get(&q).copied())
        };
        match &annotation.kind {
            ExprKind::Name { .. } | ExprKind::Attribute { .. } => {
                named(module.resolve_expr(annotation)?)
            }
            ExprKind::Literal(weir_ir::Literal::Str(text)) => named(module.resolve(text.trim())?),
            ExprKind::Subscript { value, index } => {
                let wrapper = value.dotted()?;
                let last = wrapper.rsplit('.').next().unwrap_or(&wrapper);
                match (last, &index.kind) {
                    ("Optional" | "Annotated", ExprKind::Collection { elements, .. }) => {
                        self.annotation_kind(module, knowledge, elements.first()?)
                    }
                    ("Optional", _) => self.annotation_kind(module, knowledge, index),
                    _ => None,
                }
            }
            ExprKind::Binary { left, right, .. } => self
                .annotation_kind(module, knowledge, left)
                .or_else(|| self.annotation_kind(module, knowledge, right)),
            _ => None,
        }
    }
}

/// The parameters of `function` used as SQLAlchemy sessions without a
/// name or annotation that says so: the receiver of `<param>.query(Model)`
/// for a mapped model of the project, the Session's legacy query API.
/// A session a decorator injects (`@dbconnection def clear(self, store):
/// store.query(Pended)…`) or a caller hands over under a name of its own.
/// `untyped` are the candidate parameters (no kind known otherwise).
/// `calls` are the function's call expressions
/// ([`super::FunctionFacts::call_exprs`], walked once for every reader).
pub fn query_receiver_params<'f>(
    module: &Module,
    calls: &[&Expr],
    models: &crate::project::ModelIndex,
    untyped: &HashSet<&'f str>,
) -> Vec<&'f str> {
    let mut found: Vec<&'f str> = Vec::new();
    if untyped.is_empty() || models.is_empty() {
        return found;
    }
    for e in calls {
        let Some(call) = e.as_call() else {
            continue;
        };
        if call.method_name() != Some("query") {
            continue;
        }
        let Some(receiver) = call.receiver().and_then(Expr::as_name) else {
            continue;
        };
        let Some(param) = untyped.get(receiver).copied() else {
            continue;
        };
        if found.contains(&param) {
            continue;
        }
        let queries_model = call
            .positional(0)
            .and_then(|model| module.resolve_expr(model))
            .is_some_and(|q| models.get(&q).is_some());
        if queries_model {
            found.push(param);
        }
    }
    found
}

/// A legacy `Query` built and not run (see [`returns_legacy_query`]).
fn is_legacy_query(expr: &Expr, knowledge: &Knowledge, depth: u8) -> bool {
    if depth > 16 {
        return false;
    }
    match &expr.kind {
        ExprKind::Conditional { body, orelse, .. } => {
            is_legacy_query(body, knowledge, depth + 1)
                || is_legacy_query(orelse, knowledge, depth + 1)
        }
        ExprKind::Call(call) => {
            let ExprKind::Attribute { value, attr } = &call.callee.kind else {
                return false;
            };
            if attr == "query" {
                let session = value
                    .dotted_last()
                    .and_then(|last| knowledge.hint(last))
                    .is_some_and(ObjKind::is_session);
                return session && !call.args.is_empty();
            }
            knowledge
                .method(ObjKind::LegacyQuery, attr)
                .is_some_and(|m| m.effect.is_none() && m.returns == Some(ObjKind::LegacyQuery))
                && is_legacy_query(value, knowledge, depth + 1)
        }
        _ => false,
    }
}

/// Whether every value `function` returns is a legacy `Query` it builds
/// without running it: `return db.session.query(model)`, `return
/// session.query(User).filter_by(active=True)` (builder methods keep a
/// Query lazy), or a conditional expression with such a branch (`return
/// model.query if hasattr(model, "query") else db.session.query(model)`,
/// Flask-SQLAlchemy's query property being a Query too). The session is
/// known by its name (`session`, `db.session`), as everywhere else.
/// `return None` is left out; a generator or a coroutine hands out
/// something else.
fn returns_legacy_query(function: &weir_ir::Function, knowledge: &Knowledge) -> bool {
    if function.kind == weir_ir::FunctionKind::Module || function.is_generator || function.is_async
    {
        return false;
    }
    let mut values = 0usize;
    let mut all = true;
    weir_ir::visit::walk_stmts(&function.body, &mut |stmt| {
        if let StmtKind::Return { value } = &stmt.kind {
            match value {
                None => {}
                Some(v) if matches!(v.kind, ExprKind::Literal(weir_ir::Literal::Null)) => {}
                Some(v) => {
                    values += 1;
                    all &= is_legacy_query(v, knowledge, 0);
                }
            }
        }
    });
    all && values > 0
}

/// `@contextmanager` / `@asynccontextmanager` (also `@contextlib.…`): what
/// the generator yields is what `with f() as x:` binds.
pub(crate) fn is_context_manager(function: &weir_ir::Function) -> bool {
    function.decorated_with("contextmanager") || function.decorated_with("asynccontextmanager")
}

/// The yielded type of a generator annotation: `Session` in
/// `Generator[Session, None, None]`, `Iterator[Session]`,
/// `AsyncGenerator[AsyncSession, None]`, `AsyncIterator[AsyncSession]`.
fn yielded(annotation: &Expr) -> Option<&Expr> {
    let ExprKind::Subscript { value, index } = &annotation.kind else {
        return None;
    };
    let wrapper = value.dotted()?;
    if !matches!(
        wrapper.rsplit('.').next(),
        Some("Generator" | "Iterator" | "AsyncGenerator" | "AsyncIterator")
    ) {
        return None;
    }
    match &index.kind {
        ExprKind::Collection { elements, .. } => elements.first(),
        _ => Some(index),
    }
}
