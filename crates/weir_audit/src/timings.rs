//! Phase times for profiling: with `WEIR_TIMINGS=1` in the environment (or
//! the hidden `weir audit --timings`), each phase of a run records its wall
//! time, and the binary prints them to standard error at the end (this crate
//! never prints). Off by default; costs one relaxed load per phase.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

/// Phases that ended, in the order they ended.
static ENDED: Mutex<Vec<(&'static str, Duration)>> = Mutex::new(Vec::new());

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
pub fn take() -> Vec<(&'static str, Duration)> {
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
            ENDED
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((self.name, elapsed));
        }
    }
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
        let names: Vec<&str> = take().into_iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["inner", "outer"]);
        assert!(take().is_empty());
    }
}
