//! The `tracecat-chart` binary: parse arguments, run, exit.

// Small blocks by size class, for a process that runs one command (see
// the module).
#[global_allocator]
static ALLOCATOR: tracecat_chart::heap::Allocator = tracecat_chart::heap::Allocator;

fn main() {
    // One command per process: what is left at its end goes with the exit.
    tracecat_chart::discard::process_exits_soon();
    tracecat_chart::heap::grow_in_large_steps();
    let code = tracecat_chart::cli::run(std::env::args().collect());
    std::process::exit(code);
}
