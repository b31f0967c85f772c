//! Lowers ruff's Python AST into weir's IR.

use ruff_python_ast as ast;
use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};
use ruff_text_size::{Ranged, TextRange, TextSize};
use rustc_hash::{FxHashSet, FxHasher};
use std::hash::{Hash, Hasher};
use weir_ir::{
    Arg, ArgSpread, Call, Class, ClauseKind, Comment, CompClause, Compare, Comprehension, Expr,
    ExprKind, Function, FunctionKind, Handler, Import, ImportTable, Language, Literal, Loop,
    LoopKind, Module, Operator, Param, ParamKind, SourceDiagnostic, Span, Stmt, StmtKind, Template,
    WithItem, expr::CollectionKind,
};

use super::names::{BUILTINS, module_name, relative_base};
use crate::LineIndex;

/// Deeper nesting than this is cut off (kept as an opaque node) so that
/// pathological files cannot overflow the stack of later passes; the
/// module records where (`Module::depth_cut`) and the run warns.
pub const MAX_DEPTH: u32 = 200;

pub fn lower(rel_path: &str, source: &str) -> Module {
    lower_named(rel_path, module_name(rel_path), source)
}

/// Lowers a file whose import name is known (see `names::import_names`):
/// relative imports and top-level definitions are qualified from `name`.
pub fn lower_named(rel_path: &str, name: String, source: &str) -> Module {
    let parsed = parse_unchecked(source, ParseOptions::from(Mode::Module));
    let index = LineIndex::new(source);
    let is_package = rel_path.ends_with("__init__.py");
    let mut lowerer = Lowerer {
        index: &index,
        module: name.clone(),
        is_package,
        scope: ImportTable::default(),
        imports: Vec::new(),
        functions: Vec::new(),
        classes: Vec::new(),
        frames: Vec::new(),
        spare_locals: Vec::new(),
        class_stack: Vec::new(),
        depth: 0,
        depth_cut: None,
        top_level_imports: Vec::new(),
        import_keys: FxHashSet::default(),
    };
    let diagnostics = parsed
        .errors()
        .iter()
        .map(|e| SourceDiagnostic {
            message: e.error.to_string(),
            span: lowerer.span(e.location),
        })
        .collect();
    let comments = parsed
        .tokens()
        .iter()
        .filter(|t| t.kind() == ast::token::TokenKind::Comment)
        .map(|t| {
            let start = t.range().start().to_usize();
            let line_start = source[..start].rfind(['\n', '\r']).map_or(0, |i| i + 1);
            Comment {
                line: index.line(t.range().start().to_u32()),
                text: source[t.range()].to_owned(),
                trailing: !source[line_start..start].trim().is_empty(),
            }
        })
        .collect();
    let body: &[ast::Stmt] = match parsed.syntax() {
        ast::Mod::Module(m) => &m.body,
        ast::Mod::Expression(_) => &[],
    };
    let (functions, classes) = count_definitions(body);
    lowerer.functions.reserve_exact(functions + 1);
    lowerer.classes.reserve_exact(classes);
    lowerer.bind_top_level(body);
    lowerer.top_level_imports.sort_unstable();
    let whole = TextRange::new(
        0.into(),
        ruff_text_size::TextSize::try_from(source.len()).unwrap_or_default(),
    );
    lowerer.lower_function_like(FnHeader {
        name: "<module>".into(),
        kind: FunctionKind::Module,
        is_async: false,
        decorators: Vec::new(),
        params: None,
        returns: None,
        range: whole,
        body,
    });
    Module {
        path: rel_path.to_string(),
        name,
        language: Language::Python,
        line_count: index.line_count(),
        imports: lowerer.imports,
        scope: lowerer.scope,
        functions: lowerer.functions,
        classes: lowerer.classes,
        comments,
        diagnostics,
        depth_cut: lowerer.depth_cut,
    }
}

struct Frame<'a> {
    id: usize,
    /// Names bound in the function, borrowed from the syntax tree.
    locals: FxHashSet<&'a str>,
    is_generator: bool,
}

struct FnHeader<'a> {
    name: String,
    kind: FunctionKind,
    is_async: bool,
    decorators: Vec<Expr>,
    params: Option<&'a ast::Parameters>,
    returns: Option<&'a ast::Expr>,
    range: TextRange,
    body: &'a [ast::Stmt],
}

struct Lowerer<'a> {
    index: &'a LineIndex,
    module: String,
    is_package: bool,
    scope: ImportTable,
    imports: Vec<Import>,
    functions: Vec<Function>,
    classes: Vec<Class>,
    frames: Vec<Frame<'a>>,
    /// Emptied sets of locals of finished functions, for the next ones.
    spare_locals: Vec<FxHashSet<&'a str>>,
    class_stack: Vec<usize>,
    depth: u32,
    /// The first place nesting was cut at `MAX_DEPTH`.
    depth_cut: Option<Span>,
    /// Where the import statements bound before lowering start: lowering
    /// meets them again and has nothing left to add.
    top_level_imports: Vec<TextSize>,
    /// Hashes of the `(alias, target)` pairs in `imports`: most imports
    /// are new, and this says so without comparing with every earlier one.
    import_keys: FxHashSet<u64>,
}

impl<'a> Lowerer<'a> {
    fn span(&self, range: TextRange) -> Span {
        self.index
            .span(range.start().to_u32(), range.end().to_u32())
    }

    fn cut(&mut self, range: TextRange) {
        if self.depth_cut.is_none() {
            self.depth_cut = Some(self.span(range));
        }
    }

    /// Binds imports and top-level definitions before any body is lowered,
    /// so a call above a definition still resolves.
    fn bind_top_level(&mut self, body: &'a [ast::Stmt]) {
        for stmt in body {
            match stmt {
                ast::Stmt::FunctionDef(f) => self.bind_own(f.name.as_str()),
                ast::Stmt::ClassDef(c) => self.bind_own(c.name.as_str()),
                ast::Stmt::Import(_) | ast::Stmt::ImportFrom(_) => {
                    self.top_level_imports.push(stmt.start());
                    self.bind_import(stmt);
                }
                ast::Stmt::Assign(a) => {
                    for target in &a.targets {
                        if let ast::Expr::Name(n) = target {
                            self.bind_own(n.id.as_str());
                        }
                    }
                }
                ast::Stmt::AnnAssign(a) => {
                    if let ast::Expr::Name(n) = a.target.as_ref() {
                        self.bind_own(n.id.as_str());
                    }
                }
                // `try: import ujson as json / except ImportError: import json`
                ast::Stmt::Try(t) => {
                    self.bind_top_level(&t.body);
                    for ast::ExceptHandler::ExceptHandler(h) in &t.handlers {
                        self.bind_top_level(&h.body);
                    }
                }
                ast::Stmt::If(i) => {
                    self.bind_top_level(&i.body);
                    for clause in &i.elif_else_clauses {
                        self.bind_top_level(&clause.body);
                    }
                }
                _ => {}
            }
        }
    }

    /// Binds a top-level definition of this module to its qualified name.
    fn bind_own(&mut self, name: &str) {
        self.scope.bind(name, join(&self.module, name));
    }

    fn bind_import(&mut self, stmt: &'a ast::Stmt) {
        match stmt {
            ast::Stmt::Import(i) => {
                for alias in &i.names {
                    let target = alias.name.as_str().to_owned();
                    let local = match &alias.asname {
                        Some(asname) => asname.as_str().to_owned(),
                        // `import os.path` binds `os`.
                        None => target.split('.').next().unwrap_or(&target).to_owned(),
                    };
                    let bound = if alias.asname.is_some() {
                        target
                    } else {
                        local.clone()
                    };
                    self.add_import(local, bound, alias.range);
                }
            }
            ast::Stmt::ImportFrom(i) => {
                let from = i
                    .module
                    .as_ref()
                    .map(|m| m.as_str().to_owned())
                    .unwrap_or_default();
                let base = if i.level > 0 {
                    let base = relative_base(&self.module, self.is_package, i.level);
                    match (base.is_empty(), from.is_empty()) {
                        (true, _) => from,
                        (false, true) => base,
                        (false, false) => join(&base, &from),
                    }
                } else {
                    from
                };
                for alias in &i.names {
                    if alias.name.as_str() == "*" {
                        continue;
                    }
                    let local = alias.asname.as_ref().unwrap_or(&alias.name).as_str();
                    self.add_import(
                        local.to_owned(),
                        join(&base, alias.name.as_str()),
                        alias.range,
                    );
                }
            }
            _ => {}
        }
    }

    fn add_import(&mut self, alias: String, target: String, range: TextRange) {
        let key = {
            let mut hasher = FxHasher::default();
            (&alias, &target).hash(&mut hasher);
            hasher.finish()
        };
        if !self.import_keys.insert(key)
            && self
                .imports
                .iter()
                .any(|i| i.alias == alias && i.target == target)
        {
            return;
        }
        let span = self.span(range);
        self.scope.bind(alias.clone(), target.clone());
        self.imports.push(Import {
            alias,
            target,
            span,
        });
    }

    fn declare_local(&mut self, name: &'a str) {
        if let Some(frame) = self.frames.last_mut()
            && frame.id != 0
        {
            frame.locals.insert(name);
        }
    }

    fn declare_target(&mut self, target: &'a ast::Expr) {
        match target {
            ast::Expr::Name(n) => self.declare_local(n.id.as_str()),
            ast::Expr::Tuple(t) => t.elts.iter().for_each(|e| self.declare_target(e)),
            ast::Expr::List(l) => l.elts.iter().for_each(|e| self.declare_target(e)),
            ast::Expr::Starred(s) => self.declare_target(&s.value),
            _ => {}
        }
    }

    fn is_local(&self, name: &str) -> bool {
        self.frames.iter().rev().any(|f| f.locals.contains(name))
    }

    /// The qualified name of a callee written as a dotted path: the path
    /// resolved through the module's scope (`ImportTable::resolve`), else a
    /// builtin's. The path is only built once it resolves.
    fn qualify(&self, callee: &Expr) -> Option<String> {
        // Most callees hang off a local (`self.x()`, `session.get()`).
        let head = head_name(callee)?;
        if self.is_local(head) {
            return None;
        }
        let (prefix, head) = match self.scope.get(head) {
            Some(target) => (target, ""),
            None if BUILTINS.contains(&head) => ("builtins.", head),
            None => return None,
        };
        let mut path = String::with_capacity(prefix.len() + head.len() + tail_len(callee));
        path.push_str(prefix);
        path.push_str(head);
        push_tail(callee, &mut path);
        Some(path)
    }

    fn lower_function_like(&mut self, header: FnHeader<'a>) -> usize {
        let id = self.functions.len();
        let parent = self.frames.last().map(|f| f.id);
        let class = if header.kind == FunctionKind::Method {
            self.class_stack.last().copied()
        } else {
            None
        };
        let qualname = self.qualname_for(&header.name, parent, class);
        let params = header
            .params
            .map(|p| self.lower_params(p))
            .unwrap_or_default();
        let mut locals = self.spare_locals.pop().unwrap_or_default();
        if let Some(p) = header.params {
            locals.extend(p.iter().map(|p| p.name().as_str()));
        }
        let returns = header.returns.map(|r| self.lower_expr(r));
        self.functions.push(Function {
            id,
            name: header.name,
            qualname,
            kind: header.kind,
            parent,
            class,
            is_async: header.is_async,
            is_generator: false,
            decorators: header.decorators,
            params,
            returns,
            body: Vec::new(),
            docstring: docstring(header.body),
            span: self.span(header.range),
        });
        self.frames.push(Frame {
            id,
            locals,
            is_generator: false,
        });
        let saved_classes = std::mem::take(&mut self.class_stack);
        let body = self.lower_block(header.body);
        self.class_stack = saved_classes;
        let mut frame = self.frames.pop().expect("frame pushed above");
        frame.locals.clear();
        self.spare_locals.push(std::mem::take(&mut frame.locals));
        let function = &mut self.functions[id];
        function.body = body;
        function.is_generator = frame.is_generator;
        id
    }

    fn qualname_for(&self, name: &str, parent: Option<usize>, class: Option<usize>) -> String {
        if let Some(class) = class {
            return join(&self.classes[class].qualname, name);
        }
        match parent {
            Some(0) | None => name.to_owned(),
            Some(p) => join(&self.functions[p].qualname, &join("<locals>", name)),
        }
    }

    fn lower_params(&mut self, params: &'a ast::Parameters) -> Vec<Param> {
        let mut out = Vec::with_capacity(params.len());
        for p in params.posonlyargs.iter().chain(params.args.iter()) {
            out.push(self.lower_param(&p.parameter, p.default.as_deref(), ParamKind::Positional));
        }
        if let Some(p) = &params.vararg {
            out.push(self.lower_param(p, None, ParamKind::VarPositional));
        }
        for p in &params.kwonlyargs {
            out.push(self.lower_param(&p.parameter, p.default.as_deref(), ParamKind::KeywordOnly));
        }
        if let Some(p) = &params.kwarg {
            out.push(self.lower_param(p, None, ParamKind::VarKeyword));
        }
        out
    }

    fn lower_param(
        &mut self,
        p: &'a ast::Parameter,
        default: Option<&'a ast::Expr>,
        kind: ParamKind,
    ) -> Param {
        Param {
            name: p.name.as_str().to_owned(),
            kind,
            annotation: p.annotation.as_deref().map(|a| self.lower_expr(a)),
            default: default.map(|d| self.lower_expr(d)),
            span: self.span(p.range),
        }
    }

    fn lower_block(&mut self, body: &'a [ast::Stmt]) -> Vec<Stmt> {
        let mut out = Vec::with_capacity(body.iter().filter(|s| lowers_to_stmt(s)).count());
        for stmt in body {
            if let Some(s) = self.lower_stmt(stmt) {
                out.push(s);
            }
        }
        out
    }

    fn lower_stmt(&mut self, stmt: &'a ast::Stmt) -> Option<Stmt> {
        if self.depth > MAX_DEPTH {
            self.cut(stmt.range());
            return None;
        }
        // The span before the body's: the line index remembers the line
        // asked last, and lowering then walks forward from it.
        let span = self.span(stmt.range());
        self.depth += 1;
        let kind = self.lower_stmt_kind(stmt);
        self.depth -= 1;
        kind.map(|kind| Stmt { kind, span })
    }

    fn lower_stmt_kind(&mut self, stmt: &'a ast::Stmt) -> Option<StmtKind> {
        Some(match stmt {
            ast::Stmt::FunctionDef(f) => {
                self.declare_local(f.name.as_str());
                let decorators = f
                    .decorator_list
                    .iter()
                    .map(|d| self.lower_expr(&d.expression))
                    .collect();
                let kind = if self.class_stack.is_empty() {
                    FunctionKind::Function
                } else {
                    FunctionKind::Method
                };
                let id = self.lower_function_like(FnHeader {
                    name: f.name.as_str().to_owned(),
                    kind,
                    is_async: f.is_async,
                    decorators,
                    params: Some(&f.parameters),
                    returns: f.returns.as_deref(),
                    range: f.range,
                    body: &f.body,
                });
                if let Some(&class) = self.class_stack.last() {
                    self.classes[class].methods.push(id);
                }
                StmtKind::FunctionDef { id }
            }
            ast::Stmt::ClassDef(c) => StmtKind::ClassDef {
                id: self.lower_class(c),
            },
            ast::Stmt::Return(r) => StmtKind::Return {
                value: r.value.as_deref().map(|v| self.lower_expr(v)),
            },
            ast::Stmt::Delete(d) => StmtKind::Delete {
                targets: self.lower_exprs(&d.targets),
            },
            ast::Stmt::Assign(a) => {
                a.targets.iter().for_each(|t| self.declare_target(t));
                StmtKind::Assign {
                    targets: self.lower_exprs(&a.targets),
                    value: Some(self.lower_expr(&a.value)),
                    annotation: None,
                    op: None,
                }
            }
            ast::Stmt::AugAssign(a) => StmtKind::Assign {
                targets: vec![self.lower_expr(&a.target)],
                value: Some(self.lower_expr(&a.value)),
                annotation: None,
                op: Some(operator(a.op)),
            },
            ast::Stmt::AnnAssign(a) => {
                self.declare_target(&a.target);
                StmtKind::Assign {
                    targets: vec![self.lower_expr(&a.target)],
                    value: a.value.as_deref().map(|v| self.lower_expr(v)),
                    annotation: Some(self.boxed(&a.annotation)),
                    op: None,
                }
            }
            ast::Stmt::For(f) => {
                self.declare_target(&f.target);
                StmtKind::Loop(Box::new(Loop {
                    kind: LoopKind::ForEach,
                    is_async: f.is_async,
                    iter: Some(self.lower_expr(&f.iter)),
                    target: Some(self.lower_expr(&f.target)),
                    test: None,
                    body: self.lower_block(&f.body),
                    orelse: self.lower_block(&f.orelse),
                }))
            }
            ast::Stmt::While(w) => StmtKind::Loop(Box::new(Loop {
                kind: LoopKind::While,
                is_async: false,
                iter: None,
                target: None,
                test: Some(self.lower_expr(&w.test)),
                body: self.lower_block(&w.body),
                orelse: self.lower_block(&w.orelse),
            })),
            ast::Stmt::If(i) => self.lower_if(&i.test, &i.body, &i.elif_else_clauses),
            ast::Stmt::With(w) => {
                let items = w
                    .items
                    .iter()
                    .map(|item| {
                        if let Some(target) = item.optional_vars.as_deref() {
                            self.declare_target(target);
                        }
                        WithItem {
                            context: self.lower_expr(&item.context_expr),
                            target: item.optional_vars.as_deref().map(|t| self.lower_expr(t)),
                        }
                    })
                    .collect();
                StmtKind::With {
                    items,
                    is_async: w.is_async,
                    body: self.lower_block(&w.body),
                }
            }
            ast::Stmt::Match(m) => StmtKind::Switch {
                subject: self.lower_expr(&m.subject),
                cases: m.cases.iter().map(|c| self.lower_block(&c.body)).collect(),
            },
            ast::Stmt::Raise(r) => StmtKind::Raise {
                value: r.exc.as_deref().map(|e| self.lower_expr(e)),
            },
            ast::Stmt::Try(t) => StmtKind::Try {
                body: self.lower_block(&t.body),
                handlers: t
                    .handlers
                    .iter()
                    .map(|ast::ExceptHandler::ExceptHandler(h)| {
                        if let Some(name) = &h.name {
                            self.declare_local(name.as_str());
                        }
                        Handler {
                            types: h.type_.as_deref().map(|e| self.lower_expr(e)),
                            name: h.name.as_ref().map(|n| n.as_str().to_owned()),
                            body: self.lower_block(&h.body),
                            span: self.span(h.range),
                        }
                    })
                    .collect(),
                orelse: self.lower_block(&t.orelse),
                finally: self.lower_block(&t.finalbody),
            },
            ast::Stmt::Assert(a) => {
                let mut children = vec![self.lower_expr(&a.test)];
                children.extend(a.msg.as_deref().map(|m| self.lower_expr(m)));
                StmtKind::Expr {
                    value: Expr {
                        kind: ExprKind::Other { children },
                        span: self.span(a.range),
                    },
                }
            }
            ast::Stmt::Import(_) | ast::Stmt::ImportFrom(_) => {
                if self.top_level_imports.binary_search(&stmt.start()).is_err() {
                    self.bind_import(stmt);
                }
                return None;
            }
            ast::Stmt::Expr(e) => StmtKind::Expr {
                value: self.lower_expr(&e.value),
            },
            ast::Stmt::Break(_) => StmtKind::Break,
            ast::Stmt::Continue(_) => StmtKind::Continue,
            // Keep `lowers_to_stmt` in step.
            ast::Stmt::TypeAlias(_)
            | ast::Stmt::Global(_)
            | ast::Stmt::Nonlocal(_)
            | ast::Stmt::Pass(_)
            | ast::Stmt::IpyEscapeCommand(_) => return None,
        })
    }

    fn lower_if(
        &mut self,
        test: &'a ast::Expr,
        body: &'a [ast::Stmt],
        clauses: &'a [ast::ElifElseClause],
    ) -> StmtKind {
        let test = self.lower_expr(test);
        let then = self.lower_block(body);
        let orelse = match clauses.split_first() {
            None => Vec::new(),
            Some((first, rest)) => match &first.test {
                None => self.lower_block(&first.body),
                Some(elif_test) => {
                    let kind = self.lower_if(elif_test, &first.body, rest);
                    vec![Stmt {
                        kind,
                        span: self.span(first.range),
                    }]
                }
            },
        };
        StmtKind::If { test, then, orelse }
    }

    fn lower_class(&mut self, c: &'a ast::StmtClassDef) -> usize {
        self.declare_local(c.name.as_str());
        let id = self.classes.len();
        let name = c.name.as_str();
        let qualname = match (self.class_stack.last(), self.frames.last().map(|f| f.id)) {
            (Some(&outer), _) => join(&self.classes[outer].qualname, name),
            (None, Some(0) | None) => name.to_owned(),
            (None, Some(f)) => join(&self.functions[f].qualname, &join("<locals>", name)),
        };
        let bases = c
            .arguments
            .as_deref()
            .map(|a| a.args.iter().map(|b| self.lower_expr(b)).collect())
            .unwrap_or_default();
        let keywords = c
            .arguments
            .as_deref()
            .map(|a| a.keywords.iter().map(|k| self.lower_keyword(k)).collect())
            .unwrap_or_default();
        let decorators = c
            .decorator_list
            .iter()
            .map(|d| self.lower_expr(&d.expression))
            .collect();
        self.classes.push(Class {
            id,
            name: name.to_owned(),
            qualname,
            bases,
            keywords,
            decorators,
            body: Vec::new(),
            methods: Vec::new(),
            span: self.span(c.range),
        });
        self.class_stack.push(id);
        let body = self.lower_block(&c.body);
        self.class_stack.pop();
        self.classes[id].body = body;
        id
    }

    fn lower_exprs(&mut self, exprs: &'a [ast::Expr]) -> Vec<Expr> {
        exprs.iter().map(|e| self.lower_expr(e)).collect()
    }

    fn lower_expr(&mut self, expr: &'a ast::Expr) -> Expr {
        let span = self.span(expr.range());
        if self.depth > MAX_DEPTH {
            self.cut(expr.range());
            return Expr {
                kind: ExprKind::Other {
                    children: Vec::new(),
                },
                span,
            };
        }
        self.depth += 1;
        let kind = self.lower_expr_kind(expr);
        self.depth -= 1;
        Expr { kind, span }
    }

    fn boxed(&mut self, expr: &'a ast::Expr) -> Box<Expr> {
        Box::new(self.lower_expr(expr))
    }

    fn lower_expr_kind(&mut self, expr: &'a ast::Expr) -> ExprKind {
        match expr {
            ast::Expr::Name(n) => ExprKind::Name {
                id: weir_ir::Ident::new(n.id.as_str()),
            },
            ast::Expr::Attribute(a) => ExprKind::Attribute {
                value: self.boxed(&a.value),
                attr: weir_ir::Ident::new(a.attr.as_str()),
            },
            ast::Expr::Call(c) => ExprKind::Call(Box::new(self.lower_call(c))),
            ast::Expr::Await(a) => ExprKind::Await {
                value: self.boxed(&a.value),
            },
            ast::Expr::StringLiteral(s) => ExprKind::Literal(Literal::Str(
                s.value
                    .iter()
                    .map(ruff_python_ast::StringLiteral::as_str)
                    .collect::<String>(),
            )),
            ast::Expr::BytesLiteral(_) => ExprKind::Literal(Literal::Bytes),
            ast::Expr::NumberLiteral(n) => ExprKind::Literal(match &n.value {
                ast::Number::Int(i) => i.as_i64().map_or(Literal::Float, Literal::Int),
                _ => Literal::Float,
            }),
            ast::Expr::BooleanLiteral(b) => ExprKind::Literal(Literal::Bool(b.value)),
            ast::Expr::NoneLiteral(_) => ExprKind::Literal(Literal::Null),
            ast::Expr::EllipsisLiteral(_) => ExprKind::Literal(Literal::Ellipsis),
            ast::Expr::FString(f) => self.lower_fstring(f),
            ast::Expr::TString(_) => ExprKind::Template(Box::new(Template {
                text: String::new(),
                values: Vec::new(),
            })),
            ast::Expr::List(l) => ExprKind::Collection {
                kind: CollectionKind::List,
                elements: self.lower_exprs(&l.elts),
            },
            ast::Expr::Tuple(t) => ExprKind::Collection {
                kind: CollectionKind::Tuple,
                elements: self.lower_exprs(&t.elts),
            },
            ast::Expr::Set(s) => ExprKind::Collection {
                kind: CollectionKind::Set,
                elements: self.lower_exprs(&s.elts),
            },
            ast::Expr::Dict(d) => ExprKind::Dict {
                entries: d
                    .items
                    .iter()
                    .map(|item| {
                        (
                            item.key.as_ref().map(|k| self.lower_expr(k)),
                            self.lower_expr(&item.value),
                        )
                    })
                    .collect(),
            },
            ast::Expr::ListComp(c) => {
                self.lower_comprehension(CollectionKind::List, &c.elt, None, &c.generators)
            }
            ast::Expr::SetComp(c) => {
                self.lower_comprehension(CollectionKind::Set, &c.elt, None, &c.generators)
            }
            ast::Expr::Generator(c) => {
                self.lower_comprehension(CollectionKind::Generator, &c.elt, None, &c.generators)
            }
            ast::Expr::DictComp(c) => self.lower_comprehension(
                CollectionKind::Dict,
                &c.value,
                c.key.as_deref(),
                &c.generators,
            ),
            ast::Expr::Lambda(l) => {
                let params = l
                    .parameters
                    .as_deref()
                    .map(|p| self.lower_params(p))
                    .unwrap_or_default();
                ExprKind::Lambda {
                    params,
                    body: self.boxed(&l.body),
                }
            }
            ast::Expr::BoolOp(b) => {
                let op = if b.op == ast::BoolOp::And {
                    Operator::And
                } else {
                    Operator::Or
                };
                let mut values = b.values.iter();
                let first = values.next().map(|v| self.lower_expr(v));
                let mut acc = first.unwrap_or(Expr {
                    kind: ExprKind::Other {
                        children: Vec::new(),
                    },
                    span: self.span(b.range),
                });
                for v in values {
                    let right = self.lower_expr(v);
                    let span = Span {
                        end: right.span.end,
                        end_line: right.span.end_line,
                        ..acc.span
                    };
                    acc = Expr {
                        kind: ExprKind::Binary {
                            op,
                            left: Box::new(acc),
                            right: Box::new(right),
                        },
                        span,
                    };
                }
                acc.kind
            }
            ast::Expr::BinOp(b) => ExprKind::Binary {
                op: operator(b.op),
                left: self.boxed(&b.left),
                right: self.boxed(&b.right),
            },
            ast::Expr::UnaryOp(u) => ExprKind::Unary {
                op: match u.op {
                    ast::UnaryOp::Invert => Operator::Invert,
                    ast::UnaryOp::Not => Operator::Not,
                    ast::UnaryOp::UAdd => Operator::Pos,
                    ast::UnaryOp::USub => Operator::Neg,
                },
                operand: self.boxed(&u.operand),
            },
            ast::Expr::Compare(c) => ExprKind::Compare(Box::new(Compare {
                left: self.lower_expr(&c.left),
                ops: c.ops.iter().map(|op| compare_operator(*op)).collect(),
                comparators: self.lower_exprs(&c.comparators),
            })),
            ast::Expr::Subscript(s) => ExprKind::Subscript {
                value: self.boxed(&s.value),
                index: self.boxed(&s.slice),
            },
            ast::Expr::If(i) => ExprKind::Conditional {
                test: self.boxed(&i.test),
                body: self.boxed(&i.body),
                orelse: self.boxed(&i.orelse),
            },
            ast::Expr::Yield(y) => {
                self.mark_generator();
                ExprKind::Yield {
                    value: y.value.as_deref().map(|v| self.boxed(v)),
                    delegate: false,
                }
            }
            ast::Expr::YieldFrom(y) => {
                self.mark_generator();
                ExprKind::Yield {
                    value: Some(self.boxed(&y.value)),
                    delegate: true,
                }
            }
            ast::Expr::Starred(s) => ExprKind::Spread {
                value: self.boxed(&s.value),
            },
            ast::Expr::Named(n) => {
                self.declare_target(&n.target);
                ExprKind::AssignExpr {
                    target: self.boxed(&n.target),
                    value: self.boxed(&n.value),
                }
            }
            ast::Expr::Slice(s) => {
                let parts = [s.lower.as_deref(), s.upper.as_deref(), s.step.as_deref()];
                ExprKind::Other {
                    children: parts
                        .into_iter()
                        .flatten()
                        .map(|e| self.lower_expr(e))
                        .collect(),
                }
            }
            ast::Expr::IpyEscapeCommand(_) => ExprKind::Other {
                children: Vec::new(),
            },
        }
    }

    fn mark_generator(&mut self) {
        if let Some(frame) = self.frames.last_mut() {
            frame.is_generator = true;
        }
    }

    fn lower_call(&mut self, c: &'a ast::ExprCall) -> Call {
        let callee = self.lower_expr(&c.func);
        let qualified = self.qualify(&callee);
        let mut args = Vec::with_capacity(c.arguments.args.len() + c.arguments.keywords.len());
        for a in &c.arguments.args {
            let (value, spread) = match a {
                ast::Expr::Starred(s) => (self.lower_expr(&s.value), ArgSpread::Positional),
                _ => (self.lower_expr(a), ArgSpread::None),
            };
            args.push(Arg {
                name: None,
                value,
                spread,
            });
        }
        for k in &c.arguments.keywords {
            let arg = self.lower_keyword(k);
            args.push(arg);
        }
        Call {
            callee,
            qualified,
            args,
        }
    }

    /// `name=value`, or `**options` (no name), of a call or a class statement.
    fn lower_keyword(&mut self, k: &'a ast::Keyword) -> Arg {
        Arg {
            name: k.arg.as_ref().map(|a| weir_ir::Ident::new(a.as_str())),
            value: self.lower_expr(&k.value),
            spread: if k.arg.is_none() {
                ArgSpread::Keyword
            } else {
                ArgSpread::None
            },
        }
    }

    fn lower_fstring(&mut self, f: &'a ast::ExprFString) -> ExprKind {
        let mut text = String::new();
        let mut values = Vec::new();
        for part in &f.value {
            match part {
                ast::FStringPart::Literal(l) => text.push_str(l.as_str()),
                ast::FStringPart::FString(fs) => {
                    for element in &fs.elements {
                        match element {
                            ast::InterpolatedStringElement::Literal(l) => text.push_str(&l.value),
                            ast::InterpolatedStringElement::Interpolation(i) => {
                                text.push_str("{}");
                                values.push(self.lower_expr(&i.expression));
                            }
                        }
                    }
                }
            }
        }
        ExprKind::Template(Box::new(Template { text, values }))
    }

    fn lower_comprehension(
        &mut self,
        kind: CollectionKind,
        element: &'a ast::Expr,
        key: Option<&'a ast::Expr>,
        generators: &'a [ast::Comprehension],
    ) -> ExprKind {
        let clauses = generators
            .iter()
            .map(|g| CompClause {
                kind: ClauseKind::For,
                iter: self.lower_expr(&g.iter),
                target: self.lower_expr(&g.target),
                conditions: self.lower_exprs(&g.ifs),
                is_async: g.is_async,
            })
            .collect();
        let element = match key {
            Some(key) => {
                let key = self.lower_expr(key);
                let value = self.lower_expr(element);
                let span = Span {
                    end: value.span.end,
                    end_line: value.span.end_line,
                    ..key.span
                };
                Expr {
                    kind: ExprKind::Collection {
                        kind: CollectionKind::Tuple,
                        elements: vec![key, value],
                    },
                    span,
                }
            }
            None => self.lower_expr(element),
        };
        ExprKind::Comprehension(Box::new(Comprehension {
            kind,
            element,
            clauses,
        }))
    }
}

/// How many functions and classes a module defines, nested ones included:
/// both lists are sized once (a function is large).
fn count_definitions(body: &[ast::Stmt]) -> (usize, usize) {
    let (mut functions, mut classes) = (0, 0);
    let mut blocks = vec![body];
    while let Some(block) = blocks.pop() {
        for stmt in block {
            match stmt {
                ast::Stmt::FunctionDef(f) => {
                    functions += 1;
                    blocks.push(&f.body);
                }
                ast::Stmt::ClassDef(c) => {
                    classes += 1;
                    blocks.push(&c.body);
                }
                ast::Stmt::If(i) => {
                    blocks.push(&i.body);
                    blocks.extend(i.elif_else_clauses.iter().map(|c| c.body.as_slice()));
                }
                ast::Stmt::For(f) => blocks.extend([f.body.as_slice(), &f.orelse]),
                ast::Stmt::While(w) => blocks.extend([w.body.as_slice(), &w.orelse]),
                ast::Stmt::With(w) => blocks.push(&w.body),
                ast::Stmt::Try(t) => {
                    blocks.extend([t.body.as_slice(), &t.orelse, &t.finalbody]);
                    blocks.extend(
                        t.handlers
                            .iter()
                            .map(|ast::ExceptHandler::ExceptHandler(h)| h.body.as_slice()),
                    );
                }
                ast::Stmt::Match(m) => blocks.extend(m.cases.iter().map(|c| c.body.as_slice())),
                _ => {}
            }
        }
    }
    (functions, classes)
}

/// Whether `lower_stmt_kind` makes a statement of `stmt` (the size of a
/// block, as a statement is large).
fn lowers_to_stmt(stmt: &ast::Stmt) -> bool {
    !matches!(
        stmt,
        ast::Stmt::Import(_)
            | ast::Stmt::ImportFrom(_)
            | ast::Stmt::TypeAlias(_)
            | ast::Stmt::Global(_)
            | ast::Stmt::Nonlocal(_)
            | ast::Stmt::Pass(_)
            | ast::Stmt::IpyEscapeCommand(_)
    )
}

/// `a.b` joined with a dot, in one allocation.
fn join(a: &str, b: &str) -> String {
    let mut joined = String::with_capacity(a.len() + 1 + b.len());
    joined.push_str(a);
    joined.push('.');
    joined.push_str(b);
    joined
}

/// The length of `.b.c` in the name/attribute chain `a.b.c`.
fn tail_len(expr: &Expr) -> usize {
    match &expr.kind {
        ExprKind::Attribute { value, attr } => tail_len(value) + 1 + attr.len(),
        _ => 0,
    }
}

/// Appends `.b.c` of the name/attribute chain `a.b.c`.
fn push_tail(expr: &Expr, path: &mut String) {
    if let ExprKind::Attribute { value, attr } = &expr.kind {
        push_tail(value, path);
        path.push('.');
        path.push_str(attr);
    }
}

/// The name a name/attribute chain starts from: `a` in `a.b.c`.
fn head_name(expr: &Expr) -> Option<&str> {
    match &expr.kind {
        ExprKind::Name { id } => Some(id),
        ExprKind::Attribute { value, .. } => head_name(value),
        _ => None,
    }
}

fn docstring(body: &[ast::Stmt]) -> Option<String> {
    let ast::Stmt::Expr(e) = body.first()? else {
        return None;
    };
    let ast::Expr::StringLiteral(s) = e.value.as_ref() else {
        return None;
    };
    Some(
        s.value
            .iter()
            .map(ruff_python_ast::StringLiteral::as_str)
            .collect(),
    )
}

fn operator(op: ast::Operator) -> Operator {
    match op {
        ast::Operator::Add => Operator::Add,
        ast::Operator::Sub => Operator::Sub,
        ast::Operator::Mult => Operator::Mul,
        ast::Operator::MatMult => Operator::MatMul,
        ast::Operator::Div => Operator::Div,
        ast::Operator::Mod => Operator::Mod,
        ast::Operator::Pow => Operator::Pow,
        ast::Operator::LShift => Operator::Shl,
        ast::Operator::RShift => Operator::Shr,
        ast::Operator::BitOr => Operator::BitOr,
        ast::Operator::BitXor => Operator::BitXor,
        ast::Operator::BitAnd => Operator::BitAnd,
        ast::Operator::FloorDiv => Operator::FloorDiv,
    }
}

fn compare_operator(op: ast::CmpOp) -> Operator {
    match op {
        ast::CmpOp::Eq => Operator::Eq,
        ast::CmpOp::NotEq => Operator::NotEq,
        ast::CmpOp::Lt => Operator::Lt,
        ast::CmpOp::LtE => Operator::LtE,
        ast::CmpOp::Gt => Operator::Gt,
        ast::CmpOp::GtE => Operator::GtE,
        ast::CmpOp::Is => Operator::Is,
        ast::CmpOp::IsNot => Operator::IsNot,
        ast::CmpOp::In => Operator::In,
        ast::CmpOp::NotIn => Operator::NotIn,
    }
}
