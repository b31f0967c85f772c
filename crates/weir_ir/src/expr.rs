use serde::Serialize;

use crate::module::Param;
use crate::span::Span;

/// A name or attribute: stored inline when it is up to 24 bytes long, as
/// nearly every identifier is, so the IR does not hold one heap allocation
/// per name.
pub type Ident = compact_str::CompactString;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ExprKind {
    Name {
        id: Ident,
    },
    /// `value.attr` — also a method receiver chain when it is a callee.
    Attribute {
        value: Box<Expr>,
        attr: Ident,
    },
    Call(Box<Call>),
    Await {
        value: Box<Expr>,
    },
    Literal(Literal),
    /// A string with interpolations: Python f-string, JS template literal.
    /// `text` holds the literal parts joined, `values` the interpolated parts.
    Template(Box<Template>),
    /// List, tuple, set (and JS array) displays.
    Collection {
        kind: CollectionKind,
        elements: Vec<Expr>,
    },
    Dict {
        entries: Vec<(Option<Expr>, Expr)>,
    },
    Comprehension(Box<Comprehension>),
    Lambda {
        params: Vec<Param>,
        body: Box<Expr>,
    },
    Binary {
        op: Operator,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Unary {
        op: Operator,
        operand: Box<Expr>,
    },
    Compare(Box<Compare>),
    Subscript {
        value: Box<Expr>,
        index: Box<Expr>,
    },
    Conditional {
        test: Box<Expr>,
        body: Box<Expr>,
        orelse: Box<Expr>,
    },
    Yield {
        value: Option<Box<Expr>>,
        delegate: bool,
    },
    Spread {
        value: Box<Expr>,
    },
    /// Assignment used as an expression (`:=`, JS `a = b` in expressions).
    AssignExpr {
        target: Box<Expr>,
        value: Box<Expr>,
    },
    /// Anything else; children are kept so walks still see nested calls.
    Other {
        children: Vec<Expr>,
    },
}

// The rarer variants with several fields are boxed: every expression is
// as large as the largest variant, and expressions are most of the IR.

/// A string with interpolations: `text` holds the literal parts joined,
/// `values` the interpolated parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Template {
    pub text: String,
    pub values: Vec<Expr>,
}

/// `[element for target in iter if condition]` and its set, dict and
/// generator forms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comprehension {
    pub kind: CollectionKind,
    pub element: Expr,
    pub clauses: Vec<CompClause>,
}

/// `left < a <= b`: one operator per comparator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Compare {
    pub left: Expr,
    pub ops: Vec<Operator>,
    pub comparators: Vec<Expr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CollectionKind {
    List,
    Tuple,
    Set,
    Dict,
    Generator,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Literal {
    Str(String),
    Bytes,
    Int(i64),
    Float,
    Bool(bool),
    Null,
    Ellipsis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    Add,
    Sub,
    Mul,
    Div,
    FloorDiv,
    Mod,
    Pow,
    MatMul,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    And,
    Or,
    Not,
    Neg,
    Pos,
    Invert,
    Eq,
    NotEq,
    Lt,
    LtE,
    Gt,
    GtE,
    Is,
    IsNot,
    In,
    NotIn,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Call {
    pub callee: Expr,
    /// The callee's qualified name, resolved through the module's imports
    /// and top-level definitions (`t.sleep` → `time.sleep`). `None` when
    /// the head of the callee is a local value (`session.execute`).
    pub qualified: Option<String>,
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
    pub spread: ArgSpread,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArgSpread {
    None,
    /// `*args`, JS `...xs`
    Positional,
    /// `**kwargs`
    Keyword,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompClause {
    pub kind: ClauseKind,
    pub target: Expr,
    pub iter: Expr,
    pub conditions: Vec<Expr>,
    pub is_async: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClauseKind {
    For,
}

impl Expr {
    /// The dotted path of a name/attribute chain (`self.repo.get`), or
    /// `None` when some link is not a plain name or attribute.
    pub fn dotted(&self) -> Option<String> {
        fn write(expr: &Expr, out: &mut String) {
            match &expr.kind {
                ExprKind::Name { id } => out.push_str(id),
                ExprKind::Attribute { value, attr } => {
                    write(value, out);
                    out.push('.');
                    out.push_str(attr);
                }
                _ => {}
            }
        }
        // Measured first, then written into one allocation: paths are built
        // for most calls of every function.
        let mut len = 0;
        let mut link = self;
        loop {
            match &link.kind {
                ExprKind::Name { id } => break len += id.len(),
                ExprKind::Attribute { value, attr } => {
                    len += attr.len() + 1;
                    link = value;
                }
                _ => return None,
            }
        }
        let mut out = String::with_capacity(len);
        write(self, &mut out);
        Some(out)
    }

    /// The name at the root of a receiver chain, through method calls and
    /// awaits: `session` in `session.query(M).filter(…).all()`, `queryset`
    /// in `queryset.values_list(…)`.
    pub fn chain_root(&self) -> Option<&str> {
        let mut current = self.unawaited();
        loop {
            match &current.kind {
                ExprKind::Call(call) => match &call.callee.kind {
                    ExprKind::Attribute { value, .. } => current = value.unawaited(),
                    _ => return None,
                },
                ExprKind::Attribute { value, .. } => current = value.unawaited(),
                ExprKind::Name { id } => return Some(id),
                _ => return None,
            }
        }
    }

    /// The last link of a name/attribute chain (`self.repo.get` → `get`),
    /// when `dotted` would give a path; without building the path.
    pub fn dotted_last(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Name { id } => Some(id),
            ExprKind::Attribute { value, attr } => {
                let mut base = value.as_ref();
                while let ExprKind::Attribute { value, .. } = &base.kind {
                    base = value;
                }
                matches!(base.kind, ExprKind::Name { .. }).then_some(attr.as_str())
            }
            _ => None,
        }
    }

    pub fn as_name(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Name { id } => Some(id),
            _ => None,
        }
    }

    pub fn as_call(&self) -> Option<&Call> {
        match &self.kind {
            ExprKind::Call(call) => Some(call),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Literal(Literal::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// Strips `await`: `await session.execute(q)` → `session.execute(q)`.
    pub fn unawaited(&self) -> &Expr {
        match &self.kind {
            ExprKind::Await { value } => value.unawaited(),
            _ => self,
        }
    }

    /// True for a literal constant or a display holding only constants.
    pub fn is_constant(&self) -> bool {
        match &self.kind {
            ExprKind::Literal(_) => true,
            ExprKind::Collection { elements, .. } => elements.iter().all(Expr::is_constant),
            ExprKind::Unary { operand, .. } => operand.is_constant(),
            _ => false,
        }
    }
}

impl Call {
    /// The method name for `recv.method(...)`, or the function name.
    pub fn method_name(&self) -> Option<&str> {
        match &self.callee.kind {
            ExprKind::Attribute { attr, .. } => Some(attr),
            ExprKind::Name { id } => Some(id),
            _ => None,
        }
    }

    /// The receiver of a method call: `session` in `session.execute(q)`.
    pub fn receiver(&self) -> Option<&Expr> {
        match &self.callee.kind {
            ExprKind::Attribute { value, .. } => Some(value),
            _ => None,
        }
    }

    pub fn keyword(&self, name: &str) -> Option<&Expr> {
        self.args
            .iter()
            .find(|a| a.name.as_deref() == Some(name))
            .map(|a| &a.value)
    }

    pub fn positional(&self, index: usize) -> Option<&Expr> {
        self.args
            .iter()
            .filter(|a| a.name.is_none() && a.spread == ArgSpread::None)
            .nth(index)
            .map(|a| &a.value)
    }

    pub fn has_kwargs_spread(&self) -> bool {
        self.args.iter().any(|a| a.spread == ArgSpread::Keyword)
    }
}
