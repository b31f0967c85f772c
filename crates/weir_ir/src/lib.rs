//! weir's intermediate representation: the contract between language
//! frontends and the auditors.
//!
//! Pure data. No parser types appear here, and nothing here knows about
//! rules. It is designed for Python, TypeScript/JavaScript and Go: async
//! functions, loops of every kind, calls with receiver chains,
//! try/catch/finally and `defer` all have a place.

pub mod codec;
pub mod expr;
pub mod imports;
pub mod module;
pub mod span;
pub mod sql;
pub mod stmt;
pub mod visit;

pub use expr::{
    Arg, ArgSpread, Call, ClauseKind, CompClause, Compare, Comprehension, Expr, ExprKind, Ident,
    Literal, Operator, Template,
};
pub use imports::{Import, ImportTable};
pub use module::{
    Class, ClassId, Comment, FuncId, Function, FunctionKind, Language, Module, Param, ParamKind,
    SourceDiagnostic,
};
pub use span::Span;
pub use stmt::{Block, Handler, Loop, LoopKind, Stmt, StmtKind, WithItem};
