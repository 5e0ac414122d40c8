//! `tracecat-chart lint [CHART]`.

use super::{ReleaseFlags, ValuesFlags};
use crate::error::{Error, Result};
use crate::lint::{self, report, Severity};
use crate::release::Request;
use clap::{Args, ValueEnum};

#[derive(ValueEnum, Clone, Copy, Debug, Default)]
pub enum Output {
    #[default]
    Text,
    Json,
    Sarif,
}

#[derive(Args, Debug)]
pub struct LintArgs {
    /// Chart folder or .tgz (default: the embedded Tracecat chart).
    pub chart: Option<String>,
    #[command(flatten)]
    pub values: ValuesFlags,
    #[command(flatten)]
    pub release: ReleaseFlags,
    /// Fail on warnings too.
    #[arg(long)]
    pub strict: bool,
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: Output,
}

pub fn run(a: LintArgs) -> Result<i32> {
    let opts = a.release.options("tracecat")?;
    let minor = crate::release::kube_minor(&opts.kube_version).unwrap_or(35);
    let req = Request {
        chart: a.chart.clone(),
        values: a.values.sources(),
        render: opts,
        skip_schema_validation: false,
        strict: true,
        expand_env: false,
        ..Default::default()
    };
    let mut findings = lint::lint(&req, &lint::Options { minor })?;
    // A finding may quote a value: secrets are masked in each field before
    // the report is written (JSON and SARIF escape them again, which the
    // final pass below could no longer recognise).
    for f in &mut findings {
        use crate::secrets::redact::text as mask;
        f.message = mask(&f.message).into_owned();
        f.location = mask(&f.location).into_owned();
        f.hint = f.hint.as_deref().map(|h| mask(h).into_owned());
    }
    let target = a
        .chart
        .clone()
        .unwrap_or_else(|| "tracecat (embedded)".into());
    let text = match a.output {
        Output::Text => report::text(&findings, &target),
        Output::Json => report::json(&findings),
        Output::Sarif => report::sarif(&findings),
    };
    super::write_stdout(&crate::secrets::redact::text(&text))?;
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    if errors > 0 || (a.strict && warnings > 0) {
        let mut e = Error::new(
            crate::error::Kind::Values,
            format!("lint failed: {errors} error(s), {warnings} warning(s)"),
        );
        if errors == 0 {
            e = e.with_hint("--strict fails on warnings");
        }
        eprintln!("{e}");
        return Ok(1);
    }
    Ok(0)
}
