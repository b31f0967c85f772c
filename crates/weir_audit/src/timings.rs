//! Phase times for profiling: with `WEIR_TIMINGS=1` in the environment (or
//! the hidden `weir audit --timings`), each phase of a run records its wall
//! time and the process's resident memory when it ended, and the binary
//! prints them to standard error at the end (this crate never prints). Off
//! by default; costs one relaxed load per phase.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

/// One phase that ended.
#[derive(Debug, Clone, Copy)]
pub struct Ended {
    pub name: &'static str,
    pub elapsed: Duration,
    /// Resident memory of the process when the phase ended, in bytes
    /// (Linux only: first touches of fresh pages are a large share of a
    /// run, so memory is watched per phase like time).
    pub resident: Option<u64>,
}

/// Phases that ended, in the order they ended.
static ENDED: Mutex<Vec<Ended>> = Mutex::new(Vec::new());

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

/// Records phase times from now on, whatever the environment says.
pub fn enable() {
    STATE.store(2, Ordering::Relaxed);
}

/// The phases recorded so far, in the order they ended; the record is emptied.
pub fn take() -> Vec<Ended> {
    std::mem::take(
        &mut *ENDED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
}

/// A running phase; records its time when dropped (or at [`Phase::done`]).
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
    fn drop(&mut self) {
        if enabled() {
            let elapsed = self.start.elapsed();
            let ended = Ended {
                name: self.name,
                elapsed,
                resident: resident_bytes(),
            };
            ENDED
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(ended);
        }
    }
}

/// The resident set size from `/proc/self/statm` (pages of 4 KiB).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_recorded_in_the_order_they_end() {
        enable();
        let outer = phase("outer");
        phase("inner").done();
        outer.done();
        let names: Vec<&str> = take().into_iter().map(|ended| ended.name).collect();
        assert_eq!(names, ["inner", "outer"]);
        assert!(take().is_empty());
    }
}
