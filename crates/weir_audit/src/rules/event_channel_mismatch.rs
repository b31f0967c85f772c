use weir_ir::Span;

use crate::context::{ChannelFamily, EventPublisher, EventSubscriber, ProjectContext};
use crate::declare_rule;
use crate::facts::ExecContext;
use crate::report::{Category, Effort, Finding, Severity};
use crate::rule::{Cx, PYTHON, Rule, RuleMeta, Source, finding};

declare_rule! {
    /// ## What it does
    /// Matches, across the whole project, the channels events are published
    /// on against the channels someone listens to. Publishers: the
    /// `NOTIFY`/`pg_notify` of triggers (from the migrations), SQL
    /// `NOTIFY ch` / `SELECT pg_notify('ch', …)` sent through a driver,
    /// SQLAlchemy `func.pg_notify`, Redis `publish`. Subscribers: SQL
    /// `LISTEN ch`, asyncpg `add_listener`, psycopg notification loops,
    /// Redis `subscribe`/`psubscribe`. Reports:
    /// - a listener whose channel nearly matches a publisher's (edit
    ///   distance ≤ `channel_edit_distance`, 2 by default, or one name
    ///   containing the other) while one of the two has no exact partner:
    ///   a typo that silently drops every event (CRITICAL), with both
    ///   locations as evidence;
    /// - a publisher nobody listens to (HIGH);
    /// - a listener nobody publishes to (MEDIUM).
    ///
    /// PostgreSQL and Redis channels are separate namespaces. Names read
    /// from the same constant are the same name; names built by the same
    /// f-string template (`f"job_{job_id}"`) and Redis patterns
    /// (`psubscribe("job.*")`) match what they can match. A channel whose
    /// name cannot be resolved reports nothing, and keeps the orphan checks
    /// of its namespace quiet (it may be the missing partner).
    ///
    /// ## Why is this bad
    /// `NOTIFY` to a channel nobody `LISTEN`s on succeeds and is discarded;
    /// a Redis `PUBLISH` with no subscriber returns 0 and is lost. Nothing
    /// fails: progress bars stay still, caches are never invalidated, and
    /// the mismatch is found in production, if ever.
    ///
    /// ## Example
    /// ```python
    /// # file: alembic/versions/0001_jobs.py
    /// from alembic import op
    ///
    /// def upgrade():
    ///     op.execute("CREATE FUNCTION notify_progress() RETURNS trigger AS $$ BEGIN PERFORM pg_notify('job_progress', NEW.id::text); RETURN NEW; END; $$ LANGUAGE plpgsql")
    ///     op.execute("CREATE TRIGGER jobs_progress AFTER UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION notify_progress()")
    /// # file: app/listener.py
    /// import asyncpg
    ///
    /// async def listen(dsn, on_progress):
    ///     conn = await asyncpg.connect(dsn)
    ///     await conn.add_listener("jobs_progress", on_progress)
    /// ```
    ///
    /// ## Use instead
    /// ```python
    /// # file: alembic/versions/0001_jobs.py
    /// from alembic import op
    ///
    /// def upgrade():
    ///     op.execute("CREATE FUNCTION notify_progress() RETURNS trigger AS $$ BEGIN PERFORM pg_notify('job_progress', NEW.id::text); RETURN NEW; END; $$ LANGUAGE plpgsql")
    ///     op.execute("CREATE TRIGGER jobs_progress AFTER UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION notify_progress()")
    /// # file: app/listener.py
    /// import asyncpg
    ///
    /// async def listen(dsn, on_progress):
    ///     conn = await asyncpg.connect(dsn)
    ///     await conn.add_listener("job_progress", on_progress)
    /// ```
    /// Define the channel name once (a constant both sides import), so the
    /// names cannot drift apart.
    ///
    /// ## Known limitations
    /// Only this code base is seen: a publisher consumed by another service,
    /// or a listener fed by one, is reported as an orphan (document it, or
    /// suppress the finding with its reason). Templates and patterns are
    /// never reported as orphans. Channels passed in from configuration
    /// files are not resolved.
    pub struct EventChannelMismatch;
    id: "TX-06",
    name: "event-channel-mismatch",
    category: Category::TransactionCorrectness,
    summary: "publisher and listener channel names that nearly match, or have no partner",
    severity: Severity::Critical,
    job: None,
    init: Some(Severity::Critical),
    effort: Effort::S,
    languages: PYTHON,
    sources: &[
        Source { title: "PostgreSQL: NOTIFY", url: "https://www.postgresql.org/docs/current/sql-notify.html", pack: None },
        Source { title: "PostgreSQL: LISTEN", url: "https://www.postgresql.org/docs/current/sql-listen.html", pack: None },
        Source { title: "Redis: Pub/Sub", url: "https://redis.io/docs/latest/develop/interact/pubsub/", pack: Some("redis") },
    ],
}

/// One side of a channel: where, in which namespace, under which name.
#[derive(Debug, Clone)]
struct End {
    family: ChannelFamily,
    channel: Option<String>,
    template: Option<String>,
    pattern: bool,
    file: String,
    line: u32,
    /// The enclosing function; `None` for a trigger.
    function: Option<String>,
    what: String,
}

impl End {
    fn publisher(p: &EventPublisher) -> Self {
        End {
            family: p.family(),
            channel: p.channel.clone(),
            template: p.template.clone(),
            pattern: false,
            file: p.file.clone(),
            line: p.line,
            function: Some(p.function.clone()),
            what: match p.technology.as_str() {
                "redis" => "Redis `publish`".to_string(),
                _ => "`NOTIFY`/`pg_notify`".to_string(),
            },
        }
    }

    fn subscriber(s: &EventSubscriber) -> Self {
        End {
            family: s.family(),
            channel: s.channel.clone(),
            template: s.template.clone(),
            pattern: s.pattern,
            file: s.file.clone(),
            line: s.line,
            function: Some(s.function.clone()),
            what: match s.technology.as_str() {
                "redis" if s.pattern => "Redis `psubscribe`".to_string(),
                "redis" => "Redis `subscribe`".to_string(),
                "asyncpg" => "asyncpg `add_listener`".to_string(),
                "psycopg" => "psycopg `LISTEN`".to_string(),
                _ => "`LISTEN`".to_string(),
            },
        }
    }

    /// A literal name, neither a pattern nor a template.
    fn literal(&self) -> Option<&str> {
        (!self.pattern).then_some(self.channel.as_deref()).flatten()
    }

    fn unresolved(&self) -> bool {
        self.channel.is_none() && self.template.is_none()
    }

    fn label(&self) -> String {
        match (&self.channel, &self.template) {
            (Some(c), _) => format!("{} `{c}`", self.what),
            (None, Some(t)) => format!("{} on a channel built as `{t}`", self.what),
            (None, None) => format!("{} on a computed channel", self.what),
        }
    }
}

/// Publisher `p` reaches subscriber `s`: the same name, a pattern that
/// matches it, or the same template.
fn reaches(p: &End, s: &End) -> bool {
    if p.family != s.family {
        return false;
    }
    // A template `job_{}` stands for any name the glob `job_*` matches.
    let as_glob = |t: &str| t.replace("{}", "*");
    let filled = |t: &str| t.replace("{}", "x");
    match (&p.channel, &s.channel, &p.template, &s.template) {
        (Some(pc), Some(sc), _, _) if s.pattern => glob(sc, pc),
        (Some(pc), Some(sc), _, _) => pc == sc,
        (None, Some(sc), Some(pt), _) if s.pattern => glob(sc, &filled(pt)),
        (None, Some(sc), Some(pt), _) => glob(&as_glob(pt), sc),
        (Some(pc), None, _, Some(st)) => glob(&as_glob(st), pc),
        (None, None, Some(pt), Some(st)) => pt == st,
        _ => false,
    }
}

/// Redis glob (`*`, `?`, `[...]` taken as one character) against a name.
fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    glob_chars(&p, &n)
}

fn glob_chars(p: &[char], n: &[char]) -> bool {
    match p.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).any(|i| glob_chars(&p[1..], &n[i..])),
        Some('?') => !n.is_empty() && glob_chars(&p[1..], &n[1..]),
        Some('[') => match p.iter().position(|c| *c == ']') {
            Some(end) if !n.is_empty() => {
                p[1..end].contains(&n[0]) && glob_chars(&p[end + 1..], &n[1..])
            }
            _ => false,
        },
        Some(c) => n.first() == Some(c) && glob_chars(&p[1..], &n[1..]),
    }
}

/// Levenshtein distance, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

/// Two different names close enough to be one name mistyped.
fn near(a: &str, b: &str, max: usize) -> Option<usize> {
    if a == b {
        return None;
    }
    let d = edit_distance(a, b);
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    (d <= max || (short.len() >= 3 && long.contains(short))).then_some(d)
}

/// What TX-06 says about the project.
enum Issue {
    NearMiss { publisher: End, subscriber: End },
    OrphanPublisher(End),
    OrphanListener(End),
}

fn issues(ctx: &ProjectContext, max: usize) -> Vec<Issue> {
    let mut publishers: Vec<End> = Vec::new();
    for t in ctx.triggers.iter().filter(|t| t.notifies) {
        let mut end = End {
            family: ChannelFamily::Postgres,
            channel: None,
            template: None,
            pattern: false,
            file: t.file.clone(),
            line: t.line,
            function: None,
            what: format!("trigger `{}` (`{}`)", t.name, t.function),
        };
        if t.channels.is_empty() {
            publishers.push(end.clone());
        }
        for channel in &t.channels {
            end.channel = Some(channel.clone());
            publishers.push(end.clone());
        }
    }
    publishers.extend(ctx.event_publishers.iter().map(End::publisher));
    let subscribers: Vec<End> = ctx.event_subscribers.iter().map(End::subscriber).collect();
    let heard = |p: &End| subscribers.iter().any(|s| reaches(p, s));
    let listened = |s: &End| publishers.iter().any(|p| reaches(p, s));
    let mut out = Vec::new();
    let mut paired_publishers: Vec<(String, u32, Option<String>)> = Vec::new();
    let mut paired_subscribers = Vec::new();
    for (i, s) in subscribers.iter().enumerate() {
        let Some(sc) = s.literal() else { continue };
        let s_listened = listened(s);
        let best = publishers
            .iter()
            .filter(|p| p.family == s.family && (!s_listened || !heard(p)))
            .filter_map(|p| Some((near(p.literal()?, sc, max)?, p)))
            .min_by_key(|(d, p)| (*d, p.file.clone(), p.line));
        if let Some((_, p)) = best {
            paired_publishers.push((p.file.clone(), p.line, p.channel.clone()));
            paired_subscribers.push(i);
            out.push(Issue::NearMiss {
                publisher: p.clone(),
                subscriber: s.clone(),
            });
        }
    }
    let unresolved_subscriber =
        |f: ChannelFamily| subscribers.iter().any(|s| s.family == f && s.unresolved());
    let unresolved_publisher =
        |f: ChannelFamily| publishers.iter().any(|p| p.family == f && p.unresolved());
    for p in &publishers {
        let key = (p.file.clone(), p.line, p.channel.clone());
        if p.literal().is_some()
            && !heard(p)
            && !paired_publishers.contains(&key)
            && !unresolved_subscriber(p.family)
        {
            out.push(Issue::OrphanPublisher(p.clone()));
        }
    }
    for (i, s) in subscribers.iter().enumerate() {
        if s.literal().is_some()
            && !listened(s)
            && !paired_subscribers.contains(&i)
            && !unresolved_publisher(s.family)
        {
            out.push(Issue::OrphanListener(s.clone()));
        }
    }
    out
}

impl Issue {
    /// Where the finding goes: the subscriber of a near miss, else the
    /// orphan itself.
    fn anchor(&self) -> &End {
        match self {
            Issue::NearMiss { subscriber, .. } | Issue::OrphanListener(subscriber) => subscriber,
            Issue::OrphanPublisher(p) => p,
        }
    }
}

/// This function is where `end` is reported: its own function, or for a
/// trigger the top level of its migration module (or, for a `.sql` file,
/// of the project's first module).
fn anchored_here(cx: &Cx<'_, '_>, end: &End) -> bool {
    if let Some(function) = &end.function {
        return end.file == cx.module.path && *function == cx.function.qualname;
    }
    if cx.function.id != 0 {
        return false;
    }
    let modules = cx.project.index.modules();
    if modules.iter().any(|m| m.path == end.file) {
        end.file == cx.module.path
    } else {
        modules.iter().map(|m| m.path.as_str()).min() == Some(cx.module.path.as_str())
    }
}

/// The span of the first call on the anchor's line, or the line itself.
fn span_at(cx: &Cx<'_, '_>, line: u32) -> Span {
    let mut found: Option<Span> = None;
    weir_ir::visit::walk_block_exprs(&cx.function.body, &mut |e| {
        if e.span.line == line
            && e.as_call().is_some()
            && found.is_none_or(|f| e.span.start < f.start)
        {
            found = Some(e.span);
        }
    });
    found.unwrap_or(Span {
        start: cx.function.span.start,
        end: cx.function.span.start,
        line,
        col: 0,
        end_line: line,
    })
}

impl Rule for EventChannelMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, cx: &Cx<'_, '_>, out: &mut Vec<Finding>) {
        let ctx = &cx.project.context;
        if ctx.event_subscribers.is_empty()
            && ctx.event_publishers.is_empty()
            && !ctx.triggers.iter().any(|t| t.notifies)
        {
            return;
        }
        // Cheap test first: does any end of a channel live in this file?
        let here = |file: &str| file == cx.module.path;
        let any_here = ctx.event_subscribers.iter().any(|s| here(&s.file))
            || ctx.event_publishers.iter().any(|p| here(&p.file))
            || (cx.function.id == 0 && !ctx.triggers.is_empty());
        if !any_here || cx.context == ExecContext::Test {
            return;
        }
        let max = cx.thresholds.channel_edit_distance as usize;
        for issue in issues(ctx, max) {
            let end = issue.anchor();
            if !anchored_here(cx, end) {
                continue;
            }
            let span = span_at(cx, end.line);
            let mut f = match &issue {
                Issue::NearMiss { publisher, subscriber } => finding(&Self::META, cx, span, format!(
                    "{} listens on `{}`, but the nearest publisher sends on `{}`: {}",
                    subscriber.what,
                    subscriber.channel.as_deref().unwrap_or_default(),
                    publisher.channel.as_deref().unwrap_or_default(),
                    "one of the two names is probably mistyped"
                ))
                .severity(Severity::Critical)
                .why("An event sent on a channel nobody listens to is discarded without an error: the listener never hears the publisher.")
                .help("Use one name on both sides, defined once (a shared constant or setting).")
                .evidence(&publisher.file, publisher.line, format!("publisher: {}", publisher.label()))
                .evidence(&subscriber.file, subscriber.line, format!("subscriber: {}", subscriber.label())),
                Issue::OrphanPublisher(p) => finding(&Self::META, cx, span, format!(
                    "{} sends on `{}`, but nothing in the code base listens on that channel",
                    p.what,
                    p.channel.as_deref().unwrap_or_default(),
                ))
                .severity(Severity::High)
                .why("NOTIFY or PUBLISH to a channel without listeners succeeds and the event is dropped.")
                .help("Add the listener, fix the channel name, or remove the publisher; if another service listens, document it (or suppress with the reason).")
                .evidence(&p.file, p.line, format!("publisher: {}", p.label())),
                Issue::OrphanListener(s) => finding(&Self::META, cx, span, format!(
                    "{} waits on `{}`, but nothing in the code base publishes on that channel",
                    s.what,
                    s.channel.as_deref().unwrap_or_default(),
                ))
                .severity(Severity::Medium)
                .why("A listener without a publisher never wakes up: the feature it serves silently does nothing.")
                .help("Publish on the channel (a trigger or `pg_notify`), fix the name, or remove the listener; if another service publishes, document it.")
                .evidence(&s.file, s.line, format!("subscriber: {}", s.label())),
            };
            if end.function.is_none() {
                // A trigger: reported where it is defined, as production code.
                f.path.clone_from(&end.file);
                f.line = end.line;
                f.end_line = end.line;
                f.col = 1;
                f.range = (0, 0);
                f.function = "<module>".to_string();
                f.context = ExecContext::Other;
            }
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_and_containment() {
        assert_eq!(edit_distance("job_progress", "jobs_progress"), 1);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(near("job_progress", "job_progres", 2), Some(1));
        assert!(near("events", "order_events", 2).is_some());
        assert_eq!(near("prices", "alerts", 2), None);
        assert_eq!(near("a", "a", 2), None);
    }

    #[test]
    fn redis_globs() {
        assert!(glob("job.*", "job.42"));
        assert!(glob("job.?", "job.4"));
        assert!(!glob("job.*", "jobs.42"));
        assert!(glob("h[ae]llo", "hello"));
    }
}
