//! One function per subcommand.

use std::io::Write;

use anyhow::{Context, Result, bail};
use weir_audit::registry::{self, RULES};
use weir_audit::report::{Report, Severity};

use crate::args::{AuditArgs, Cli, Command, ContextArgs, DebugCommand, FailOn, Format};
use crate::discover::Filters;
use crate::exit;
use crate::render;
use crate::run::{RunOptions, run};

pub fn dispatch(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Audit(args) => audit(&args),
        Command::Context(args) => context(&args),
        Command::Rule { id } => {
            let Some(rule) = registry::find(&id) else {
                bail!("no rule `{id}`; `weir rules` lists them");
            };
            write_stdout(&render::rule_doc(rule.meta()))?;
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

fn audit(args: &AuditArgs) -> Result<u8> {
    let date = match &args.date {
        Some(date) => validate_date(date)?,
        None => today(),
    };
    let options = RunOptions {
        filters: Filters {
            include: args.include.clone(),
            exclude: args.exclude.clone(),
            include_tests: args.include_tests,
        },
        threads: args.threads,
        date,
    };
    let report = run(&args.path, &options)?;
    let text = match args.format {
        Format::Text => render::text::render(&report, &args.path),
        Format::Markdown => render::markdown::render(&report),
        Format::Json => render::json::render(&report)?,
    };
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write `{}`", path.display()))?,
        None => write_stdout(&text)?,
    }
    Ok(if fails(&report, args.fail_on) {
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
