//! The `tracecat-chart` binary: parse arguments, run, exit.

#![forbid(unsafe_code)]

/// A render makes tens of thousands of short-lived allocations, which
/// mimalloc serves with far fewer instructions than the C library's
/// allocator. Built without transparent huge pages, it adds little memory.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let code = tracecat_chart::cli::run(std::env::args().collect());
    std::process::exit(code);
}
