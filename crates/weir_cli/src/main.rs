use std::process::ExitCode;

/// mimalloc: the IR is millions of small nodes, built in parallel and freed
/// together; glibc's allocator spent a third of the run in malloc/free.
/// Transparent huge pages stay allowed: faulting in fresh memory 4 KiB at a
/// time cost a fifth of the CPU on the benchmark corpus.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    weir_cli::main()
}
