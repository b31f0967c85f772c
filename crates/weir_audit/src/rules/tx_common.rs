//! Questions the transaction rules share: which model a local holds, which
//! table a statement updates.

use weir_ir::{Expr, Stmt, StmtKind};

use crate::facts::models::Model;
use crate::facts::{CallFact, FunctionFacts};

/// The model an object in local `var` is an instance of, at `offset`:
/// a parameter annotated with it, a local assigned from an expression
/// naming it (`Job(...)`, `await session.get(Job, id)`,
/// `session.scalars(select(Job)).first()`), or a loop over such rows.
pub fn model_of_local<'a>(
    facts: &'a FunctionFacts<'_>,
    var: &str,
    offset: u32,
) -> Option<&'a Model> {
    let models = &facts.project.tables;
    let module = facts.module;
    if let Some(bound) = facts.binding_before(var, offset) {
        if let Some(lp) = facts.loops.iter().find(|l| l.span == bound) {
            return lp.iter.and_then(|iter| models.mentioned(module, iter));
        }
        let mut value = None;
        weir_ir::visit::walk_stmts(&facts.function.body, &mut |s: &Stmt| {
            if s.span == bound
                && let StmtKind::Assign { value: Some(v), .. } = &s.kind
            {
                value = Some(v);
            }
        });
        return value.and_then(|v| models.mentioned(module, v));
    }
    let param = facts.function.params.iter().find(|p| p.name == var)?;
    models.mentioned(module, param.annotation.as_ref()?)
}

/// The table an UPDATE call writes: the model or table of `update(Job)`,
/// `Job.objects.filter(…).update(…)`, or the table after `UPDATE` in raw SQL.
pub fn updated_table(facts: &FunctionFacts<'_>, call: &CallFact<'_>) -> Option<String> {
    let models = &facts.project.tables;
    for expr in [call.statement, Some(call.expr)].into_iter().flatten() {
        if let Some(sql) = sql_text(expr) {
            if let Some(table) = table_after_update(sql) {
                return Some(table);
            }
            continue;
        }
        if let Some(model) = models.mentioned(facts.module, expr) {
            return Some(model.table.clone());
        }
    }
    // `job.save()` on a Django model instance.
    if call.call.and_then(|c| c.method_name()) == Some("save")
        && let Some(var) = call.receiver.as_deref()
    {
        return model_of_local(facts, var, call.site.span.start).map(|m| m.table.clone());
    }
    None
}

/// The SQL text of `text("…")`, `"…"`.
pub fn sql_text(expr: &Expr) -> Option<&str> {
    expr.as_str()
        .or_else(|| expr.as_call().and_then(|c| c.positional(0)?.as_str()))
}

/// `UPDATE ONLY public.jobs SET …` → `public.jobs`.
pub fn table_after_update(sql: &str) -> Option<String> {
    let mut words = sql.split_whitespace();
    words.find(|w| w.eq_ignore_ascii_case("update"))?;
    let mut table = words.next()?;
    if table.eq_ignore_ascii_case("only") {
        table = words.next()?;
    }
    let table = table.trim_matches(|c| c == '"' || c == '`');
    (!table.is_empty()).then(|| table.to_ascii_lowercase())
}

/// What makes an open transaction last: the facets TX-02 and TX-05 share.
/// One finding per region: network or file I/O inside it makes it TX-02
/// (scope too wide: the work does not belong in the transaction), with the
/// sleep and long-body facets as evidence; otherwise a sleep or a body over
/// [`LONG_BODY_LINES`] lines makes it TX-05 (long-held transaction).
pub struct SlowWork {
    pub region: crate::facts::regions::TxRegion,
    /// (span, description, is network)
    pub io: Vec<(weir_ir::Span, String, bool)>,
    pub sleeps: Vec<(weir_ir::Span, String)>,
    pub lines: u32,
    pub witness: Option<crate::project::summary::Witness>,
}

/// A transaction open over more lines than this is long-held.
pub const LONG_BODY_LINES: u32 = 50;

pub fn slow_work(cx: &crate::rule::Cx<'_, '_>) -> Vec<SlowWork> {
    use crate::knowledge::{Effect, IoKind, ObjKind};
    let regions = cx.regions(cx.summaries);
    let mut out = Vec::new();
    for region in regions.regions.iter().cloned() {
        let mut work = SlowWork {
            lines: region.code_lines(cx),
            region,
            io: Vec::new(),
            sleeps: Vec::new(),
            witness: None,
        };
        for call in &cx.calls {
            if !work.region.contains(call.site.span)
                || call.site.in_lambda
                || crate::facts::guards::debug_only(cx.module, call)
            {
                continue;
            }
            // The text only for calls that become evidence: most do not.
            let receiver_http = call
                .receiver_kind
                .is_some_and(|t| matches!(t.kind, ObjKind::HttpClient | ObjKind::AsyncHttpClient));
            let grpc = call
                .call
                .and_then(|c| c.qualified.as_deref())
                .is_some_and(|q| q.starts_with("grpc."))
                || call
                    .receiver
                    .as_deref()
                    .is_some_and(|r| r.ends_with("stub"));
            match call.effect {
                Some(Effect::Network | Effect::Blocking(IoKind::Http | IoKind::Socket)) => {
                    work.io.push((
                        call.site.span,
                        format!("{} calls over the network", call.text()),
                        true,
                    ));
                }
                _ if receiver_http || grpc => {
                    work.io.push((
                        call.site.span,
                        format!("{} calls over the network", call.text()),
                        true,
                    ));
                }
                Some(Effect::Blocking(IoKind::File | IoKind::FileMetadata)) => {
                    work.io.push((
                        call.site.span,
                        format!("{} does file I/O", call.text()),
                        false,
                    ));
                }
                Some(Effect::Sleep) => work
                    .sleeps
                    .push((call.site.span, format!("{} sleeps", call.text()))),
                // Only an awaited coroutine waits here.
                Some(Effect::AsyncSleep) if call.site.awaited => work
                    .sleeps
                    .push((call.site.span, format!("{} sleeps", call.text()))),
                None => {
                    let Some(summary) = cx.summaries.of_call(call) else {
                        continue;
                    };
                    if let Some(w) = &summary.network {
                        work.io.push((
                            call.site.span,
                            format!("{} calls over the network", call.text()),
                            true,
                        ));
                        work.witness.get_or_insert_with(|| w.clone());
                    } else if let Some((
                        kind
                        @ (IoKind::Http | IoKind::Socket | IoKind::File | IoKind::FileMetadata),
                        w,
                    )) = &summary.blocks
                    {
                        let net = !matches!(kind, IoKind::File | IoKind::FileMetadata);
                        work.io.push((
                            call.site.span,
                            format!("{} does {}", call.text(), kind.describe()),
                            net,
                        ));
                        work.witness.get_or_insert_with(|| w.clone());
                    } else if let Some(w) = &summary.sleeps {
                        work.sleeps
                            .push((call.site.span, format!("{} sleeps", call.text())));
                        work.witness.get_or_insert_with(|| w.clone());
                    }
                }
                _ => {}
            }
        }
        work.io.sort_by_key(|(s, _, _)| s.start);
        work.sleeps.sort_by_key(|(s, _)| s.start);
        // A long body counts for transactions opened on purpose (`begin()`,
        // `atomic`); an autobegin over a long function holds nothing while
        // it does database work only.
        let deliberate = !matches!(
            work.region.kind,
            crate::facts::regions::RegionKind::Autobegin
                | crate::facts::regions::RegionKind::Request
        );
        if !work.io.is_empty()
            || !work.sleeps.is_empty()
            || (deliberate && work.lines > LONG_BODY_LINES)
        {
            out.push(work);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::table_after_update;

    #[test]
    fn reads_the_updated_table() {
        assert_eq!(
            table_after_update("update jobs set progress = :p where id = :id").as_deref(),
            Some("jobs")
        );
        assert_eq!(
            table_after_update("UPDATE ONLY \"jobs\" SET x = 1").as_deref(),
            Some("jobs")
        );
        assert_eq!(table_after_update("SELECT 1"), None);
    }
}
