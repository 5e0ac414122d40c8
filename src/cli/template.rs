//! `tracecat-chart template [NAME] [CHART]`: render manifests like `helm template`.

use super::{ReleaseFlags, ValuesFlags};
use crate::error::{Error, Kind, Result};
use crate::output::{self, OutputOptions};
use crate::release::{self, Request};
use clap::Args;
use std::path::Path;

#[derive(Args, Debug)]
pub struct TemplateArgs {
    /// [NAME] [CHART]: release name (default "tracecat") and chart: a folder,
    /// a .tgz or oci://HOST/PATH/NAME (default: the embedded Tracecat chart).
    /// A single argument that is a path or a reference is taken as the chart.
    #[arg(value_name = "ARGS")]
    pub args: Vec<String>,
    /// Release name, as Helm's --name-template; the positional arguments are
    /// then only [CHART]. Only literal names: Go template actions are refused.
    #[arg(long = "name-template", value_name = "NAME")]
    pub name_template: Option<String>,
    #[command(flatten)]
    pub values: ValuesFlags,
    #[command(flatten)]
    pub release: ReleaseFlags,
    #[command(flatten)]
    pub registry: super::RegistryFlags,
    /// Chart version or semver range (oci:// charts).
    #[arg(long = "version")]
    pub version: Option<String>,
    /// Only print documents from these template paths (repeatable; globs, e.g. templates/*.yaml).
    #[arg(short = 's', long = "show-only", value_name = "PATH")]
    pub show_only: Vec<String>,
    /// Write each template to DIR/<chart>/templates/... instead of stdout.
    #[arg(long = "output-dir", value_name = "DIR")]
    pub output_dir: Option<String>,
    /// With --output-dir, put files under DIR/<release>/.
    #[arg(long = "release-name")]
    pub release_name_dir: bool,
    /// Leave out hooks.
    #[arg(long = "no-hooks")]
    pub no_hooks: bool,
    /// Leave out test hooks.
    #[arg(long = "skip-tests")]
    pub skip_tests: bool,
    /// Print the chart's CRDs first.
    #[arg(long = "include-crds")]
    pub include_crds: bool,
    /// Substitute ${VAR} placeholders in values from the environment; fails
    /// listing every unset variable.
    #[arg(long = "expand-env")]
    pub expand_env: bool,
    /// Write kubectl-safe phase files (hooks by event and weight around the
    /// main resources) and an apply.sh to DIR.
    #[arg(long = "apply-phases", value_name = "DIR")]
    pub apply_phases: Option<String>,
    /// `hash`: suffix Job names (hooks and plain Jobs) with a content hash, so an upgrade
    /// creates a new Job instead of patching an immutable one.
    #[arg(long = "job-name-suffix", value_enum)]
    pub job_name_suffix: Option<JobNameSuffix>,
    /// Refuse values the schema flags but Helm renders (unknown keys, values
    /// outside the listed choices); without it they are warnings.
    #[arg(long = "strict")]
    pub strict: bool,
    /// Set ttlSecondsAfterFinished on hook Jobs that do not set it.
    #[arg(long = "job-ttl", value_name = "SECONDS")]
    pub job_ttl: Option<i64>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobNameSuffix {
    /// A hash of the Job's content.
    Hash,
}

fn looks_like_chart(s: &str) -> bool {
    s.contains('/')
        || s.ends_with(".tgz")
        || s.ends_with(".tar.gz")
        || s.starts_with("oci://")
        || Path::new(s).exists()
}

/// Splits the positional arguments into release name and chart; with
/// `--name-template` they hold only the chart, as in Helm.
pub fn name_and_chart(
    args: &[String],
    name_template: Option<&str>,
) -> Result<(String, Option<String>)> {
    if let Some(name) = name_template {
        if name.contains("{{") {
            return Err(Error::usage(format!(
                "--name-template {name:?}: templated release names are not supported"
            ))
            .with_hint("give a literal name, e.g. --name-template tracecat"));
        }
        return match args {
            [] => Ok((name.to_string(), None)),
            [chart] => Ok((name.to_string(), Some(chart.clone()))),
            _ => Err(
                Error::usage("cannot set --name-template and also specify a name")
                    .with_hint("usage: tracecat-chart template --name-template NAME [CHART]"),
            ),
        };
    }
    match args {
        [] => Ok(("tracecat".into(), None)),
        [one] if looks_like_chart(one) => Ok(("tracecat".into(), Some(one.clone()))),
        [one] => Ok((one.clone(), None)),
        [name, chart] => Ok((name.clone(), Some(chart.clone()))),
        [_, _, rest @ ..] => Err(Error::usage(format!(
            "expected at most two arguments, unexpected arguments: {}",
            rest.join(", ")
        ))
        .with_hint("usage: tracecat-chart template [NAME] [CHART] [flags]")),
    }
}

pub fn run(a: TemplateArgs, _debug: bool) -> Result<i32> {
    let (name, chart) = name_and_chart(&a.args, a.name_template.as_deref())?;
    let req = Request {
        chart,
        values: a.values.sources(),
        render: a.release.options(&name)?,
        skip_schema_validation: a.release.skip_schema_validation,
        strict: a.strict,
        expand_env: a.expand_env,
        version: a.version.clone(),
        registry: a.registry.options()?,
    };
    let mut rel = release::template(&req)?;
    for w in &rel.warnings {
        eprintln!("{}", crate::secrets::redact::text(w));
    }
    let hash_names = a.job_name_suffix == Some(JobNameSuffix::Hash);
    if hash_names || a.job_ttl.is_some() {
        // Plain Jobs too: their template is as immutable as a hook's, and
        // nothing recreates them.
        crate::output::phases::adjust_jobs(&mut rel.hooks, hash_names, a.job_ttl);
        crate::output::phases::adjust_jobs(&mut rel.manifests, hash_names, a.job_ttl);
    }
    if let Some(dir) = &a.apply_phases {
        let ps = crate::output::phases::phases(&rel.manifests, &rel.hooks, req.render.is_upgrade);
        let written = crate::output::phases::write(Path::new(dir), &ps, &req.render.namespace)?;
        let mut log = String::new();
        for f in written {
            log.push_str(&format!("wrote {}\n", Path::new(dir).join(f).display()));
        }
        super::write_stdout(&log)?;
        return Ok(0);
    }
    let crds = release::crds(&rel.chart);
    let opts = OutputOptions {
        include_crds: a.include_crds,
        no_hooks: a.no_hooks,
        skip_tests: a.skip_tests,
        show_only: a.show_only.clone(),
    };
    let docs = output::arrange(&crds, &rel.manifests, &rel.hooks, &opts);
    if let Some(dir) = &a.output_dir {
        return write_output_dir(dir, &name, a.release_name_dir, &docs, &a.show_only);
    }
    if a.show_only.is_empty() {
        super::write_stdout_pieces(&output::stream_pieces(&docs))?;
    } else {
        let text = output::format_stream(&docs);
        super::write_stdout(&output::show_only(&text, &a.show_only)?)?;
    }
    Ok(0)
}

fn write_output_dir(
    dir: &str,
    release: &str,
    with_release: bool,
    docs: &[output::Framed],
    show_only: &[String],
) -> Result<i32> {
    // Group documents by file, in output order, then write each file once.
    let mut files: Vec<(String, String)> = Vec::new();
    let mut log = String::new();
    for d in docs {
        if !show_only.is_empty() {
            let rest = d.path.split_once('/').map(|(_, r)| r).unwrap_or(d.path);
            if !show_only
                .iter()
                .any(|p| crate::chart::ignore::glob_match(p, rest))
            {
                continue;
            }
        }
        let rel = if with_release && !d.is_crd {
            format!("{release}/{}", d.path)
        } else {
            d.path.to_string()
        };
        let target = Path::new(dir).join(&rel);
        let framed = format!("---\n# Source: {}\n{}\n", d.path, d.text);
        log.push_str(&format!("wrote {}\n", target.display()));
        match files.iter_mut().find(|(p, _)| *p == rel) {
            Some((_, body)) => body.push_str(&framed),
            None => files.push((rel, framed)),
        }
    }
    if files.is_empty() && !show_only.is_empty() {
        return Err(Error::new(
            Kind::Render,
            format!("could not find template {} in chart", show_only[0]),
        ));
    }
    // Owner-only, as one step: a manifest can hold a Secret or an expanded
    // credential.
    let files: Vec<_> = files
        .into_iter()
        .map(|(rel, body)| (rel, body.into_bytes(), 0o600))
        .collect();
    crate::fsutil::write_tree(Path::new(dir), &files)?;
    // Helm ends the list with an empty line (it prints its empty stream).
    log.push('\n');
    super::write_stdout(&log)?;
    Ok(0)
}
