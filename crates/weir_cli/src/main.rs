use std::process::ExitCode;

/// mimalloc: the IR is millions of small nodes, built in parallel and freed
/// together; glibc's allocator spent a third of the run in malloc/free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    weir_cli::main()
}
