//! A small deterministic fuzzing harness that runs in `cargo test` (stable
//! Rust, no cargo-fuzz): a seeded generator makes inputs, a check runs
//! each one on a thread with the production stack size, and a panic is
//! turned into a test failure that names the case and saves the input.
//!
//! Every case is reproducible from its name and index alone. Knobs, for
//! longer local runs:
//! - `WEIR_FUZZ_ITERATIONS=N`: cases per target (default: each target's own);
//! - `WEIR_FUZZ_SECONDS=S`: time cap per target (default 3 s);
//! - `WEIR_FUZZ_SEED=X`: another seed (default: derived from the target name);
//! - `WEIR_FUZZ_CASE=I`: run only case I (to replay a failure);
//! - `WEIR_FUZZ_CASE_SECONDS=S`: the most one case may take (default 5 s);
//! - `WEIR_FUZZ_VERBOSE=1`: print each target's case count and slowest case
//!   (with `-- --nocapture`).
//!
//! A hang is a failure too: a case slower than the per-case limit fails the
//! target, and one still running after four times that limit (an endless
//! loop) aborts the test binary, naming the case, instead of blocking
//! `cargo test` for ever.

use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The stack the worker threads of a real run get (`weir_cli::run`).
const STACK_BYTES: usize = 64 * 1024 * 1024;

/// SplitMix64: tiny, fast, and good enough to drive mutations.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % u64::try_from(n).unwrap()).unwrap()
    }

    /// True with probability `1/n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    pub fn pick_ref<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn byte(&mut self) -> u8 {
        self.next_u64().to_le_bytes()[0]
    }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.parse().ok()
}

fn name_seed(name: &str) -> u64 {
    // FNV-1a: stable across Rust versions, unlike `DefaultHasher`.
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Runs `check` on `iterations` generated inputs (fewer if the time cap is
/// reached first) and fails the test on the first panic.
pub fn fuzz(
    name: &str,
    iterations: u64,
    generate: impl Fn(&mut Rng) -> Vec<u8> + Send + 'static,
    check: impl Fn(&[u8]) + Send + 'static,
) {
    let name = name.to_string();
    let thread = std::thread::Builder::new()
        .name(format!("fuzz-{name}"))
        .stack_size(STACK_BYTES)
        .spawn(move || run(&name, iterations, &generate, &check))
        .expect("spawn fuzz thread");
    if let Err(panic) = thread.join() {
        std::panic::resume_unwind(panic);
    }
}

fn run(name: &str, iterations: u64, generate: &dyn Fn(&mut Rng) -> Vec<u8>, check: &dyn Fn(&[u8])) {
    let seed = env_number("WEIR_FUZZ_SEED").unwrap_or_else(|| name_seed(name));
    let iterations = env_number("WEIR_FUZZ_ITERATIONS").unwrap_or(iterations);
    let cap = Duration::from_secs(env_number("WEIR_FUZZ_SECONDS").unwrap_or(3));
    let case_limit = Duration::from_secs(env_number("WEIR_FUZZ_CASE_SECONDS").unwrap_or(5));
    let cases: Box<dyn Iterator<Item = u64>> = match env_number("WEIR_FUZZ_CASE") {
        Some(case) => Box::new(std::iter::once(case)),
        None => Box::new(0..iterations),
    };
    let watchdog = Watchdog::start(name, case_limit * 4);
    let started = Instant::now();
    let mut ran = 0;
    let mut slowest = (Duration::ZERO, 0);
    for case in cases {
        if started.elapsed() > cap {
            break;
        }
        let mut rng = Rng::new(seed ^ case.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let input = generate(&mut rng);
        watchdog.enter(case, &input);
        let case_started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| check(&input)));
        let took = case_started.elapsed();
        watchdog.leave();
        let replay = format!("replay with WEIR_FUZZ_SEED={seed} WEIR_FUZZ_CASE={case}");
        if outcome.is_err() {
            let saved = save(name, case, &input);
            panic!(
                "fuzz target `{name}` failed on case {case} (seed {seed:#x}); input saved to {}; \
                 {replay}",
                saved.display()
            );
        }
        if took > case_limit {
            let saved = save(name, case, &input);
            panic!(
                "fuzz target `{name}`: case {case} took {took:.1?}, over the {case_limit:?} a \
                 case may take (a hang or a blow-up); input saved to {}; {replay}",
                saved.display()
            );
        }
        slowest = slowest.max((took, case));
        ran += 1;
    }
    assert!(ran > 0, "fuzz target `{name}` ran no case");
    if std::env::var_os("WEIR_FUZZ_VERBOSE").is_some() {
        #[allow(clippy::print_stderr)] // asked for with WEIR_FUZZ_VERBOSE
        {
            eprintln!(
                "fuzz target `{name}`: {ran} cases in {:.1?}, slowest case {} took {:.1?}",
                started.elapsed(),
                slowest.1,
                slowest.0
            );
        }
    }
}

/// The case being run, for the watchdog.
struct Running {
    case: u64,
    started: Instant,
    input: Vec<u8>,
}

/// A thread that aborts the process when one case runs for longer than
/// `limit`: an endless loop cannot be unwound, and would otherwise hold
/// `cargo test` until CI kills it without saying which input hung.
struct Watchdog {
    running: Arc<Mutex<Option<Running>>>,
    done: Arc<AtomicBool>,
}

impl Watchdog {
    fn start(name: &str, limit: Duration) -> Self {
        let running: Arc<Mutex<Option<Running>>> = Arc::default();
        let done = Arc::new(AtomicBool::new(false));
        let (watched, finished, name) = (Arc::clone(&running), Arc::clone(&done), name.to_string());
        std::thread::spawn(move || {
            while !finished.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                let guard = watched.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(run) = guard.as_ref()
                    && run.started.elapsed() > limit
                {
                    let saved = save(&name, run.case, &run.input);
                    // Straight to the process's stderr: the test harness
                    // captures `eprintln!`, and would lose it on abort.
                    let _ = writeln!(
                        std::io::stderr(),
                        "fuzz target `{name}`: case {} still running after {limit:?} (a hang); \
                         input saved to {}; aborting",
                        run.case,
                        saved.display()
                    );
                    std::process::abort();
                }
            }
        });
        Watchdog { running, done }
    }

    fn enter(&self, case: u64, input: &[u8]) {
        *self.running.lock().unwrap_or_else(PoisonError::into_inner) = Some(Running {
            case,
            started: Instant::now(),
            input: input.to_vec(),
        });
    }

    fn leave(&self) {
        *self.running.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
    }
}

fn save(name: &str, case: u64, input: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
    let _ = std::fs::create_dir_all(&dir);
    // A target's name starts with its input format.
    let extension = match name.split('_').next() {
        Some("python") => "py",
        Some("sql") => "sql",
        _ => "txt",
    };
    let path = dir.join(format!("{name}-{case}.{extension}"));
    let _ = std::fs::write(&path, input);
    path
}

/// Byte-level mutations of a seed input, as editors, merges and truncated
/// downloads make them: cut, duplicated, spliced, truncated, with tokens
/// from `dictionary` dropped in.
pub fn mutate(rng: &mut Rng, input: &[u8], other: &[u8], dictionary: &[&str]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(8) {
        let len = out.len();
        let at = if len == 0 { 0 } else { rng.below(len + 1) };
        let span = 1 + rng.below(64);
        let end = (at + span).min(len);
        match rng.below(9) {
            0 => {
                out.drain(at..end);
            }
            1 => {
                let piece = out[at..end].to_vec();
                out.splice(at..at, piece);
            }
            2 | 3 => {
                let token = rng.pick(dictionary).as_bytes().to_vec();
                out.splice(at..at, token);
            }
            4 => {
                if at < len {
                    out[at] = rng.byte();
                }
            }
            5 => out.truncate(at),
            6 => {
                if !other.is_empty() {
                    let from = rng.below(other.len());
                    let to = (from + 1 + rng.below(256)).min(other.len());
                    out.splice(at..at, other[from..to].iter().copied());
                }
            }
            7 => {
                // Re-indent the line `at` is in.
                let start = out[..at]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                let indent = rng.pick(&["", " ", "    ", "\t", "        "]).as_bytes();
                out.splice(start..start, indent.iter().copied());
            }
            _ => {
                // Swap two lines.
                let text = String::from_utf8_lossy(&out).into_owned();
                let mut lines: Vec<&str> = text.split('\n').collect();
                if lines.len() > 1 {
                    let a = rng.below(lines.len());
                    let b = rng.below(lines.len());
                    lines.swap(a, b);
                }
                out = lines.join("\n").into_bytes();
            }
        }
    }
    out
}

/// Every file below `folders` (relative to this crate), sorted: the real
/// files of the repository that the targets mutate.
pub fn seed_files(folders: &[&str]) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for folder in folders {
        walk(&manifest.join(folder), &mut files);
    }
    files.sort();
    files
}
