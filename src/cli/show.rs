//! `tracecat-chart show chart|values [CHART]`.

use crate::error::Result;
use crate::values::{yamlout, Value};
use clap::{Args, ValueEnum};

#[derive(ValueEnum, Clone, Debug)]
pub enum What {
    /// Chart.yaml, re-serialised with sorted keys (as Helm).
    Chart,
    /// The chart's values.yaml as written, comments kept.
    Values,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    pub what: What,
    /// Chart folder, .tgz or oci:// reference (default: the embedded Tracecat chart).
    pub chart: Option<String>,
    #[command(flatten)]
    pub registry: super::RegistryFlags,
    /// Chart version or semver range (oci:// charts).
    #[arg(long = "version")]
    pub version: Option<String>,
}

pub fn run(a: ShowArgs) -> Result<i32> {
    let (chart, pull_report) = crate::release::load_chart(
        a.chart.as_deref(),
        a.version.as_deref(),
        &a.registry.options()?,
    )?;
    for line in pull_report {
        eprintln!("{line}");
    }
    let text = match a.what {
        What::Chart => format!(
            "{}\n\n",
            yamlout::to_yaml(&Value::Map(chart.metadata.clone()))
        ),
        What::Values => format!("{}\n", chart.values_text),
    };
    super::write_stdout(&text)?;
    Ok(0)
}
