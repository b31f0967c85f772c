//! Facts: what each function does, derived from the IR and the knowledge
//! packs. Rules read facts; they never re-derive them.

pub mod context;
pub mod sql;
mod types;
mod walk;

use std::collections::{HashMap, HashSet};

use weir_ir::{Call, Expr, Function, LoopKind, Module, Span, Stmt};

pub use context::ExecContext;
pub use types::{ProjectTypes, Typed};

use crate::context::ProjectContext;
use crate::knowledge::{Effect, Knowledge, ObjKind, QueryOp};

/// Shared, read-only facts about the whole project: what every rule of
/// every auditor can read, through [`FunctionFacts::project`].
pub struct ProjectFacts {
    pub knowledge: Knowledge,
    pub types: ProjectTypes,
    /// The context store: stack, database configuration, triggers,
    /// subscribers and best-practice notes (SPEC §5, §6).
    pub context: ProjectContext,
}

impl ProjectFacts {
    /// Facts for a project whose stack is not known (a single file, a test).
    pub fn new(modules: &[Module]) -> Self {
        Self::with_context(modules, ProjectContext::default())
    }

    pub fn with_context(modules: &[Module], context: ProjectContext) -> Self {
        let mut roots: Vec<&str> = modules
            .iter()
            .flat_map(|m| m.imports.iter())
            .map(|i| i.target.split('.').next().unwrap_or(&i.target))
            .collect();
        roots.sort_unstable();
        roots.dedup();
        let knowledge = Knowledge::for_project(&roots, &context.tech_stack);
        let types = ProjectTypes::build(modules, &knowledge);
        ProjectFacts {
            knowledge,
            types,
            context,
        }
    }
}

/// An enclosing loop: a statement loop or a comprehension.
#[derive(Debug, Clone, Copy)]
pub struct LoopRef<'ir> {
    pub kind: LoopKind,
    pub iter: Option<&'ir Expr>,
    pub target: Option<&'ir Expr>,
    pub span: Span,
    pub is_comprehension: bool,
}

impl LoopRef<'_> {
    /// A `for` over a literal display or `range(<constant>)`: a small, fixed
    /// number of iterations.
    pub fn is_over_literal(&self) -> bool {
        let Some(iter) = self.iter else { return false };
        if iter.is_constant() {
            return true;
        }
        iter.as_call().is_some_and(|c| {
            c.callee.as_name() == Some("range") && c.args.iter().all(|a| a.value.is_constant())
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryPart {
    Body,
    Handler(usize),
    Else,
    Finally,
}

/// A structural scope around a site, outermost first.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'ir> {
    Loop(usize),
    If(&'ir Expr),
    Try(&'ir Stmt, TryPart),
    With(&'ir Stmt),
}

/// Where something happens inside a function.
#[derive(Debug, Clone)]
pub struct Site<'ir> {
    pub span: Span,
    pub scopes: Vec<Scope<'ir>>,
    pub awaited: bool,
    /// Inside the callable handed to `asyncio.to_thread` and friends.
    pub offloaded: bool,
    pub in_lambda: bool,
}

impl<'ir> Site<'ir> {
    /// Indices (into `FunctionFacts::loops`) of the enclosing loops, outermost first.
    pub fn loops(&self) -> impl DoubleEndedIterator<Item = usize> + '_ {
        self.scopes.iter().filter_map(|s| match s {
            Scope::Loop(i) => Some(*i),
            _ => None,
        })
    }

    pub fn innermost_loop(&self) -> Option<usize> {
        self.loops().next_back()
    }

    /// The scopes nested inside the innermost loop.
    pub fn scopes_in_innermost_loop(&self) -> &[Scope<'ir>] {
        let at = self
            .scopes
            .iter()
            .rposition(|s| matches!(s, Scope::Loop(_)));
        at.map_or(&[], |i| &self.scopes[i + 1..])
    }
}

/// A call the knowledge packs know something about, or the evaluation of
/// a lazy query by iteration (`call` is `None` then).
#[derive(Debug, Clone)]
pub struct CallFact<'ir> {
    pub site: Site<'ir>,
    pub call: Option<&'ir Call>,
    pub effect: Option<Effect>,
    /// For queries: the operation, with `FromArgument` resolved where possible.
    pub op: Option<QueryOp>,
    /// Dotted path of the receiver (`session`, `self.db`).
    pub receiver: Option<String>,
    pub receiver_kind: Option<Typed>,
    pub returns: Option<ObjKind>,
    /// The qualified name or `receiver.method` text, for messages.
    pub label: String,
}

/// A resource bound to a local variable by a plain assignment.
#[derive(Debug, Clone)]
pub struct Acquisition<'ir> {
    pub var: String,
    pub kind: ObjKind,
    pub site: Site<'ir>,
    pub label: String,
}

/// `x += value` or `x = x + value`.
#[derive(Debug, Clone)]
pub struct Accumulation<'ir> {
    pub var: String,
    pub value: &'ir Expr,
    pub site: Site<'ir>,
}

/// Everything known about one function.
pub struct FunctionFacts<'ir> {
    /// The project-wide facts, the context store among them.
    pub project: &'ir ProjectFacts,
    pub module: &'ir Module,
    pub function: &'ir Function,
    pub context: ExecContext,
    pub loops: Vec<LoopRef<'ir>>,
    pub calls: Vec<CallFact<'ir>>,
    pub acquisitions: Vec<Acquisition<'ir>>,
    /// Variables bound by `with`/`async with` (managed by a context manager).
    pub managed: HashSet<String>,
    /// Variables whose value leaves the function (returned, yielded, passed
    /// on, stored) — the function is not responsible for closing them.
    pub escapes: HashSet<String>,
    pub accumulations: Vec<Accumulation<'ir>>,
    /// Variables known to hold strings, with the line they became one.
    pub strings: HashMap<String, u32>,
    pub params: HashSet<String>,
}

impl<'ir> FunctionFacts<'ir> {
    pub fn build(project: &'ir ProjectFacts, module: &'ir Module, function: &'ir Function) -> Self {
        walk::Walker::run(project, module, function)
    }

    /// Calls whose effect matches `pred`.
    pub fn calls_with(
        &self,
        pred: impl Fn(Effect) -> bool,
    ) -> impl Iterator<Item = &CallFact<'ir>> {
        self.calls
            .iter()
            .filter(move |c| c.effect.is_some_and(&pred))
    }
}
