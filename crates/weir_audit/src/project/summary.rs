//! Function summaries: what a function may do when called, directly or
//! through the project functions it calls, with one witness path each.
//! Computed to a fixed point over the (possibly recursive) call graph.
//!
//! Blocking effects (I/O, sleeps, CPU-heavy work) propagate only through
//! synchronous functions: an `async def` that blocks is reported where it
//! blocks, and awaiting it does not block the caller's loop any further.
//! Database effects (queries, row writes, commits) propagate through every
//! call, awaited or not.

use std::sync::Arc;

use rayon::prelude::*;

use weir_ir::{Expr, ExprKind, Operator};

use crate::facts::{CallFact, FunctionFacts, Scope, TryPart, guards};
use crate::knowledge::SINGLE_ROW_METHODS;
use crate::knowledge::{Effect, IoKind, ObjKind, QueryOp};
use crate::project::FnRef;

/// One link of a witness path: a call site or the effect itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub path: String,
    pub line: u32,
    pub label: String,
}

pub type Witness = Arc<[Step]>;

/// Witness paths longer than this are cut (the first steps are kept).
const MAX_STEPS: usize = 8;
/// Guard against pathological graphs; real projects settle in a few rounds.
const MAX_ROUNDS: usize = 64;

#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// `async def`: calling it only creates a coroutine.
    pub is_async: bool,
    /// `@cache`/`@lru_cache`: its blocking work happens once, not per call.
    pub memoized: bool,
    pub blocks: Option<(IoKind, Witness)>,
    pub sleeps: Option<Witness>,
    pub cpu: Option<Witness>,
    /// Awaits network I/O (through awaited async calls).
    pub network: Option<Witness>,
    pub reads: Option<Witness>,
    /// Reads that run only inside a memoised function (`@cache.memoize()`,
    /// `@lru_cache`): once per distinct cache key, then from the cache.
    /// A loop that calls with the same key each time queries once.
    pub memo_reads: Option<MemoReads>,
    /// For a memoised function: its parameters, the key of its cache.
    pub cache_key: Vec<KeyParam>,
    /// UPDATE or DELETE statements.
    pub writes: Option<(QueryOp, Witness)>,
    /// Rows added one at a time: `session.add`, `objects.create`, INSERT.
    pub stages: Option<Witness>,
    /// Parameters the function hands to long-lived work of its own: a
    /// coroutine it schedules as a task (`asyncio.create_task(coro)`), also
    /// through a nested function that awaits it (`create_task(wrapper())`,
    /// `Thread(target=run)`). A caller's coroutine passed there runs in
    /// that task, not in the caller.
    pub spawns: Vec<KeyParam>,
    /// Entities loaded by a parameter:
    /// `def get(self, job_id): session.get(Job, job_id)` → (0, `job_id`, Job).
    pub loads_by_param: Vec<ParamLoad>,
    /// Commits of a session the function did not open itself.
    pub commits: Option<Witness>,
    /// Commits that run only when a boolean parameter says so:
    /// `async def delete(self, id, commit: bool = True): … if commit:
    /// await self.session.commit()`. A call passing `commit=False` runs none.
    pub flag_commits: Option<(Flag, Witness)>,
    /// Reads that run only when the caller leaves an optional parameter out
    /// (or passes `None`): the fallback of a helper whose callers may hand
    /// it what they loaded in bulk,
    /// `grants if grants is not None else await load_grants(item.id)`; also
    /// under `if p is None:` on a parameter without a default.
    pub fallback_reads: Option<(Fallback, Witness)>,
    /// Reads that run only when the caller passes an optional parameter
    /// (default `None`): `if attachments: for a in attachments:
    /// File.objects.get(pk=a)`. A call that leaves it out runs none.
    pub given_reads: Option<(Fallback, Witness)>,
    /// Reads of a method that run only once its Django instance is in the
    /// database: under `if self.pk:` / `if self.id is not None:` / `if not
    /// self._state.adding:`. A call on an instance constructed in place
    /// (`QueuedMail(to=…).send()`, no primary key given) runs none.
    pub persisted_reads: Option<Witness>,
    /// Reads that run only when a boolean parameter says so, one witness
    /// per flag: `if allow_body: load_body(…)`, `if not skip_push:
    /// self.push_if_needed()`. A call passing `skip_push=True` runs none.
    pub flag_reads: Vec<(Flag, Witness)>,
    /// What the function's reads are: all of them `Session.get(Model,
    /// param)` of one parameter (directly or through the project functions
    /// it hands that parameter to), or anything else.
    pub identity_reads: IdentityReads,
}

/// The reads of a function, as SQLAlchemy's identity map sees them.
/// `Session.get(Model, key)` returns the object the session already holds
/// for that primary key without emitting SQL: a call given the key of a
/// row the caller holds (`self.delete_team(team.id)` over the teams it
/// just loaded, `delete_team` calling `self.db.get(Team, team_id)`) runs
/// no query.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum IdentityReads {
    /// No reads.
    #[default]
    None,
    /// Every read is `Session.get(model, <parameter index/name>)`.
    Get {
        index: usize,
        param: String,
        model: String,
    },
    /// Some read is another query (or a get by something else).
    Other,
}

impl IdentityReads {
    /// When every read is a get by one parameter: the argument `call`
    /// passes for it (by name or position) and the model it gets.
    pub fn key_arg<'c>(&self, call: &'c weir_ir::Call) -> Option<(&'c Expr, &str)> {
        let Self::Get {
            index,
            param,
            model,
        } = self
        else {
            return None;
        };
        let arg = call.keyword(param).or_else(|| call.positional(*index))?;
        Some((arg, model.as_str()))
    }

    /// The least state covering both: `None` ⊑ `Get` ⊑ `Other`, and two
    /// different gets are `Other`.
    fn join(&mut self, other: Self) -> bool {
        let joined = match (&*self, other) {
            (_, Self::None) | (Self::Other, _) => return false,
            (Self::None, theirs) => theirs,
            (mine @ Self::Get { .. }, theirs) if *mine == theirs => return false,
            _ => Self::Other,
        };
        *self = joined;
        true
    }
}

/// Flags a summary tells apart for its reads; reads behind more are
/// taken as unconditional.
const MAX_READ_FLAGS: usize = 4;

/// A parameter by positional index (not counting `self`/`cls`) and name.
pub type KeyParam = (usize, String);

/// Reads behind a cache, and what the cache key is made of.
#[derive(Debug, Clone)]
pub struct MemoReads {
    /// The parameters of this function that reach the key.
    pub keys: Vec<KeyParam>,
    /// The key also takes values the function computes itself (locals,
    /// `self`, `*args`): it may differ on every call.
    pub computed: bool,
    pub witness: Witness,
}

/// The index of a key that is the method's own object (`self`, `cls`):
/// a call passes it as its receiver (`self.page(entry)` → `self`).
pub const RECEIVER: usize = usize::MAX;

/// The arguments a call passes for `keys` (parameters of the callee).
pub fn key_args<'c>(call: &'c weir_ir::Call, keys: &[KeyParam]) -> Vec<&'c Expr> {
    keys.iter()
        .filter_map(|(index, name)| {
            if *index == RECEIVER {
                return call.receiver();
            }
            call.keyword(name).or_else(|| call.positional(*index))
        })
        .collect()
}

/// An optional parameter (default `None`) whose absence a read waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    /// Positional index, not counting `self`/`cls`.
    pub index: usize,
    pub param: String,
}

impl Fallback {
    /// The call passes the parameter, by position or by name, as something
    /// other than `None`.
    pub fn supplied_by(&self, call: &weir_ir::Call) -> bool {
        call.keyword(&self.param)
            .or_else(|| call.positional(self.index))
            .is_some_and(|value| !matches!(value.kind, ExprKind::Literal(weir_ir::Literal::Null)))
    }
}

/// A boolean parameter that decides whether a function commits or reads
/// (`commit: bool = True`, `auto_commit=False`, `skip_push=False`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// Positional index, not counting `self`/`cls`; `None` for a
    /// keyword-only parameter.
    pub index: Option<usize>,
    pub param: String,
    /// What leaving it out means: its default is `True`.
    pub default_on: bool,
    /// The effect runs when the flag is false (`if not skip_push:`), not
    /// when it is true (`if commit:`).
    pub negated: bool,
    /// A mode parameter rather than a boolean: the effect runs when it
    /// equals this string (`if entity_type == "organizations":`), or,
    /// `negated`, when it does not (`if kind != "users":`). A call passing
    /// another string literal runs none.
    pub equals: Option<String>,
}

impl Flag {
    /// The argument a call passes for the flag, by name or by position.
    fn arg<'c>(&self, call: &'c weir_ir::Call) -> Option<&'c Expr> {
        call.keyword(&self.param)
            .or_else(|| self.index.and_then(|i| call.positional(i)))
    }

    /// A call with these arguments runs the effect: the flag is passed as
    /// a literal (`True`; `False`, `None`, `0`) or left at its default that
    /// says so. An argument whose value is not written in the call
    /// (`commit=commit`, `**options`) may say so.
    pub fn set_by(&self, call: &weir_ir::Call) -> bool {
        if let Some(want) = &self.equals {
            let set = match self.arg(call).map(|value| &value.kind) {
                Some(ExprKind::Literal(weir_ir::Literal::Str(s))) => s == want,
                Some(ExprKind::Literal(weir_ir::Literal::Null)) => false,
                Some(_) => return true,
                None if call.has_kwargs_spread() => return true,
                None => self.default_on,
            };
            return set != self.negated;
        }
        let set = match self.arg(call).map(|value| &value.kind) {
            Some(ExprKind::Literal(
                weir_ir::Literal::Bool(false) | weir_ir::Literal::Null | weir_ir::Literal::Int(0),
            )) => false,
            Some(ExprKind::Literal(weir_ir::Literal::Bool(true))) => true,
            Some(_) => return true,
            None if call.has_kwargs_spread() => return true,
            None => self.default_on,
        };
        set != self.negated
    }
}

impl Summary {
    /// The commits a call of this function runs: its unconditional commits,
    /// or those behind a boolean parameter when the call sets it.
    pub fn commits_at(&self, call: &CallFact<'_>) -> Option<&Witness> {
        self.commits.as_ref().or_else(|| {
            self.flag_commits
                .as_ref()
                .filter(|(flag, _)| call.call.is_none_or(|c| flag.set_by(c)))
                .map(|(_, witness)| witness)
        })
    }

    /// The reads a call of this function runs only through a cache (none
    /// when it also reads uncached), with the parameters of this function
    /// its key is made of: all of them when the function is itself
    /// memoised, else those of memoised callees.
    pub fn memo_reads_at(&self, call: &CallFact<'_>) -> Option<(&[KeyParam], bool, &Witness)> {
        if self.uncached_reads_at(call).is_some() {
            return None;
        }
        if self.memoized {
            let witness = self
                .reads_at(call)
                .or(self.memo_reads.as_ref().map(|m| &m.witness))?;
            return Some((&self.cache_key, false, witness));
        }
        let memo = self.memo_reads.as_ref()?;
        Some((&memo.keys, memo.computed, &memo.witness))
    }

    /// The reads a call of this function runs every time: none when the
    /// function is memoised (see [`Summary::memo_reads_at`]).
    pub fn uncached_reads_at(&self, call: &CallFact<'_>) -> Option<&Witness> {
        if self.memoized {
            None
        } else {
            self.reads_at(call)
        }
    }

    /// The reads a call of this function may run: its unconditional reads,
    /// or its fallback reads when the call does not supply their parameter,
    /// or those behind a boolean parameter the call sets.
    pub fn reads_at(&self, call: &CallFact<'_>) -> Option<&Witness> {
        self.unflagged_reads_at(call)
            .or_else(|| self.flag_reads_at(call).map(|(_, witness)| witness))
    }

    /// [`Summary::reads_at`] but for those behind a boolean parameter.
    fn unflagged_reads_at(&self, call: &CallFact<'_>) -> Option<&Witness> {
        self.reads
            .as_ref()
            .or_else(|| {
                self.fallback_reads
                    .as_ref()
                    .filter(|(fallback, _)| call.call.is_none_or(|c| !fallback.supplied_by(c)))
                    .map(|(_, witness)| witness)
            })
            .or_else(|| {
                self.given_reads
                    .as_ref()
                    .filter(|(given, _)| call.call.is_none_or(|c| given.supplied_by(c)))
                    .map(|(_, witness)| witness)
            })
            .or_else(|| {
                self.persisted_reads
                    .as_ref()
                    .filter(|_| !call.call.is_some_and(on_unsaved_instance))
            })
    }

    /// The first of the reads behind a boolean parameter that a call with
    /// these arguments runs.
    fn flag_reads_at(&self, call: &CallFact<'_>) -> Option<&(Flag, Witness)> {
        self.flag_reads
            .iter()
            .find(|(flag, _)| call.call.is_none_or(|c| flag.set_by(c)))
    }

    /// Adds reads behind `flag`; past [`MAX_READ_FLAGS`] flags they count
    /// as unconditional. True when something was added.
    fn add_flag_reads(&mut self, flag: Flag, witness: impl FnOnce() -> Witness) -> bool {
        if self.flag_reads.iter().any(|(f, _)| *f == flag) {
            return false;
        }
        if self.flag_reads.len() < MAX_READ_FLAGS {
            self.flag_reads.push((flag, witness()));
            true
        } else {
            adopt(&mut self.reads, Some(&witness()), Arc::clone)
        }
    }
}

/// `QueuedMail(event=event, to=address).send()`: a method called on a model
/// instance constructed in place, without a primary key (`pk=`/`id=`, or
/// `**kwargs` that may hold one): it has no row yet, `self.pk` is `None`.
fn on_unsaved_instance(call: &weir_ir::Call) -> bool {
    let Some(constructor) = call.receiver().and_then(Expr::as_call) else {
        return false;
    };
    constructor
        .callee
        .dotted()
        .is_some_and(|d| last_is_class_name(&d))
        && !constructor.has_kwargs_spread()
        && constructor.keyword("pk").is_none()
        && constructor.keyword("id").is_none()
}

fn last_is_class_name(dotted: &str) -> bool {
    let last = dotted.rsplit('.').next().unwrap_or(dotted);
    last.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && last.chars().any(|c| c.is_ascii_lowercase())
}

/// The call runs only once `self` is saved: it sits under `if self.pk:`,
/// `if self.id is not None:`, `if not self._state.adding:` (or in the
/// `else` of the opposite test).
fn persisted_guard(call: &CallFact<'_>) -> bool {
    call.site.scopes.iter().any(|scope| match scope {
        Scope::If(test, _) => tests_saved(test, true),
        Scope::Else(test) => tests_saved(test, false),
        _ => false,
    })
}

/// `test` is true exactly when `self` is saved (`saved`), or unsaved (`!saved`).
fn tests_saved(test: &Expr, saved: bool) -> bool {
    let is_key = |e: &Expr| matches!(e.dotted().as_deref(), Some("self.pk" | "self.id"));
    let is_adding = |e: &Expr| e.dotted().as_deref() == Some("self._state.adding");
    match &test.kind {
        // Not through `and`: `not (self.pk and ready)` says nothing of `self.pk`.
        ExprKind::Unary {
            op: Operator::Not,
            operand,
        } if !matches!(operand.kind, ExprKind::Binary { .. }) => tests_saved(operand, !saved),
        ExprKind::Binary {
            op: Operator::And,
            left,
            right,
        } if saved => tests_saved(left, true) || tests_saved(right, true),
        _ if is_key(test) => saved,
        _ if is_adding(test) => !saved,
        _ => key_compared_with_none(test, if saved { Operator::IsNot } else { Operator::Is }),
    }
}

/// `self.pk is not None` (`op` = `IsNot`), `self.id is None` (`Is`).
fn key_compared_with_none(test: &Expr, op: Operator) -> bool {
    compared_side_with_none(test, op)
        .is_some_and(|left| matches!(left.dotted().as_deref(), Some("self.pk" | "self.id")))
}

/// The optional parameter whose absence the call waits for: the call sits
/// under `if p is None:` / `if not p:`, in the `else` of `if p is not None:`
/// / `if p:`, or in the fallback branch of `p if p is not None else …`.
fn absent_guard(facts: &FunctionFacts<'_>, call: &CallFact<'_>) -> Option<Fallback> {
    param_guard(facts, call, false)
}

/// The optional parameter whose presence the call waits for: the mirror of
/// [`absent_guard`] (under `if p:` / `if p is not None:`, in the `else` of
/// `if not p:`, in the body of `… if p else …`), or a loop over `p` itself.
fn present_guard(facts: &FunctionFacts<'_>, call: &CallFact<'_>) -> Option<Fallback> {
    param_guard(facts, call, true)
}

/// The optional parameters (default `None`) of `f`, with their positions
/// not counting `self`/`cls`.
fn optional_params<'f>(f: &'f FunctionFacts<'_>) -> impl Iterator<Item = Fallback> + 'f {
    params_where(f, |p| {
        p.default
            .as_ref()
            .is_some_and(|d| matches!(d.kind, ExprKind::Literal(weir_ir::Literal::Null)))
    })
}

/// The parameters of `f` without a default (not `*args`/`**kwargs`), with
/// their positions not counting `self`/`cls`.
fn required_params<'f>(f: &'f FunctionFacts<'_>) -> impl Iterator<Item = Fallback> + 'f {
    params_where(f, |p| {
        p.default.is_none()
            && matches!(
                p.kind,
                weir_ir::ParamKind::Positional | weir_ir::ParamKind::KeywordOnly
            )
    })
}

/// The parameters of `f` that `keep` accepts, with their positions not
/// counting `self`/`cls`.
fn params_where<'f>(
    f: &'f FunctionFacts<'_>,
    keep: impl Fn(&weir_ir::Param) -> bool + 'f,
) -> impl Iterator<Item = Fallback> + 'f {
    f.function
        .params
        .iter()
        .filter(|p| p.name != "self" && p.name != "cls")
        .enumerate()
        .filter(move |(_, p)| keep(p))
        .map(|(index, p)| Fallback {
            index,
            param: p.name.clone(),
        })
}

/// The optional parameter (default `None`) named `name`, if `f` has one.
fn optional_param(f: &FunctionFacts<'_>, name: &str) -> Option<Fallback> {
    optional_params(f).find(|p| p.param == name)
}

/// A test that names the parameter it checks (`p is None` → `p`).
type NameTest = fn(&Expr) -> Option<&str>;

fn param_guard(facts: &FunctionFacts<'_>, call: &CallFact<'_>, present: bool) -> Option<Fallback> {
    let (when_then, when_else): (NameTest, NameTest) = if present {
        (present_name, absent_name)
    } else {
        (absent_name, present_name)
    };
    let optional: Vec<Fallback> = optional_params(facts).collect();
    // `if p is None: p = load(…)` on a parameter without a default: the
    // caller passes `None` to ask for the load, or what it loaded before
    // (`valves = apply_valves(module, valves)` threaded through a loop), as
    // it would for an optional one. Only an explicit `is None` test says so.
    let nullable: Vec<Fallback> = if present {
        Vec::new()
    } else {
        required_params(facts).collect()
    };
    if optional.is_empty() && nullable.is_empty() {
        return None;
    }
    let fallback = |name: Option<&str>| {
        let name = name?;
        optional.iter().find(|p| p.param == name).cloned()
    };
    let explicit = |test: &Expr, op: Operator| {
        let name = compared_with_none(test, op)?;
        nullable.iter().find(|p| p.param == name).cloned()
    };
    let then_absent = |test: &Expr| {
        fallback(when_then(test))
            .or_else(|| (!present).then(|| explicit(test, Operator::Is)).flatten())
    };
    let else_absent = |test: &Expr| {
        fallback(when_else(test)).or_else(|| {
            (!present)
                .then(|| explicit(test, Operator::IsNot))
                .flatten()
        })
    };
    for scope in &call.site.scopes {
        let found = match scope {
            Scope::If(test, _) => then_absent(test),
            Scope::Else(test) => else_absent(test),
            // `for a in attachments:` runs only when it was given.
            Scope::Loop(i) if present => fallback(
                facts
                    .loops
                    .get(*i)
                    .and_then(|lp| lp.iter)
                    .and_then(Expr::as_name),
            ),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    let span = call.expr.span;
    let mut found = None;
    weir_ir::visit::walk_block_exprs(&facts.function.body, &mut |e| {
        if found.is_some() {
            return;
        }
        if let ExprKind::Conditional { test, body, orelse } = &e.kind {
            if body.span.contains(&span) {
                found = then_absent(test);
            } else if orelse.span.contains(&span) {
                found = else_absent(test);
            }
        }
    });
    found
}

/// `p is None`, `not p` → `p`.
pub(crate) fn absent_name(test: &Expr) -> Option<&str> {
    match &test.kind {
        ExprKind::Unary {
            op: Operator::Not,
            operand,
        } => operand.as_name(),
        _ => compared_with_none(test, Operator::Is),
    }
}

/// `p is not None`, `p` → `p`.
fn present_name(test: &Expr) -> Option<&str> {
    match &test.kind {
        ExprKind::Name { id } => Some(id),
        _ => compared_with_none(test, Operator::IsNot),
    }
}

/// `p is None` (`op` = `Is`) or `p is not None` (`IsNot`) → `p`.
fn compared_with_none(test: &Expr, op: Operator) -> Option<&str> {
    compared_side_with_none(test, op).and_then(Expr::as_name)
}

/// The left side of `x is None` (`op` = `Is`) or `x is not None` (`IsNot`).
fn compared_side_with_none(test: &Expr, op: Operator) -> Option<&Expr> {
    let ExprKind::Compare(cmp) = &test.kind else {
        return None;
    };
    let none = cmp
        .comparators
        .first()
        .is_some_and(|c| matches!(c.kind, ExprKind::Literal(weir_ir::Literal::Null)));
    (cmp.ops.as_slice() == [op] && none).then_some(&cmp.left)
}

/// A function loading an entity by one of its parameters.
#[derive(Debug, Clone)]
pub struct ParamLoad {
    /// Positional index, not counting `self`/`cls`.
    pub index: usize,
    pub param: String,
    /// Qualified class of the model.
    pub model: String,
    pub path: String,
    pub line: u32,
    /// The load text, for messages.
    pub label: String,
    /// `with_for_update()`, `select_for_update()`: a locking read, which
    /// a held object cannot replace.
    pub locking: bool,
    /// The loaded entity is only read for a few attributes (not changed,
    /// returned or passed on): the function resolves values from it.
    pub reads: Option<Vec<String>>,
    /// The load runs on a session the function opens itself (`async with
    /// session_scope() as session:`, `session = SessionLocal()`), not one
    /// handed in: a caller's object belongs to another session and cannot
    /// stand in for it.
    pub own_session: bool,
    /// The optional parameter whose absence the load waits for (`if
    /// memory_base is None: memory_base = session.get(…, memory_base_id)`):
    /// a call that passes the object itself loads nothing.
    pub unless_given: Option<Fallback>,
}

pub struct Summaries {
    per_module: Vec<Vec<Summary>>,
    /// Calls of generator functions whose generator is not iterated where
    /// it is created (see `defers_generator`), by the address of the call
    /// expression: the IR outlives the summaries and never moves.
    deferred: crate::collections::HashSet<usize>,
    /// Calls whose coroutine (or value) is handed to a project function
    /// that runs it as long-lived work (see `spawned_args`), by address.
    spawned: crate::collections::HashSet<usize>,
}

/// The identity of a call expression, for `Summaries::deferred`.
fn call_key(call: &CallFact<'_>) -> usize {
    std::ptr::from_ref(call.expr) as usize
}

fn step(facts: &FunctionFacts<'_>, call: &CallFact<'_>, label: String) -> Step {
    Step {
        path: facts.module.path.clone(),
        line: call.site.span.line,
        label,
    }
}

fn call_label(call: &CallFact<'_>) -> String {
    call.text()
}

fn extend(head: Step, tail: &Witness) -> Witness {
    let mut steps = Vec::with_capacity(tail.len() + 1);
    steps.push(head);
    steps.extend(tail.iter().take(MAX_STEPS - 1).cloned());
    steps.into()
}

fn one(step: Step) -> Witness {
    vec![step].into()
}

/// Decorators that make a function run its body once per argument set.
const MEMOIZING_DECORATORS: &[&str] = &[
    "cache",
    "lru_cache",
    "cached",
    "cached_property",
    "memoize",
    "memoized",
    "once",
];

/// `@functools.cache`, `@lru_cache(maxsize=None)`, `@cachetools.cached(...)`,
/// cachetools' `@ttl_cache`/`@lfu_cache`, also under an import alias (`from
/// functools import cache as functools_cache`), and a project's own
/// wrappers named for what they do (`@cache.memoize_function(120)` around
/// Flask-Caching's `memoize`, `@settings_cache(key=…)`). Not Django's
/// `@never_cache`, which only sets response headers.
pub fn is_memoized(module: &weir_ir::Module, function: &weir_ir::Function) -> bool {
    let memoizing = |name: &str| {
        let last = name.rsplit('.').next().unwrap_or(name);
        MEMOIZING_DECORATORS.contains(&last)
            || last.starts_with("memoize_")
            || (last.ends_with("_cache") && last != "never_cache")
    };
    function.decorators.iter().any(|d| {
        let target = d.as_call().map_or(d, |c| &c.callee);
        target.dotted().is_some_and(|name| memoizing(&name))
            || module
                .resolve_expr(target)
                .is_some_and(|name| memoizing(&name))
    })
}

/// `if not self.running: … self.running = True`, `if _client is None: _client = …`,
/// `if slug not in self.loaded: … self.loaded.add(slug)`, `if not _types: …
/// _types[oid] = name`, `if stamp != _seen: … _seen = stamp` (reloaded only
/// when a key, such as a file's modification time, changed), or any of these
/// in an `and`: a first-use initialisation. Its effects happen once (per
/// key), not on every call.
fn is_once_guard(facts: &FunctionFacts<'_>, test: &Expr, then: &[weir_ir::Stmt]) -> bool {
    if let ExprKind::Binary {
        op: Operator::And,
        left,
        right,
    } = &test.kind
    {
        return is_once_guard(facts, left, then) || is_once_guard(facts, right, then);
    }
    let guarded = match &test.kind {
        ExprKind::Unary {
            op: Operator::Not,
            operand,
        } => guarded_name(operand),
        ExprKind::Compare(cmp) if cmp.ops.as_slice() == [Operator::Is] => cmp
            .comparators
            .first()
            .filter(|c| matches!(c.kind, ExprKind::Literal(weir_ir::Literal::Null)))
            .and_then(|_| guarded_name(&cmp.left)),
        // `if stamp != _seen: … _seen = stamp`: a module-level cache
        // validated by a key (a file's modification time, a version),
        // reloaded only when the key changed since the last call. (Not an
        // attribute: `if row.amount != amount: row.amount = amount` is a
        // change written only when there is one, every time it differs.)
        ExprKind::Compare(cmp) if cmp.ops.as_slice() == [Operator::NotEq] => {
            return std::iter::once(&cmp.left)
                .chain(cmp.comparators.first())
                .filter_map(Expr::as_name)
                .any(|name| module_global(facts, name) && assigns(then, name));
        }
        // `key not in self.cache`: the cache is filled in the block.
        ExprKind::Compare(cmp) if cmp.ops.as_slice() == [Operator::NotIn] => {
            let cache = cmp.comparators.first().and_then(Expr::dotted);
            return cache
                .is_some_and(|cache| persistent(facts, &cache, test) && fills(then, &cache));
        }
        _ => None,
    };
    let Some(name) = guarded.filter(|n| persistent(facts, n, test)) else {
        return false;
    };
    // `if not _types: … _types[oid] = name`: an empty cache filled in place.
    if fills(then, &name) {
        return true;
    }
    assigns(then, &name)
}

/// A name the module binds at its top level (`_seen = None`): state every
/// call of its functions shares.
fn module_global(facts: &FunctionFacts<'_>, name: &str) -> bool {
    facts.module.functions.first().is_some_and(|top| {
        top.body.iter().any(|stmt| {
            matches!(&stmt.kind, weir_ir::StmtKind::Assign { targets, .. }
                if targets.iter().any(|t| t.as_name() == Some(name)))
        })
    })
}

/// `name = …` somewhere in `block`, also as one target of a destructuring
/// assignment (`_seen, _paused = seen, paused`).
fn assigns(block: &[weir_ir::Stmt], name: &str) -> bool {
    fn binds(target: &Expr, name: &str) -> bool {
        match &target.kind {
            ExprKind::Collection { elements, .. } => elements.iter().any(|e| binds(e, name)),
            _ => target.dotted().as_deref() == Some(name),
        }
    }
    let mut found = false;
    weir_ir::visit::walk_stmts(block, &mut |stmt| {
        if let weir_ir::StmtKind::Assign { targets, .. } = &stmt.kind
            && targets.iter().any(|t| binds(t, name))
        {
            found = true;
        }
    });
    found
}

/// State that outlives the call: on `self`/`cls` (`self.loaded`) or a
/// module global, or a local read from a cache; not a parameter or a local
/// bound before the test otherwise (`if not slug:`, `if not order.slug:`).
fn persistent(facts: &FunctionFacts<'_>, name: &str, test: &Expr) -> bool {
    let head = name.split('.').next().unwrap_or(name);
    if matches!(head, "self" | "cls") {
        return true;
    }
    if facts.params.contains(head) {
        return false;
    }
    match facts.binding_before(head, test.span.start) {
        None => true,
        // `value = cache.get(key)`: a cache-aside read, filled on a miss.
        Some(bound) => read_from_cache(&facts.function.body, bound),
    }
}

/// The statement at `bound` assigns `….get(…)` of a cache (`cache.get(key)`,
/// `self._cache.get(key)`), alone or as one operand of an `or` chain of
/// lookups tried in turn (`getattr(obj, "_cached", None) or
/// obj.cache.get(key)`: a per-instance memo, then the shared cache).
fn read_from_cache(body: &[weir_ir::Stmt], bound: weir_ir::Span) -> bool {
    let mut found = false;
    weir_ir::visit::walk_stmts(body, &mut |stmt| {
        if stmt.span == bound
            && let weir_ir::StmtKind::Assign {
                value: Some(value), ..
            } = &stmt.kind
            && is_cache_lookup(value)
        {
            found = true;
        }
    });
    found
}

/// `cache.get(key)`, or an `or` chain one of whose operands is.
fn is_cache_lookup(value: &Expr) -> bool {
    if let ExprKind::Binary {
        op: Operator::Or,
        left,
        right,
    } = &value.kind
    {
        return is_cache_lookup(left) || is_cache_lookup(right);
    }
    value.unawaited().as_call().is_some_and(|call| {
        matches!(call.method_name(), Some("get" | "get_many"))
            && call
                .receiver()
                .and_then(Expr::dotted)
                .is_some_and(|r| r.to_ascii_lowercase().contains("cache"))
    })
}

/// `cache[key] = …`, `cache.add(key)`, `cache.append(…)`, `cache.update(…)`,
/// `cache.setdefault(…)`, or the store of a cache object's own API
/// (`cache.set(key, value)` of Django's, Flask-Caching's and redis-py's
/// caches, `ShardCache.put(key, value)` of a project's) somewhere in `block`.
fn fills(block: &[weir_ir::Stmt], cache: &str) -> bool {
    let mut found = false;
    weir_ir::visit::walk_block_exprs(block, &mut |e| {
        if let Some(call) = e.as_call()
            && matches!(
                call.method_name(),
                Some("add" | "append" | "update" | "setdefault" | "__setitem__" | "set" | "put")
            )
            && call.receiver().and_then(Expr::dotted).as_deref() == Some(cache)
        {
            found = true;
        }
    });
    weir_ir::visit::walk_stmts(block, &mut |stmt| {
        if let weir_ir::StmtKind::Assign { targets, .. } = &stmt.kind
            && targets.iter().any(|t| {
                matches!(&t.kind, ExprKind::Subscript { value, .. } if value.dotted().as_deref() == Some(cache))
            })
        {
            found = true;
        }
    });
    found
}

/// `self.running`, `getattr(self, "running", False)` → `self.running`; `_client` → `_client`.
fn guarded_name(expr: &Expr) -> Option<String> {
    // `getattr(self, "running", False)`, and `hasattr(self, "_hash")` in
    // `if not hasattr(self, "_hash"): self._hash = …`.
    if let Some(call) = expr
        .as_call()
        .filter(|c| matches!(c.callee.as_name(), Some("getattr" | "hasattr")))
    {
        let base = call.positional(0)?.dotted()?;
        let attr = call.positional(1)?.as_str()?;
        return Some(format!("{base}.{attr}"));
    }
    expr.dotted()
}

/// Calling a generator function runs none of its body: its effects happen
/// where the generator is iterated. The caller inherits them when it
/// iterates the call here (`for row in rows(…)`, `list(rows(…))`, `yield
/// from rows(…)`, or a local it binds the call to and iterates); a
/// generator handed on (`StreamingResponse(stream(…))`) runs later,
/// outside this caller's transaction or loop. `@contextmanager` generators
/// run up to their `yield` on entry and are not deferred.
fn defers_generator(
    caller: &FunctionFacts<'_>,
    callee: &FunctionFacts<'_>,
    call: &CallFact<'_>,
) -> bool {
    let function = callee.function;
    if !function.is_generator
        || function.decorators.iter().any(|d| {
            d.dotted()
                .or_else(|| d.as_call().and_then(|c| c.callee.dotted()))
                .is_some_and(|n| n.ends_with("contextmanager") || n.ends_with("fixture"))
        })
    {
        return false;
    }
    let span = call.expr.span;
    let mut bound: Option<&str> = None;
    weir_ir::visit::walk_stmts(&caller.function.body, &mut |stmt| {
        if let weir_ir::StmtKind::Assign {
            targets,
            value: Some(value),
            ..
        } = &stmt.kind
            && value.span == span
            && let [target] = targets.as_slice()
        {
            bound = target.as_name();
        }
    });
    let is_it = |e: &Expr| e.span == span || bound.is_some_and(|b| e.as_name() == Some(b));
    if caller.loops.iter().any(|lp| lp.iter.is_some_and(is_it)) {
        return false;
    }
    let mut consumed = false;
    weir_ir::visit::walk_block_exprs(&caller.function.body, &mut |e| match &e.kind {
        ExprKind::Yield {
            value: Some(value),
            delegate: true,
        } if is_it(value) => consumed = true,
        ExprKind::Call(c)
            if c.args.iter().any(|a| is_it(&a.value))
                && c.callee.as_name().is_some_and(|n| {
                    matches!(
                        n,
                        "list"
                            | "tuple"
                            | "set"
                            | "dict"
                            | "sorted"
                            | "sum"
                            | "any"
                            | "all"
                            | "min"
                            | "max"
                            | "next"
                            | "enumerate"
                            | "zip"
                            | "reversed"
                    )
                }) =>
        {
            consumed = true;
        }
        ExprKind::Call(c)
            if c.method_name() == Some("join") && c.args.iter().any(|a| is_it(&a.value)) =>
        {
            consumed = true;
        }
        _ => {}
    });
    !consumed
}

/// Effects a caller should not inherit: in an error handler, or behind a
/// first-use guard.
fn is_exceptional(facts: &FunctionFacts<'_>, call: &CallFact<'_>) -> bool {
    call.site.scopes.iter().any(|scope| match scope {
        Scope::Try(_, TryPart::Handler(_)) => true,
        Scope::If(test, then) => is_once_guard(facts, test, then),
        _ => false,
    }) || after_cache_hit_return(facts, call)
        || guards::debug_only(facts.module, call)
}

/// The call comes after `if name in Preferences.modules: return
/// Preferences.modules[name]` at the top of its function: a memo that
/// returns what it holds, so the rest of the function (a query, the
/// constructor that fills the memo) runs once per key, on a miss.
fn after_cache_hit_return(facts: &FunctionFacts<'_>, call: &CallFact<'_>) -> bool {
    facts.statements_before(call).any(|stmt| {
        is_lookup_or_miss(stmt)
            || guards::returning_if(stmt).is_some_and(|(test, then)| {
                is_memo_hit_return(facts, test, then)
                    || is_cache_hit_return(facts, test, then)
                    || is_cache_aside_return(facts, call, stmt, test)
                    || is_configured_logger_return(facts, test)
            })
    })
}

/// `try: return self._cache[key] except KeyError: pass`: a lookup that
/// returns on a hit (Python's "easier to ask forgiveness" memo, as in
/// Django's `ContentTypeManager.get_for_model`); what follows runs on a
/// miss only.
fn is_lookup_or_miss(stmt: &weir_ir::Stmt) -> bool {
    let weir_ir::StmtKind::Try { body, handlers, .. } = &stmt.kind else {
        return false;
    };
    body.last()
        .is_some_and(|s| matches!(s.kind, weir_ir::StmtKind::Return { .. }))
        && handlers.iter().any(|h| {
            h.types.as_ref().is_some_and(|t| {
                let mut key_error = false;
                weir_ir::visit::walk_expr(t, &mut |e| {
                    key_error |= e.dotted_last() == Some("KeyError");
                });
                key_error
            })
        })
}

/// `logger = logging.getLogger(name)` … `if logger.handlers: return …`
/// (or `if logger.hasHandlers():`), and the function adds a handler
/// later (`logger.addHandler(…)`). `getLogger` hands out one logger per
/// name for the whole process, so the setup after the test (the handlers
/// that open log files) runs on the first call for a name only.
fn is_configured_logger_return(facts: &FunctionFacts<'_>, test: &Expr) -> bool {
    let logger = match &test.kind {
        ExprKind::Attribute { value, attr } if attr == "handlers" => value.as_name(),
        ExprKind::Call(call)
            if call.method_name() == Some("hasHandlers") && call.args.is_empty() =>
        {
            call.receiver().and_then(Expr::as_name)
        }
        _ => None,
    };
    let Some(logger) = logger else {
        return false;
    };
    let Some(bound) = facts.binding_before(logger, test.span.start) else {
        return false;
    };
    let body = &facts.function.body;
    let mut from_get_logger = false;
    let mut adds_handler = false;
    weir_ir::visit::walk_stmts(body, &mut |stmt| {
        if stmt.span == bound
            && let Some((_, value)) = stmt.plain_assign()
            && value
                .as_call()
                .is_some_and(|c| c.qualified.as_deref() == Some("logging.getLogger"))
        {
            from_get_logger = true;
        }
    });
    weir_ir::visit::walk_block_exprs(body, &mut |e| {
        if let Some(call) = e.as_call()
            && e.span.start > test.span.end
            && call.method_name() == Some("addHandler")
            && call.receiver().and_then(Expr::as_name) == Some(logger)
        {
            adds_handler = true;
        }
    });
    from_get_logger && adds_handler
}

/// `if cached: return cached` (or `if cached is not None:`), where
/// `cached = self._cache.get(key)` (or `self.context.get("data",
/// {}).get(key)`) was read before, from `self`/`cls`, a class or a module
/// global, and the function itself stores into that cache later
/// (`self._cache[key] = …`, `self.context.setdefault("data", {})[key] =
/// …`): a cache-aside memo, whose miss path runs once per key.
fn is_cache_aside_return(
    facts: &FunctionFacts<'_>,
    call: &CallFact<'_>,
    stmt: &weir_ir::Stmt,
    test: &Expr,
) -> bool {
    let Some(tested) = guards::tested_as_set(test).as_name() else {
        return false;
    };
    let body = &facts.function.body;
    let Some(cache) = facts
        .statements_before(call)
        .take_while(|s| s.span.end <= stmt.span.start)
        .filter_map(|s| match &s.kind {
            weir_ir::StmtKind::Assign {
                targets,
                value: Some(value),
                ..
            } if targets.len() == 1 && targets[0].as_name() == Some(tested) => Some(value),
            _ => None,
        })
        .last()
        .and_then(lookup_base)
    else {
        return false;
    };
    persistent(facts, &cache, test) && fills(body, &cache)
}

/// The cache a chain of `.get(…)` lookups reads: `self._cache.get(key)` →
/// `self._cache`, `self.context.get("data", {}).get(key)` → `self.context`.
fn lookup_base(value: &Expr) -> Option<String> {
    let call = value.as_call().filter(|c| c.method_name() == Some("get"))?;
    let receiver = call.receiver()?;
    match receiver.as_call() {
        Some(_) => lookup_base(receiver),
        None => receiver.dotted(),
    }
}

/// `if self._fernet is not None: return self._fernet` (or `if _client:
/// return _client`) on `self`/`cls` or a module global, and the function
/// itself stores it later (`self._fernet = Fernet(key)`): a lazily built
/// value, so what builds it (a key file read, a query) runs on the first
/// call only. A value that is returned when set but never stored here is
/// no memo: the fallback runs on every call.
fn is_memo_hit_return(facts: &FunctionFacts<'_>, test: &Expr, then: &[weir_ir::Stmt]) -> bool {
    let Some(memo) = guards::tested_as_set(test).dotted() else {
        return false;
    };
    let returns_memo = then.last().is_some_and(|s| {
        matches!(&s.kind, weir_ir::StmtKind::Return { value: Some(v) }
            if v.dotted().as_deref() == Some(memo.as_str()))
    });
    if !returns_memo || !persistent(facts, &memo, test) {
        return false;
    }
    // Stored after the test: `cached = cache.get(key)` before it is the
    // lookup, not the fill.
    let body = &facts.function.body;
    let later = body
        .iter()
        .position(|s| s.span.start > test.span.end)
        .map_or(&body[..0], |i| &body[i..]);
    assigns(later, &memo)
}

/// `if key in cache: … return cache[key]`: the block reads the entry it
/// tested and returns, on `self`/`cls`, a class or a module global, and the
/// module fills that cache somewhere (`Preferences.modules[name] = self` in
/// the constructor the miss path calls). A table that is only read
/// (`if key in SYSTEM_PROMPTS: return SYSTEM_PROMPTS[key]`, then a file
/// read for any other key) is no memo: its fallback runs on every call.
fn is_cache_hit_return(facts: &FunctionFacts<'_>, test: &Expr, then: &[weir_ir::Stmt]) -> bool {
    let ExprKind::Compare(cmp) = &test.kind else {
        return false;
    };
    if cmp.ops.as_slice() != [Operator::In] {
        return false;
    }
    let Some(cache) = cmp.comparators.first().and_then(Expr::dotted) else {
        return false;
    };
    if !persistent(facts, &cache, test) {
        return false;
    }
    let mut reads_entry = false;
    weir_ir::visit::walk_block_exprs(then, &mut |e| {
        if let ExprKind::Subscript { value, .. } = &e.kind {
            reads_entry |= value.dotted().as_deref() == Some(cache.as_str());
        }
    });
    reads_entry
        && facts
            .module
            .functions
            .iter()
            .any(|f| fills(&f.body, &cache))
}

/// `call` runs on a session bound in this function, by `with`/`async with`
/// or from a session factory, not on a parameter or an attribute.
fn on_own_session(facts: &FunctionFacts<'_>, call: &CallFact<'_>) -> bool {
    let Some(root) = call.receiver.as_deref() else {
        return false;
    };
    if root.contains('.') || facts.params.contains(root) || matches!(root, "self" | "cls") {
        return false;
    }
    let session = call.receiver_kind.is_some_and(|t| {
        matches!(
            t.kind,
            crate::knowledge::ObjKind::Session | crate::knowledge::ObjKind::AsyncSession
        )
    });
    session && (facts.managed.contains(root) || facts.bindings.iter().any(|(n, _)| n == root))
}

/// The parameters of `f` it hands to long-lived work: `asyncio.create_task(coro)`,
/// or a nested function that uses it, called or passed there
/// (`create_task(wrapper())` with `async def wrapper(): await coro`,
/// `Thread(target=run_async)`).
fn spawned_params(f: &FunctionFacts<'_>) -> Vec<KeyParam> {
    let params = own_params(f);
    if params.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<KeyParam> = Vec::new();
    for expr in f.call_exprs() {
        let Some(outer) = expr.as_call() else {
            continue;
        };
        if crate::facts::resources::starts_long_lived_work(outer).is_none() || f.awaits_task(expr) {
            continue;
        }
        for arg in &outer.args {
            let value = arg.value.unawaited();
            let name = value
                .as_name()
                .or_else(|| value.as_call().and_then(|c| c.callee.as_name()));
            let Some(name) = name else {
                continue;
            };
            let nested = crate::facts::resources::nested_function(f, name);
            for param in &params {
                let handed = param.1 == name
                    || nested
                        .is_some_and(|n| crate::facts::resources::body_mentions(&n.body, &param.1));
                if handed && !out.contains(param) {
                    out.push(param.clone());
                }
            }
        }
    }
    out
}

/// The arguments the calls of `f` pass to project functions that hand
/// those parameters to long-lived work (`spawns_of` gives the parameters
/// a call's target spawns): a call inside one runs in that work.
pub fn spawned_args<'s>(
    f: &FunctionFacts<'_>,
    spawns_of: impl Fn(&CallFact<'_>) -> Option<&'s [KeyParam]>,
) -> Vec<weir_ir::Span> {
    let mut out = Vec::new();
    for outer in &f.calls {
        let (Some(c), Some(_)) = (outer.call, outer.target) else {
            continue;
        };
        let Some(spawns) = spawns_of(outer).filter(|s| !s.is_empty()) else {
            continue;
        };
        out.extend(key_args(c, spawns).iter().map(|arg| arg.unawaited().span));
    }
    out
}

/// The function's own effects, first witness in source order.
fn direct(facts: &FunctionFacts<'_>) -> Summary {
    let mut s = Summary {
        is_async: facts.function.is_async,
        ..Summary::default()
    };
    // A memoised function does its I/O once per argument set: callers do
    // not block on it each time. Its queries still run once per new key.
    let memoized = is_memoized(facts.module, facts.function);
    s.memoized = memoized;
    if memoized {
        s.cache_key = own_params(facts);
    }
    s.spawns = spawned_params(facts);
    let params: Vec<&str> = facts
        .function
        .params
        .iter()
        .map(|p| p.name.as_str())
        .filter(|n| *n != "self" && *n != "cls")
        .collect();
    for call in &facts.calls {
        if let (Some(model), Some(key)) = (&call.model, call.load_key().and_then(Expr::as_name))
            && let Some(index) = params.iter().position(|p| *p == key)
        {
            s.loads_by_param.push(ParamLoad {
                index,
                param: key.to_string(),
                model: model.clone(),
                path: facts.module.path.clone(),
                line: call.site.span.line,
                label: call_label(call),
                locking: is_locking(call),
                reads: loaded_entity_reads(facts, call),
                own_session: on_own_session(facts, call),
                unless_given: absent_guard(facts, call),
            });
        }
        if call.site.offloaded || call.site.in_lambda || is_exceptional(facts, call) {
            continue;
        }
        // Formatted only for the calls that record a witness: most have none.
        let label = || call_label(call);
        if let Some(kind) = call
            .blocking_io()
            .filter(|_| !call.site.awaited && !memoized)
            && s.blocks
                .as_ref()
                .is_none_or(|(k, _)| weaker_block(*k, kind))
        {
            s.blocks = Some((
                kind,
                one(step(
                    facts,
                    call,
                    format!("{}: {}", label(), kind.describe()),
                )),
            ));
        }
        match (call.effect, call.op) {
            (Some(Effect::Sleep), _) if !call.site.awaited && !memoized => {
                s.sleeps
                    .get_or_insert_with(|| one(step(facts, call, format!("{} sleeps", label()))));
            }
            (Some(Effect::CpuHeavy), _) if !call.site.awaited && !memoized => {
                s.cpu.get_or_insert_with(|| {
                    one(step(facts, call, format!("{} is CPU-bound", label())))
                });
            }
            (Some(Effect::Network), _) if call.site.awaited => {
                s.network.get_or_insert_with(|| {
                    one(step(facts, call, format!("{} awaits the network", label())))
                });
            }
            (Some(Effect::Query(_)), Some(QueryOp::Select)) => {
                s.identity_reads.join(identity_get(call, &params));
                let witness = || one(step(facts, call, format!("{} runs a query", label())));
                match (absent_guard(facts, call), present_guard(facts, call)) {
                    _ if persisted_guard(call) => {
                        s.persisted_reads.get_or_insert_with(witness);
                    }
                    (Some(fallback), _) => {
                        s.fallback_reads
                            .get_or_insert_with(|| (fallback, witness()));
                    }
                    (None, Some(given)) => {
                        s.given_reads.get_or_insert_with(|| (given, witness()));
                    }
                    (None, None) => match flag_guard(facts, call) {
                        Some(flag) => {
                            s.add_flag_reads(flag, witness);
                        }
                        None => {
                            s.reads.get_or_insert_with(witness);
                        }
                    },
                }
            }
            (Some(Effect::Query(_)), Some(op @ (QueryOp::Update | QueryOp::Delete))) => {
                let verb = if op == QueryOp::Update {
                    "an UPDATE"
                } else {
                    "a DELETE"
                };
                s.writes.get_or_insert_with(|| {
                    (
                        op,
                        one(step(facts, call, format!("{} runs {verb}", label()))),
                    )
                });
            }
            (Some(Effect::Stage(_)), _) | (Some(Effect::Query(_)), Some(QueryOp::Insert)) => {
                s.stages.get_or_insert_with(|| {
                    one(step(facts, call, format!("{} writes one row", label())))
                });
            }
            // A flush inside a helper (to get generated keys) is routine; a commit
            // ends the caller's transaction. Context-manager factories
            // (`create_session()`) commit at the end of their own scope.
            (Some(Effect::Commit), _)
                if !opens_own_session(facts, call) && !facts.function.is_generator =>
            {
                let witness = || one(step(facts, call, format!("{} commits", label())));
                match flag_guard(facts, call) {
                    Some(flag) => {
                        s.flag_commits.get_or_insert_with(|| (flag, witness()));
                    }
                    None => {
                        s.commits.get_or_insert_with(witness);
                    }
                }
            }
            _ => {}
        }
    }
    s
}

/// `session.get(Job, job_id)` (or `get_one`) on a SQLAlchemy session, by a
/// parameter of the function, without a lock or `populate_existing`: served
/// from the identity map when the session holds that row.
fn identity_get(call: &CallFact<'_>, params: &[&str]) -> IdentityReads {
    let session = call
        .receiver_kind
        .is_some_and(|t| matches!(t.kind, ObjKind::Session | ObjKind::AsyncSession));
    let Some(c) = call.call.filter(|c| {
        session
            && matches!(c.method_name(), Some("get" | "get_one"))
            && c.keyword("populate_existing").is_none()
            && c.keyword("with_for_update").is_none()
    }) else {
        return IdentityReads::Other;
    };
    let (Some(model), Some(key)) = (&call.model, c.positional(1).and_then(Expr::as_name)) else {
        return IdentityReads::Other;
    };
    match params.iter().position(|p| *p == key) {
        Some(index) => IdentityReads::Get {
            index,
            param: key.to_string(),
            model: model.clone(),
        },
        None => IdentityReads::Other,
    }
}

/// `select(M).with_for_update()`, `M.objects.select_for_update().get(…)`,
/// `session.get(M, id, with_for_update=True)`.
fn is_locking(call: &CallFact<'_>) -> bool {
    let mut locking = false;
    for source in [call.statement, Some(call.expr)].into_iter().flatten() {
        weir_ir::visit::walk_expr(source, &mut |e| {
            locking |= e.as_call().is_some_and(crate::facts::rows::locks_rows);
        });
    }
    locking
}

/// The attributes read of the entity `call` loads, when the function only
/// reads it: bound to a local (`order = session.get(Order, order_id)`) that
/// is never changed, returned or passed on; or read inline
/// (`session.get(Order, order_id).status`).
fn loaded_entity_reads(facts: &FunctionFacts<'_>, call: &CallFact<'_>) -> Option<Vec<String>> {
    let body = &facts.function.body;
    let mut bound = None;
    let mut inline = None;
    weir_ir::visit::walk_stmts(body, &mut |stmt| {
        if !stmt.span.contains(&call.site.span) {
            return;
        }
        if let weir_ir::StmtKind::Assign {
            targets,
            value: Some(value),
            op: None,
            ..
        } = &stmt.kind
            && let [target] = targets.as_slice()
            && let Some(var) = target.as_name()
            && value.span.contains(&call.site.span)
        {
            // `order = (await session.scalars(q)).one()`: the load is the value.
            let outer_is_load = std::ptr::eq(value.unawaited(), call.expr)
                || value
                    .as_call()
                    .and_then(weir_ir::Call::method_name)
                    .is_some_and(|m| {
                        // `scalar()`: the first column of the first row, an entity
                        // for `select(Model)`.
                        SINGLE_ROW_METHODS.contains(&m) || m == "scalar"
                    });
            if outer_is_load {
                bound = Some((var.to_string(), stmt.span.end));
            }
        }
        weir_ir::visit::stmt_exprs(stmt, &mut |e| {
            weir_ir::visit::walk_expr(e, &mut |e| {
                if let ExprKind::Attribute { value, attr } = &e.kind
                    && value.span.contains(&call.site.span)
                    && is_entity_expr(value, call)
                {
                    inline = Some(vec![attr.to_string()]);
                }
            });
        });
    });
    if let Some((var, from)) = bound {
        let to = facts
            .bindings
            .iter()
            .find(|(n, span)| *n == var && span.start >= from)
            .map_or(u32::MAX, |(_, span)| span.start);
        let uses = crate::facts::uses::entity_uses(body, &var, from, to);
        return (uses.only_read() && !uses.attrs.is_empty()).then_some(uses.attrs);
    }
    inline
}

/// `call` itself, awaited, or finished with `.one()`/`.scalar_one()`/`.first()`.
fn is_entity_expr(expr: &Expr, call: &CallFact<'_>) -> bool {
    let expr = expr.unawaited();
    if std::ptr::eq(expr, call.expr) || expr.span == call.expr.span {
        return true;
    }
    expr.as_call().is_some_and(|c| {
        c.method_name()
            .is_some_and(|m| SINGLE_ROW_METHODS.contains(&m))
            && c.receiver().is_some_and(|r| is_entity_expr(r, call))
    })
}

/// A commit on a session the function opened itself (`with SessionLocal()
/// as s:`): a unit of work of its own, not the caller's transaction.
fn opens_own_session(facts: &FunctionFacts<'_>, call: &CallFact<'_>) -> bool {
    call.receiver
        .as_deref()
        .is_some_and(|r| facts.managed.contains(r) || facts.acquisitions.iter().any(|a| a.var == r))
}

/// A call through which a caller inherits its callee's effects, in the
/// order the fixed point visits them.
struct Edge<'f, 'ir> {
    caller: (usize, usize),
    callee: (usize, usize),
    caller_facts: &'f FunctionFacts<'ir>,
    callee_facts: &'f FunctionFacts<'ir>,
    call: &'f CallFact<'ir>,
    /// The callee is `async def` or memoised: its blocking effects stay with it.
    shields_blocking: bool,
    /// The callee is memoised: its reads reach the caller as cached reads.
    memoized: bool,
    /// The clock when this edge was last looked at (0: never).
    seen: u64,
}

impl Summaries {
    /// `facts[m][f]` are the facts of function `f` of module `m` (a module
    /// whose analysis failed has an empty list).
    ///
    /// Each function's own effects are found in parallel. The propagation is
    /// the serial round-robin fixed point (every call in module, function
    /// and call order, a caller's missing effect taken from its callee's
    /// current summary, until a round changes nothing), so the witness each
    /// summary keeps is the same for any thread count; a call is looked at
    /// again only when its callee changed since it was last looked at
    /// (summaries only gain effects, so nothing else could change).
    pub fn compute(facts: &[Vec<FunctionFacts<'_>>]) -> Self {
        let mut per_module: Vec<Vec<Summary>> = facts
            .par_iter()
            .map(|fs| fs.iter().map(direct).collect())
            .collect();
        let deferred: crate::collections::HashSet<usize> = facts
            .par_iter()
            .flat_map_iter(|functions| {
                functions.iter().flat_map(|f| {
                    f.calls.iter().filter_map(move |call| {
                        let target = call.target?;
                        let callee = facts
                            .get(target.module as usize)?
                            .get(target.func as usize)?;
                        defers_generator(f, callee, call).then(|| call_key(call))
                    })
                })
            })
            .collect();
        let deferred_ref = &deferred;
        // The calls whose coroutine a project function schedules as a task
        // (`safe_create_task(self.step(agent_id))`): the callee runs there.
        // (Only a coroutine waits for the task: a plain call in the
        // arguments runs here, before the task starts.)
        let spawned: crate::collections::HashSet<usize> = {
            let direct = &per_module;
            facts
                .par_iter()
                .flat_map_iter(|functions| {
                    functions.iter().flat_map(move |f| {
                        let args = spawned_args(f, |outer| {
                            let t = outer.target?;
                            let s = direct.get(t.module as usize)?.get(t.func as usize)?;
                            Some(s.spawns.as_slice())
                        });
                        f.calls
                            .iter()
                            .filter(move |call| {
                                !args.is_empty() && args.iter().any(|a| a.contains(&call.expr.span))
                            })
                            .map(call_key)
                    })
                })
                .collect()
        };
        let spawned_ref = &spawned;
        let mut edges: Vec<Edge<'_, '_>> = facts
            .par_iter()
            .enumerate()
            .flat_map_iter(|(mi, functions)| {
                functions.iter().enumerate().flat_map(move |(fi, f)| {
                    f.calls.iter().filter_map(move |call| {
                        let target = call.target?;
                        if call.site.offloaded || call.site.in_lambda {
                            return None;
                        }
                        let (tm, tf) = (target.module as usize, target.func as usize);
                        let callee_facts = facts.get(tm).and_then(|fs| fs.get(tf))?;
                        if (tm, tf) == (mi, fi)
                            || is_exceptional(f, call)
                            || deferred_ref.contains(&call_key(call))
                            || (callee_facts.function.is_async
                                && !call.site.awaited
                                && (f.handed_to_long_lived_work(call)
                                    || spawned_ref.contains(&call_key(call))))
                        {
                            return None;
                        }
                        Some(Edge {
                            caller: (mi, fi),
                            callee: (tm, tf),
                            caller_facts: f,
                            callee_facts,
                            call,
                            shields_blocking: callee_facts.function.is_async
                                || is_memoized(callee_facts.module, callee_facts.function),
                            memoized: is_memoized(callee_facts.module, callee_facts.function),
                            seen: 0,
                        })
                    })
                })
            })
            .collect();
        // When each summary last gained an effect; the direct effects at 1.
        let mut changed_at: Vec<Vec<u64>> = facts.iter().map(|fs| vec![1; fs.len()]).collect();
        let mut clock: u64 = 1;
        for _ in 0..MAX_ROUNDS {
            let mut changed = false;
            for edge in &mut edges {
                let (mi, fi) = edge.caller;
                let (tm, tf) = edge.callee;
                if changed_at[tm][tf] <= edge.seen {
                    continue;
                }
                edge.seen = clock;
                let mut caller = std::mem::take(&mut per_module[mi][fi]);
                if inherit(&mut caller, &per_module[tm][tf], edge) {
                    clock += 1;
                    changed_at[mi][fi] = clock;
                    changed = true;
                }
                per_module[mi][fi] = caller;
            }
            if !changed {
                break;
            }
        }
        Summaries {
            per_module,
            deferred,
            spawned,
        }
    }

    pub fn get(&self, f: FnRef) -> Option<&Summary> {
        self.per_module.get(f.module as usize)?.get(f.func as usize)
    }

    /// The call is (inside) an argument handed to a project function that
    /// runs it as long-lived work: `safe_create_task(self.step(agent_id))`.
    /// Only the coroutine of an `async def` runs there; the caller checks.
    pub fn handed_to_spawner(&self, call: &CallFact<'_>) -> bool {
        self.spawned.contains(&call_key(call))
    }

    /// The summary of the function a call runs, when it is a project function.
    pub fn of_call(&self, call: &CallFact<'_>) -> Option<&Summary> {
        if self.deferred.contains(&call_key(call)) {
            return None;
        }
        self.get(call.target?)
    }
}

/// Takes into `caller` each effect it lacks and `callee` has, through the
/// call of `edge`; true when something was taken.
fn inherit(caller: &mut Summary, callee: &Summary, edge: &Edge<'_, '_>) -> bool {
    let (f, call, callee_facts) = (edge.caller_facts, edge.call, edge.callee_facts);
    let head = || {
        step(
            f,
            call,
            format!(
                "{} calls `{}`",
                call_label(call),
                callee_facts.function.qualname
            ),
        )
    };
    let witness = |w: &Witness| extend(head(), w);
    let mut changed = false;
    if !edge.shields_blocking {
        changed |= adopt(&mut caller.blocks, callee.blocks.as_ref(), |(kind, w)| {
            (*kind, witness(w))
        });
        // A metadata call is the witness only until real I/O is found.
        if let (Some((mine, _)), Some((theirs, w))) = (&caller.blocks, &callee.blocks)
            && weaker_block(*mine, *theirs)
        {
            caller.blocks = Some((*theirs, witness(w)));
            changed = true;
        }
        changed |= adopt(&mut caller.sleeps, callee.sleeps.as_ref(), witness);
        changed |= adopt(&mut caller.cpu, callee.cpu.as_ref(), witness);
    } else if call.site.awaited {
        changed |= adopt(&mut caller.network, callee.network.as_ref(), witness);
    }
    let behind_cache = if edge.memoized {
        let reads = callee
            .reads_at(call)
            .or(callee.memo_reads.as_ref().map(|m| &m.witness));
        reads.map(|w| (callee.cache_key.as_slice(), false, w))
    } else {
        callee
            .memo_reads
            .as_ref()
            .map(|m| (m.keys.as_slice(), m.computed, &m.witness))
    };
    if let Some((keys, computed, reads)) = behind_cache {
        let (mine, local) = key_through(f, call, keys);
        changed |= merge_memo(&mut caller.memo_reads, mine, computed || local, || {
            witness(reads)
        });
    }
    // `mail(…, attachments=attachments)` with `attachments` an optional
    // parameter of the caller too: the callee's given reads stay given.
    let passed_through = callee
        .given_reads
        .as_ref()
        .filter(|_| {
            callee.reads.is_none()
                && callee
                    .fallback_reads
                    .as_ref()
                    .is_none_or(|(fallback, _)| call.call.is_some_and(|c| fallback.supplied_by(c)))
        })
        .and_then(|(given, _)| {
            let arg = call
                .call?
                .keyword(&given.param)
                .or_else(|| call.call?.positional(given.index))?;
            optional_param(f, arg.as_name()?)
        });
    // `linked.commit_files(…, skip_push=skip_push)`: reads behind a flag
    // the caller hands on from its own parameter stay behind that one.
    let flag_through = || {
        if callee.unflagged_reads_at(call).is_some() {
            return None;
        }
        let (flag, _) = callee.flag_reads_at(call)?;
        flag_param(
            f,
            flag.arg(call.call?)?.as_name()?,
            flag.negated,
            flag.equals.as_deref(),
        )
    };
    if caller.reads.is_none()
        && !edge.memoized
        && let Some(reads) = callee.reads_at(call)
    {
        let given = || present_guard(f, call).or_else(|| passed_through.clone());
        match absent_guard(f, call) {
            _ if persisted_guard(call) => {
                changed |= adopt(&mut caller.persisted_reads, Some(reads), witness);
            }
            Some(fallback) => {
                if caller.fallback_reads.is_none() {
                    caller.fallback_reads = Some((fallback, witness(reads)));
                    changed = true;
                }
            }
            None => match given() {
                Some(given) => {
                    if caller.given_reads.is_none() {
                        caller.given_reads = Some((given, witness(reads)));
                        changed = true;
                    }
                }
                None => match flag_through().or_else(|| flag_guard(f, call)) {
                    Some(flag) => changed |= caller.add_flag_reads(flag, || witness(reads)),
                    None => changed |= adopt(&mut caller.reads, Some(reads), witness),
                },
            },
        }
    }
    if !edge.memoized && callee.reads_at(call).is_some() {
        changed |= caller
            .identity_reads
            .join(identity_through(f, call, &callee.identity_reads));
    }
    changed |= adopt(&mut caller.writes, callee.writes.as_ref(), |(op, w)| {
        (*op, witness(w))
    });
    changed |= adopt(&mut caller.stages, callee.stages.as_ref(), witness);
    if caller.commits.is_none()
        && let Some(commits) = callee.commits_at(call)
    {
        // `self._delete(id, commit=commit)`, or the call under `if commit:`:
        // the caller commits only when its own flag says so.
        let passed_through = || {
            let (flag, _) = callee
                .flag_commits
                .as_ref()
                .filter(|_| callee.commits.is_none())?;
            flag_param(
                f,
                flag.arg(call.call?)?.as_name()?,
                flag.negated,
                flag.equals.as_deref(),
            )
        };
        match passed_through().or_else(|| flag_guard(f, call)) {
            Some(flag) => {
                if caller.flag_commits.is_none() {
                    caller.flag_commits = Some((flag, witness(commits)));
                    changed = true;
                }
            }
            None => changed |= adopt(&mut caller.commits, Some(commits), witness),
        }
    }
    changed
}

/// The callee's identity-map gets as reads of the caller: a get by the
/// parameter the call hands one of the caller's own parameters
/// (`self.get_team(team_id)`) is a get by that one.
fn identity_through(
    f: &FunctionFacts<'_>,
    call: &CallFact<'_>,
    callee: &IdentityReads,
) -> IdentityReads {
    let IdentityReads::Get {
        index,
        param,
        model,
    } = callee
    else {
        return callee.clone();
    };
    let Some(arg) = call
        .call
        .and_then(|c| c.keyword(param).or_else(|| c.positional(*index)))
        .and_then(Expr::as_name)
    else {
        return IdentityReads::Other;
    };
    f.function
        .params
        .iter()
        .map(|p| p.name.as_str())
        .filter(|n| *n != "self" && *n != "cls")
        .position(|p| p == arg)
        .map_or(IdentityReads::Other, |index| IdentityReads::Get {
            index,
            param: arg.to_string(),
            model: model.clone(),
        })
}

/// The boolean parameter of `f` named `name`: a default of `True` or
/// `False`, or a `bool` annotation. The effect it guards runs when it is
/// true (`negated` false) or when it is false.
fn flag_param(
    f: &FunctionFacts<'_>,
    name: &str,
    negated: bool,
    equals: Option<&str>,
) -> Option<Flag> {
    let (at, p) = f
        .function
        .params
        .iter()
        .filter(|p| p.name != "self" && p.name != "cls")
        .enumerate()
        .find(|(_, p)| p.name == name)?;
    let default = p.default.as_ref().map(|d| &d.kind);
    let default_on = match (equals, default) {
        // A mode left out: its default string says, `None` matches no
        // string, and a required one (or a computed default) may match.
        (Some(want), Some(ExprKind::Literal(weir_ir::Literal::Str(s)))) => s == want,
        (Some(_), Some(ExprKind::Literal(weir_ir::Literal::Null))) => false,
        (Some(_), _) => true,
        (None, Some(ExprKind::Literal(weir_ir::Literal::Bool(b)))) => *b,
        (None, None) if p.annotation.as_ref().and_then(Expr::as_name) == Some("bool") => true,
        (None, _) => return None,
    };
    Some(Flag {
        index: (p.kind == weir_ir::ParamKind::Positional).then_some(at),
        param: p.name.clone(),
        default_on,
        negated,
        equals: equals.map(str::to_string),
    })
}

/// The boolean parameter a call (a commit, a query, or a call that does
/// either) waits for: it sits under `if commit:` / `if case and
/// track_view:` or in the `else` of `if not commit:` (runs when the flag
/// is true), or under `if not skip_push:` / in the `else` of `if dry_run:`
/// (runs when it is false).
fn flag_guard(facts: &FunctionFacts<'_>, call: &CallFact<'_>) -> Option<Flag> {
    type Test<'e> = (&'e str, bool, Option<&'e str>);
    /// `mode == "x"` / `"x" == mode` (and `!=`, negated): the name, whether
    /// the comparison is `!=`, and the string.
    fn mode_test(test: &Expr) -> Option<Test<'_>> {
        let ExprKind::Compare(c) = &test.kind else {
            return None;
        };
        let ([op], [right]) = (c.ops.as_slice(), c.comparators.as_slice()) else {
            return None;
        };
        let negated = match op {
            Operator::Eq => false,
            Operator::NotEq => true,
            _ => return None,
        };
        match (c.left.as_name(), right.as_str()) {
            (Some(name), Some(s)) => Some((name, negated, Some(s))),
            _ => Some((right.as_name()?, negated, Some(c.left.as_str()?))),
        }
    }
    /// The names a test requires true (`false`) or false (`true`), and
    /// the modes it requires equal (`false`) or different (`true`).
    fn conjuncts<'e>(test: &'e Expr, names: &mut Vec<Test<'e>>) {
        match &test.kind {
            ExprKind::Name { id } => names.push((id, false, None)),
            ExprKind::Compare(_) => names.extend(mode_test(test)),
            ExprKind::Unary {
                op: Operator::Not,
                operand,
            } => {
                if let Some(name) = operand.as_name() {
                    names.push((name, true, None));
                }
            }
            ExprKind::Binary {
                op: Operator::And,
                left,
                right,
            } => {
                conjuncts(left, names);
                conjuncts(right, names);
            }
            _ => {}
        }
    }
    call.site.scopes.iter().find_map(|scope| {
        let mut names = Vec::new();
        match scope {
            Scope::If(test, _) => conjuncts(test, &mut names),
            // The `else` of `if flag:` or `if not flag:` (not of a
            // conjunction: either side may have failed).
            Scope::Else(test) => match &test.kind {
                ExprKind::Name { id } => names.push((id.as_str(), true, None)),
                ExprKind::Compare(_) => {
                    names.extend(mode_test(test).map(|(n, negated, s)| (n, !negated, s)));
                }
                ExprKind::Unary {
                    op: Operator::Not,
                    operand,
                } => {
                    if let Some(name) = operand.as_name() {
                        names.push((name, false, None));
                    }
                }
                _ => {}
            },
            _ => {}
        }
        names
            .into_iter()
            .find_map(|(name, negated, equals)| flag_param(facts, name, negated, equals))
    })
}

/// The parameters of `f` other than `self`/`cls`, by position.
fn own_params(f: &FunctionFacts<'_>) -> Vec<KeyParam> {
    f.function
        .params
        .iter()
        .filter(|p| p.name != "self" && p.name != "cls")
        .enumerate()
        .map(|(i, p)| (i, p.name.clone()))
        .collect()
}

/// What a call in `f` passes for the callee's key parameters, in terms of
/// `f`: the parameters of `f` the arguments name, and whether they also
/// name values computed in `f` (locals, `self`, spread arguments). Names
/// bound nowhere in `f` are module constants and imports: fixed.
fn key_through(
    f: &FunctionFacts<'_>,
    call: &CallFact<'_>,
    keys: &[KeyParam],
) -> (Vec<KeyParam>, bool) {
    let Some(c) = call.call else {
        return (Vec::new(), true);
    };
    let mut computed = c.args.iter().any(|a| a.spread != weir_ir::ArgSpread::None);
    let params = own_params(f);
    let mut found: Vec<KeyParam> = Vec::new();
    for arg in key_args(c, keys) {
        weir_ir::visit::walk_expr(arg, &mut |e| {
            let Some(name) = e.as_name() else {
                return;
            };
            // `generate_pdf(self.event)` in a method: the key is made of
            // the object the method is called on.
            let receiver = matches!(name, "self" | "cls")
                && f.function.params.first().is_some_and(|p| p.name == name);
            if let Some(param) = params.iter().find(|(_, p)| p == name) {
                if !found.contains(param) {
                    found.push(param.clone());
                }
            } else if receiver {
                let key = (RECEIVER, name.to_string());
                if !found.contains(&key) {
                    found.push(key);
                }
            } else if matches!(name, "self" | "cls")
                || f.binding_before(name, call.site.span.start).is_some()
            {
                computed = true;
            }
        });
    }
    (found, computed)
}

/// Adds a path to cached reads to `mine`: the first witness stays, the
/// key parameters are joined. True when something was added.
fn merge_memo(
    mine: &mut Option<MemoReads>,
    keys: Vec<KeyParam>,
    computed: bool,
    witness: impl FnOnce() -> Witness,
) -> bool {
    match mine {
        None => {
            *mine = Some(MemoReads {
                keys,
                computed,
                witness: witness(),
            });
            true
        }
        Some(memo) => {
            let mut changed = computed && !memo.computed;
            memo.computed |= computed;
            for key in keys {
                if !memo.keys.contains(&key) {
                    memo.keys.push(key);
                    changed = true;
                }
            }
            changed
        }
    }
}

/// Fills `mine` from `theirs` (through `carry`) when only the callee has
/// the effect; true when it did.
/// `held` (a file-system metadata call, or a database call) is a weaker
/// witness of blocking than `found` (other I/O): the summary shows the
/// stronger one. A helper that saves a row before it posts a webhook
/// still posts it inside its caller's transaction (TX-02).
fn weaker_block(held: IoKind, found: IoKind) -> bool {
    let rank = |kind: IoKind| match kind {
        IoKind::FileMetadata => 0,
        IoKind::Database => 1,
        _ => 2,
    };
    rank(held) < rank(found)
}

fn adopt<T>(mine: &mut Option<T>, theirs: Option<&T>, carry: impl FnOnce(&T) -> T) -> bool {
    match (&mine, theirs) {
        (None, Some(t)) => {
            *mine = Some(carry(t));
            true
        }
        _ => false,
    }
}
