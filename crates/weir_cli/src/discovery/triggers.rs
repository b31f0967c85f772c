//! Triggers and the channels they notify, from the SQL a project runs:
//! strings passed to Alembic `op.execute(...)` (also through `text(...)`
//! and constants), Django `RunSQL`, SQLAlchemy `DDL`, any `execute(...)`,
//! trigger DDL held in module constants, and `.sql` files. Downgrades
//! (`def downgrade`, `reverse_sql`, `*.down.sql`, `-- migrate:down`) are not
//! the schema and are skipped. Scripts are applied in migration order —
//! file path, with Alembic files in `down_revision` order — so a later
//! `DROP`/`CREATE OR REPLACE` wins.

use std::collections::{BTreeMap, HashMap, HashSet};

use weir_audit::context::{Location, Trigger};
use weir_audit::report::{Warning, WarningKind};
use weir_ir::sql::{CreateTrigger, NotifyTarget, SqlStatementKind};
use weir_ir::{Class, Expr, ExprKind, Function, Module, Span, Stmt};

use super::resolve::top_level_value;
use super::sql_strings::{Scope, executed_sql};

/// One SQL text and where it starts.
struct Piece {
    text: String,
    /// Line of the text's first character in its file.
    line: u32,
    /// Last line the text can occupy (for strings whose escapes hide lines).
    end_line: u32,
    /// A constant that is not seen running: its CREATEs describe the schema,
    /// but its DROPs cannot be placed in time.
    creates_only: bool,
    /// An f-string: only its literal parts are known.
    interpolated: bool,
    /// Where it runs: the line of the call that executes it.
    runs_at: u32,
}

/// The SQL of one file, in the order it runs.
pub struct Script {
    pub file: String,
    pieces: Vec<Piece>,
}

impl Script {
    /// A `.sql` file, without the down sections of dbmate (`-- migrate:down`),
    /// goose (`-- +goose Down`) and sql-migrate (`-- +migrate Down`) files.
    /// Cut lines are kept empty so line numbers hold.
    pub fn sql_file(file: &str, text: &str) -> Self {
        let mut up = String::new();
        let mut keep = true;
        for line in text.split_inclusive('\n') {
            let marker = line.trim().to_ascii_lowercase().replace(' ', "");
            if ["--migrate:down", "--+goosedown", "--+migratedown"]
                .iter()
                .any(|m| marker.starts_with(m))
            {
                keep = false;
            } else if ["--migrate:up", "--+gooseup", "--+migrateup"]
                .iter()
                .any(|m| marker.starts_with(m))
            {
                keep = true;
            }
            if keep {
                up.push_str(line);
            } else if line.ends_with('\n') {
                up.push('\n');
            }
        }
        Script {
            file: file.to_string(),
            pieces: vec![Piece {
                text: up,
                line: 1,
                end_line: u32::MAX,
                creates_only: false,
                interpolated: false,
                runs_at: 1,
            }],
        }
    }

    /// The SQL a Python module runs.
    #[cfg(test)]
    pub fn python(module: &Module) -> Self {
        let project = super::resolve::Project::new(std::slice::from_ref(module));
        super::scan::read_all(&project, std::slice::from_ref(module))
            .scripts
            .pop()
            .unwrap_or_else(|| PythonSql::new(module).finish(false))
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }
}

/// Reads the SQL one Python module runs, fed by the code walk (`scan`):
/// each function (but not downgrades) and class body (Django's
/// `operations = [migrations.RunSQL(...)]`), then every expression of it.
pub struct PythonSql<'m> {
    module: &'m Module,
    /// The body being read, unless it is a downgrade.
    body: Option<(Option<&'m Function>, &'m [Stmt])>,
    /// Built at the first SQL call of the body only: most run none.
    scope: Option<Scope<'m>>,
    pieces: Vec<Piece>,
    /// Expressions already read, and (expression, text) pairs: one
    /// f-string in a loop yields several texts.
    used: HashSet<Span>,
    seen: HashSet<(Span, String)>,
}

impl<'m> PythonSql<'m> {
    pub fn new(module: &'m Module) -> Self {
        PythonSql {
            module,
            body: None,
            scope: None,
            pieces: Vec::new(),
            used: HashSet::new(),
            seen: HashSet::new(),
        }
    }

    /// Starts a function's body; false for a downgrade, which is not read.
    pub fn function(&mut self, function: &'m Function) -> bool {
        self.scope = None;
        self.body = (!function.name.starts_with("downgrade")).then(|| {
            (
                (function.id != 0).then_some(function),
                function.body.as_slice(),
            )
        });
        self.body.is_some()
    }

    pub fn class(&mut self, class: &'m Class) {
        self.scope = None;
        self.body = Some((None, class.body.as_slice()));
    }

    /// The expressions this reader looks at: a body without any is not
    /// walked (see `scan`).
    pub fn reads(expr: &Expr) -> bool {
        executed_sql(expr).is_some()
    }

    pub fn expr(&mut self, expr: &'m Expr) {
        let Some((function, body)) = self.body else {
            return;
        };
        let Some(sql) = executed_sql(expr) else {
            return;
        };
        let module = self.module;
        let scope = self
            .scope
            .get_or_insert_with(|| Scope::new(module, function, body));
        let (used, seen, pieces) = (&mut self.used, &mut self.seen, &mut self.pieces);
        scope.strings(sql, 0, &mut |e, text| {
            used.insert(e.span);
            if seen.insert((e.span, text.to_string())) {
                pieces.push(piece(e, text, false, expr.span.line));
            }
        });
    }

    /// Whether the module keeps trigger DDL in constants, which
    /// [`finish`](Self::finish) then reads.
    pub fn has_ddl_constants(module: &Module) -> bool {
        module
            .top_level()
            .is_some_and(|top| top.body.iter().any(|stmt| ddl_constant(stmt).is_some()))
    }

    /// The module's script; `ddl_constants` as
    /// [`has_ddl_constants`](Self::has_ddl_constants) says.
    pub fn finish(mut self, ddl_constants: bool) -> Script {
        if ddl_constants && let Some(top) = self.module.top_level() {
            for stmt in &top.body {
                if let Some((value, text)) = ddl_constant(stmt)
                    && !self.used.contains(&value.span)
                {
                    self.pieces.push(piece(value, text, true, value.span.line));
                }
            }
        }
        // Stable: pieces run by one call keep their order.
        self.pieces.sort_by_key(|p| p.runs_at);
        Script {
            file: self.module.path.clone(),
            pieces: self.pieces,
        }
    }
}

/// Trigger DDL kept in a constant (`NOTIFY_TRIGGER = """CREATE …"""`):
/// a string assigned that holds `CREATE` in any case.
fn ddl_constant(stmt: &Stmt) -> Option<(&Expr, &str)> {
    let weir_ir::StmtKind::Assign {
        value: Some(value), ..
    } = &stmt.kind
    else {
        return None;
    };
    let text = value.as_str()?;
    text.as_bytes()
        .windows("CREATE".len())
        .any(|w| w.eq_ignore_ascii_case(b"CREATE"))
        .then_some((value, text))
}

fn piece(expr: &Expr, text: &str, creates_only: bool, runs_at: u32) -> Piece {
    Piece {
        interpolated: matches!(expr.kind, ExprKind::Template(_)) && text.contains("{}"),
        text: text.to_string(),
        line: expr.span.line,
        end_line: expr.span.end_line,
        creates_only,
        runs_at,
    }
}

/// Alembic revision files run in `down_revision` order, not path order:
/// their slots in the path-sorted list are refilled in revision order.
pub fn order_scripts(scripts: &mut Vec<Script>, modules: &[Module]) {
    scripts.sort_by(|a, b| a.file.cmp(&b.file));
    // Only the revisions of files with a script are looked up.
    let files: HashSet<&str> = scripts.iter().map(|s| s.file.as_str()).collect();
    let revisions: HashMap<&str, (String, Vec<String>)> = modules
        .iter()
        .filter(|m| files.contains(m.path.as_str()))
        .filter_map(|m| {
            let revision = top_level_value(m, "revision")?.as_str()?.to_string();
            let down = top_level_value(m, "down_revision")?;
            let parents = match &down.kind {
                ExprKind::Literal(weir_ir::Literal::Str(s)) => vec![s.clone()],
                ExprKind::Collection { elements, .. } => elements
                    .iter()
                    .filter_map(Expr::as_str)
                    .map(ToString::to_string)
                    .collect(),
                _ => Vec::new(),
            };
            Some((m.path.as_str(), (revision, parents)))
        })
        .collect();
    let slots: Vec<usize> = (0..scripts.len())
        .filter(|&i| revisions.contains_key(scripts[i].file.as_str()))
        .collect();
    if slots.len() < 2 {
        return;
    }
    // Kahn's algorithm; ties and cycles fall back to path order.
    let mut pending: Vec<usize> = slots.clone();
    let mut done: HashSet<String> = HashSet::new();
    let known: HashSet<&String> = slots
        .iter()
        .map(|&i| &revisions[scripts[i].file.as_str()].0)
        .collect();
    let mut ordered = Vec::new();
    while !pending.is_empty() {
        let ready = pending.iter().position(|&i| {
            revisions[scripts[i].file.as_str()]
                .1
                .iter()
                .all(|parent| done.contains(parent) || !known.contains(parent))
        });
        let next = pending.remove(ready.unwrap_or(0));
        done.insert(revisions[scripts[next].file.as_str()].0.clone());
        ordered.push(next);
    }
    let mut taken: Vec<Option<Script>> = scripts.drain(..).map(Some).collect();
    let mut result: Vec<Script> = Vec::with_capacity(taken.len());
    let mut alembic = ordered.into_iter();
    for i in 0..taken.len() {
        let from = if slots.contains(&i) {
            alembic.next().unwrap_or(i)
        } else {
            i
        };
        if let Some(script) = taken[from].take() {
            result.push(script);
        }
    }
    *scripts = result;
}

struct Defined<T> {
    value: T,
    at: Location,
}

/// Triggers as they stand after every script, with the run's warnings.
pub fn apply(scripts: &[Script]) -> (Vec<Trigger>, Vec<Warning>) {
    let mut functions: HashMap<String, Defined<Vec<NotifyTarget>>> = HashMap::new();
    let mut triggers: BTreeMap<(String, String), Defined<CreateTrigger>> = BTreeMap::new();
    let mut warnings = Vec::new();
    for script in scripts {
        for piece in &script.pieces {
            if !weir_lang::sql::may_be_relevant(&piece.text) {
                continue;
            }
            let read = weir_lang::sql::read_sql(&piece.text);
            let file_line = |line: u32| (piece.line + line - 1).min(piece.end_line);
            for problem in read.unreadable {
                let built = if piece.interpolated {
                    " (an f-string with values not known statically)"
                } else {
                    ""
                };
                warnings.push(Warning {
                    path: Some(script.file.clone()),
                    line: Some(file_line(problem.line)),
                    kind: WarningKind::Discovery,
                    message: format!("{}{built}; skipped", problem.message),
                });
            }
            for statement in read.statements {
                let at = Location {
                    file: script.file.clone(),
                    line: file_line(statement.line),
                };
                match statement.kind {
                    SqlStatementKind::CreateFunction { name, notifies, .. } => {
                        functions.insert(
                            normalize(&name),
                            Defined {
                                value: notifies,
                                at,
                            },
                        );
                    }
                    SqlStatementKind::CreateTrigger(trigger) => {
                        let key = (trigger.name.clone(), normalize(&trigger.table));
                        triggers.insert(key, Defined { value: trigger, at });
                    }
                    _ if piece.creates_only => {}
                    SqlStatementKind::DropTrigger { name, table } => {
                        triggers.retain(|(n, t), _| {
                            !(*n == name
                                && table.as_deref().is_none_or(|table| normalize(table) == *t))
                        });
                    }
                    SqlStatementKind::DropFunction { names, cascade } => {
                        for name in names.iter().map(|n| normalize(n)) {
                            functions.remove(&name);
                            if cascade {
                                triggers.retain(|_, t| normalize(&t.value.function) != name);
                            }
                        }
                    }
                    SqlStatementKind::DropTable { names } => {
                        let names: Vec<String> = names.iter().map(|n| normalize(n)).collect();
                        triggers.retain(|(_, table), _| !names.contains(table));
                    }
                    SqlStatementKind::Listen { .. } | SqlStatementKind::Notify { .. } => {}
                }
            }
        }
    }
    let mut out: Vec<Trigger> = triggers
        .into_values()
        .map(|Defined { value: t, at }| {
            let function = functions.get(&normalize(&t.function));
            let targets = function.map(|f| f.value.as_slice()).unwrap_or_default();
            let channels: Vec<String> = targets
                .iter()
                .filter_map(|target| match target {
                    NotifyTarget::Channel(c) => Some(c.clone()),
                    NotifyTarget::TriggerArg(i) => t.args.get(*i).cloned(),
                    NotifyTarget::Dynamic => None,
                })
                .collect();
            Trigger {
                name: t.name,
                table: t.table,
                timing: t.timing,
                events: t.events,
                level: t.level,
                function: t.function,
                notifies: !targets.is_empty(),
                channel: channels.first().cloned(),
                channels,
                file: at.file,
                line: at.line,
                function_defined_at: function.map(|f| f.at.clone()),
            }
        })
        .collect();
    out.sort_by(|a, b| (&a.table, &a.name).cmp(&(&b.table, &b.name)));
    (out, warnings)
}

/// `public.jobs` and `jobs` are the same object in the default schema.
fn normalize(name: &str) -> String {
    name.strip_prefix("public.").unwrap_or(name).to_string()
}

#[cfg(test)]
mod tests;
