//! One walk over the code of each module feeds every reader that looks at
//! its calls: engines and sessions (`engines`), event subscribers and
//! publishers (`subscribers`), and the SQL the module runs (`triggers`).
//!
//! The IR of a large project does not fit in the caches, and walking it is
//! most of what these readers cost. So it is walked once, not once per
//! reader; and only the bodies that hold an expression some reader looks
//! at (its `reads`) are walked at all. Which bodies those are is found
//! right after each module is lowered, while its IR is still in the cache
//! ([`Prescan`]); most bodies hold none. Every reader returns at once on
//! an expression it does not read, so skipping such bodies changes
//! nothing. Each reader sees its bodies in the order it would walk them
//! itself. Modules are independent: read in parallel, merged in order.
//!
//! The prescan also notes, for the same reason, which imports name a
//! technology and whether the module keeps trigger DDL in constants.

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use weir_audit::context::catalog::Technology;
use weir_audit::context::{EventPublisher, EventSubscriber};
use weir_ir::imports::Import;
use weir_ir::visit::{stmt_exprs, walk_block_exprs, walk_expr, walk_stmts};
use weir_ir::{Expr, Module, Stmt};

use super::engines::{self, EngineFacts, Factories};
use super::resolve::Project;
use super::subscribers::{self, Publishers, Subscribers};
use super::triggers::{PythonSql, Script};

/// What stack discovery reads in one module: the bodies that hold an
/// expression some reader reads, by index (functions, then classes);
/// whether it keeps trigger DDL in constants; which of its imports name a
/// technology.
#[derive(Debug, Default, Clone)]
pub struct Candidates {
    functions: Vec<usize>,
    classes: Vec<usize>,
    /// Trigger DDL kept in constants (see `PythonSql::has_ddl_constants`).
    ddl_constants: bool,
    /// Index in `module.imports`, and the technology.
    technologies: Vec<(usize, &'static Technology)>,
}

impl Candidates {
    /// The module's imports that name a technology, in order.
    pub fn technologies<'m>(
        &self,
        module: &'m Module,
    ) -> impl Iterator<Item = (&'m Import, &'static Technology)> {
        self.technologies
            .iter()
            .map(|&(i, tech)| (&module.imports[i], tech))
    }
}

/// Finds each module's [`Candidates`].
pub struct Prescan {
    factories: Factories,
    import_roots: FxHashMap<&'static str, &'static Technology>,
}

impl Default for Prescan {
    fn default() -> Self {
        Prescan {
            factories: Factories::new(),
            import_roots: super::import_roots(),
        }
    }
}

impl Prescan {
    pub fn module(&self, module: &Module) -> Candidates {
        let engines = self.factories.may_make_engines(module);
        let read = |expr: &Expr| {
            Subscribers::reads(expr)
                || Publishers::reads(expr)
                || PythonSql::reads(expr)
                || (engines && self.factories.called(expr).is_some())
        };
        let holds = |body: &[Stmt]| {
            let mut found = false;
            walk_block_exprs(body, &mut |expr| found = found || read(expr));
            found
        };
        Candidates {
            functions: (module.functions.iter().enumerate())
                .filter(|(_, f)| holds(&f.body))
                .map(|(i, _)| i)
                .collect(),
            classes: (module.classes.iter().enumerate())
                .filter(|(_, c)| holds(&c.body))
                .map(|(i, _)| i)
                .collect(),
            ddl_constants: PythonSql::has_ddl_constants(module),
            technologies: (module.imports.iter().enumerate())
                .filter_map(|(i, import)| {
                    let root = import.target.split('.').next().unwrap_or(&import.target);
                    Some((i, *self.import_roots.get(root)?))
                })
                .collect(),
        }
    }

    /// Every module's, for a caller that did not find them at lowering.
    pub fn modules(&self, modules: &[Module]) -> Vec<Candidates> {
        modules.par_iter().map(|m| self.module(m)).collect()
    }
}

pub struct CodeFacts {
    pub engines: EngineFacts,
    pub subscribers: Vec<EventSubscriber>,
    pub publishers: Vec<EventPublisher>,
    /// The SQL of each module that runs some, in module order.
    pub scripts: Vec<Script>,
}

struct ModuleFacts {
    engines: EngineFacts,
    subscribers: Vec<EventSubscriber>,
    publishers: Vec<EventPublisher>,
    script: Option<Script>,
}

/// What the code says, from the modules and their [`Candidates`] (one each).
pub fn read(project: &Project<'_>, modules: &[Module], candidates: &[Candidates]) -> CodeFacts {
    assert_eq!(modules.len(), candidates.len(), "one Candidates per module");
    let factories = Factories::new();
    let per_module: Vec<ModuleFacts> = modules
        .par_iter()
        .zip(candidates)
        .map(|(module, candidates)| read_module(project, &factories, module, candidates))
        .collect();
    let mut facts = CodeFacts {
        engines: EngineFacts::default(),
        subscribers: Vec::new(),
        publishers: Vec::new(),
        scripts: Vec::new(),
    };
    let mut engine_facts = Vec::with_capacity(per_module.len());
    for module in per_module {
        engine_facts.push(module.engines);
        facts.subscribers.extend(module.subscribers);
        facts.publishers.extend(module.publishers);
        facts
            .scripts
            .extend(module.script.filter(|s| !s.is_empty()));
    }
    facts.engines = engines::merge(engine_facts);
    subscribers::finish_subscribers(&mut facts.subscribers);
    subscribers::finish_publishers(&mut facts.publishers);
    facts
}

/// [`read`], finding the candidates first (tests).
#[cfg(test)]
pub fn read_all(project: &Project<'_>, modules: &[Module]) -> CodeFacts {
    read(project, modules, &Prescan::default().modules(modules))
}

fn read_module<'m>(
    project: &Project<'m>,
    factories: &Factories,
    module: &'m Module,
    candidates: &Candidates,
) -> ModuleFacts {
    // Most modules: nothing to read, no reader to set up.
    if candidates.functions.is_empty() && candidates.classes.is_empty() {
        return ModuleFacts {
            engines: EngineFacts::default(),
            subscribers: Vec::new(),
            publishers: Vec::new(),
            script: candidates
                .ddl_constants
                .then(|| PythonSql::new(module).finish(true)),
        };
    }
    let mut engines = factories
        .may_make_engines(module)
        .then(|| engines::Reader::new(project, factories, module));
    let mut subscribers = Subscribers::new(project, module);
    let mut publishers = Publishers::new(project, module);
    let mut sql = PythonSql::new(module);
    for function in candidates.functions.iter().map(|&i| &module.functions[i]) {
        subscribers.function(function);
        publishers.function(function);
        let reads_sql = sql.function(function);
        if let Some(engines) = &mut engines {
            engines.function(function);
        }
        walk_stmts(&function.body, &mut |stmt| {
            if let Some(engines) = &mut engines {
                engines.stmt(stmt);
            }
            stmt_exprs(stmt, &mut |root| {
                walk_expr(root, &mut |expr| {
                    subscribers.expr(expr);
                    publishers.expr(expr);
                    if reads_sql {
                        sql.expr(expr);
                    }
                    if let Some(engines) = &mut engines {
                        engines.expr(expr);
                    }
                });
            });
        });
    }
    // Class bodies hold SQL (Django's `operations = [RunSQL(…)]`) and
    // engines bound to class attributes; no subscriber or publisher is
    // looked for there.
    for class in candidates.classes.iter().map(|&i| &module.classes[i]) {
        sql.class(class);
        if let Some(engines) = &mut engines {
            engines.class(class);
        }
        walk_stmts(&class.body, &mut |stmt| {
            if let Some(engines) = &mut engines {
                engines.stmt(stmt);
            }
            stmt_exprs(stmt, &mut |root| {
                walk_expr(root, &mut |expr| {
                    sql.expr(expr);
                    if let Some(engines) = &mut engines {
                        engines.expr(expr);
                    }
                });
            });
        });
    }
    ModuleFacts {
        engines: engines.map(|e| e.out).unwrap_or_default(),
        subscribers: subscribers.finish(),
        publishers: publishers.out,
        script: Some(sql.finish(candidates.ddl_constants)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = r#"import redis
from django.db import migrations
from sqlalchemy import create_engine

engine = create_engine("postgresql+psycopg2://app@db/app", pool_size=5)
client = redis.Redis()


def render(items):
    return [str(i) for i in items]


def listen(conn):
    conn.execute("LISTEN audit_events")
    for note in conn.notifies():
        handle(note)


def announce(room):
    client.publish(room, "joined")


class Migration(migrations.Migration):
    operations = [migrations.RunSQL("SELECT pg_notify('jobs', 'x')")]


class Plain:
    size = 3
"#;

    #[test]
    fn the_prescan_marks_the_bodies_a_reader_reads_and_skipping_the_rest_changes_nothing() {
        let modules = vec![weir_lang::lower("app/events.py", SOURCE).unwrap()];
        let module = &modules[0];
        let candidates = Prescan::default().modules(&modules);
        let names = |ids: &[usize]| -> Vec<String> {
            ids.iter()
                .map(|&i| module.functions[i].name.clone())
                .collect()
        };
        assert_eq!(
            names(&candidates[0].functions),
            vec!["<module>", "listen", "announce"],
            "`render` calls nothing any reader reads"
        );
        assert_eq!(candidates[0].classes.len(), 1);
        assert_eq!(module.classes[candidates[0].classes[0]].name, "Migration");
        let techs: Vec<&str> = candidates[0]
            .technologies(module)
            .map(|(_, t)| t.id)
            .collect();
        assert_eq!(techs, vec!["redis-py", "django", "sqlalchemy"]);

        let every_body = vec![Candidates {
            functions: (0..module.functions.len()).collect(),
            classes: (0..module.classes.len()).collect(),
            ddl_constants: true,
            technologies: Vec::new(),
        }];
        let project = Project::new(&modules);
        let skipped = read(&project, &modules, &candidates);
        let walked = read(&project, &modules, &every_body);
        assert_eq!(skipped.subscribers, walked.subscribers);
        assert_eq!(skipped.publishers, walked.publishers);
        assert_eq!(skipped.engines.engines, walked.engines.engines);
        assert_eq!(skipped.engines.sessions, walked.engines.sessions);
        assert_eq!(skipped.scripts.len(), walked.scripts.len());
        assert_eq!(skipped.subscribers.len(), 1);
        // `client.publish`; publishers are not looked for in class bodies.
        assert_eq!(skipped.publishers.len(), 1);
        assert_eq!(skipped.engines.engines.len(), 1);
        assert_eq!(skipped.scripts.len(), 1);
    }
}
