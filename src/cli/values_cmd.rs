//! `tracecat-chart values [CHART]`: the computed values.

use super::{ReleaseFlags, ValuesFlags};
use crate::error::{Error, Kind, Result};
use crate::release::{load, mismatch_warnings, validate_schema, Request};
use crate::values::{json, yamlout, Value};
use clap::{Args, ValueEnum};

#[derive(ValueEnum, Clone, Debug, Default)]
pub enum Format {
    #[default]
    Yaml,
    Json,
}

#[derive(Args, Debug)]
pub struct ValuesArgs {
    /// Chart folder or .tgz (default: the embedded Tracecat chart).
    pub chart: Option<String>,
    /// Same as the positional CHART.
    #[arg(long = "chart", conflicts_with = "chart")]
    pub chart_flag: Option<String>,
    #[command(flatten)]
    pub values: ValuesFlags,
    #[command(flatten)]
    pub release: ReleaseFlags,
    #[command(flatten)]
    pub registry: super::RegistryFlags,
    /// Chart version or semver range (oci:// charts).
    #[arg(long = "version")]
    pub version: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: Format,
}

pub fn run(a: ValuesArgs) -> Result<i32> {
    let req = Request {
        chart: a.chart.clone().or(a.chart_flag.clone()),
        values: a.values.sources(),
        render: a.release.options("release-name")?,
        skip_schema_validation: a.release.skip_schema_validation,
        strict: false,
        expand_env: false,
        version: a.version.clone(),
        registry: a.registry.options()?,
    };
    let loaded = load(&req)?;
    for w in &loaded.warnings {
        eprintln!("{w}");
    }
    if !req.skip_schema_validation {
        // Nothing renders here: a value of the wrong type is a warning.
        let check = validate_schema(&loaded.chart, &loaded.values, &loaded.origins, false)?;
        for w in check.warnings {
            eprintln!("{w}");
        }
        for w in mismatch_warnings(&check.mismatches, &loaded.origins) {
            eprintln!("{w}");
        }
    }
    let v = Value::Map(loaded.values);
    let text = match a.output {
        Format::Yaml => yamlout::to_yaml_document(&v),
        Format::Json => {
            let mut s = json::to_json(&v).map_err(|e| Error::new(Kind::Values, e))?;
            s.push('\n');
            s
        }
    };
    super::write_stdout(&text)?;
    Ok(0)
}
