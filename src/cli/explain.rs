//! `tracecat-chart explain [KEY]`.

use crate::error::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// Dotted values key (e.g. tracecat.auth.types); nothing lists the top level.
    pub key: Option<String>,
    /// Chart folder or .tgz (default: the embedded Tracecat chart).
    #[arg(long = "chart")]
    pub chart: Option<String>,
}

pub fn run(a: ExplainArgs) -> Result<i32> {
    let chart = crate::chart::load(a.chart.as_deref())?;
    let text = crate::explain::explain(&chart, a.key.as_deref().unwrap_or(""))?;
    super::write_stdout(&text)?;
    Ok(0)
}
