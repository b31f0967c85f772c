use weir_ir::ExprKind;

use crate::declare_rule;
use crate::facts::ExecContext;
use crate::knowledge::ObjKind;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};
use crate::rules::call_text;

declare_rule! {
    /// ## What it does
    /// Finds `create_engine(...)` / `create_async_engine(...)` calls with
    /// neither `pool_pre_ping` nor `pool_recycle`.
    ///
    /// ## Why is this bad
    /// Pooled connections die silently: the database restarts, a proxy or
    /// firewall drops idle connections, a failover happens. Without a
    /// pre-ping or a recycle age, the next request to check out such a
    /// connection fails with "server closed the connection unexpectedly".
    ///
    /// ## Example
    /// ```python
    /// from sqlalchemy import create_engine
    ///
    /// engine = create_engine(DATABASE_URL, pool_size=10)
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// from sqlalchemy import create_engine
    ///
    /// engine = create_engine(DATABASE_URL, pool_size=10, pool_pre_ping=True, pool_recycle=1800)
    /// ```
    ///
    /// ## Known limitations
    /// Settings passed through `**kwargs` or read from configuration files
    /// are not checked. SQLite engines and `NullPool` engines are skipped.
    pub struct PoolConfigGaps;
    id: "RL-04",
    name: "pool-config-gaps",
    category: Category::ResourceLifecycle,
    summary: "engine without pool_pre_ping or pool_recycle",
    severity: Severity::High,
    job: None,
    init: Some(Severity::High),
    effort: Effort::S,
    languages: PYTHON,
    sources: &[Source { title: "SQLAlchemy: Dealing with Disconnects", url: "https://docs.sqlalchemy.org/en/20/core/pooling.html#dealing-with-disconnects", pack: Some("sqlalchemy") }],
}

/// The literal start of a URL: a string, an f-string, `"sqlite:///%s" % path`,
/// `"sqlite:///{}".format(path)`, `"sqlite:///" + path`.
fn url_prefix(url: &weir_ir::Expr) -> Option<&str> {
    match &url.kind {
        ExprKind::Literal(weir_ir::Literal::Str(s)) => Some(s),
        ExprKind::Template { text, .. } => Some(text),
        ExprKind::Binary { left, .. } => url_prefix(left),
        ExprKind::Call(call) if call.method_name() == Some("format") => {
            url_prefix(call.receiver()?)
        }
        _ => None,
    }
}

impl Rule for PoolConfigGaps {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, facts: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        if matches!(facts.context, ExecContext::Migration | ExecContext::Test) {
            return;
        }
        for fact in &facts.calls {
            let (Some(call), Some(ObjKind::Engine | ObjKind::AsyncEngine)) =
                (fact.call, fact.returns)
            else {
                continue;
            };
            let Some(name) = call.qualified.as_deref() else {
                continue;
            };
            if !(name.ends_with(".create_engine") || name.ends_with(".create_async_engine")) {
                continue;
            }
            if call.keyword("pool_pre_ping").is_some()
                || call.keyword("pool_recycle").is_some()
                || call.has_kwargs_spread()
            {
                continue;
            }
            let url = call.positional(0).or_else(|| call.keyword("url"));
            let is_sqlite = url
                .and_then(url_prefix)
                .is_some_and(|s| s.starts_with("sqlite"));
            let unpooled = call
                .keyword("poolclass")
                .and_then(weir_ir::Expr::dotted)
                .is_some_and(|p| p.ends_with("NullPool") || p.ends_with("StaticPool"));
            if is_sqlite || unpooled {
                continue;
            }
            out.push(
                finding(&Self::META, facts, fact.site.span, format!("{} sets neither `pool_pre_ping` nor `pool_recycle`", call_text(fact)))
                    .why("Pooled connections that the server or a proxy closed are handed out as if alive; the next request fails with a disconnect error.")
                    .help("Pass `pool_pre_ping=True` (checks each connection on checkout) and `pool_recycle=<seconds below the server's idle timeout>`, e.g. `pool_recycle=1800`."),
            );
        }
    }
}
