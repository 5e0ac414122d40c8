//! `tracecat-chart diff OLD NEW` or `diff --from ... --to ...`.

use super::ReleaseFlags;
use crate::diff;
use crate::error::{Error, Kind, Result};
use crate::release::{self, Request};
use crate::values::{Sources, Value};
use clap::{Args, ValueEnum};
use std::collections::BTreeMap;
use std::io::IsTerminal;

#[derive(ValueEnum, Clone, Copy, Debug, Default)]
pub enum Output {
    #[default]
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// OLD and NEW: rendered manifest files or folders of them.
    pub sides: Vec<String>,
    /// Render the old side from these values files (repeatable).
    #[arg(long = "from", value_name = "VALUES")]
    pub from: Vec<String>,
    /// Chart of the old side (folder or .tgz; default: embedded).
    #[arg(long = "from-chart")]
    pub from_chart: Option<String>,
    /// Render the new side from these values files (repeatable).
    #[arg(long = "to", value_name = "VALUES")]
    pub to: Vec<String>,
    /// Chart of the new side (folder or .tgz; default: embedded).
    #[arg(long = "to-chart")]
    pub to_chart: Option<String>,
    /// Release name for rendered sides.
    #[arg(long = "release", default_value = "tracecat")]
    pub release_name: String,
    #[command(flatten)]
    pub release: ReleaseFlags,
    /// Exit 1 when anything differs (like `git diff --exit-code`).
    #[arg(long = "exit-code")]
    pub exit_code: bool,
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: Output,
}

fn read_side(path: &str) -> Result<BTreeMap<diff::Key, Value>> {
    let p = std::path::Path::new(path);
    let mut files = Vec::new();
    if p.is_dir() {
        fn walk(d: &std::path::Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
            let mut entries: Vec<_> = std::fs::read_dir(d)?
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .collect();
            entries.sort();
            for e in entries {
                if e.is_dir() {
                    walk(&e, out)?;
                } else if e.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                    out.push(e);
                }
            }
            Ok(())
        }
        walk(p, &mut files).map_err(|e| Error::io(path, &e))?;
    } else {
        files.push(p.to_path_buf());
    }
    let mut all = BTreeMap::new();
    for f in files {
        let name = f.display().to_string();
        let text = std::fs::read_to_string(&f).map_err(|e| Error::io(&name, &e))?;
        all.extend(diff::objects(&text, &name)?);
    }
    Ok(all)
}

fn render_side(
    a: &DiffArgs,
    chart: Option<String>,
    files: &[String],
) -> Result<BTreeMap<diff::Key, Value>> {
    let req = Request {
        chart,
        values: Sources {
            files: files.to_vec(),
            fetch: Some(crate::http::values_reader()),
            ..Default::default()
        },
        render: a.release.options(&a.release_name)?,
        skip_schema_validation: a.release.skip_schema_validation,
        strict: false,
        expand_env: false,
        ..Default::default()
    };
    let rel = release::template(&req)?;
    let mut objects = BTreeMap::new();
    diff::add_objects(
        &mut objects,
        rel.manifests
            .into_iter()
            .chain(rel.hooks)
            .map(|m| m.into_doc()),
    );
    Ok(objects)
}

pub fn run(a: DiffArgs) -> Result<i32> {
    let rendered =
        !a.from.is_empty() || !a.to.is_empty() || a.from_chart.is_some() || a.to_chart.is_some();
    let (old, new) = match (a.sides.as_slice(), rendered) {
        ([o, n], false) => (read_side(o)?, read_side(n)?),
        ([], true) => (render_side(&a, a.from_chart.clone(), &a.from)?, render_side(&a, a.to_chart.clone(), &a.to)?),
        _ => {
            return Err(Error::new(Kind::Usage, "give OLD and NEW (files or folders), or --from/--to values (with optional --from-chart/--to-chart)")
                .with_hint("e.g. tracecat-chart diff --from prod.yaml --to-chart ./tracecat-0.4.0.tgz --to prod.yaml"))
        }
    };
    let mut report = diff::diff(&old, &new);
    // Secret data is hidden by the diff itself; a secret value that also
    // reached another object (a literal env value, a URL in a ConfigMap) is
    // masked here, before JSON output would escape it past recognition.
    for c in &mut report.changes {
        if let diff::Change::Changed { diff, .. } = c {
            *diff = crate::secrets::redact::text(diff).into_owned();
        }
    }
    for f in &mut report.findings {
        f.message = crate::secrets::redact::text(&f.message).into_owned();
    }
    let text = match a.output {
        Output::Text => diff::text(&report, std::io::stdout().is_terminal()),
        Output::Json => diff::json(&report),
    };
    super::write_stdout(&text)?;
    Ok(if a.exit_code && !report.changes.is_empty() {
        1
    } else {
        0
    })
}
