//! Phase times for profiling: with `WEIR_TIMINGS=1` in the environment (or
//! the hidden `weir audit --timings`), each phase of a run prints its wall
//! time to standard error. Off by default; costs one relaxed load per phase.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

/// 0: not decided yet, 1: off, 2: on.
static STATE: AtomicU8 = AtomicU8::new(0);

/// Whether phase times are printed.
pub fn enabled() -> bool {
    match STATE.load(Ordering::Relaxed) {
        0 => {
            let on = std::env::var_os("WEIR_TIMINGS").is_some_and(|v| !v.is_empty() && v != "0");
            STATE.store(if on { 2 } else { 1 }, Ordering::Relaxed);
            on
        }
        state => state == 2,
    }
}

/// Prints phase times from now on, whatever the environment says.
pub fn enable() {
    STATE.store(2, Ordering::Relaxed);
}

/// A running phase; prints its time when dropped (or at [`Phase::done`]).
pub struct Phase {
    name: &'static str,
    start: Instant,
}

/// Starts timing a phase.
pub fn phase(name: &'static str) -> Phase {
    Phase {
        name,
        start: Instant::now(),
    }
}

impl Phase {
    /// Ends the phase here (the same as dropping it).
    pub fn done(self) {}
}

impl Drop for Phase {
    #[allow(clippy::print_stderr)] // a developer's switch, off unless asked for
    fn drop(&mut self) {
        if enabled() {
            let ms = self.start.elapsed().as_secs_f64() * 1000.0;
            eprintln!("weir timings: {:<22} {ms:>9.1} ms", self.name);
        }
    }
}
