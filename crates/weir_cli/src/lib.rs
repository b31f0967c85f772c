//! The `weir` command: arguments, file discovery, the parallel run, and the
//! renderers (one file per format).

pub mod aggregate;
pub mod args;
pub mod cache;
pub mod commands;
pub mod config;
pub mod discover;
pub mod discovery;
pub mod publish;
pub mod render;
pub mod run;

use std::process::ExitCode;

use clap::Parser;

/// Exit codes, as CI expects them.
pub mod exit {
    /// No finding reached `--fail-on`.
    pub const CLEAN: u8 = 0;
    /// At least one finding reached `--fail-on`.
    pub const FINDINGS: u8 = 1;
    /// The run itself failed: bad arguments, unreadable path, output not writable.
    pub const ERROR: u8 = 2;
}

pub fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() {
                exit::ERROR
            } else {
                exit::CLEAN
            };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    match commands::dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            #[allow(clippy::print_stderr)] // the binary's one place to report a failed run
            {
                eprintln!("weir: error: {err:#}");
            }
            ExitCode::from(exit::ERROR)
        }
    }
}
