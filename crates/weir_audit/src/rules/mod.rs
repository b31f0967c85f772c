//! One rule per file, named after the bad pattern. Shared questions that
//! several rules ask live here.

pub mod async_session_hazards;
pub mod blocking_io_in_async;
pub mod commit_in_loop;
pub mod count_exists_misuse;
pub mod cpu_bound_in_async;
pub mod event_channel_mismatch;
pub mod injected_session_in_long_lived_work;
pub mod leak_on_error_path;
pub mod long_held_transaction;
pub mod missing_bulk_operation;
pub mod missing_cleanup;
pub mod missing_intermediate_commits;
pub mod missing_rollback;
pub mod n_update_loop;
pub mod over_fetching;
pub mod pool_config_gaps;
pub mod query_in_loop;
pub mod redundant_copy;
pub mod redundant_fetch;
pub mod sequential_awaits_in_loop;
pub mod session_held_while_streaming;
pub mod session_scope_mismatch;
pub mod string_concat_in_loop;
pub mod sync_sleep_in_async;
pub mod transaction_scope_too_narrow;
pub mod transaction_scope_too_wide;
pub mod tx_common;
pub mod unbounded_fetch;
pub mod unnecessary_list_allocation;
pub mod unnecessary_resolve;
pub mod wrong_caching_scope;

use weir_ir::{Expr, ExprKind};

use crate::facts::{CallFact, FunctionFacts, LoopRef, Scope, TryPart};
use crate::knowledge::ObjKind;
use crate::project::{Summary, summary::Witness};
use crate::report::Finding;
use crate::rule::Cx;

/// The innermost loop around `call` that runs it once per item of data of
/// unknown size. Loops that are not per item (retries, batches, literal
/// lists, `while` and endless loops) are looked through, and so is a loop
/// whose variable is what the call works on rather than one item of data:
/// a table or model (`delete(model)`, `model.objects`), a statement
/// (`execute(stmt)`), or a chunk of keys (`.in_(chunk)`).
pub fn per_item_loop<'a>(
    facts: &'a FunctionFacts<'_>,
    call: &CallFact<'_>,
) -> Option<&'a LoopRef<'a>> {
    per_item_loop_where(facts, call, |_| true)
}

/// [`per_item_loop`], also looking through the loops `runs_call` says do
/// not run the call once per iteration.
pub fn per_item_loop_where<'a>(
    facts: &'a FunctionFacts<'_>,
    call: &CallFact<'_>,
    runs_call: impl Fn(&LoopRef<'_>) -> bool,
) -> Option<&'a LoopRef<'a>> {
    // Work done in an `except` handler inside the loop runs for failing
    // items only, not once per item.
    let handler_depth = call
        .site
        .scopes
        .iter()
        .rposition(|s| matches!(s, Scope::Try(_, TryPart::Handler(_))));
    call.site
        .scopes
        .iter()
        .enumerate()
        .rev()
        .filter_map(|(depth, s)| match s {
            Scope::Loop(i) => Some((depth, &facts.loops[*i])),
            _ => None,
        })
        .filter(|(depth, _)| handler_depth.is_none_or(|h| h < *depth))
        // A call followed by `return`/`break` runs once, not once per item.
        .filter(|(depth, _)| {
            let position = call.site.scopes[..*depth]
                .iter()
                .filter(|s| matches!(s, Scope::Loop(_)))
                .count();
            !call.site.leaves_loop_at(position)
        })
        .filter(|(depth, lp)| {
            !memoized_across_iterations(facts, &call.site.scopes[depth + 1..], lp)
                && !dispatched_on_item(&call.site.scopes[depth + 1..], lp)
                && !runs_on_item_connection(facts, call, &call.site.scopes[depth + 1..], lp)
                && !locks_item_in_own_transaction(facts, call, &call.site.scopes[*depth..])
                && !once_per_batch(facts, &call.site.scopes[depth + 1..], lp)
        })
        .map(|(_, lp)| lp)
        .find(|lp| lp.is_per_item() && !works_on_loop_variable(call, lp) && runs_call(lp))
}

/// The call sits under a test that holds once every N items of `lp`: `if
/// len(pending) >= batch_size:` with `pending` a buffer bound before the
/// loop (flushed when full, also `… or is_last`), `if i % 500 == 0:`. It
/// runs once per batch, not per item. `len(rows) > 0`, `len(rows) == 1`
/// or the length of something of the item is no batch.
fn once_per_batch(facts: &FunctionFacts<'_>, inner: &[Scope<'_>], lp: &LoopRef<'_>) -> bool {
    let buffer = |e: &Expr| {
        let Some(name) = e.dotted() else {
            return false;
        };
        match name.split_once('.') {
            Some(("self", _)) => true,
            Some(_) => false,
            None => facts.binding_before(&name, lp.span.start).is_some(),
        }
    };
    inner.iter().any(|scope| match scope {
        Scope::If(test, _) => {
            let mut found = false;
            weir_ir::visit::walk_expr(test, &mut |e| {
                if let ExprKind::Compare(cmp) = &e.kind {
                    found |= batch_comparison(cmp, &buffer);
                }
            });
            found
        }
        _ => false,
    })
}

fn batch_comparison(cmp: &weir_ir::Compare, buffer: &dyn Fn(&Expr) -> bool) -> bool {
    use weir_ir::Operator;
    let ([op], [right]) = (cmp.ops.as_slice(), cmp.comparators.as_slice()) else {
        return false;
    };
    let int = |e: &Expr| match e.kind {
        ExprKind::Literal(weir_ir::Literal::Int(n)) => Some(n),
        _ => None,
    };
    // `i % 500 == 0`: every 500th item.
    if let ExprKind::Binary {
        op: Operator::Mod,
        right: modulus,
        ..
    } = &cmp.left.kind
    {
        return *op == Operator::Eq && int(right) == Some(0) && int(modulus) != Some(1);
    }
    // `len(pending) >= batch_size`, `len(buffer) == 1000`.
    let len_of_buffer = cmp.left.as_call().is_some_and(|c| {
        c.callee.as_name() == Some("len")
            && c.args.len() == 1
            && c.positional(0).is_some_and(buffer)
    });
    len_of_buffer
        && matches!(op, Operator::GtE | Operator::Gt | Operator::Eq)
        && match right.kind {
            ExprKind::Literal(_) => int(right).is_some_and(|n| n >= 2),
            _ => true,
        }
}

/// The call sits under a guard that fills a value kept across iterations
/// of `lp`: `if default_type is None: default_type = load_default()` with
/// `default_type` bound before the loop. It runs once, not once per item.
/// (A per-key cache, `if key not in cache:`, still runs once per distinct
/// key and is not looked through.)
fn memoized_across_iterations(
    facts: &FunctionFacts<'_>,
    inner: &[Scope<'_>],
    lp: &LoopRef<'_>,
) -> bool {
    let outside = |name: &str| {
        let head = name.split('.').next().unwrap_or(name);
        matches!(head, "self" | "cls")
            || facts.params.contains(head)
            || facts.binding_before(head, lp.span.start).is_some()
    };
    inner.iter().any(|scope| match scope {
        Scope::If(test, then) => memo_guard(test, then, &outside),
        _ => false,
    })
}

fn memo_guard(test: &Expr, then: &[weir_ir::Stmt], outside: &dyn Fn(&str) -> bool) -> bool {
    use weir_ir::Operator;
    match &test.kind {
        ExprKind::Binary {
            op: Operator::And,
            left,
            right,
        } => memo_guard(left, then, outside) || memo_guard(right, then, outside),
        ExprKind::Unary {
            op: Operator::Not,
            operand,
        } => operand
            .dotted()
            .is_some_and(|n| outside(&n) && assigns(then, &n)),
        ExprKind::Compare(cmp)
            if cmp.ops.as_slice() == [Operator::Is]
                && cmp.comparators.first().is_some_and(|c| {
                    matches!(c.kind, ExprKind::Literal(weir_ir::Literal::Null))
                }) =>
        {
            cmp.left
                .dotted()
                .is_some_and(|n| outside(&n) && assigns(then, &n))
        }
        _ => false,
    }
}

/// The call runs on a session or connection opened in this iteration for
/// this item: a `with` inside the loop binds it from a call given the loop
/// variable (`with get_organization_session(slug) as db_session:`,
/// `with engine_for(source).connect() as conn:`), and the call takes it as
/// its receiver or an argument. Each iteration talks to another database,
/// schema or tenant, so no single statement could serve the items
/// together. A session opened per item without the item (`with
/// SessionLocal() as s:`) is the same database every time and does not
/// count, nor does another object opened for the item (`with
/// open(doc.path) as fh:`): the bound name must be a session or connection,
/// by the type the opening call returns or by its name (`db_session`).
pub(crate) fn runs_on_item_connection(
    facts: &FunctionFacts<'_>,
    call: &CallFact<'_>,
    inner: &[Scope<'_>],
    lp: &LoopRef<'_>,
) -> bool {
    let Some(expr_call) = call.call else {
        return false;
    };
    let names = lp.target_names();
    if names.is_empty() {
        return false;
    }
    let mentions_item = |e: &Expr| {
        let mut found = false;
        weir_ir::visit::walk_expr(e, &mut |n| {
            found |= n.as_name().is_some_and(|n| names.contains(&n));
        });
        found
    };
    // `get_session(slug)`, `tenant_engine(t).connect()`: some call in the
    // context expression is given the item.
    let opened_for_item = |context: &Expr| {
        let mut found = false;
        weir_ir::visit::walk_expr(context, &mut |n| {
            found |= n
                .as_call()
                .is_some_and(|c| c.args.iter().any(|a| mentions_item(&a.value)));
        });
        found
    };
    let uses = |name: &str| {
        expr_call
            .receiver()
            .and_then(Expr::chain_root)
            .is_some_and(|root| root == name)
            || expr_call
                .args
                .iter()
                .any(|a| a.value.as_name() == Some(name))
    };
    inner.iter().any(|scope| {
        let Scope::With(stmt) = scope else {
            return false;
        };
        let weir_ir::StmtKind::With { items, .. } = &stmt.kind else {
            return false;
        };
        items.iter().any(|item| {
            let context = item.context.unawaited();
            let is_connection = |name: &str| {
                facts
                    .calls
                    .iter()
                    .find(|c| c.expr.unawaited().span == context.span)
                    .and_then(|c| c.returns)
                    .or_else(|| facts.project.knowledge.hint(name))
                    .is_some_and(ObjKind::is_resource)
            };
            item.target
                .as_ref()
                .and_then(Expr::as_name)
                .is_some_and(|name| uses(name) && opened_for_item(context) && is_connection(name))
        })
    })
}

/// The call re-reads a loop's item under a row lock in a transaction
/// opened inside that loop's iteration: `for o in pending: with
/// transaction.atomic(): o = Order.objects.select_for_update().get(pk=o.pk)`
/// (or `with session.begin():` and `with_for_update()`). The lock guards
/// the change the same transaction then makes to that row, against a
/// concurrent worker; one transaction per item keeps each lock short,
/// where locking every row in one query would hold them all for the whole
/// loop. The read is the per-item unit of work, not an N+1, for that loop
/// and the loops around it (`for event in events: for o in event.orders…`).
/// `scopes` starts at the loop asked about. A lock taken in one transaction
/// around the loop, or a plain read, stays reported.
fn locks_item_in_own_transaction(
    facts: &FunctionFacts<'_>,
    call: &CallFact<'_>,
    scopes: &[Scope<'_>],
) -> bool {
    let mut locking = false;
    let mut mentioned: Vec<&str> = Vec::new();
    weir_ir::visit::walk_expr(call.expr, &mut |e| {
        locking |= e.as_call().is_some_and(crate::facts::rows::locks_rows);
        if let Some(n) = e.as_name() {
            mentioned.push(n);
        }
    });
    if !locking {
        return false;
    }
    let opens_transaction = |scope: &Scope<'_>| {
        let Scope::With(stmt) = scope else {
            return false;
        };
        let weir_ir::StmtKind::With { items, .. } = &stmt.kind else {
            return false;
        };
        items
            .iter()
            .any(|item| crate::facts::regions::is_begin_context(&item.context))
    };
    scopes.iter().enumerate().any(|(i, scope)| {
        let Scope::Loop(index) = scope else {
            return false;
        };
        facts.loops[*index]
            .target_names()
            .iter()
            .any(|n| mentioned.contains(n))
            && scopes[i + 1..].iter().any(opens_transaction)
    })
}

/// The call sits under a test of the loop's item against one constant:
/// `for attribute in CONTENT_FIELDS: if attribute == "content": …`,
/// `if kind == NotificationType.REVIEW:`. A loop over distinct kinds or
/// keys dispatches on them, and the branch runs for the one item equal to
/// the constant, not once per item.
/// Also the first name the loop unpacks from each item (`for field, meta
/// in actions.items(): if field == "pod_spec_override":`): a dict's key or
/// `enumerate`'s index, distinct per item. (Not the values: `for user,
/// role in grants: if role == ADMIN` holds for many items.)
fn dispatched_on_item(inner: &[Scope<'_>], lp: &LoopRef<'_>) -> bool {
    let Some(var) = lp.target.and_then(|t| match &t.kind {
        ExprKind::Collection { elements, .. } => elements.first().and_then(Expr::as_name),
        _ => t.as_name(),
    }) else {
        return false;
    };
    inner.iter().any(|scope| match scope {
        Scope::If(test, _) => tests_item_against_constant(test, var),
        _ => false,
    })
}

fn tests_item_against_constant(test: &Expr, var: &str) -> bool {
    use weir_ir::Operator;
    match &test.kind {
        ExprKind::Binary {
            op: Operator::And,
            left,
            right,
        } => tests_item_against_constant(left, var) || tests_item_against_constant(right, var),
        ExprKind::Compare(cmp) if matches!(cmp.ops.as_slice(), [Operator::Eq | Operator::Is]) => {
            let Some(other) = cmp.comparators.first() else {
                return false;
            };
            let is_var = |e: &Expr| e.as_name() == Some(var);
            (is_var(&cmp.left) && is_constant(other)) || (is_var(other) && is_constant(&cmp.left))
        }
        _ => false,
    }
}

/// A literal other than `None`, or a named constant: `"content"`, `3`,
/// `Kind.REVIEW`, `DEFAULT_LOCALE`.
fn is_constant(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Literal(weir_ir::Literal::Null) => false,
        ExprKind::Literal(_) => true,
        ExprKind::Name { id } => is_constant_name(id),
        ExprKind::Attribute { value, attr } => is_constant_name(attr) && value.dotted().is_some(),
        _ => false,
    }
}

/// `REVIEW`, `TYPE_MULTISELECT`: upper-case, the convention of constants
/// and enum members.
fn is_constant_name(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// `block` stores into `name`: `x = …`, or as one name of an unpacking
/// (`x, created = Model.objects.get_or_create(…)`).
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

/// The innermost literal loop (`for status in ("a", "b")`) around `call`
/// that is not a loop over tables or statements.
pub fn literal_loop<'a>(
    facts: &'a FunctionFacts<'_>,
    call: &CallFact<'_>,
) -> Option<&'a LoopRef<'a>> {
    call.site.loops().rev().map(|i| &facts.loops[i]).find(|lp| {
        lp.iteration == crate::facts::Iteration::Literal && !works_on_loop_variable(call, lp)
    })
}

fn works_on_loop_variable(call: &CallFact<'_>, lp: &LoopRef<'_>) -> bool {
    // `for model in models`, `for model_class, objects in by_model.items()`.
    let mut names = lp.target_names();
    if names.is_empty() {
        return false;
    }
    // `for slug in ids_by_channel: product_ids = ids_by_channel[slug]` is
    // `for slug, product_ids in ids_by_channel.items()` written out.
    let values = match names.as_slice() {
        [key] => values_at_key(lp, key),
        _ => Vec::new(),
    };
    let grouped = !values.is_empty()
        || names.len() > 1
            && lp
                .iter
                .and_then(Expr::as_call)
                .is_some_and(|c| c.method_name() == Some("items"));
    names.extend(values.iter().copied());
    if grouped {
        // `product_ids = [v[0] for v in values]`: keys taken from the group.
        let parts = parts_of_group(lp, &names);
        names.extend(parts);
    }
    let PerIteration {
        bound,
        own,
        tables: per_table,
    } = per_iteration_tables(lp, &names);
    let is_var = |e: &Expr| e.as_name().is_some_and(|n| names.contains(&n));
    // `model.objects` on a name bound in the iteration: only a model class
    // has a manager (Django refuses it on instances), so `model` is this
    // iteration's table (`model = model_map[ct_pk]`).
    let is_model_var = |e: &Expr| {
        e.as_name()
            .is_some_and(|n| names.contains(&n) || bound.contains(&n))
    };
    let loops_over_tables = names.iter().any(|n| names_a_table(n));
    if call.statement.is_some_and(is_var) {
        return true;
    }
    // `"SELECT MAX(id) FROM %(table)s" % {"table": table}`, `f"DROP TABLE
    // {table_name}"`: SQL text naming this iteration's table.
    if call
        .statement
        .is_some_and(|s| interpolates_table(s, &names))
    {
        return true;
    }
    // `apps.get_model(app_label, model_name)` with the labels of this item
    // (`app_label, model_name = check.model.split(".")`): the model class of
    // this iteration, looked up inline.
    let mut unpacked: Vec<&str> = Vec::new();
    weir_ir::visit::walk_stmts(lp.body, &mut |stmt| {
        if let weir_ir::StmtKind::Assign { targets, .. } = &stmt.kind {
            for target in targets {
                match &target.kind {
                    ExprKind::Name { id } => unpacked.push(id),
                    ExprKind::Collection { elements, .. } => {
                        unpacked.extend(elements.iter().filter_map(Expr::as_name));
                    }
                    _ => {}
                }
            }
        }
    });
    let is_model_lookup = |e: &Expr| {
        e.as_call().is_some_and(|c| {
            matches!(c.method_name(), Some("get_model" | "model_class"))
                && c.args.iter().any(|a| {
                    let mut per_item = false;
                    weir_ir::visit::walk_expr(&a.value, &mut |n| {
                        per_item |= n
                            .as_name()
                            .is_some_and(|n| names.contains(&n) || unpacked.contains(&n));
                    });
                    per_item
                })
        })
    };
    let mut found = false;
    let mut check = |e: &Expr| match &e.kind {
        // `model.objects…`, `model._default_manager…`,
        // `apps.get_model(label, name).objects…`
        ExprKind::Attribute { value, attr }
            if (is_model_var(value) || is_model_lookup(value))
                && (attr == "objects" || attr.ends_with("_manager")) =>
        {
            found = true;
        }
        // `{obj.pk: obj for obj in queryset}` with `queryset =
        // model.objects.filter(pk__in=object_ids)` bound in this iteration:
        // the rows of this iteration's table or group of keys.
        ExprKind::Name { id } if per_table.contains(&id.as_str()) => {
            found = true;
        }
        // `queryset.values_list(…)` with `queryset = model.objects.filter(…)`
        // bound in this iteration: the query of this iteration's table.
        ExprKind::Call(c)
            if c.receiver()
                .and_then(Expr::chain_root)
                .is_some_and(|root| per_table.contains(&root)) =>
        {
            found = true;
        }
        ExprKind::Call(c) => {
            let first_is_var = c.positional(0).is_some_and(is_var);
            // `child_class = rel.argument.class_` bound in the iteration, then
            // `session.query(child_class)`: this iteration's table.
            let first_is_table = c
                .positional(0)
                .and_then(Expr::as_name)
                .is_some_and(|n| names_a_table(n) && own.contains(&n));
            // `delete(model)`, `select(table)`, `text(sql)`: a statement built on the loop variable.
            let is_builder = c.qualified.as_deref().is_some_and(|q| {
                crate::knowledge::STATEMENT_BUILDERS
                    .iter()
                    .any(|(name, _)| *name == q)
                    || q.ends_with(".text")
            });
            // `Model.id.in_(chunk)`
            let is_set_filter = matches!(c.method_name(), Some("in_" | "not_in" | "any_"));
            // Django `filter(pk__in=chunk)`
            let in_lookup = c.args.iter().any(|a| {
                a.name.as_deref().is_some_and(|n| n.ends_with("__in")) && is_var(&a.value)
            });
            // `table.select()`, `table.delete()`: a Core statement of the table the loop is at.
            // The table may be looked up from the loop's table name first
            // (`for table_name in names: table = metadata.tables[table_name]`).
            let table_statement = c.receiver().is_some_and(|r| {
                r.as_name()
                    .is_some_and(|n| names_a_table(n) && (is_var(r) || loops_over_tables))
            }) && matches!(
                c.method_name(),
                Some("select" | "insert" | "update" | "delete")
            );
            // `session.query(model)`: a query of the table the loop is at.
            let queries_var = (first_is_var || first_is_table) && c.method_name() == Some("query");
            // `find_matches(session, model=model)`: a helper handed one model class.
            let hands_a_model = c.args.iter().any(|a| {
                a.value
                    .as_name()
                    .is_some_and(|n| is_var(&a.value) && names_a_table(n))
            });
            // `for channel, product_ids in ids_by_channel.items(): load(channel, product_ids)`:
            // one query per group of keys.
            let hands_a_group = grouped
                && c.args.iter().any(|a| {
                    a.value
                        .as_name()
                        .is_some_and(|n| is_var(&a.value) && names_keys(n))
                });
            if (first_is_var && (is_builder || is_set_filter))
                || (first_is_table && is_builder)
                || in_lookup
                || queries_var
                || table_statement
                || hands_a_model
                || hands_a_group
            {
                found = true;
            }
        }
        _ => {}
    };
    weir_ir::visit::walk_expr(call.expr, &mut check);
    if let Some(statement) = call.statement {
        weir_ir::visit::walk_expr(statement, &mut check);
    }
    found
}

/// The names bound in the body of `lp` (plain assignments), and those of
/// them bound to this iteration's model class or to a queryset of it:
/// `model = ct.model_class()`, `model = apps.get_model(…)`, `queryset =
/// model.objects.filter(…)` with `model` the loop variable or a name bound
/// before in the body. A query through them runs against another table each
/// iteration: one statement per table, which no bulk form can merge.
fn per_iteration_tables<'a>(lp: &LoopRef<'a>, targets: &[&str]) -> PerIteration<'a> {
    let mut bound: Vec<&'a str> = Vec::new();
    let mut own: Vec<&'a str> = Vec::new();
    let mut tables: Vec<&'a str> = Vec::new();
    let mut note = |name: &'a str, value: &'a Expr, nested: bool| {
        if !nested && !own.contains(&name) {
            own.push(name);
        }
        let mut per_table = false;
        weir_ir::visit::walk_expr(value, &mut |e| match &e.kind {
            ExprKind::Call(c) if matches!(c.method_name(), Some("model_class" | "get_model")) => {
                per_table = true;
            }
            ExprKind::Attribute { value, attr }
                if (attr == "objects" || attr.ends_with("_manager"))
                    && value
                        .as_name()
                        .is_some_and(|n| targets.contains(&n) || bound.contains(&n)) =>
            {
                per_table = true;
            }
            // `Device.objects.filter(pk__in=object_ids)` with `object_ids`
            // this iteration's group of keys: one query per group.
            ExprKind::Call(c)
                if c.args.iter().any(|a| {
                    a.name.as_deref().is_some_and(|n| n.ends_with("__in"))
                        && a.value.as_name().is_some_and(|n| targets.contains(&n))
                }) =>
            {
                per_table = true;
            }
            _ => {}
        });
        if per_table && !tables.contains(&name) {
            tables.push(name);
        }
        if !bound.contains(&name) {
            bound.push(name);
        }
    };
    walk_marking_inner_loops(lp.body, false, &mut |stmt, nested| {
        match &stmt.kind {
            // `if model := ot.model_class():` binds in the test.
            weir_ir::StmtKind::If { test, .. } => {
                weir_ir::visit::walk_expr(test, &mut |e| {
                    if let ExprKind::AssignExpr { target, value } = &e.kind
                        && let Some(name) = target.as_name()
                    {
                        note(name, value, nested);
                    }
                });
            }
            _ => {
                if let Some(([target], value)) = stmt.plain_assign()
                    && let Some(name) = target.as_name()
                {
                    note(name, value, nested);
                }
            }
        }
    });
    PerIteration { bound, own, tables }
}

/// The names a loop body binds (see [`per_iteration_tables`]).
struct PerIteration<'a> {
    /// Every name bound in the body, inner loops included.
    bound: Vec<&'a str>,
    /// Those bound outside inner loops: a value bound per item of an inner
    /// loop changes per inner item, and this loop still repeats the whole
    /// inner loop per item.
    own: Vec<&'a str>,
    /// Those bound to this iteration's model class or a queryset of it.
    tables: Vec<&'a str>,
}

/// `walk_stmts`, telling `f` whether each statement sits in a loop nested
/// in `block`.
fn walk_marking_inner_loops<'a>(
    block: &'a [weir_ir::Stmt],
    nested: bool,
    f: &mut dyn FnMut(&'a weir_ir::Stmt, bool),
) {
    for stmt in block {
        f(stmt, nested);
        let inner = nested || matches!(stmt.kind, weir_ir::StmtKind::Loop(_));
        weir_ir::visit::each_child_block(stmt, &mut |child| {
            walk_marking_inner_loops(child, inner, f);
        });
    }
}

/// The names a loop over a dict's keys (`for slug in ids_by_channel`,
/// `….keys()`) binds to the value at the iteration's key (`product_ids =
/// ids_by_channel[slug]`): what `.items()` would unpack.
fn values_at_key<'a>(lp: &LoopRef<'a>, key: &str) -> Vec<&'a str> {
    let Some(iter) = lp.iter else {
        return Vec::new();
    };
    let dict = match iter.as_call() {
        Some(call) if call.args.is_empty() && call.method_name() == Some("keys") => call.receiver(),
        Some(_) => None,
        None => Some(iter),
    };
    let Some(dict) = dict.and_then(Expr::dotted) else {
        return Vec::new();
    };
    let mut values = Vec::new();
    weir_ir::visit::walk_stmts(lp.body, &mut |stmt| {
        if let Some(([target], value)) = stmt.plain_assign()
            && let Some(name) = target.as_name()
            && let ExprKind::Subscript { value: base, index } = &value.kind
            && index.as_name() == Some(key)
            && base.dotted().as_deref() == Some(dict.as_str())
        {
            values.push(name);
        }
    });
    values
}

/// The names a grouped loop's body binds to a comprehension over one of
/// `group` (`product_ids = [v[0] for v in values]`): a part of this
/// iteration's group of keys.
fn parts_of_group<'a>(lp: &LoopRef<'a>, group: &[&str]) -> Vec<&'a str> {
    let mut parts = Vec::new();
    weir_ir::visit::walk_stmts(lp.body, &mut |stmt| {
        if let Some(([target], value)) = stmt.plain_assign()
            && let Some(name) = target.as_name()
            && let ExprKind::Comprehension(comp) = &value.kind
            && let [clause] = comp.clauses.as_slice()
            && clause.iter.as_name().is_some_and(|n| group.contains(&n))
        {
            parts.push(name);
        }
    });
    parts
}

/// `product_ids`, `pks`, `keys`: a name for a group of keys.
fn names_keys(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "ids" || lower.ends_with("_ids") || lower.ends_with("pks") || lower.ends_with("keys")
}

/// `statement` is SQL text (a string, an f-string, a `%`/`.format`
/// formatting of one) into which one of `names` that names a table is
/// interpolated.
fn interpolates_table(statement: &Expr, names: &[&str]) -> bool {
    let mut text = false;
    let mut table = false;
    weir_ir::visit::walk_expr(statement, &mut |e| match &e.kind {
        ExprKind::Literal(weir_ir::Literal::Str(_)) | ExprKind::Template(_) => text = true,
        ExprKind::Name { id } if names.contains(&id.as_str()) && names_a_table(id) => {
            table = true;
        }
        _ => {}
    });
    text && table
}

/// `model`, `model_cls`, `table`, `orm_class`: a name for a table or a
/// model class rather than one row.
fn names_a_table(name: &str) -> bool {
    let last = name.rsplit('_').next().unwrap_or(name).to_ascii_lowercase();
    let lower = name.to_ascii_lowercase();
    matches!(last.as_str(), "model" | "table" | "cls" | "klass")
        || name.ends_with("_class")
        || name == "model_class"
        || matches!(lower.as_str(), "table_name" | "tablename" | "tbl")
}

/// The project model of the loop item a Django model method is called on
/// (`row.save()` for `row in Model.objects.filter(…)` or for `row in
/// owner.children.all()`), when the loop's rows say which model it is.
pub fn loop_item_model<'a>(
    facts: &'a FunctionFacts<'_>,
    call: &CallFact<'_>,
    lp: &LoopRef<'_>,
) -> Option<&'a crate::project::models::Model> {
    if call.receiver_kind.map(|t| t.kind) != Some(ObjKind::DjangoModel) {
        return None;
    }
    let var = lp.target_name()?;
    if call.call?.receiver().and_then(|r| r.as_name()) != Some(var) {
        return None;
    }
    let models = &facts.project.models;
    match &lp.rows {
        Some(rows) => models.get(&rows.model),
        // `for sb in book.parent_work.seriesbooks.all()`, the owner's model unknown.
        None => related_rows_through_locals(facts, lp.iter?, lp.span.start)
            .filter(|chain| chain.called)
            .and_then(|chain| models.to_many_target(chain.accessor)),
    }
}

/// The related-manager chain rows come from, also through the locals that
/// hold the QuerySet on its way: `items = book_list.listitem_set.filter(…)`,
/// `items = items.order_by(…)`, then `for item in items` (each local read
/// at its last binding before `at`). Only methods that keep the manager's
/// rows count between the manager and the loop.
fn related_rows_through_locals<'e>(
    facts: &'e FunctionFacts<'_>,
    iter: &'e Expr,
    at: u32,
) -> Option<crate::facts::rows::RelatedChain<'e>> {
    let mut expr = iter;
    let mut at = at;
    let mut called = false;
    // A few rebindings at most: `qs = qs.filter(…)` chains are short.
    for _ in 0..8 {
        if let Some(mut chain) = crate::facts::rows::related_chain(expr) {
            chain.called |= called;
            return Some(chain);
        }
        // Down the QuerySet methods to the local they start from.
        let mut root = expr.unawaited();
        while let Some(call) = root.as_call() {
            let method = call.method_name()?;
            if !crate::knowledge::DJANGO_SAME_ROWS.contains(&method) {
                return None;
            }
            called = true;
            root = call.receiver()?;
        }
        let var = root.as_name()?;
        let binding = facts.binding_before(var, at)?;
        expr = crate::rules::unbounded_fetch::value_bound_at(&facts.function.body, binding)?;
        at = binding.start;
    }
    None
}

/// The call's first argument is the item of an enclosing loop over rows
/// this function queried (`session.add(job)` for `job in session.scalars(q)`):
/// the object is already persistent and in the session.
pub fn passes_persistent_loop_item(facts: &FunctionFacts<'_>, call: &CallFact<'_>) -> bool {
    let Some(arg) = call
        .call
        .and_then(|c| c.positional(0))
        .and_then(Expr::as_name)
    else {
        return false;
    };
    call.site
        .loops()
        .any(|i| facts.loops[i].iterates_query_rows && facts.loops[i].target_name() == Some(arg))
}

/// "the loop over `jobs`" / "the comprehension".
pub fn describe_loop(lp: &LoopRef<'_>) -> String {
    let what = if lp.is_comprehension {
        "comprehension"
    } else {
        "loop"
    };
    match lp.iter.and_then(short_text) {
        Some(text) => format!("{what} over `{text}`"),
        None => what.to_string(),
    }
}

/// A short source-like rendering of simple expressions for messages:
/// names, attributes and calls along a chain (`Task.objects.filter(…)
/// .iterator(…)`), subscripts by a literal (`data["users"]`), awaits.
/// `None` for anything else or longer than a message can carry.
pub fn short_text(expr: &Expr) -> Option<String> {
    const LONGEST: usize = 80;
    let mut text = String::new();
    chain_text(expr, &mut text, 0)?;
    (text.len() <= LONGEST).then_some(text)
}

fn chain_text(expr: &Expr, out: &mut String, depth: u8) -> Option<()> {
    if depth > 12 {
        return None;
    }
    match &expr.kind {
        ExprKind::Name { id } => out.push_str(id),
        ExprKind::Attribute { value, attr } => {
            chain_text(value, out, depth + 1)?;
            out.push('.');
            out.push_str(attr);
        }
        ExprKind::Call(call) => {
            chain_text(&call.callee, out, depth + 1)?;
            out.push_str("(…)");
        }
        ExprKind::Subscript { value, index } => {
            use std::fmt::Write as _;
            chain_text(value, out, depth + 1)?;
            // Writing into a String cannot fail.
            let _ = match &index.kind {
                ExprKind::Literal(weir_ir::Literal::Str(key)) => write!(out, "[{key:?}]"),
                ExprKind::Literal(weir_ir::Literal::Int(i)) => write!(out, "[{i}]"),
                ExprKind::Name { id } => write!(out, "[{id}]"),
                _ => return None,
            };
        }
        ExprKind::Await { value } if depth == 0 => {
            out.push_str("await ");
            chain_text(value, out, depth + 1)?;
        }
        _ => return None,
    }
    Some(())
}

/// `session.execute(…)`, `Path(…).read_bytes()` for messages.
pub fn call_text(call: &CallFact<'_>) -> String {
    call.text()
}

/// Which ORM the call belongs to, for recommendations.
pub fn is_django(call: &CallFact<'_>) -> bool {
    call.receiver_kind
        .is_some_and(|t| t.kind == ObjKind::QuerySet)
}

pub fn is_raw_driver(call: &CallFact<'_>) -> bool {
    call.receiver_kind
        .is_some_and(|t| matches!(t.kind, ObjKind::Cursor | ObjKind::AsyncPool))
        || call
            .call
            .and_then(|c| c.method_name())
            .is_some_and(|m| m.starts_with("fetch"))
}

/// How many functions away a database read may be for the per-item rules:
/// a repository method behind a service behind the handler. Deeper chains
/// are units of work per item, not N+1 lookups.
pub const MAX_DB_DEPTH: usize = 3;
/// Row writes (QE-02, QE-05) through helpers: only a helper that runs the
/// statement itself; deeper, the per-item work is usually a unit of its own
/// (its own error handling, side effects, ordering).
pub const MAX_WRITE_DEPTH: usize = 1;

/// The call is made for one item of the loop (passes the loop variable or
/// an attribute of it) and not inside a per-item `try` (error isolation
/// means the per-item work is deliberate).
pub fn is_item_work(facts: &FunctionFacts<'_>, call: &CallFact<'_>, lp: &LoopRef<'_>) -> bool {
    let Some(var) = lp.target_name() else {
        return true;
    };
    let passes_item = call.call.is_some_and(|c| {
        c.args.iter().any(|a| {
            let mut uses = false;
            weir_ir::visit::walk_expr(&a.value, &mut |e| {
                if e.as_name() == Some(var) {
                    uses = true;
                }
            });
            uses
        })
    });
    let loop_depth = call
        .site
        .scopes
        .iter()
        .position(|s| matches!(s, Scope::Loop(i) if facts.loops[*i].span == lp.span));
    let isolated = loop_depth.is_some_and(|d| {
        call.site.scopes[d..]
            .iter()
            .any(|s| matches!(s, Scope::Try(_, TryPart::Body)))
    });
    passes_item && !isolated
}

/// Calls to project functions whose summary has the effect `pick` selects,
/// with its witness path (`loop → helper() → … → session.get()`), at most
/// [`MAX_DB_DEPTH`] functions deep.
pub fn calls_through<'a>(
    cx: &'a Cx<'_, '_>,
    pick: impl Fn(&'a Summary) -> Option<&'a Witness> + 'a,
) -> impl Iterator<Item = (&'a CallFact<'a>, &'a Witness)> + 'a {
    calls_through_at(cx, move |summary, _| pick(summary))
}

/// [`calls_through`] for an effect that depends on the call's arguments
/// (and that may carry more than its witness).
pub fn calls_through_at<'a, T: 'a>(
    cx: &'a Cx<'_, '_>,
    pick: impl Fn(&'a Summary, &'a CallFact<'a>) -> Option<T> + 'a,
) -> impl Iterator<Item = (&'a CallFact<'a>, T)> + 'a {
    cx.facts
        .calls
        .iter()
        .filter(|c| !c.site.in_lambda && !c.site.offloaded)
        .filter_map(move |c| {
            let summary = cx.summaries.of_call(c)?;
            pick(summary, c).map(|w| (c, w))
        })
}

/// " (through `load()` → `open()` at app/config.py:12)"
pub fn through(witness: &Witness) -> String {
    let Some(last) = witness.last() else {
        return String::new();
    };
    format!(" (through {} at {}:{})", last.label, last.path, last.line)
}

/// Adds the witness path as evidence, step by step.
pub fn with_path(mut finding: Finding, witness: &Witness) -> Finding {
    for step in witness.iter() {
        finding = finding.evidence(&step.path, step.line, step.label.clone());
    }
    finding
}
