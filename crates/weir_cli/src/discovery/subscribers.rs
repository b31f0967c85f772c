//! Event subscribers in code, from the IR: SQL `LISTEN channel` sent through
//! any driver, asyncpg `add_listener('channel', …)`, psycopg notification
//! loops (`conn.notifies()`), and Redis `subscribe`/`psubscribe`. Channel
//! names are resolved through constants and settings.

use rayon::prelude::*;
use weir_audit::context::EventSubscriber;
use weir_ir::sql::SqlStatementKind;
use weir_ir::{ArgSpread, Call, Expr, ExprKind, Function, Module};

use super::resolve::Project;

const REDIS_ROOTS: &[&str] = &["redis", "aioredis", "coredis"];
const PSYCOPG_ROOTS: &[&str] = &["psycopg", "psycopg2"];

fn imports_any(module: &Module, roots: &[&str]) -> bool {
    module
        .imports
        .iter()
        .any(|i| roots.contains(&i.target.split('.').next().unwrap_or(&i.target)))
}

pub fn collect(project: &Project<'_>, modules: &[Module]) -> Vec<EventSubscriber> {
    // Modules are independent here: scanned in parallel, concatenated in
    // order, then sorted as before.
    let mut out: Vec<EventSubscriber> = modules
        .par_iter()
        .flat_map_iter(|module| collect_module(project, module))
        .collect();
    out.sort_by(|a, b| (&a.file, a.line, &a.channel).cmp(&(&b.file, b.line, &b.channel)));
    out.dedup();
    out
}

fn collect_module(project: &Project<'_>, module: &Module) -> Vec<EventSubscriber> {
    let mut out = Vec::new();
    {
        let scanner = Scanner {
            project,
            module,
            redis: imports_any(module, REDIS_ROOTS),
            technology: if imports_any(module, &["asyncpg"]) {
                "asyncpg"
            } else if imports_any(module, PSYCOPG_ROOTS) {
                "psycopg"
            } else {
                "postgresql"
            },
        };
        let mut notifies_loops = Vec::new();
        let before = out.len();
        for function in &module.functions {
            weir_ir::visit::walk_block_exprs(&function.body, &mut |expr| {
                if is_notifies(expr) {
                    notifies_loops.push((expr.span.line, function));
                }
                if let Some(call) = expr.as_call() {
                    scanner.call(function, expr, call, &mut out);
                }
            });
        }
        // A psycopg notifications loop whose LISTEN could not be read still
        // subscribes to something.
        if out.len() == before
            && let Some((line, function)) = notifies_loops.first()
        {
            out.push(EventSubscriber {
                channel: None,
                pattern: false,
                technology: "psycopg".into(),
                file: module.path.clone(),
                line: *line,
                function: function.qualname.clone(),
            });
        }
    }
    out
}

/// `conn.notifies()` (psycopg 3) or `conn.notifies` (psycopg2).
fn is_notifies(expr: &Expr) -> bool {
    matches!(&expr.kind, ExprKind::Attribute { attr, .. } if attr == "notifies")
}

struct Scanner<'a, 'm> {
    project: &'a Project<'m>,
    module: &'m Module,
    redis: bool,
    technology: &'static str,
}

impl<'m> Scanner<'_, 'm> {
    fn scope(function: &'m Function) -> Option<&'m Function> {
        (function.id != 0).then_some(function)
    }

    fn push(
        &self,
        out: &mut Vec<EventSubscriber>,
        function: &Function,
        expr: &Expr,
        channel: Option<String>,
        pattern: bool,
        technology: &str,
    ) {
        out.push(EventSubscriber {
            channel,
            pattern,
            technology: technology.to_string(),
            file: self.module.path.clone(),
            line: expr.span.line,
            function: function.qualname.clone(),
        });
    }

    fn call(
        &self,
        function: &'m Function,
        expr: &'m Expr,
        call: &'m Call,
        out: &mut Vec<EventSubscriber>,
    ) {
        let scope = Self::scope(function);
        match call.method_name() {
            Some("add_listener") if call.args.len() >= 2 => {
                let channel = call
                    .keyword("channel")
                    .or_else(|| call.positional(0))
                    .and_then(|c| self.project.string(self.module, scope, c));
                self.push(out, function, expr, channel, false, "asyncpg");
                return;
            }
            Some(method @ ("subscribe" | "psubscribe")) if self.redis => {
                let pattern = method == "psubscribe";
                let channels = self.redis_channels(scope, call);
                if channels.is_empty() {
                    self.push(out, function, expr, None, pattern, "redis");
                }
                for channel in channels {
                    self.push(out, function, expr, channel, pattern, "redis");
                }
                return;
            }
            // `LISTEN` goes through a driver's or session's execute method;
            // other calls are not worth resolving their arguments for.
            Some("execute" | "exec_driver_sql" | "executescript") => {}
            _ => return,
        }
        let Some(text) = call
            .positional(0)
            .and_then(|arg| self.sql_text(scope, arg, 0))
        else {
            return;
        };
        if !text
            .trim_start()
            .get(..6)
            .is_some_and(|w| w.eq_ignore_ascii_case("listen"))
        {
            return;
        }
        for statement in weir_lang::sql::read_sql(&text).statements {
            if let SqlStatementKind::Listen { channel } = statement.kind {
                self.push(out, function, expr, Some(channel), false, self.technology);
            }
        }
    }

    /// Channels of `subscribe("a", CHANNEL)`, `subscribe(a=handler)` and
    /// `subscribe(**{"a": handler})`; `None` for one not known statically.
    fn redis_channels(&self, scope: Option<&'m Function>, call: &'m Call) -> Vec<Option<String>> {
        let mut channels = Vec::new();
        for arg in &call.args {
            match (&arg.name, arg.spread) {
                (Some(name), _) => channels.push(Some(name.clone())),
                (None, ArgSpread::None) => {
                    channels.push(self.project.string(self.module, scope, &arg.value));
                }
                (None, ArgSpread::Keyword) => match &arg.value.kind {
                    ExprKind::Dict { entries } => {
                        for (key, _) in entries {
                            channels.push(
                                key.as_ref()
                                    .and_then(|k| self.project.string(self.module, scope, k)),
                            );
                        }
                    }
                    _ => channels.push(None),
                },
                (None, ArgSpread::Positional) => channels.push(None),
            }
        }
        channels
    }

    /// The SQL text an argument carries: a string, a constant, `text("…")`,
    /// psycopg's `sql.SQL("LISTEN {}").format(sql.Identifier("ch"))`.
    fn sql_text(&self, scope: Option<&'m Function>, arg: &'m Expr, depth: u8) -> Option<String> {
        if depth > 3 {
            return None;
        }
        match &arg.kind {
            ExprKind::Literal(_) | ExprKind::Name { .. } | ExprKind::Attribute { .. } => {
                self.project.string(self.module, scope, arg)
            }
            ExprKind::Call(call) => {
                let callee = call.qualified.as_deref().unwrap_or_default();
                if callee.ends_with(".text") || callee.ends_with(".SQL") {
                    return self.sql_text(scope, call.positional(0)?, depth + 1);
                }
                if call.method_name() == Some("format") {
                    let template = self.sql_text(scope, call.receiver()?, depth + 1)?;
                    let value = call.positional(0)?;
                    let filled = match value.as_call() {
                        Some(identifier) if identifier.method_name() == Some("Identifier") => self
                            .project
                            .string(self.module, scope, identifier.positional(0)?)?,
                        _ => self.project.string(self.module, scope, value)?,
                    };
                    return Some(template.replacen("{}", &format!("\"{filled}\""), 1));
                }
                None
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscribers(files: &[(&str, &str)]) -> Vec<(Option<String>, String, u32, bool)> {
        let modules: Vec<Module> = files
            .iter()
            .map(|(p, s)| weir_lang::lower(p, s).unwrap())
            .collect();
        let project = Project::new(&modules);
        collect(&project, &modules)
            .into_iter()
            .map(|s| (s.channel, s.technology, s.line, s.pattern))
            .collect()
    }

    #[allow(clippy::unnecessary_wraps)] // reads as the `Some` it stands for
    fn some(s: &str) -> Option<String> {
        Some(s.to_string())
    }

    #[test]
    fn asyncpg_listener_through_a_constant() {
        let got = subscribers(&[(
            "app/worker/listener.py",
            r#"import asyncpg

CHANNEL = "job_progress"

async def listen(dsn, on_progress):
    conn = await asyncpg.connect(dsn)
    try:
        await conn.add_listener(CHANNEL, on_progress)
        await conn.execute("LISTEN audit_events")
    finally:
        await conn.close()
"#,
        )]);
        assert_eq!(
            got,
            vec![
                (some("job_progress"), "asyncpg".into(), 8, false),
                (some("audit_events"), "asyncpg".into(), 9, false),
            ]
        );
    }

    #[test]
    fn psycopg_listen_and_notifies_loops() {
        let got = subscribers(&[
            (
                "app/events.py",
                r#"import psycopg
from psycopg import sql
from app.settings import EVENTS_CHANNEL

def consume(dsn):
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(EVENTS_CHANNEL)))
        for notify in conn.notifies():
            handle(notify.payload)
"#,
            ),
            ("app/settings.py", "EVENTS_CHANNEL = 'order_events'\n"),
            (
                "app/legacy.py",
                r#"import select
import psycopg2

def poll(conn, channel):
    cur = conn.cursor()
    cur.execute(f"LISTEN {channel};")
    while True:
        select.select([conn], [], [], 5)
        conn.poll()
        while conn.notifies:
            handle(conn.notifies.pop(0))
"#,
            ),
        ]);
        assert_eq!(
            got,
            vec![
                (some("order_events"), "psycopg".into(), 7, false),
                (None, "psycopg".into(), 10, false),
            ]
        );
    }

    #[test]
    fn redis_subscriptions() {
        let got = subscribers(&[(
            "app/realtime.py",
            r#"import redis.asyncio as redis

PRICES = "prices"

async def run(url, handler):
    client = redis.from_url(url)
    pubsub = client.pubsub()
    await pubsub.subscribe(PRICES, "orders")
    await pubsub.psubscribe("jobs.*")
    await pubsub.subscribe(**{"alerts": handler})
"#,
        )]);
        assert_eq!(
            got,
            vec![
                (some("orders"), "redis".into(), 8, false),
                (some("prices"), "redis".into(), 8, false),
                (some("jobs.*"), "redis".into(), 9, true),
                (some("alerts"), "redis".into(), 10, false),
            ]
        );
    }

    #[test]
    fn subscribe_elsewhere_is_not_redis() {
        let got = subscribers(&[(
            "app/ui.py",
            "def wire(store, render):\n    store.subscribe(render)\n",
        )]);
        assert!(got.is_empty());
    }
}
