use std::process::ExitCode;

/// mimalloc: the IR is millions of small nodes, built in parallel and freed
/// together; glibc's allocator spent a third of the run in malloc/free.
/// Transparent huge pages stay allowed: faulting in fresh memory 4 KiB at a
/// time cost a fifth of the CPU on the benchmark corpus.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    allocator::keep_freed_memory();
    weir_cli::main()
}

/// The one setting of the allocator that the `mimalloc` crate does not
/// expose, set through mimalloc's C API: the only unsafe code of weir.
#[allow(unsafe_code)]
mod allocator {
    use std::ffi::{c_int, c_long};

    /// `mi_option_purge_delay` in mimalloc.h (v3): the 16th option. The
    /// test below checks it against the option's documented default.
    const PURGE_DELAY: c_int = 15;

    unsafe extern "C" {
        fn mi_option_set(option: c_int, value: c_long);
        #[cfg(test)]
        fn mi_option_get(option: c_int) -> c_long;
    }

    /// mimalloc hands memory that stayed free for a second back to the OS,
    /// and the next phase that allocates faults it in again, zeroed, 2 MiB
    /// at a time. A run frees the parse trees and the file texts after
    /// lowering and allocates facts and summaries later: on a corpus that
    /// takes more than a second, the refaults were most of the system time
    /// (doubled benchmark corpus: 2,479–4,800 page faults against 990).
    /// A run is short-lived, so freed memory is kept for reuse instead,
    /// unless `MIMALLOC_PURGE_DELAY` sets the delay for this run.
    pub fn keep_freed_memory() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: sets an integer option of the statically linked
        // allocator, which mimalloc allows at any time from any thread.
        unsafe { mi_option_set(PURGE_DELAY, -1) }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn purge_delay_is_the_option_we_set() {
            // The documented default of `purge_delay` is 1000 ms (mimalloc
            // v3, options.c): a reordered enum would read another option.
            // SAFETY: reads an integer option; no memory is touched.
            if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
                return;
            }
            let default = unsafe { super::mi_option_get(super::PURGE_DELAY) };
            assert_eq!(default, 1000);
            super::keep_freed_memory();
            // SAFETY: as above.
            assert_eq!(unsafe { super::mi_option_get(super::PURGE_DELAY) }, -1);
        }
    }
}
