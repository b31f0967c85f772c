use serde::Serialize;

use crate::expr::{Expr, Operator};
use crate::module::{ClassId, FuncId};
use crate::span::Span;

pub type Block = Vec<Stmt>;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StmtKind {
    Expr {
        value: Expr,
    },
    /// `a = b`, `a: T = b`, `a += b` (`op` set), JS `let a = b`, Go `a := b`.
    Assign {
        targets: Vec<Expr>,
        value: Option<Expr>,
        /// Boxed: rare, and statements are as large as their largest kind.
        annotation: Option<Box<Expr>>,
        op: Option<Operator>,
    },
    Return {
        value: Option<Expr>,
    },
    /// Python `raise`, JS `throw`, Go `panic(...)` stays a call.
    Raise {
        value: Option<Expr>,
    },
    If {
        test: Expr,
        then: Block,
        orelse: Block,
    },
    /// Boxed: loops are rare and the largest kind, and every statement
    /// is as large as the largest kind.
    Loop(Box<Loop>),
    /// Python `with`/`async with`; JS `using`. Items are entered in order.
    With {
        items: Vec<WithItem>,
        is_async: bool,
        body: Block,
    },
    /// try/except/else/finally; JS try/catch/finally.
    Try {
        body: Block,
        handlers: Vec<Handler>,
        orelse: Block,
        finally: Block,
    },
    /// Go `defer f()`: runs when the enclosing function returns.
    Defer {
        call: Expr,
    },
    /// `match`/`switch`: one block per case.
    Switch {
        subject: Expr,
        cases: Vec<Block>,
    },
    FunctionDef {
        id: FuncId,
    },
    ClassDef {
        id: ClassId,
    },
    Delete {
        targets: Vec<Expr>,
    },
    Break,
    Continue,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Loop {
    pub kind: LoopKind,
    pub is_async: bool,
    /// The loop variable(s): `for job in jobs` → `job`.
    pub target: Option<Expr>,
    /// What a `for` iterates over; `None` for `while`.
    pub iter: Option<Expr>,
    /// The condition of a `while` loop.
    pub test: Option<Expr>,
    pub body: Block,
    pub orelse: Block,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoopKind {
    /// Iterates a collection: Python `for`, JS `for…of`/`for…in`, Go `for range`.
    ForEach,
    /// Runs while a condition holds: `while`, C-style `for(;;)`, Go `for cond`.
    While,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WithItem {
    pub context: Expr,
    pub target: Option<Expr>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Handler {
    /// The exception type(s) caught; `None` for a bare `except:` / `catch`.
    pub types: Option<Expr>,
    pub name: Option<String>,
    pub body: Block,
    pub span: Span,
}

impl Stmt {
    /// A plain assignment with a value (`a = b`, `a: T = b`; not `a += b`
    /// nor a bare annotation): its targets and the value.
    pub fn plain_assign(&self) -> Option<(&[Expr], &Expr)> {
        match &self.kind {
            StmtKind::Assign {
                targets,
                value: Some(value),
                op: None,
                ..
            } => Some((targets, value)),
            _ => None,
        }
    }
}
