//! The `tracecat-chart` binary: parse arguments, run, exit.

#![forbid(unsafe_code)]

fn main() {
    let code = tracecat_chart::cli::run(std::env::args().collect());
    std::process::exit(code);
}
