//! Reads and lowers every discovered file in parallel, audits, and builds
//! the report. A problem in one file becomes a warning for that file; the
//! run goes on.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rayon::prelude::*;
use weir_audit::audit::{Selection, audit_with_context};
use weir_audit::context::ProjectContext;
use weir_audit::report::{Report, RunSummary, Warning, WarningKind};
use weir_audit::timings;
use weir_ir::Module;

use crate::aggregate::{self, Policy};
use crate::cache::{Entry, IrCache, Stats};
use crate::config::Config;
use crate::discover::{Discovered, Filters, discover};
use crate::discovery::{Candidates, Prescan, discover_context_with};

/// Files larger than this are skipped with a warning.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Lowering and the analysis recurse over nested code; give them room.
const WORKER_STACK_BYTES: usize = 64 * 1024 * 1024;

#[derive(Default)]
pub struct RunOptions {
    pub filters: Filters,
    pub threads: Option<usize>,
    pub date: String,
    /// The incremental cache's directory (`--cache`); `None` runs without.
    pub cache: Option<PathBuf>,
}

/// Audits with the default configuration.
pub fn run(path: &Path, options: &RunOptions) -> Result<Report> {
    let config = Config::defaults(path);
    run_with(
        path,
        options,
        &Policy {
            config: &config,
            baseline: None,
        },
    )
}

/// Audits files already discovered, with the default configuration. A file
/// that is gone or unreadable by the time it is read (deleted during the
/// run) becomes a warning.
pub fn run_discovered(discovered: &Discovered, options: &RunOptions) -> Result<Report> {
    let config = Config::defaults(&discovered.root);
    let policy = Policy {
        config: &config,
        baseline: None,
    };
    Ok(worker_pool(options.threads)?.install(|| audit_files(discovered, options, &policy, None)))
}

/// Audits with a resolved configuration (rule selection, thresholds,
/// severity overrides, per-file ignores) and an optional baseline.
pub fn run_with(path: &Path, options: &RunOptions, policy: &Policy<'_>) -> Result<Report> {
    // The cache is read while the tree is walked.
    let cache = options
        .cache
        .clone()
        .map(|dir| std::thread::spawn(move || IrCache::open(&dir)));
    let phase = timings::phase("walk");
    let discovered = discover(path, &options.filters)?;
    phase.done();
    let cache = cache.and_then(|opening| match opening.join() {
        Ok(Ok(cache)) => Some(cache),
        Ok(Err(problem)) => {
            cache_note(&problem);
            None
        }
        Err(_) => None,
    });
    Ok(worker_pool(options.threads)?.install(|| audit_files(&discovered, options, policy, cache)))
}

#[allow(clippy::print_stderr)]
fn cache_note_timings(stats: Stats) {
    eprintln!(
        "weir timings: cache: {} files from the cache, {} lowered",
        stats.hits, stats.misses
    );
}

/// The cache never changes a report, so what goes wrong with it is said on
/// standard error, not among the report's warnings.
#[allow(clippy::print_stderr)]
fn cache_note(text: &str) {
    eprintln!("weir: warning: {text}");
}

/// `weir context`: discovery alone, the same context `weir audit` builds.
pub fn context(path: &Path, options: &RunOptions) -> Result<(ProjectContext, Vec<Warning>)> {
    let discovered = discover(path, &options.filters)?;
    Ok(worker_pool(options.threads)?.install(|| {
        let (modules, candidates, mut warnings) = load_all(&discovered, None).into_parts();
        warnings.extend(discovered.warnings.iter().cloned());
        let (context, found) = build_context(&discovered, &modules, &candidates);
        warnings.extend(found);
        warnings.sort();
        (context, warnings)
    }))
}

fn worker_pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut builder = rayon::ThreadPoolBuilder::new().stack_size(WORKER_STACK_BYTES);
    if let Some(threads) = threads {
        builder = builder.num_threads(threads.max(1));
    }
    builder.build().context("could not start worker threads")
}

/// A module, what stack discovery reads in it, its syntax warnings, and
/// its entry for the next cache pack.
type Loaded = (Module, Candidates, Vec<Warning>, Option<Entry>);

/// Every file read and lowered (or taken from the cache).
struct LoadedAll {
    modules: Vec<Module>,
    /// What stack discovery should read in each module (see [`Prescan`]).
    candidates: Vec<Candidates>,
    warnings: Vec<Warning>,
    /// The next cache pack's entries, in file order (empty without a cache).
    entries: Vec<Entry>,
}

impl LoadedAll {
    fn into_parts(self) -> (Vec<Module>, Vec<Candidates>, Vec<Warning>) {
        (self.modules, self.candidates, self.warnings)
    }
}

fn load_all(discovered: &Discovered, cache: Option<&IrCache>) -> LoadedAll {
    // Every file is read before any is lowered: a module's name depends on
    // how the whole project imports it (see `import_names`).
    let phase = timings::phase("  read files");
    let sources: Vec<Result<String, Warning>> = discovered
        .files
        .par_iter()
        .map(|(rel, abs)| {
            read_source(abs).map_err(|m| warning(rel, None, WarningKind::Unreadable, m))
        })
        .collect();
    phase.done();
    let phase = timings::phase("  import names");
    let names = import_names(discovered, &sources);
    phase.done();
    // Stack discovery's prescan looks at each module just lowered, while
    // its IR is still in the cache: later, walking it costs far more.
    let prescan = Prescan::default();
    let lowered: Vec<Result<Loaded, Warning>> = discovered
        .files
        .par_iter()
        .zip(sources)
        .zip(names)
        .map(|(((rel, _), source), name)| {
            let (module, syntax, entry) = load_cached(rel, &source?, name, cache)?;
            let candidates = prescan.module(&module);
            Ok((module, candidates, syntax, entry))
        })
        .collect();
    let mut all = LoadedAll {
        modules: Vec::with_capacity(lowered.len()),
        candidates: Vec::with_capacity(lowered.len()),
        warnings: Vec::new(),
        entries: Vec::new(),
    };
    for result in lowered {
        match result {
            Ok((module, found, syntax, entry)) => {
                all.modules.push(module);
                all.candidates.push(found);
                all.warnings.extend(syntax);
                all.entries.extend(entry);
            }
            Err(warning) => all.warnings.push(warning),
        }
    }
    all
}

/// One file's module from the cache when it holds this path, name and
/// content; otherwise lowered, and encoded for the next pack.
fn load_cached(
    rel: &str,
    source: &str,
    name: String,
    cache: Option<&IrCache>,
) -> Result<(Module, Vec<Warning>, Option<Entry>), Warning> {
    let Some(cache) = cache else {
        let (module, syntax) = load(rel, source, name)?;
        return Ok((module, syntax, None));
    };
    let key = IrCache::key(rel, &name, source);
    // A damaged entry that trips the decoder is a miss, like a missing one.
    if let Ok(Some((module, entry))) = catch_unwind(AssertUnwindSafe(|| cache.get(key))) {
        let syntax = syntax_warnings(rel, &module);
        return Ok((module, syntax, Some(entry)));
    }
    let (module, syntax) = load(rel, source, name)?;
    let entry = IrCache::entry(key, &module);
    Ok((module, syntax, Some(entry)))
}

/// The name each file is imported by. A project often lives below the
/// audited root (`server/polar/x.py`, imported as `polar.x`); the first
/// segments of its absolute imports tell where its packages start, and an
/// audited directory that is itself a package (`__init__.py` at the top)
/// prefixes its own name when the code imports it so.
fn import_names(discovered: &Discovered, sources: &[Result<String, Warning>]) -> Vec<String> {
    let roots: std::collections::HashSet<&str> = sources
        .par_iter()
        .filter_map(|s| s.as_ref().ok())
        .fold(std::collections::HashSet::new, |mut set, source| {
            set.extend(weir_lang::python::absolute_import_roots(source));
            set
        })
        .reduce(std::collections::HashSet::new, |mut a, b| {
            a.extend(b);
            a
        });
    let paths: Vec<&str> = discovered
        .files
        .iter()
        .map(|(rel, _)| rel.as_str())
        .collect();
    let root_package = paths
        .contains(&"__init__.py")
        .then(|| discovered.root.canonicalize().ok())
        .flatten()
        .and_then(|root| Some(root.file_name()?.to_string_lossy().into_owned()));
    weir_lang::python::import_names(&paths, &roots, root_package.as_deref())
}

/// Discovery never stops the run: a panic in it leaves an empty context and
/// a warning.
fn build_context(
    discovered: &Discovered,
    modules: &[Module],
    candidates: &[Candidates],
) -> (ProjectContext, Vec<Warning>) {
    let root = discovered.root.to_string_lossy().into_owned();
    catch_unwind(AssertUnwindSafe(|| {
        discover_context_with(
            &root,
            &discovered.root,
            &discovered.stack_files,
            modules,
            candidates,
        )
    }))
    .unwrap_or_else(|_| {
        let context = ProjectContext {
            codebase_root: root.clone(),
            ..ProjectContext::default()
        };
        let warning = Warning {
            path: None,
            line: None,
            kind: WarningKind::InternalError,
            message:
                "internal error during stack discovery; the audit ran without the project context"
                    .into(),
        };
        (context, vec![warning])
    })
}

fn audit_files(
    discovered: &Discovered,
    options: &RunOptions,
    policy: &Policy<'_>,
    cache: Option<IrCache>,
) -> Report {
    let phase = timings::phase("read+lower");
    let loaded = load_all(discovered, cache.as_ref());
    let stats = Stats::of(&loaded.entries);
    let entries = loaded.entries;
    let (modules, candidates, mut warnings) = (loaded.modules, loaded.candidates, loaded.warnings);
    warnings.extend(discovered.warnings.iter().cloned());
    phase.done();
    // The next pack is written while the audit runs.
    let saving = cache.map(|cache| std::thread::spawn(move || cache.save(&entries)));
    if timings::enabled() && saving.is_some() {
        cache_note_timings(stats);
    }
    let phase = timings::phase("stack discovery");
    let (context, found) = build_context(discovered, &modules, &candidates);
    warnings.extend(found);
    phase.done();
    let selection = Selection {
        rules: policy.config.rules(),
        thresholds: policy.config.thresholds.values.clone(),
    };
    let output = audit_with_context(&modules, context, &selection);
    warnings.extend(output.warnings);
    warnings.sort();
    let summary = RunSummary {
        root: discovered.root.to_string_lossy().into_owned(),
        files: modules.len(),
        lines: modules.iter().map(|m| u64::from(m.line_count)).sum(),
        skipped_tests: discovered.skipped_tests,
        packs: output.packs.iter().map(ToString::to_string).collect(),
    };
    let phase = timings::phase("aggregate");
    let filtered = aggregate::finish(&modules, output.findings, &discovered.root, policy);
    phase.done();
    // Freeing millions of IR nodes took a tenth of the run; the report no
    // longer needs them, so they are freed while it is rendered (or not at
    // all, when the process exits first).
    std::thread::spawn(move || drop(modules));
    if let Some(saving) = saving {
        match saving.join() {
            Ok(Ok(())) => {}
            Ok(Err(problem)) => cache_note(&problem),
            Err(_) => cache_note("the cache was not written (internal error)"),
        }
    }
    Report::new(
        options.date.clone(),
        summary,
        filtered.findings,
        warnings,
        &output.not_run,
        output.context,
    )
    .with_filtered(filtered.suppressed, filtered.baselined, filtered.meta)
}

fn warning(rel: &str, line: Option<u32>, kind: WarningKind, message: String) -> Warning {
    Warning {
        path: Some(rel.to_string()),
        line,
        kind,
        message,
    }
}

/// Reads a text file: size-capped, not binary, UTF-8. The error says why,
/// for a warning.
pub(crate) fn read_source(abs: &Path) -> Result<String, String> {
    let cannot = |e: std::io::Error| format!("cannot read file: {e}");
    // One open, then the size from the open file: a second lookup of the
    // path showed in profiles.
    let mut file = std::fs::File::open(abs).map_err(cannot)?;
    let len = file.metadata().map_err(cannot)?.len();
    if len > MAX_FILE_BYTES {
        return Err(format!(
            "skipped: {} MiB is over the {} MiB limit",
            len >> 20,
            MAX_FILE_BYTES >> 20
        ));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    std::io::Read::read_to_end(&mut file, &mut bytes).map_err(cannot)?;
    if bytes.contains(&0) {
        return Err("skipped: binary content (NUL bytes)".into());
    }
    String::from_utf8(bytes).map_err(|e| format!("skipped: not valid UTF-8 ({e})"))
}

/// Lowers one file under its import name. Syntax errors are warnings (the
/// recovered tree is still audited); a panic skips the file.
fn load(rel: &str, source: &str, name: String) -> Result<(Module, Vec<Warning>), Warning> {
    let unreadable = |message: String| warning(rel, None, WarningKind::Unreadable, message);
    let module = catch_unwind(AssertUnwindSafe(|| weir_lang::lower_as(rel, name, source)))
        .map_err(|_| {
            warning(
                rel,
                None,
                WarningKind::InternalError,
                "internal error while parsing this file; it was skipped".into(),
            )
        })?
        .map_err(|e| unreadable(format!("skipped: {e}")))?;
    let found = syntax_warnings(rel, &module);
    Ok((module, found))
}

/// What the parser recovered from and where nesting was cut, as warnings.
fn syntax_warnings(rel: &str, module: &Module) -> Vec<Warning> {
    let mut found = match module.diagnostics.first() {
        Some(first) => vec![warning(
            rel,
            Some(first.span.line),
            WarningKind::SyntaxError,
            format!(
                "syntax error: {} ({} in this file); audited where the parser recovered",
                first.message,
                module.diagnostics.len()
            ),
        )],
        None => Vec::new(),
    };
    if let Some(cut) = module.depth_cut {
        found.push(warning(
            rel,
            Some(cut.line),
            WarningKind::TooDeep,
            format!(
                "nesting deeper than {} levels cut at line {}, column {}; the code below the cut was not audited, the rest of the file was",
                weir_lang::python::MAX_DEPTH,
                cut.line,
                cut.col
            ),
        ));
    }
    found
}
