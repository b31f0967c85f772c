//! One function per subcommand.

use std::io::Write;

use anyhow::{Context, Result, bail};
use weir_audit::registry::{self, RULES};
use weir_audit::report::{Report, Severity};

use weir_audit::baseline::Baseline;

use crate::aggregate::Policy;
use crate::args::{AuditArgs, Cli, Command, ConfigArgs, ContextArgs, DebugCommand, FailOn, Format};
use crate::config::Config;
use crate::discover::Filters;
use crate::exit;
use crate::render;
use crate::run::{RunOptions, run_with};

pub fn dispatch(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Audit(args) => audit(&args),
        Command::Context(args) => context(&args),
        Command::Rule { id } => {
            if let Some(meta) = weir_audit::suppress::find_meta(&id) {
                write_stdout(&render::meta_rule_doc(meta))?;
                return Ok(exit::CLEAN);
            }
            let Some(rule) = registry::find(&id) else {
                bail!("no rule `{id}`; `weir rules` lists them");
            };
            write_stdout(&render::rule_doc(rule.meta()))?;
            Ok(exit::CLEAN)
        }
        Command::Config(ConfigArgs { path, settings }) => {
            if !path.exists() {
                bail!("path `{}` does not exist", path.display());
            }
            let config = Config::resolve(&path, &settings)?;
            write_stdout(&crate::config::describe(&config))?;
            Ok(exit::CLEAN)
        }
        Command::Rules => {
            write_stdout(&render::rule_list(RULES))?;
            Ok(exit::CLEAN)
        }
        Command::Debug(DebugCommand::Ir { file }) => {
            let source = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read `{}`", file.display()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let module = weir_lang::lower(&name, &source)?;
            write_stdout(&(serde_json::to_string_pretty(&module)? + "\n"))?;
            Ok(exit::CLEAN)
        }
    }
}

/// The phase times of the run, when asked for (`--timings`, `WEIR_TIMINGS=1`).
#[allow(clippy::print_stderr)]
fn print_timings() {
    if weir_audit::timings::enabled() {
        for ended in weir_audit::timings::take() {
            let resident = ended
                .resident
                .map(|bytes| format!("  {:>6} MiB resident", bytes >> 20))
                .unwrap_or_default();
            eprintln!(
                "weir timings: {:<24} {:>9.1} ms{resident}",
                ended.name,
                ended.elapsed.as_secs_f64() * 1000.0
            );
        }
    }
}

fn audit(args: &AuditArgs) -> Result<u8> {
    let date = match &args.date {
        Some(date) => validate_date(date)?,
        None => today(),
    };
    if !args.path.exists() {
        bail!("path `{}` does not exist", args.path.display());
    }
    let config = Config::resolve(&args.path, &args.settings)?;
    let baseline = match (
        &args.write_baseline,
        args.baseline.as_ref().or(config.baseline.value.as_ref()),
    ) {
        (None, Some(path)) => Some(read_baseline(path)?),
        _ => None,
    };
    let options = RunOptions {
        filters: Filters {
            include: config.include_globs(&args.path),
            exclude: config.exclude_globs(&args.path),
            include_tests: config.include_tests.value,
        },
        threads: args.threads,
        date,
        cache: config.cache.value.then(|| config.cache_dir.value.clone()),
    };
    let policy = Policy {
        config: &config,
        baseline: baseline.as_ref(),
    };
    if args.timings {
        weir_audit::timings::enable();
    }
    let total = weir_audit::timings::phase("total (before render)");
    let report = run_with(&args.path, &options, &policy)?;
    total.done();
    let phase = weir_audit::timings::phase("render");
    let text = match args.format {
        Format::Text => render::text::render(&report, &args.path),
        Format::Markdown => render::markdown::render(&report),
        Format::Json => render::json::render(&report)?,
        Format::Sarif => render::sarif::render(&report)?,
        Format::Github => render::github::render(&report),
        Format::Html => render::html::render(&report),
    };
    phase.done();
    print_timings();
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write `{}`", path.display()))?,
        None => write_stdout(&text)?,
    }
    if let Some(dir) = &args.output_dir {
        let written = write_output_dir(&report, dir)?;
        note(&format!(
            "wrote {} reports to `{}`",
            written.len(),
            dir.display()
        ));
    }
    if let Some(target) = args.publish {
        let published = crate::publish::publish(target, &report, &config, &args.path)?;
        note(&format!(
            "{}; report `{}`; trend row: {}",
            published.task,
            published.report_file.display(),
            published.trend
        ));
    }
    if let Some(path) = &args.write_baseline {
        let baseline = Baseline::of(report.findings.iter().chain(&report.advisory));
        let json = serde_json::to_string_pretty(&baseline)? + "\n";
        std::fs::write(path, json)
            .with_context(|| format!("cannot write the baseline `{}`", path.display()))?;
        note(&format!(
            "wrote {} findings to the baseline `{}`; audit with `--baseline {}` to see only new ones",
            baseline.findings.len(),
            path.display(),
            path.display()
        ));
        return Ok(exit::CLEAN);
    }
    Ok(if fails(&report, config.fail_on.value) {
        exit::FINDINGS
    } else {
        exit::CLEAN
    })
}

fn context(args: &ContextArgs) -> Result<u8> {
    let options = RunOptions {
        filters: Filters {
            include: Vec::new(),
            exclude: args.exclude.clone(),
            include_tests: args.include_tests,
        },
        threads: None,
        date: String::new(),
        cache: None,
    };
    let (context, warnings) = crate::run::context(&args.path, &options)?;
    let text = render::json::render_context(&context, &warnings)?;
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write `{}`", path.display()))?,
        None => write_stdout(&text)?,
    }
    Ok(exit::CLEAN)
}

/// `--output-dir`: the audit report and one report per category.
fn write_output_dir(
    report: &weir_audit::report::Report,
    dir: &std::path::Path,
) -> Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create `{}`", dir.display()))?;
    let mut files = vec![(
        dir.join("persistence_audit.md"),
        render::markdown::render(report),
    )];
    for category in weir_audit::report::Category::ALL {
        files.push((
            dir.join(render::markdown::category_file(category)),
            render::markdown::category_report(report, category),
        ));
    }
    for (path, text) in &files {
        std::fs::write(path, text).with_context(|| format!("cannot write `{}`", path.display()))?;
    }
    Ok(files.into_iter().map(|(p, _)| p).collect())
}

fn read_baseline(path: &std::path::Path) -> Result<Baseline> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the baseline `{}`", path.display()))?;
    let baseline: Baseline = serde_json::from_str(&text).with_context(|| {
        format!(
            "`{}` is not a weir baseline (write one with `weir audit --write-baseline FILE`)",
            path.display()
        )
    })?;
    if baseline.version != weir_audit::baseline::BASELINE_VERSION {
        bail!(
            "baseline `{}` has version {}; this weir reads version {}",
            path.display(),
            baseline.version,
            weir_audit::baseline::BASELINE_VERSION
        );
    }
    Ok(baseline)
}

/// A one-line note for the user on standard error.
#[allow(clippy::print_stderr)]
pub fn note(text: &str) {
    eprintln!("weir: {text}");
}

fn fails(report: &Report, fail_on: FailOn) -> bool {
    let threshold = match fail_on {
        FailOn::Never => return false,
        FailOn::Critical => Severity::Critical,
        FailOn::High => Severity::High,
        FailOn::Medium => Severity::Medium,
        FailOn::Low => Severity::Low,
    };
    report.highest_severity().is_some_and(|s| s <= threshold)
}

fn write_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // `weir audit | head` closing the pipe early is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

fn validate_date(date: &str) -> Result<String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(date, &format)
        .with_context(|| format!("--date `{date}` is not a YYYY-MM-DD date"))?;
    Ok(date.to_string())
}

fn today() -> String {
    let now = time::OffsetDateTime::now_local().unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let format = time::macros::format_description!("[year]-[month]-[day]");
    now.date().format(&format).unwrap_or_default()
}
