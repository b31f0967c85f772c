use serde::Serialize;

use crate::expr::{Arg, Expr, ExprKind};
use crate::imports::ImportTable;
use crate::span::Span;
use crate::stmt::Block;

pub type FuncId = usize;
pub type ClassId = usize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    Python,
    TypeScript,
    JavaScript,
    Go,
}

/// One source file, lowered.
#[derive(Debug, Clone, Serialize)]
pub struct Module {
    /// Path relative to the audited root, with `/` separators.
    pub path: String,
    /// Dotted module name (`app/api/routes.py` → `app.api.routes`).
    pub name: String,
    pub language: Language,
    pub line_count: u32,
    pub imports: Vec<crate::imports::Import>,
    #[serde(skip)]
    pub scope: ImportTable,
    /// Every function of the file, nested ones included; index 0 is the
    /// module's top-level code as a pseudo-function of kind `Module`.
    pub functions: Vec<Function>,
    pub classes: Vec<Class>,
    pub comments: Vec<Comment>,
    /// Syntax errors the parser recovered from.
    pub diagnostics: Vec<SourceDiagnostic>,
    /// Where lowering first cut code nested deeper than it follows (the
    /// code below the cut is missing from the IR), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depth_cut: Option<Span>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FunctionKind {
    Module,
    Function,
    Method,
}

#[derive(Debug, Clone, Serialize)]
pub struct Function {
    pub id: FuncId,
    pub name: String,
    /// `Class.method`, `outer.<locals>.inner` style qualified name within the module.
    pub qualname: String,
    pub kind: FunctionKind,
    pub parent: Option<FuncId>,
    pub class: Option<ClassId>,
    pub is_async: bool,
    pub is_generator: bool,
    pub decorators: Vec<Expr>,
    pub params: Vec<Param>,
    pub returns: Option<Expr>,
    pub body: Block,
    pub docstring: Option<String>,
    pub span: Span,
}

impl Function {
    /// Decorated with `name`, by the last segment of its dotted name and
    /// whether or not it is called: `@property`,
    /// `@functools.cached_property`,
    /// `@transaction.non_atomic_requests(using="other")`.
    pub fn decorated_with(&self, name: &str) -> bool {
        self.decorators.iter().any(|d| {
            let target = d.as_call().map_or(d, |c| &c.callee);
            target.dotted_last() == Some(name)
        })
    }

    /// A method that receives the instance: not a `@classmethod` or
    /// `@staticmethod` (the first argument of either is not the object
    /// the call was made on).
    pub fn is_instance_method(&self) -> bool {
        self.kind == FunctionKind::Method
            && !self.decorated_with("classmethod")
            && !self.decorated_with("staticmethod")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Param {
    pub name: String,
    pub kind: ParamKind,
    pub annotation: Option<Expr>,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamKind {
    Positional,
    VarPositional,
    KeywordOnly,
    VarKeyword,
}

#[derive(Debug, Clone, Serialize)]
pub struct Class {
    pub id: ClassId,
    pub name: String,
    pub qualname: String,
    pub bases: Vec<Expr>,
    /// The keywords of the class statement: `table=True` (SQLModel's
    /// table models), `metaclass=…`, `**options`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<Arg>,
    pub decorators: Vec<Expr>,
    /// Class-level statements (fields, columns, relationships); methods
    /// appear as `FunctionDef` entries.
    pub body: Block,
    pub methods: Vec<FuncId>,
    pub span: Span,
}

impl Class {
    /// The class body's `name = value` assignments (`__tablename__ =
    /// "orders"`, `total = SerializerMethodField()`, `paths = ("a", "b")`),
    /// by their first target; annotated ones with a value too.
    pub fn assignments(&self) -> impl Iterator<Item = (&str, &Expr)> {
        self.body.iter().filter_map(|stmt| {
            let (targets, value) = stmt.plain_assign()?;
            Some((targets.first()?.as_name()?, value))
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub line: u32,
    /// The comment text, with its `#` or `//`.
    pub text: String,
    /// Code precedes the comment on its line (`x = 1  # note`); a comment
    /// on a line of its own talks about the line below it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub trailing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceDiagnostic {
    pub message: String,
    pub span: Span,
}

impl Module {
    pub fn function(&self, id: FuncId) -> &Function {
        &self.functions[id]
    }

    /// The module's top-level code: function 0, of kind `Module`.
    pub fn top_level(&self) -> Option<&Function> {
        self.functions
            .first()
            .filter(|f| f.kind == FunctionKind::Module)
    }

    /// Qualifies a dotted path through this module's imports and definitions.
    pub fn resolve(&self, dotted: &str) -> Option<String> {
        self.scope.resolve(dotted)
    }

    /// Qualifies an expression when it is a name/attribute chain. The
    /// chain's root is looked up first: most roots are locals, and their
    /// path is never built.
    pub fn resolve_expr(&self, expr: &Expr) -> Option<String> {
        let mut root = expr;
        while let ExprKind::Attribute { value, .. } = &root.kind {
            root = value;
        }
        self.scope.get(root.as_name()?)?;
        self.resolve(&expr.dotted()?)
    }
}
