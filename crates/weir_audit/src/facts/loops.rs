//! What a loop iterates over. Only per-item loops over data of unknown size
//! make N+1 queries and per-row statements; retries, batches, fixed lists
//! and endless worker loops do not.

use std::collections::HashSet;

use weir_ir::Expr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Iteration {
    /// One iteration per item of a collection of unknown size.
    PerItem,
    /// A literal display, `range(<constant>)`, or a name bound to a literal
    /// display in this function (or to a dict filled only at keys written in
    /// the code, `sources = {}; sources["note"] = …`): a small, fixed number
    /// of iterations. A list the loop itself grows (`for n in pending:
    /// pending.extend(children)`, a work list) is per item instead.
    Literal,
    /// Attempts of one operation: `for attempt in Retrying(...)`,
    /// `for _ in range(max_retries)`.
    Retry,
    /// Chunks of a collection: `for chunk in batched(ids, 500)`,
    /// `for i in range(0, len(ids), size)`, `for i in range(num_batches)`,
    /// `for page in range(1, n)`. One statement per chunk is the fix,
    /// not the problem.
    Batch,
    /// `while` loops and `for n in itertools.count()`: worker and polling
    /// loops; and step loops, `for step in range(max_steps)`: the steps of an
    /// agent, a solver or a conversation, each run on the last one's result.
    Endless,
    /// A generator that yields one value: `for db in get_db():` over a
    /// session dependency runs its body once.
    Once,
}

/// Word prefixes, matched against the words of an identifier
/// (`run_with_db_retries` → run, with, db, retries).
const RETRY_WORDS: &[&str] = &["retr", "attempt", "tries", "tenacity"];
/// The steps of an iterative process: `range(max_steps)`,
/// `range(self.max_turns)`, `for epoch in range(epochs)`.
const STEP_WORDS: &[&str] = &["step", "iteration", "turn", "round", "hop", "epoch"];
const BATCH_WORDS: &[&str] = &[
    "chunk",
    "batch",
    "segment",
    "partition",
    "grouper",
    "page",
    "slice",
    "window",
];
/// A collection of chunks, as opposed to one chunk (`chunk_updates` holds items).
const BATCH_PLURALS: &[&str] = &[
    "chunks",
    "batches",
    "segments",
    "partitions",
    "pages",
    "slices",
    "windows",
];

/// `(from_id, to_id)`, `[primary, replica]`: a display of a few values
/// named one by one (no `*spread`), a fixed number of iterations.
pub(super) fn is_fixed_display(iter: &Expr) -> bool {
    matches!(&iter.kind, weir_ir::ExprKind::Collection { elements, .. }
        if !elements.is_empty()
            && elements
                .iter()
                .all(|e| !matches!(e.kind, weir_ir::ExprKind::Spread { .. })))
}

fn last_segment(dotted: &str) -> &str {
    dotted.rsplit('.').next().unwrap_or(dotted)
}

/// The words of an identifier: split at `_`, `.` and lower→upper case changes.
fn words(ident: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in ident.chars() {
        if (c == '_' || c == '.' || (c.is_ascii_uppercase() && prev_lower)) && !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        if c != '_' && c != '.' {
            current.push(c.to_ascii_lowercase());
        }
        prev_lower = c.is_ascii_lowercase();
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn mentions(ident: &str, prefixes: &[&str]) -> bool {
    words(ident)
        .iter()
        .any(|w| prefixes.iter().any(|p| w.starts_with(p)))
}

/// The database connections a project configures, one per alias in its
/// settings: Django's `connections` (iterated, the aliases) and
/// `connections.all()` (the connections). A statement run on each is run
/// once per database, a number fixed by configuration, not by data.
pub const CONFIGURED_DATABASES: &[&str] = &["django.db.connections", "django.db.connections.all"];

/// Classifies a `for` loop (or comprehension clause) from its iterable and
/// target. `literal_names` are locals bound to literal displays.
/// Calls that go over the items of their first argument, in the same
/// number: `enumerate(x)`, `reversed(x)`, `sorted(x)`, a progress bar.
const WRAPPERS: &[&str] = &["enumerate", "reversed", "sorted", "tqdm"];

/// The collection a loop goes over, inside any of the `WRAPPERS`:
/// `enumerate(Role.choices)` → `Role.choices`.
pub fn wrapped_items(iter: &Expr) -> &Expr {
    let mut items = iter;
    while let Some(call) = items.as_call()
        && call
            .callee
            .dotted()
            .is_some_and(|c| WRAPPERS.contains(&last_segment(&c)))
        && let Some(inner) = call.positional(0)
    {
        items = inner;
    }
    items
}

pub fn classify(
    iter: Option<&Expr>,
    target: Option<&Expr>,
    literal_names: &HashSet<String, impl std::hash::BuildHasher>,
) -> Iteration {
    let Some(iter) = iter else {
        return Iteration::Endless;
    };
    let target_name = target.and_then(Expr::dotted).unwrap_or_default();
    if iter.is_constant()
        || is_fixed_display(iter)
        || iter
            .as_name()
            .is_some_and(|n| literal_names.contains(n) || is_constant_name(n))
    {
        return Iteration::Literal;
    }
    // `for key, value in SETTINGS.items()` over a module constant.
    if dict_view_of(iter)
        .and_then(Expr::dotted)
        .is_some_and(|r| is_constant_name(last_segment(&r)) || literal_names.contains(&r))
    {
        return Iteration::Literal;
    }
    if is_model_schema(iter) || is_code_namespace(iter) || is_app_registry(iter) {
        return Iteration::Literal;
    }
    // `{"GET", "PUT", "POST"} & set(view.allowed_methods)`: an intersection
    // holds at most the entries of the display written in the code.
    if let weir_ir::ExprKind::Binary {
        op: weir_ir::Operator::BitAnd,
        left,
        right,
    } = &iter.kind
        && (is_fixed_display(left) || is_fixed_display(right))
    {
        return Iteration::Literal;
    }
    if let Some(call) = iter.unawaited().as_call() {
        let callee = call.callee.dotted().unwrap_or_default();
        let name = last_segment(&callee);
        if matches!(callee.as_str(), "itertools.count" | "count")
            || (name == "iter" && call.args.len() == 2)
        {
            return Iteration::Endless;
        }
        if name == "range" {
            return classify_range(call, &target_name);
        }
        if mentions(&callee, RETRY_WORDS) || name.ends_with("Retrying") {
            return Iteration::Retry;
        }
        if mentions(name, BATCH_WORDS) || name == "batched" {
            return Iteration::Batch;
        }
        // `enumerate(x)`, `zip(a, b)` iterate what they wrap; so does a
        // progress bar (`tqdm(range(0, n, size))`).
        if WRAPPERS.contains(&name) {
            return classify(call.positional(0), target, literal_names);
        }
    }
    if let Some(name) = iter.dotted()
        && words(last_segment(&name))
            .iter()
            .any(|w| BATCH_PLURALS.contains(&w.as_str()))
    {
        return Iteration::Batch;
    }
    if mentions(&target_name, BATCH_WORDS) {
        return Iteration::Batch;
    }
    // `for batch_tasks, batch_formats in load_streaming(...)`: the unpacked
    // parts of one batch. Only "batch": a `chunk_text`, a `page` or a
    // `partition_mapper` among unpacked parts is one item.
    if let Some(weir_ir::ExprKind::Collection { elements, .. }) = target.map(|t| &t.kind)
        && elements
            .iter()
            .filter_map(Expr::as_name)
            .any(|n| words(n).iter().any(|w| w == "batch"))
    {
        return Iteration::Batch;
    }
    Iteration::PerItem
}

/// What an `async for` reads from a connection that delivers messages as
/// they arrive: Starlette's `websocket.iter_text()` / `iter_bytes()` /
/// `iter_json()`, redis-py's `pubsub.listen()`, and a connection iterated
/// itself (`async for message in websocket`, websockets' documented way to
/// receive, or a Kafka `consumer`). Each item is handled when it comes, for
/// as long as the peer sends: a listener's endless loop, not a pass over a
/// collection that one query could cover.
pub fn receives_messages(iter: &Expr) -> bool {
    const CONNECTION_WORDS: &[&str] = &["ws", "websocket", "socket", "consumer", "pubsub"];
    let receiver = match iter.unawaited().as_call() {
        Some(call) if call.args.is_empty() => {
            if matches!(
                call.method_name(),
                Some("iter_text" | "iter_bytes" | "iter_json")
            ) {
                return true;
            }
            if call.method_name() != Some("listen") {
                return false;
            }
            call.receiver()
        }
        Some(_) => return false,
        None => Some(iter),
    };
    receiver.and_then(Expr::dotted).is_some_and(|d| {
        words(last_segment(&d))
            .iter()
            .any(|w| CONNECTION_WORDS.contains(&w.as_str()))
    })
}

/// A model's own schema, fixed by its class: Django's Options API
/// (`Model._meta.get_fields()`, `instance._meta.related_objects`) and
/// SQLAlchemy's table and mapper (`Model.__table__.columns`,
/// `Model.__mapper__.relationships`), and the tables a `MetaData` holds
/// (`metadata.sorted_tables`, `metadata.tables.values()`) with their
/// foreign keys (`table.foreign_keys`). One iteration per field,
/// relationship or table of the code, not per item of data.
fn is_model_schema(iter: &Expr) -> bool {
    let path = match iter.as_call() {
        Some(call) if call.args.is_empty() => call.callee.dotted(),
        Some(_) => None,
        None => iter.dotted(),
    };
    path.is_some_and(|path| {
        let segments: Vec<&str> = path.split('.').collect();
        segments.iter().any(|segment| {
            matches!(
                *segment,
                "_meta"
                    | "__table__"
                    | "__mapper__"
                    | "sorted_tables"
                    | "foreign_keys"
                    | "foreign_key_constraints"
            )
        }) || segments.windows(2).any(|w| w == ["metadata", "tables"])
    })
}

/// `test` holds only when the collection `name` has at most one item:
/// `len(realms) == 1`, `len(realms) <= 1`, `len(realms) < 2` (also as a
/// term of an `and`). A loop over it under that test runs once.
pub fn tests_single_item(test: &Expr, name: &str) -> bool {
    use weir_ir::{ExprKind, Literal, Operator};
    match &test.kind {
        ExprKind::Binary {
            op: Operator::And,
            left,
            right,
        } => tests_single_item(left, name) || tests_single_item(right, name),
        ExprKind::Compare(cmp) => {
            let weir_ir::Compare {
                left,
                ops,
                comparators,
            } = &**cmp;
            let is_len = left.as_call().is_some_and(|c| {
                c.callee.as_name() == Some("len")
                    && c.args.len() == 1
                    && c.positional(0).and_then(Expr::as_name) == Some(name)
            });
            let bound = match comparators.as_slice() {
                [bound] => match bound.kind {
                    ExprKind::Literal(Literal::Int(n)) => Some(n),
                    _ => None,
                },
                _ => None,
            };
            is_len
                && matches!(
                    (ops.as_slice(), bound),
                    ([Operator::Eq | Operator::LtE], Some(1)) | ([Operator::Lt], Some(2))
                )
        }
        _ => false,
    }
}

/// `settings` in `settings.items()`, `.keys()`, `.values()`: the mapping a
/// dict view walks (no arguments: Django's `values("id")` is a query).
pub fn dict_view_of(expr: &Expr) -> Option<&Expr> {
    expr.as_call()
        .filter(|c| {
            c.args.is_empty() && matches!(c.method_name(), Some("items" | "keys" | "values"))
        })
        .and_then(weir_ir::Call::receiver)
}

/// The names a module or class defines: `vars(module)`, `module.__dict__`
/// (and their `.items()`/`.keys()`/`.values()`, copied with `list(…)` or
/// not), `dir(obj)`,
/// `inspect.getmembers(obj)`. One iteration per definition of the code (a
/// migration step, a registered handler), not per item of data.
fn is_code_namespace(iter: &Expr) -> bool {
    // `list(vars(module).items())`: a copy of the namespace, iterated.
    let iter = match iter.as_call() {
        Some(call)
            if call.args.len() == 1 && matches!(call.callee.as_name(), Some("list" | "tuple")) =>
        {
            &call.args[0].value
        }
        _ => iter,
    };
    let iter = dict_view_of(iter).unwrap_or(iter);
    if iter.dotted().is_some_and(|d| d.ends_with(".__dict__")) {
        return true;
    }
    iter.as_call().is_some_and(|call| {
        let callee = call.callee.dotted().unwrap_or_default();
        let qualified = call.qualified.as_deref().unwrap_or(&callee);
        matches!(callee.as_str(), "vars" | "dir") && call.args.len() == 1
            || qualified == "inspect.getmembers"
    })
}

/// Django's application registry: `apps.get_models()`,
/// `apps.get_app_configs()` (`django.apps.apps`, or the historical `apps`
/// a migration is given) and an app config's own `get_models()`. One
/// iteration per installed model or application of the code, like a
/// model's `_meta` fields, not per item of data.
fn is_app_registry(iter: &Expr) -> bool {
    let Some(call) = iter.as_call() else {
        return false;
    };
    let Some(method @ ("get_models" | "get_app_configs")) = call.method_name() else {
        return false;
    };
    if call
        .qualified
        .as_deref()
        .is_some_and(|q| q.starts_with("django.apps."))
    {
        return true;
    }
    let receiver = call.receiver().and_then(Expr::dotted).unwrap_or_default();
    let receiver = last_segment(&receiver);
    receiver == "apps" || (method == "get_models" && words(receiver).iter().any(|w| w == "config"))
}

/// `TABLES`, `DEFAULT_CONNECTIONS`: a module constant, fixed at import time.
fn is_constant_name(name: &str) -> bool {
    name.len() > 1
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && name.chars().any(|c| c.is_ascii_uppercase())
}

fn classify_range(call: &weir_ir::Call, target: &str) -> Iteration {
    let args: Vec<&Expr> = call.args.iter().map(|a| &a.value).collect();
    if args.iter().all(|a| a.is_constant()) {
        return Iteration::Literal;
    }
    // `range(0, len(ids), size)`: a step means chunks.
    if args.len() == 3 {
        return Iteration::Batch;
    }
    let named = |words: &[&str]| {
        mentions(target, words)
            || args
                .iter()
                .any(|a| a.dotted().is_some_and(|d| mentions(&d, words)))
    };
    if target == "_" || named(RETRY_WORDS) {
        return Iteration::Retry;
    }
    // `for i in range(num_batches)`, `for page in range(1, total_pages + 1)`:
    // the index of a chunk, each iteration a slice of the collection.
    let mut counts_chunks = mentions(target, BATCH_WORDS);
    for arg in &args {
        weir_ir::visit::walk_expr(arg, &mut |e| {
            counts_chunks |= e.dotted_last().is_some_and(|last| {
                words(last)
                    .iter()
                    .any(|w| BATCH_PLURALS.contains(&w.as_str()))
            });
        });
    }
    // `range(len(ids) // batch_size)`, `range(ceil(total / page_size))`: a
    // count divided by the size of a chunk is the number of chunks.
    for arg in &args {
        weir_ir::visit::walk_expr(arg, &mut |e| {
            if let weir_ir::ExprKind::Binary {
                op: weir_ir::Operator::Div | weir_ir::Operator::FloorDiv,
                right,
                ..
            } = &e.kind
            {
                counts_chunks |= right.dotted().is_some_and(|d| mentions(&d, BATCH_WORDS));
            }
        });
    }
    if counts_chunks {
        return Iteration::Batch;
    }
    if named(STEP_WORDS) {
        return Iteration::Endless;
    }
    // `range(current_version, SCHEMA_VERSION)`, `range(NUM_SHARDS)`: the
    // bound is a module constant, fixed by the code like a literal (the
    // schema versions a migration steps through), not the size of data.
    if matches!(args.len(), 1 | 2) && args.last().is_some_and(|stop| is_constant_bound(stop)) {
        return Iteration::Literal;
    }
    Iteration::PerItem
}

/// A bound written in the code: an integer literal, an upper-case module
/// constant (`SCHEMA_VERSION`, `settings.MAX_SHARDS`), or a sum or
/// difference of them (`SCHEMA_VERSION + 1`).
fn is_constant_bound(expr: &Expr) -> bool {
    match &expr.kind {
        weir_ir::ExprKind::Literal(weir_ir::Literal::Int(_)) => true,
        weir_ir::ExprKind::Binary {
            op: weir_ir::Operator::Add | weir_ir::Operator::Sub,
            left,
            right,
        } => {
            is_constant_bound(left)
                && is_constant_bound(right)
                && !(left.is_constant() && right.is_constant())
        }
        _ => expr
            .dotted()
            .is_some_and(|d| is_constant_name(last_segment(&d))),
    }
}

/// The itertools `grouper` recipe: `zip_longest(*[iter(ids)] * 100)` (or
/// `zip(…)`, the spread list bound to a local first: `groups =
/// [iter(ids)] * n`) zips one iterator with itself, so each item is a
/// group of `n` consecutive items: one iteration per chunk. `bound` gives
/// the value a local name was assigned.
pub fn is_grouper<'e>(iter: &'e Expr, bound: impl Fn(&str) -> Option<&'e Expr>) -> bool {
    let Some(call) = iter.as_call() else {
        return false;
    };
    if !matches!(
        call.callee.dotted_last(),
        Some("zip_longest" | "izip_longest" | "zip")
    ) {
        return false;
    }
    let mut spreads = call
        .args
        .iter()
        .filter(|a| a.name.is_none())
        .map(|a| match (&a.value.kind, a.spread) {
            (_, weir_ir::ArgSpread::Positional) => Some(&a.value),
            (weir_ir::ExprKind::Spread { value }, _) => Some(&**value),
            _ => None,
        })
        .peekable();
    spreads.peek().is_some()
        && spreads.all(|spread| {
            let Some(spread) = spread else {
                return false;
            };
            let list = match spread.as_name() {
                Some(name) => bound(name),
                None => Some(spread),
            };
            list.is_some_and(repeats_one_iterator)
        })
}

/// `[iter(ids)] * n` (or `n * [iter(ids)]`): one iterator, `n` times.
fn repeats_one_iterator(expr: &Expr) -> bool {
    let weir_ir::ExprKind::Binary {
        op: weir_ir::Operator::Mul,
        left,
        right,
    } = &expr.kind
    else {
        return false;
    };
    let one_iter = |e: &Expr| {
        matches!(&e.kind, weir_ir::ExprKind::Collection { elements, .. }
            if matches!(elements.as_slice(), [only]
                if only.as_call().is_some_and(|c| c.callee.as_name() == Some("iter"))))
    };
    one_iter(left) || one_iter(right)
}

/// A generator whose body yields one value: one `yield`, outside any loop,
/// and no `yield from`. `def get_db(): db = Session(); try: yield db
/// finally: db.close()`: looping over it (`for db in get_db():`) runs the
/// body once, with one session, not once per item.
/// A generator that polls: it yields from inside a `while` loop that also
/// sleeps (`while running: for inv in pending: … yield inv …; await
/// asyncio.sleep(5)`). Its items arrive over time, one event at a time,
/// for as long as it runs: a loop over it is a listener, not a pass over
/// a collection. (A paging generator, `while True: rows = …; if not
/// rows: break; yield from rows`, does not sleep.)
pub fn polls(body: &[weir_ir::Stmt]) -> bool {
    let mut found = false;
    weir_ir::visit::walk_stmts(body, &mut |stmt| {
        let weir_ir::StmtKind::Loop(lp) = &stmt.kind else {
            return;
        };
        if found || lp.kind != weir_ir::LoopKind::While {
            return;
        }
        let (mut yields, mut sleeps) = (false, false);
        weir_ir::visit::walk_block_exprs(&lp.body, &mut |e| match &e.kind {
            weir_ir::ExprKind::Yield { .. } => yields = true,
            weir_ir::ExprKind::Call(call) => {
                sleeps |= call.callee.dotted_last() == Some("sleep");
            }
            _ => {}
        });
        found = yields && sleeps;
    });
    found
}

pub fn yields_once(body: &[weir_ir::Stmt]) -> bool {
    fn visit(block: &[weir_ir::Stmt], in_loop: bool, yields: &mut usize) -> bool {
        for stmt in block {
            let in_loop = in_loop || matches!(stmt.kind, weir_ir::StmtKind::Loop(_));
            let mut ok = true;
            weir_ir::visit::stmt_exprs(stmt, &mut |e| {
                weir_ir::visit::walk_expr(e, &mut |e| {
                    if let weir_ir::ExprKind::Yield { delegate, .. } = e.kind {
                        *yields += 1;
                        ok &= !delegate && !in_loop;
                    }
                    // A yield in a comprehension yields once per element.
                    if matches!(e.kind, weir_ir::ExprKind::Comprehension(_)) {
                        weir_ir::visit::child_exprs(e, &mut |c| {
                            weir_ir::visit::walk_expr(c, &mut |c| {
                                ok &= !matches!(c.kind, weir_ir::ExprKind::Yield { .. });
                            });
                        });
                    }
                });
            });
            weir_ir::visit::each_child_block(stmt, &mut |b| ok &= visit(b, in_loop, yields));
            if !ok {
                return false;
            }
        }
        true
    }
    let mut yields = 0;
    visit(body, false, &mut yields) && yields == 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_ir::ExprKind;

    fn classify_src(src: &str) -> Iteration {
        let module = weir_lang_free_parse(src);
        classify(module.0.as_ref(), module.1.as_ref(), &HashSet::new())
    }

    /// Builds the iter/target pair by hand: the analysis crate has no parser.
    fn weir_lang_free_parse(src: &str) -> (Option<Expr>, Option<Expr>) {
        let name = |id: &str| Expr {
            kind: ExprKind::Name { id: id.into() },
            span: weir_ir::Span::default(),
        };
        let call = |callee: &str, args: Vec<Expr>| Expr {
            kind: ExprKind::Call(Box::new(weir_ir::Call {
                callee: name(callee),
                qualified: None,
                args: args
                    .into_iter()
                    .map(|value| weir_ir::Arg {
                        name: None,
                        value,
                        spread: weir_ir::ArgSpread::None,
                    })
                    .collect(),
            })),
            span: weir_ir::Span::default(),
        };
        let int = |i| Expr {
            kind: ExprKind::Literal(weir_ir::Literal::Int(i)),
            span: weir_ir::Span::default(),
        };
        match src {
            "retrying" => (Some(call("Retrying", vec![])), Some(name("attempt"))),
            "range_retries" => (
                Some(call("range", vec![name("max_retries")])),
                Some(name("_")),
            ),
            "range_step" => (
                Some(call(
                    "range",
                    vec![int(0), call("len", vec![name("ids")]), name("size")],
                )),
                Some(name("i")),
            ),
            "batched" => (
                Some(call("batched", vec![name("ids"), int(500)])),
                Some(name("ids_part")),
            ),
            "count" => (Some(call("itertools.count", vec![])), Some(name("n"))),
            "rows" => (Some(name("rows")), Some(name("row"))),
            "range_const" => (Some(call("range", vec![int(3)])), Some(name("i"))),
            "range_max_steps" => (
                Some(call("range", vec![name("max_steps")])),
                Some(name("i")),
            ),
            "range_user_count" => (
                Some(call("range", vec![name("user_count")])),
                Some(name("i")),
            ),
            "range_num_batches" => (
                Some(call("range", vec![name("num_batches")])),
                Some(name("i")),
            ),
            "range_batch_size" => (
                Some(call("range", vec![name("batch_size")])),
                Some(name("i")),
            ),
            _ => unreachable!(),
        }
    }

    #[test]
    fn splits_identifiers_into_words() {
        assert_eq!(
            words("run_with_db_retries"),
            vec!["run", "with", "db", "retries"]
        );
        assert_eq!(words("AsyncRetrying"), vec!["async", "retrying"]);
        assert!(!mentions("get_entries", RETRY_WORDS));
        assert!(mentions("in_safe_batches", BATCH_WORDS));
    }

    #[test]
    fn classifies_loops() {
        assert_eq!(classify_src("retrying"), Iteration::Retry);
        assert_eq!(classify_src("range_retries"), Iteration::Retry);
        assert_eq!(classify_src("range_step"), Iteration::Batch);
        assert_eq!(classify_src("batched"), Iteration::Batch);
        assert_eq!(classify_src("count"), Iteration::Endless);
        assert_eq!(classify_src("rows"), Iteration::PerItem);
        assert_eq!(classify_src("range_max_steps"), Iteration::Endless);
        assert_eq!(classify_src("range_user_count"), Iteration::PerItem);
        assert_eq!(classify_src("range_num_batches"), Iteration::Batch);
        assert_eq!(classify_src("range_batch_size"), Iteration::PerItem);
        assert_eq!(classify_src("range_const"), Iteration::Literal);
    }
}
