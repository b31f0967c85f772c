//! Event subscribers in code, from the IR: SQL `LISTEN channel` sent through
//! any driver, asyncpg `add_listener('channel', …)`, psycopg notification
//! loops (`conn.notifies()`), and Redis `subscribe`/`psubscribe`; and the
//! publishers they should hear from: SQL `NOTIFY channel` /
//! `SELECT pg_notify('channel', …)` sent through a driver, SQLAlchemy
//! `func.pg_notify('channel', …)`, Redis `publish('channel', …)`. Channel
//! names are resolved through constants and settings; a name built by an
//! f-string keeps its template (`f"job_{id}"` → `job_{}`).

use weir_audit::context::{EventPublisher, EventSubscriber};
use weir_ir::sql::{NotifyTarget, SqlStatementKind};
use weir_ir::{ArgSpread, Call, Expr, ExprKind, Function, Module};

use super::resolve::{Project, single_local_assignment, top_level_value};
use super::sql_strings::{Scope, executed_sql};

const REDIS_ROOTS: &[&str] = &["redis", "aioredis", "coredis"];
const PSYCOPG_ROOTS: &[&str] = &["psycopg", "psycopg2"];

fn imports_any(module: &Module, roots: &[&str]) -> bool {
    module
        .imports
        .iter()
        .any(|i| roots.contains(&i.target.split('.').next().unwrap_or(&i.target)))
}

/// Every module's subscribers, concatenated in module order: sorted,
/// without duplicates.
pub fn finish_subscribers(out: &mut Vec<EventSubscriber>) {
    out.sort_by(|a, b| (&a.file, a.line, &a.channel).cmp(&(&b.file, b.line, &b.channel)));
    out.dedup();
}

/// Reads one module's subscribers, fed by the code walk (`scan`): each
/// function, then every expression of its body.
pub struct Subscribers<'a, 'm> {
    scanner: Scanner<'a, 'm>,
    function: Option<&'m Function>,
    /// The first psycopg notifications loop, and its function.
    notifies_loop: Option<(u32, &'m Function)>,
    out: Vec<EventSubscriber>,
}

impl<'a, 'm> Subscribers<'a, 'm> {
    pub fn new(project: &'a Project<'m>, module: &'m Module) -> Self {
        Subscribers {
            scanner: Scanner {
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
            },
            function: None,
            notifies_loop: None,
            out: Vec::new(),
        }
    }

    pub fn function(&mut self, function: &'m Function) {
        self.function = Some(function);
    }

    /// The expressions this reader looks at: a body without any is not
    /// walked (see `scan`).
    pub fn reads(expr: &Expr) -> bool {
        match &expr.kind {
            ExprKind::Attribute { .. } => is_notifies(expr),
            ExprKind::Call(call) => matches!(
                call.method_name(),
                Some(
                    "add_listener"
                        | "subscribe"
                        | "psubscribe"
                        | "execute"
                        | "exec_driver_sql"
                        | "executescript"
                )
            ),
            _ => false,
        }
    }

    pub fn expr(&mut self, expr: &'m Expr) {
        let Some(function) = self.function else {
            return;
        };
        if !Self::reads(expr) {
            return;
        }
        if self.notifies_loop.is_none() && is_notifies(expr) {
            self.notifies_loop = Some((expr.span.line, function));
        }
        if let Some(call) = expr.as_call() {
            self.scanner.call(function, expr, call, &mut self.out);
        }
    }

    pub fn finish(mut self) -> Vec<EventSubscriber> {
        // A psycopg notifications loop whose LISTEN could not be read still
        // subscribes to something.
        if self.out.is_empty()
            && let Some((line, function)) = self.notifies_loop
        {
            self.out.push(EventSubscriber {
                channel: None,
                pattern: false,
                template: None,
                technology: "psycopg".into(),
                file: self.scanner.module.path.clone(),
                line,
                function: function.qualname.clone(),
            });
        }
        self.out
    }
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
        self.push_named(out, function, expr, (channel, None), pattern, technology);
    }

    fn push_named(
        &self,
        out: &mut Vec<EventSubscriber>,
        function: &Function,
        expr: &Expr,
        (channel, template): (Option<String>, Option<String>),
        pattern: bool,
        technology: &str,
    ) {
        out.push(EventSubscriber {
            channel,
            pattern,
            template,
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
                let name = call
                    .keyword("channel")
                    .or_else(|| call.positional(0))
                    .map(|c| channel_name(self.project, self.module, scope, c))
                    .unwrap_or_default();
                self.push_named(out, function, expr, name, false, "asyncpg");
                return;
            }
            Some(method @ ("subscribe" | "psubscribe")) if self.redis => {
                let pattern = method == "psubscribe";
                let channels = self.redis_channels(scope, call);
                if channels.is_empty() {
                    self.push(out, function, expr, None, pattern, "redis");
                }
                for name in channels {
                    self.push_named(out, function, expr, name, pattern, "redis");
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
    fn redis_channels(&self, scope: Option<&'m Function>, call: &'m Call) -> Vec<Name> {
        let mut channels = Vec::new();
        for arg in &call.args {
            match (&arg.name, arg.spread) {
                (Some(name), _) => channels.push((Some(name.to_string()), None)),
                (None, ArgSpread::None) => {
                    channels.push(channel_name(self.project, self.module, scope, &arg.value));
                }
                (None, ArgSpread::Keyword) => match &arg.value.kind {
                    ExprKind::Dict { entries } => {
                        for (key, _) in entries {
                            channels.push(
                                key.as_ref()
                                    .map(|k| channel_name(self.project, self.module, scope, k))
                                    .unwrap_or_default(),
                            );
                        }
                    }
                    _ => channels.push((None, None)),
                },
                (None, ArgSpread::Positional) => channels.push((None, None)),
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

/// A channel name as written: its value when known statically, else the
/// template of the f-string (or `"…".format(…)`, `"…" + x`) that builds it.
type Name = (Option<String>, Option<String>);

fn channel_name<'m>(
    project: &Project<'m>,
    module: &'m Module,
    scope: Option<&'m Function>,
    expr: &'m Expr,
) -> Name {
    match project.string(module, scope, expr) {
        Some(channel) => (Some(channel), None),
        None => (None, template(project, module, scope, expr, 0)),
    }
}

/// The shape of a name built at run time, `{}` where values go:
/// `f"job_{id}"`, `"job_{}".format(id)`, `"job_" + str(id)` → `job_{}`,
/// through locals assigned once and module constants.
fn template<'m>(
    project: &Project<'m>,
    module: &'m Module,
    scope: Option<&'m Function>,
    expr: &'m Expr,
    depth: u8,
) -> Option<String> {
    if depth > 3 {
        return None;
    }
    let text = match &expr.kind {
        ExprKind::Template(template) if !template.values.is_empty() => template.text.clone(),
        ExprKind::Name { id } => {
            let value = scope
                .and_then(|f| single_local_assignment(f, id))
                .or_else(|| top_level_value(module, id))?;
            return template(project, module, scope, value, depth + 1);
        }
        // `"job_{}".format(i)`, `CHANNEL_TEMPLATE.format(job_id=i)`.
        ExprKind::Call(call) if call.method_name() == Some("format") => {
            let base = project.string(module, scope, call.receiver()?)?;
            let mut out = String::new();
            let mut in_field = false;
            for c in base.chars() {
                match c {
                    '{' => in_field = true,
                    '}' => {
                        in_field = false;
                        out.push_str("{}");
                    }
                    _ if !in_field => out.push(c),
                    _ => {}
                }
            }
            out
        }
        ExprKind::Binary {
            op: weir_ir::Operator::Add,
            left,
            ..
        } => format!("{}{{}}", left.as_str()?),
        _ => return None,
    };
    (text != "{}").then_some(text)
}

/// Every module's publishers, concatenated in module order: sorted,
/// without duplicates.
pub fn finish_publishers(out: &mut Vec<EventPublisher>) {
    out.sort_by(|a, b| (&a.file, a.line, &a.channel).cmp(&(&b.file, b.line, &b.channel)));
    out.dedup();
}

/// Reads the places in one module's code that publish on a channel, fed by
/// the code walk (`scan`): each function, then every expression of its body.
pub struct Publishers<'a, 'm> {
    project: &'a Project<'m>,
    module: &'m Module,
    redis: bool,
    function: Option<&'m Function>,
    /// Built at the first executed SQL of the function: most have none.
    sql_scope: Option<Scope<'m>>,
    pub out: Vec<EventPublisher>,
}

impl<'a, 'm> Publishers<'a, 'm> {
    pub fn new(project: &'a Project<'m>, module: &'m Module) -> Self {
        Publishers {
            project,
            module,
            redis: imports_any(module, REDIS_ROOTS),
            function: None,
            sql_scope: None,
            out: Vec::new(),
        }
    }

    pub fn function(&mut self, function: &'m Function) {
        self.function = Some(function);
        self.sql_scope = None;
    }

    /// The expressions this reader looks at: a body without any is not
    /// walked (see `scan`).
    pub fn reads(expr: &Expr) -> bool {
        let Some(call) = expr.as_call() else {
            return false;
        };
        matches!(call.method_name(), Some("publish" | "pg_notify"))
            || call.callee.as_name() == Some("pg_notify")
            || executed_sql(expr).is_some()
    }

    pub fn expr(&mut self, expr: &'m Expr) {
        if !Self::reads(expr) {
            return;
        }
        let (Some(function), Some(call)) = (self.function, expr.as_call()) else {
            return;
        };
        let (project, module) = (self.project, self.module);
        let scope = (function.id != 0).then_some(function);
        let out = &mut self.out;
        let mut push = |(channel, template): Name, technology: &str| {
            out.push(EventPublisher {
                channel,
                template,
                technology: technology.to_string(),
                file: module.path.clone(),
                line: expr.span.line,
                function: function.qualname.clone(),
            });
        };
        // `pg_notify(…)` or `func.pg_notify(…)`, without building a dotted path per call.
        let pg_notify =
            call.method_name() == Some("pg_notify") || call.callee.as_name() == Some("pg_notify");
        if self.redis && call.method_name() == Some("publish") {
            let name = call
                .keyword("channel")
                .or_else(|| call.positional(0))
                .map(|c| channel_name(project, module, scope, c))
                .unwrap_or_default();
            push(name, "redis");
        } else if pg_notify {
            // SQLAlchemy `func.pg_notify("jobs", payload)`.
            let name = call
                .positional(0)
                .map(|c| channel_name(project, module, scope, c))
                .unwrap_or_default();
            push(name, "postgresql");
        } else if let Some(sql) = executed_sql(expr) {
            let mut texts = Vec::new();
            self.sql_scope
                .get_or_insert_with(|| Scope::new(module, scope, &function.body))
                .strings(sql, 0, &mut |_, text| texts.push(text.to_string()));
            for text in texts {
                for name in notified(project, module, scope, call, &text) {
                    push(name, "postgresql");
                }
            }
        }
    }
}

/// The channels an executed SQL text notifies: `NOTIFY jobs`,
/// `SELECT pg_notify('jobs', …)`, or `pg_notify(:channel, …)` with the
/// channel bound by the call's parameters. Trigger functions (`CREATE …`)
/// are the trigger reader's.
fn notified<'m>(
    project: &Project<'m>,
    module: &'m Module,
    scope: Option<&'m Function>,
    call: &'m Call,
    text: &str,
) -> Vec<Name> {
    let upper = text.trim_start().to_ascii_uppercase();
    let compact: String = upper.chars().filter(|c| !c.is_whitespace()).collect();
    if upper.contains("CREATE") || !(upper.starts_with("NOTIFY") || compact.contains("PG_NOTIFY("))
    {
        return Vec::new();
    }
    weir_lang::sql::notify_targets(text)
        .into_iter()
        .map(|target| match target {
            NotifyTarget::Channel(channel) => (Some(channel), None),
            _ => bound_channel(project, module, scope, call, text).unwrap_or_default(),
        })
        .collect()
}

/// `pg_notify(:channel, …)` with `{"channel": CHANNEL}`, `pg_notify(%s, …)`
/// with `(CHANNEL, payload)`, `pg_notify($1, …)` with `CHANNEL` as the
/// next argument.
fn bound_channel<'m>(
    project: &Project<'m>,
    module: &'m Module,
    scope: Option<&'m Function>,
    call: &'m Call,
    text: &str,
) -> Option<Name> {
    let lower = text.to_ascii_lowercase();
    let at = lower.find("pg_notify")?;
    let rest = text[at + "pg_notify".len()..]
        .trim_start()
        .strip_prefix('(')?;
    let first = rest.split(',').next()?.trim();
    let params = call.positional(1)?;
    let named = first
        .strip_prefix(':')
        .or_else(|| first.strip_prefix("%(").and_then(|r| r.strip_suffix(")s")));
    let value = match (named, &params.kind) {
        (Some(name), ExprKind::Dict { entries }) => entries
            .iter()
            .find_map(|(k, v)| (k.as_ref().and_then(Expr::as_str) == Some(name)).then_some(v))?,
        (None, ExprKind::Collection { elements, .. }) if first == "%s" || first == "?" => {
            elements.first()?
        }
        (None, _) if first == "$1" => params,
        _ => return None,
    };
    Some(channel_name(project, module, scope, value))
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
        crate::discovery::scan::read_all(&project, &modules)
            .subscribers
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

    fn publishers(files: &[(&str, &str)]) -> Vec<(Option<String>, Option<String>, String, u32)> {
        let modules: Vec<Module> = files
            .iter()
            .map(|(p, s)| weir_lang::lower(p, s).unwrap())
            .collect();
        let project = Project::new(&modules);
        crate::discovery::scan::read_all(&project, &modules)
            .publishers
            .into_iter()
            .map(|p| (p.channel, p.template, p.technology, p.line))
            .collect()
    }

    #[test]
    fn publishers_in_sql_sqlalchemy_and_redis() {
        let got = publishers(&[
            (
                "app/events.py",
                r#"import redis
from sqlalchemy import func, select, text
from app.settings import DONE, ROOM

client = redis.Redis()

def finish(session, conn, job_id):
    session.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": DONE, "payload": "x"})
    session.execute(text("NOTIFY maintenance"))
    session.execute(select(func.pg_notify(f"job_{job_id}", "done")))
    conn.execute("SELECT pg_notify($1, $2)", "audit", "x")
    client.publish("prices", "1")
    session.execute(text("SELECT * FROM notify_settings"))
    session.execute(text("CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN PERFORM pg_notify('x', ''); END $$ LANGUAGE plpgsql"))
    client.publish(ROOM.format(room=job_id), "1")
"#,
            ),
            (
                "app/settings.py",
                "DONE = 'export_done'\nROOM = 'room.{room}.messages'\n",
            ),
        ]);
        assert_eq!(
            got,
            vec![
                (some("export_done"), None, "postgresql".into(), 8),
                (some("maintenance"), None, "postgresql".into(), 9),
                (None, some("job_{}"), "postgresql".into(), 10),
                (some("audit"), None, "postgresql".into(), 11),
                (some("prices"), None, "redis".into(), 12),
                (None, some("room.{}.messages"), "redis".into(), 15),
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
