//! Reads and lowers every discovered file in parallel, audits, and builds
//! the report. A problem in one file becomes a warning for that file; the
//! run goes on.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use anyhow::{Context, Result};
use rayon::prelude::*;
use weir_audit::audit::{Selection, audit};
use weir_audit::report::{Report, RunSummary, Warning, WarningKind};
use weir_ir::Module;

use crate::discover::{Discovered, Filters, discover};

/// Files larger than this are skipped with a warning.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Lowering and the analysis recurse over nested code; give them room.
const WORKER_STACK_BYTES: usize = 64 * 1024 * 1024;

pub struct RunOptions {
    pub filters: Filters,
    pub threads: Option<usize>,
    pub date: String,
}

pub fn run(path: &Path, options: &RunOptions) -> Result<Report> {
    let discovered = discover(path, &options.filters)?;
    run_discovered(&discovered, options)
}

/// Audits files already discovered. A file that is gone or unreadable by
/// the time it is read (deleted during the run) becomes a warning.
pub fn run_discovered(discovered: &Discovered, options: &RunOptions) -> Result<Report> {
    let mut builder = rayon::ThreadPoolBuilder::new().stack_size(WORKER_STACK_BYTES);
    if let Some(threads) = options.threads {
        builder = builder.num_threads(threads.max(1));
    }
    let pool = builder.build().context("could not start worker threads")?;
    Ok(pool.install(|| audit_files(discovered, options)))
}

fn audit_files(discovered: &Discovered, options: &RunOptions) -> Report {
    let lowered: Vec<Result<(Module, Vec<Warning>), Warning>> = discovered
        .files
        .par_iter()
        .map(|(rel, abs)| load(rel, abs))
        .collect();
    let mut modules = Vec::with_capacity(lowered.len());
    let mut warnings = Vec::new();
    for result in lowered {
        match result {
            Ok((module, syntax)) => {
                modules.push(module);
                warnings.extend(syntax);
            }
            Err(warning) => warnings.push(warning),
        }
    }
    let output = audit(&modules, &Selection::default());
    warnings.extend(output.warnings);
    warnings.sort();
    let summary = RunSummary {
        root: discovered.root.to_string_lossy().into_owned(),
        files: modules.len(),
        lines: modules.iter().map(|m| u64::from(m.line_count)).sum(),
        skipped_tests: discovered.skipped_tests,
        packs: output.packs.iter().map(ToString::to_string).collect(),
    };
    // Freeing millions of IR nodes took a tenth of the run; the report no
    // longer needs them, so they are freed while it is rendered (or not at
    // all, when the process exits first).
    std::thread::spawn(move || drop(modules));
    Report::new(
        options.date.clone(),
        summary,
        output.findings,
        warnings,
        &output.not_run,
    )
}

fn warning(rel: &str, line: Option<u32>, kind: WarningKind, message: String) -> Warning {
    Warning {
        path: Some(rel.to_string()),
        line,
        kind,
        message,
    }
}

/// Reads and lowers one file. Syntax errors are warnings (the recovered
/// tree is still audited); unreadable files and panics skip the file.
fn load(rel: &str, abs: &Path) -> Result<(Module, Vec<Warning>), Warning> {
    let unreadable = |message: String| warning(rel, None, WarningKind::Unreadable, message);
    let meta = std::fs::metadata(abs).map_err(|e| unreadable(format!("cannot read file: {e}")))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(unreadable(format!(
            "skipped: {} MiB is over the {} MiB limit",
            meta.len() >> 20,
            MAX_FILE_BYTES >> 20
        )));
    }
    let bytes = std::fs::read(abs).map_err(|e| unreadable(format!("cannot read file: {e}")))?;
    if bytes.contains(&0) {
        return Err(unreadable("skipped: binary content (NUL bytes)".into()));
    }
    let source = String::from_utf8(bytes)
        .map_err(|e| unreadable(format!("skipped: not valid UTF-8 ({e})")))?;
    let module = catch_unwind(AssertUnwindSafe(|| weir_lang::lower(rel, &source)))
        .map_err(|_| {
            warning(
                rel,
                None,
                WarningKind::InternalError,
                "internal error while parsing this file; it was skipped".into(),
            )
        })?
        .map_err(|e| unreadable(format!("skipped: {e}")))?;
    let syntax = match module.diagnostics.first() {
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
    Ok((module, syntax))
}
