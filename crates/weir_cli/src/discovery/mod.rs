//! Stack discovery (SPEC §5): builds the context store from the project's
//! manifests, compose files, `docs/project/tech_stack.md`, `.sql` files and
//! the IR of its code. One file per source kind; this one runs them and
//! merges what they say. Nothing here stops the run: a file or statement
//! that cannot be read becomes a `discovery` warning with its location.

mod compose;
mod django;
mod engines;
mod go_mod;
mod package_json;
mod pep508;
mod pyproject;
mod requirements;
mod resolve;
mod scan;
mod setup_cfg;
mod sql_strings;
mod stack;
mod subscribers;
mod tech_doc;
mod triggers;
mod versions;

use std::collections::HashSet;
use std::path::{Component as PathComponent, Path, PathBuf};

use rustc_hash::FxHashMap;
use weir_audit::context::catalog::{self, Ecosystem};
use weir_audit::context::{AppWorkers, Origin, OriginKind, ProjectContext, ServerSetting};
use weir_audit::knowledge::notes;
use weir_audit::report::{Warning, WarningKind};
use weir_ir::Module;

use crate::run::read_source;
pub use scan::{Candidates, Prescan};
use stack::StackBuilder;

/// A dependency a manifest declares.
#[derive(Debug, Clone)]
pub struct Dependency {
    pub ecosystem: Ecosystem,
    pub name: String,
    /// Pinned version or lower bound (see `versions`).
    pub version: Option<String>,
    pub line: u32,
    /// The declaration as written.
    pub text: String,
}

/// Something a reader could not read; `line` when it is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: Option<u32>,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Manifest {
    pub deps: Vec<Dependency>,
    pub problems: Vec<Problem>,
}

/// The kinds of non-code files discovery reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackFile {
    Requirements,
    Pyproject,
    Pipfile,
    SetupCfg,
    PackageJson,
    GoMod,
    Compose,
    TechStackDoc,
    Sql,
}

/// The kind of a file by its path relative to the root, if discovery reads it.
pub fn stack_file_kind(rel: &str) -> Option<StackFile> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let parent = rel.rsplit('/').nth(1).unwrap_or("");
    let lower = name.to_ascii_lowercase();
    let is_yaml = lower.ends_with(".yml") || lower.ends_with(".yaml");
    Some(match name {
        "pyproject.toml" => StackFile::Pyproject,
        "Pipfile" => StackFile::Pipfile,
        "setup.cfg" => StackFile::SetupCfg,
        "package.json" => StackFile::PackageJson,
        "go.mod" => StackFile::GoMod,
        _ if rel == "docs/project/tech_stack.md" => StackFile::TechStackDoc,
        _ if lower.ends_with(".txt")
            && (lower.starts_with("requirements")
                || lower.ends_with("requirements.txt")
                || parent == "requirements") =>
        {
            StackFile::Requirements
        }
        _ if is_yaml && (lower.starts_with("docker-compose") || lower.starts_with("compose")) => {
            StackFile::Compose
        }
        _ if lower.ends_with(".sql") && !is_down_migration(&lower) => StackFile::Sql,
        _ => return None,
    })
}

/// `0002_x.down.sql`, `down.sql`, Flyway undo scripts (`U2__x.sql`).
fn is_down_migration(name: &str) -> bool {
    name.ends_with(".down.sql")
        || name == "down.sql"
        || (name.starts_with('u')
            && name.contains("__")
            && name[1..].starts_with(|c: char| c.is_ascii_digit()))
}

/// Builds the context store for a project: `stack_files` are the files
/// `stack_file_kind` accepts (relative path, absolute path), `modules` the
/// lowered code.
pub fn discover_context(
    codebase_root: &str,
    root: &Path,
    stack_files: &[(String, PathBuf)],
    modules: &[Module],
) -> (ProjectContext, Vec<Warning>) {
    let candidates = Prescan::default().modules(modules);
    discover_context_with(codebase_root, root, stack_files, modules, &candidates)
}

/// [`discover_context`] with the [`Candidates`] of each module, found by a
/// [`Prescan`] as each was lowered (while its IR was in the cache).
pub fn discover_context_with(
    codebase_root: &str,
    root: &Path,
    stack_files: &[(String, PathBuf)],
    modules: &[Module],
    candidates: &[Candidates],
) -> (ProjectContext, Vec<Warning>) {
    let mut run = Run {
        root,
        builder: StackBuilder::default(),
        warnings: Vec::new(),
        settings: Vec::new(),
        workers: Vec::new(),
        scripts: Vec::new(),
        read_requirements: HashSet::new(),
    };
    let phase = weir_audit::timings::phase("  stack files+imports");
    for (rel, abs) in stack_files {
        if let Some(kind) = stack_file_kind(rel) {
            run.file(kind, rel, abs);
        }
    }
    run.imports(modules, candidates);
    let project = resolve::Project::new(modules);
    phase.done();
    // Engines, event subscribers and publishers, and the SQL run in code,
    // all from one walk over the code.
    let phase = weir_audit::timings::phase("  code: engines, events, SQL");
    let code = scan::read(&project, modules, candidates);
    let engine_facts = code.engines;
    run.scripts.extend(code.scripts);
    triggers::order_scripts(&mut run.scripts, modules);
    phase.done();
    let phase = weir_audit::timings::phase("  django");
    for (dialect, file, line) in &engine_facts.dialects {
        run.dialect(dialect, file, *line);
    }
    let django_databases = django::collect(&project, modules);
    for database in &django_databases {
        if let Some(engine) = database.engine.as_ref().and_then(|e| e.as_str())
            && let Some(tech) = django::database_of(engine).and_then(catalog::by_id)
        {
            run.builder.add(
                tech,
                origin(
                    &database.file,
                    database.line,
                    OriginKind::Code,
                    format!("ENGINE {engine}"),
                    None,
                ),
            );
        }
    }
    phase.done();
    let phase = weir_audit::timings::phase("  triggers: apply");
    let (triggers, trigger_warnings) = triggers::apply(&run.scripts);
    run.warnings.extend(trigger_warnings);
    phase.done();

    let mut app_workers = std::mem::take(&mut run.workers);
    app_workers.extend(modules.iter().filter_map(gunicorn_conf_workers));
    let tech_stack = run.builder.build();
    let best_practices = notes::for_stack(&tech_stack);
    let mut warnings = run.warnings;
    warnings.sort();
    let context = ProjectContext {
        codebase_root: codebase_root.to_string(),
        tech_stack,
        db_config: weir_audit::context::DbConfig {
            engines: engine_facts.engines,
            sessions: engine_facts.sessions,
            django_databases,
            server_settings: run.settings,
            app_workers,
        },
        triggers,
        event_subscribers: code.subscribers,
        event_publishers: code.publishers,
        best_practices,
        ..ProjectContext::default()
    };
    (context, warnings)
}

/// `workers = 4` at the top of a `gunicorn.conf.py` / `gunicorn_conf.py`.
fn gunicorn_conf_workers(module: &Module) -> Option<AppWorkers> {
    let name = module.path.rsplit('/').next().unwrap_or(&module.path);
    if !matches!(
        name,
        "gunicorn.conf.py" | "gunicorn_conf.py" | "gunicorn_config.py"
    ) {
        return None;
    }
    module.top_level()?.body.iter().find_map(|stmt| {
        let (targets, value) = stmt.plain_assign()?;
        let is_workers = targets
            .iter()
            .any(|t| matches!(&t.kind, weir_ir::ExprKind::Name { id } if id == "workers"));
        let weir_ir::ExprKind::Literal(weir_ir::Literal::Int(n)) = &value.kind else {
            return None;
        };
        let workers = u32::try_from(*n).ok().filter(|_| is_workers)?;
        Some(AppWorkers {
            server: "gunicorn".to_string(),
            service: String::new(),
            workers,
            file: module.path.clone(),
            line: stmt.span.line,
        })
    })
}

fn origin(
    file: &str,
    line: u32,
    kind: OriginKind,
    text: String,
    version: Option<String>,
) -> Origin {
    Origin {
        file: file.to_string(),
        line,
        kind,
        text,
        version,
    }
}

struct Run<'a> {
    root: &'a Path,
    builder: StackBuilder,
    warnings: Vec<Warning>,
    settings: Vec<ServerSetting>,
    workers: Vec<AppWorkers>,
    scripts: Vec<triggers::Script>,
    read_requirements: HashSet<String>,
}

impl Run<'_> {
    fn warn(&mut self, rel: &str, problem: Problem) {
        self.warnings.push(Warning {
            path: Some(rel.to_string()),
            line: problem.line,
            kind: WarningKind::Discovery,
            message: problem.message,
        });
    }

    fn file(&mut self, kind: StackFile, rel: &str, abs: &Path) {
        if kind == StackFile::Requirements && !self.read_requirements.insert(rel.to_string()) {
            return;
        }
        let text = match read_source(abs) {
            Ok(text) => text,
            Err(reason) => {
                self.warn(
                    rel,
                    Problem {
                        line: None,
                        message: reason,
                    },
                );
                return;
            }
        };
        match kind {
            StackFile::Requirements => self.requirements(rel, &text),
            StackFile::Pyproject => self.manifest(rel, pyproject::read_pyproject(&text)),
            StackFile::Pipfile => self.manifest(rel, pyproject::read_pipfile(&text)),
            StackFile::SetupCfg => self.manifest(rel, setup_cfg::read(&text)),
            StackFile::PackageJson => self.manifest(rel, package_json::read(&text)),
            StackFile::GoMod => self.manifest(rel, go_mod::read(&text)),
            StackFile::Compose => self.compose(rel, &text),
            StackFile::TechStackDoc => {
                for mention in tech_doc::read(&text) {
                    let text: String = mention.text.chars().take(120).collect();
                    self.builder.add(
                        mention.technology,
                        origin(rel, mention.line, OriginKind::Docs, text, mention.version),
                    );
                }
            }
            StackFile::Sql => self.scripts.push(triggers::Script::sql_file(rel, &text)),
        }
    }

    fn manifest(&mut self, rel: &str, manifest: Manifest) {
        for dep in manifest.deps {
            if let Some(tech) = catalog::by_package(dep.ecosystem, &dep.name) {
                self.builder.add(
                    tech,
                    origin(rel, dep.line, OriginKind::Manifest, dep.text, dep.version),
                );
            }
        }
        for problem in manifest.problems {
            self.warn(rel, problem);
        }
    }

    fn requirements(&mut self, rel: &str, text: &str) {
        let file = requirements::read(text);
        let includes = file.includes.clone();
        self.manifest(
            rel,
            Manifest {
                deps: file.deps,
                problems: file.problems,
            },
        );
        for (line, target) in includes {
            let Some(included) = join_relative(rel, &target) else {
                self.warn(
                    rel,
                    Problem {
                        line: Some(line),
                        message: format!("`-r {target}` points outside the project; not followed"),
                    },
                );
                continue;
            };
            let abs = self.root.join(&included);
            if !abs.is_file() {
                self.warn(
                    rel,
                    Problem {
                        line: Some(line),
                        message: format!("`-r {target}`: no such file"),
                    },
                );
                continue;
            }
            self.file(StackFile::Requirements, &included, &abs);
        }
    }

    fn compose(&mut self, rel: &str, text: &str) {
        let file = compose::read(text);
        for image in file.images {
            self.builder.add(
                image.technology,
                origin(
                    rel,
                    image.line,
                    OriginKind::Compose,
                    format!("image: {} (service {})", image.image, image.service),
                    image.version,
                ),
            );
        }
        for setting in file.settings {
            self.settings.push(ServerSetting {
                database: setting.database.to_string(),
                service: setting.service,
                name: setting.name,
                value: setting.value,
                file: rel.to_string(),
                line: setting.line,
            });
        }
        for w in file.workers {
            self.workers.push(AppWorkers {
                server: w.server.to_string(),
                service: w.service,
                workers: w.workers,
                file: rel.to_string(),
                line: w.line,
            });
        }
        for problem in file.problems {
            self.warn(rel, problem);
        }
    }

    /// Imports confirm or add to what the manifests say. Which imports
    /// name a technology the prescan found (see [`Candidates`]).
    fn imports(&mut self, modules: &[Module], candidates: &[Candidates]) {
        for (module, candidates) in modules.iter().zip(candidates) {
            for (import, tech) in candidates.technologies(module) {
                // Most are not kept (a few files per technology are enough):
                // their origin is not built.
                if self
                    .builder
                    .accepts(tech, &module.path, import.span.line, OriginKind::Import)
                {
                    self.builder.add(
                        tech,
                        origin(
                            &module.path,
                            import.span.line,
                            OriginKind::Import,
                            format!("imports {}", import.target),
                            None,
                        ),
                    );
                }
            }
        }
    }

    /// `postgresql+asyncpg` in an engine URL names a database and a driver.
    fn dialect(&mut self, dialect: &str, file: &str, line: u32) {
        let (database, driver) = dialect.split_once('+').unwrap_or((dialect, ""));
        let database = match database {
            "postgresql" | "postgres" => Some("postgresql"),
            "mysql" => Some("mysql"),
            "mariadb" => Some("mariadb"),
            "sqlite" => Some("sqlite"),
            _ => None,
        };
        let driver = match driver {
            "asyncpg" => Some("asyncpg"),
            "psycopg2" => Some("psycopg2"),
            "psycopg" | "psycopg_async" => Some("psycopg"),
            "pymysql" => Some("pymysql"),
            "mysqldb" => Some("mysqlclient"),
            "aiomysql" => Some("aiomysql"),
            "asyncmy" => Some("asyncmy"),
            "aiosqlite" => Some("aiosqlite"),
            "pysqlite" => Some("sqlite3"),
            _ => None,
        };
        for id in [database, driver].into_iter().flatten() {
            if let Some(tech) = catalog::by_id(id) {
                self.builder.add(
                    tech,
                    origin(
                        file,
                        line,
                        OriginKind::Code,
                        format!("engine URL {dialect}://…"),
                        None,
                    ),
                );
            }
        }
    }
}

/// [`catalog::by_import_root`] for every root at once (a project has many
/// thousands of imports): the first technology in the catalog that lists a
/// root is the one it names.
pub(crate) fn import_roots() -> FxHashMap<&'static str, &'static catalog::Technology> {
    let mut roots = FxHashMap::default();
    for tech in catalog::TECHNOLOGIES {
        for root in tech.import_roots {
            roots.entry(*root).or_insert(tech);
        }
    }
    roots
}

/// `requirements/prod.txt` + `-r base.txt` → `requirements/base.txt`;
/// `None` when the result leaves the root.
fn join_relative(from: &str, target: &str) -> Option<String> {
    let base = Path::new(from).parent().unwrap_or(Path::new(""));
    let mut parts: Vec<String> = Vec::new();
    for component in base.join(target).components() {
        match component {
            PathComponent::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            PathComponent::ParentDir => {
                parts.pop()?;
            }
            PathComponent::CurDir => {}
            PathComponent::RootDir | PathComponent::Prefix(_) => return None,
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_file_kinds() {
        for (rel, kind) in [
            ("requirements.txt", Some(StackFile::Requirements)),
            ("requirements-dev.txt", Some(StackFile::Requirements)),
            ("requirements/base.txt", Some(StackFile::Requirements)),
            ("dev-requirements.txt", Some(StackFile::Requirements)),
            ("notes.txt", None),
            ("services/api/pyproject.toml", Some(StackFile::Pyproject)),
            ("docker-compose.yml", Some(StackFile::Compose)),
            ("docker-compose.prod.yaml", Some(StackFile::Compose)),
            ("compose.yaml", Some(StackFile::Compose)),
            ("deploy/compose.override.yml", Some(StackFile::Compose)),
            (".github/workflows/ci.yml", None),
            ("docs/project/tech_stack.md", Some(StackFile::TechStackDoc)),
            ("docs/tech_stack.md", None),
            ("db/migrations/0001_init.sql", Some(StackFile::Sql)),
            ("db/migrations/0001_init.down.sql", None),
            ("db/migrations/U1__undo.sql", None),
            ("db/migrations/V1__init.sql", Some(StackFile::Sql)),
        ] {
            assert_eq!(stack_file_kind(rel), kind, "{rel}");
        }
    }

    #[test]
    fn import_roots_name_what_the_catalog_names() {
        let by_root = import_roots();
        for tech in catalog::TECHNOLOGIES {
            for root in tech.import_roots {
                assert_eq!(
                    by_root.get(root).map(|t| t.id),
                    catalog::by_import_root(root).map(|t| t.id),
                    "{root}"
                );
            }
        }
        assert!(by_root.len() > 10);
        assert!(!by_root.contains_key("os"));
        assert!(catalog::by_import_root("os").is_none());
    }

    #[test]
    fn relative_includes() {
        assert_eq!(
            join_relative("requirements/prod.txt", "base.txt").as_deref(),
            Some("requirements/base.txt")
        );
        assert_eq!(
            join_relative("requirements.txt", "requirements/dev.txt").as_deref(),
            Some("requirements/dev.txt")
        );
        assert_eq!(
            join_relative("a/b.txt", "../c.txt").as_deref(),
            Some("c.txt")
        );
        assert_eq!(join_relative("b.txt", "../../etc/passwd"), None);
    }
}
