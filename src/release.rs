//! The whole render of a release, as `helm template` does it: load the
//! chart, compute values, validate them, render, and arrange the output.

use crate::chart::{self, dependencies, Chart};
use crate::error::{Error, Kind, Result};
use crate::output;
use crate::render::{self, RenderOptions};
use crate::values::{self, merge::Warnings, schema, Map, Origins, Sources, Value};

#[derive(Debug, Clone, Default)]
pub struct Request {
    /// CHART argument; None for the embedded chart.
    pub chart: Option<String>,
    pub values: Sources,
    pub render: RenderOptions,
    pub skip_schema_validation: bool,
    /// Refuse schema findings Helm would render (unknown keys, values
    /// outside the listed choices) instead of warning.
    pub strict: bool,
    /// Substitute `${VAR}` placeholders in values from the environment.
    pub expand_env: bool,
    /// Chart version or range, for `oci://` charts.
    pub version: Option<String>,
    /// How to reach registries, for `oci://` charts.
    pub registry: crate::oci::client::Options,
}

/// Everything computed for a release.
pub struct Release {
    pub chart: Chart,
    pub values: Map,
    pub manifests: Vec<output::Manifest>,
    pub hooks: Vec<output::Manifest>,
    /// Warnings and notes for stderr.
    pub warnings: Vec<String>,
}

/// Helm's release-name rule.
pub fn validate_release_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(
            Error::usage("release name check failed: release name \"\": no name provided")
                .with_hint("give a release name, or none for the default `tracecat`"),
        );
    }
    if name.len() > 53 || !crate::names::dns1123_subdomain_syntax(name) {
        return Err(Error::usage(format!(
            "release name check failed: release name {name:?}: invalid release name, must match regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be longer than 53"
        ))
        .with_hint("use lower-case letters, digits, '-' and '.', at most 53 characters"));
    }
    Ok(())
}

/// `--kube-version` to Helm's `vMAJOR.MINOR.PATCH`.
pub fn parse_kube_version(s: &str) -> Result<String> {
    match crate::version::parse_generic(s) {
        // Helm keeps the text as given, with a `v` in front.
        Ok(_) if s.starts_with('v') => Ok(s.to_string()),
        Ok(_) => Ok(format!("v{s}")),
        Err(e) => Err(Error::usage(format!("invalid kube version '{s}': {e}"))
            .with_hint("give a Kubernetes version such as 1.31 or v1.31.2")),
    }
}

/// The minor version of a `--kube-version` (validated by
/// [`parse_kube_version`]), for the schemas of that release.
pub fn kube_minor(kube_version: &str) -> Option<u64> {
    crate::version::kube_numbers(kube_version).map(|c| c[1])
}

/// The chart and its computed values, before rendering.
pub struct Loaded {
    pub chart: Chart,
    pub values: Map,
    /// Warnings and notes for stderr.
    pub warnings: Vec<String>,
    /// Where each user-set values path came from (file and line).
    pub origins: Origins,
}

/// Loads CHART as given on the command line: a directory, a `.tgz`, an
/// `oci://` reference (pulled through the local cache), or nothing for the
/// embedded chart. Also returns what a pull has to tell the user. (Pulling
/// is the caller's business: the chart loader reads files only.)
pub fn load_chart(
    reference: Option<&str>,
    version: Option<&str>,
    registry: &crate::oci::client::Options,
) -> Result<(Chart, Vec<String>)> {
    match reference {
        Some(r) if r.starts_with("oci://") => {
            let pulled = crate::oci::pull(r, version, registry)?;
            let files = chart::archive::read_tgz(&pulled.archive, r)?;
            Ok((Chart::from_files(files, r)?, pulled.report()))
        }
        other => Ok((chart::load(other)?, Vec::new())),
    }
}

/// The user's values, with what must be masked in anything printed from
/// here on registered.
pub fn user_values(src: &Sources, origins: &mut Origins) -> Result<Map> {
    crate::secrets::redact::remember_set_flags(src);
    let user = values::user_values(src, origins)?;
    crate::secrets::redact::remember_user_values(&user);
    Ok(user.values)
}

/// The chart and its computed values for `req`, before any check.
pub fn load(req: &Request) -> Result<Loaded> {
    let (mut chart, pull_report) =
        load_chart(req.chart.as_deref(), req.version.as_deref(), &req.registry)?;
    chart.check_dependencies()?;
    let mut origins = Origins::new();
    let user = user_values(&req.values, &mut origins)?;
    let mut warn = Warnings(pull_report);
    let values = dependencies::compute_values(&mut chart, user, &mut warn)?;
    Ok(Loaded {
        chart,
        values,
        warnings: warn.0,
        origins,
    })
}

fn violations_in(
    chart: &Chart,
    vals: &Map,
    prefix: &str,
    out: &mut Vec<(String, schema::Violation)>,
) -> Result<()> {
    if let Some(s) = &chart.schema {
        let violations = schema::validate(s, vals)
            .map_err(|e| Error::new(Kind::Parse, format!("{}: {e}", chart.name())))?;
        for mut v in violations {
            v.path = match (prefix.is_empty(), v.path.is_empty()) {
                (true, _) => v.path,
                (false, true) => prefix.to_string(),
                (false, false) => format!("{prefix}.{}", v.path),
            };
            out.push((chart.name(), v));
        }
    }
    let empty = Map::new();
    for d in &chart.dependencies {
        let sv = vals
            .get(&d.name())
            .and_then(Value::as_map)
            .unwrap_or(&empty);
        let p = if prefix.is_empty() {
            d.name()
        } else {
            format!("{prefix}.{}", d.name())
        };
        violations_in(d, sv, &p, out)?;
    }
    Ok(())
}

/// Every chart's `values.schema.json` violations, as (chart name,
/// violation with the full values path).
pub fn schema_violations(chart: &Chart, vals: &Map) -> Result<Vec<(String, schema::Violation)>> {
    let mut out = Vec::new();
    violations_in(chart, vals, "", &mut out)?;
    Ok(out)
}

/// What the schema check let through: warnings to print, and values of
/// the wrong type, which refuse the values only if the render they give
/// has objects the API server rejects (Helm renders them all).
#[derive(Debug, Default)]
pub struct SchemaCheck {
    pub warnings: Vec<String>,
    pub mismatches: Vec<(String, schema::Violation)>,
}

/// One screen of findings: the first ones, then a count of the rest.
const SHOWN: usize = 20;

/// Checks values against every chart's `values.schema.json`. The error
/// lists every violation that refuses the values, with the file and line
/// that set it where known; findings Helm would render anyway (see
/// [`schema::Violation::advisory`]) come back as warnings unless `strict`,
/// and so do values of the wrong type, as [`SchemaCheck::mismatches`].
pub fn validate_schema(
    chart: &Chart,
    vals: &Map,
    origins: &Origins,
    strict: bool,
) -> Result<SchemaCheck> {
    let all = schema_violations(chart, vals)?;
    let (mut warn, refuse): (Vec<_>, Vec<_>) =
        all.into_iter().partition(|(_, v)| v.advisory && !strict);
    // A value of the wrong type is reported as that alone, not also as
    // outside the listed choices.
    warn.retain(|(c, w)| !refuse.iter().any(|(rc, r)| rc == c && r.path == w.path));
    if !refuse.is_empty() && (strict || refuse.iter().any(|(_, v)| !v.mismatch)) {
        return Err(schema_error(&refuse, origins));
    }
    let warnings = warning_lines(&warn, origins, "Helm ignores it, --strict refuses it");
    Ok(SchemaCheck {
        warnings,
        mismatches: refuse,
    })
}

/// The warnings for values of the wrong type whose render is valid.
pub fn mismatch_warnings(
    mismatches: &[(String, schema::Violation)],
    origins: &Origins,
) -> Vec<String> {
    warning_lines(mismatches, origins, "Helm renders it, --strict refuses it")
}

/// One warning line per violation, `why` after each; one screen at most.
fn warning_lines(
    found: &[(String, schema::Violation)],
    origins: &Origins,
    why: &str,
) -> Vec<String> {
    let mut out: Vec<String> = found
        .iter()
        .take(SHOWN)
        .map(|(_, v)| format!("warning: {}; {why}", describe(v, origins)))
        .collect();
    if found.len() > SHOWN {
        out.push(format!("warning: ... and {} more", found.len() - SHOWN));
    }
    out
}

/// The error that refuses values, listing the violations by chart.
fn schema_error(refuse: &[(String, schema::Violation)], origins: &Origins) -> Error {
    let mut msg = String::from(
        "values don't meet the specifications of the schema(s) in the following chart(s):",
    );
    let mut last = "";
    for (c, v) in refuse.iter().take(SHOWN) {
        if c != last {
            msg.push_str(&format!("\n{c}:"));
            last = c;
        }
        msg.push_str(&format!("\n- {}", describe(v, origins)));
    }
    if refuse.len() > SHOWN {
        msg.push_str(&format!("\n... and {} more", refuse.len() - SHOWN));
    }
    Error::new(Kind::Values, msg)
        .with_path(refuse[0].1.path.clone())
        .with_hint("fix the values listed above (defaults and comments: `tracecat-chart show values`); --skip-schema-validation turns this check off")
}

/// The first rendered object the API server would reject, described, or
/// None when every object of a known kind passes the Kubernetes (and CRD)
/// schemas and name rules of `kube_version` (outside the supported range,
/// the nearest supported one).
fn first_invalid(files: &[output::ParsedFile], kube_version: &str) -> Option<String> {
    let minor = kube_minor(kube_version)
        .unwrap_or(crate::kube::MAX_MINOR)
        .clamp(crate::kube::MIN_MINOR, crate::kube::MAX_MINOR);
    let mut schemas = crate::kube::Schemas::for_minor(minor)?;
    for f in files {
        let manifests = match &f.manifests {
            Ok(m) => m,
            Err(e) => return Some(format!("{}: {}", f.path, e.message)),
        };
        for m in manifests.iter().filter(|m| m.doc().is_map()) {
            let doc = m.doc();
            let problems = schemas
                .validate(doc)
                .unwrap_or_default()
                .into_iter()
                .chain(crate::kube::resource_rules(doc))
                .chain(crate::kube::name_rules(doc));
            if let Some((path, msg)) = problems.into_iter().next() {
                return Some(format!("{}/{}: {path}: {msg}", m.kind, m.name));
            }
        }
    }
    None
}

/// One violation on a line: path, what is wrong, where it was set, a hint.
fn describe(v: &schema::Violation, origins: &Origins) -> String {
    let p = if v.path.is_empty() { "(root)" } else { &v.path };
    let mut line = format!("{p}: {}", v.message);
    if let Some((file, n, _)) = origins.get(&v.path) {
        line.push_str(&format!(" ({file}:{n})"));
    }
    if let Some(h) = &v.hint {
        line.push_str(&format!(" ({h})"));
    }
    line
}

/// Replaces `${NAME}` in every string value with the environment variable's
/// value. Fails listing every unset variable (names only, never values).
pub fn expand_env(vals: &mut Map, lookup: &dyn Fn(&str) -> Option<String>) -> Result<()> {
    let re = regex::Regex::new(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}").expect("static regex");
    let mut missing: Vec<String> = Vec::new();
    fn walk(
        v: &mut Value,
        re: &regex::Regex,
        lookup: &dyn Fn(&str) -> Option<String>,
        missing: &mut Vec<String>,
    ) {
        match v {
            Value::String(s) if s.contains("${") => {
                let out = re.replace_all(s, |c: &regex::Captures| match lookup(&c[1]) {
                    Some(val) => val,
                    None => {
                        if !missing.iter().any(|m| m == &c[1]) {
                            missing.push(c[1].to_string());
                        }
                        c[0].to_string()
                    }
                });
                *s = out.into_owned();
            }
            Value::List(l) => l.iter_mut().for_each(|x| walk(x, re, lookup, missing)),
            Value::Map(m) => m.values_mut().for_each(|x| walk(x, re, lookup, missing)),
            _ => {}
        }
    }
    for v in vals.values_mut() {
        walk(v, &re, lookup, &mut missing);
    }
    if !missing.is_empty() {
        missing.sort();
        return Err(Error::new(Kind::Values, format!("--expand-env: these environment variables are not set: {}", missing.join(", ")))
            .with_hint("export them (e.g. from `tracecat-chart secrets generate --format env`), or drop --expand-env to keep the placeholders"));
    }
    Ok(())
}

/// Renders a release.
pub fn template(req: &Request) -> Result<Release> {
    validate_release_name(&req.render.release_name)?;
    render_loaded(req, load(req)?)
}

/// Renders a release from a chart and values already loaded for `req`.
pub fn render_loaded(req: &Request, loaded: Loaded) -> Result<Release> {
    let Loaded {
        chart,
        values: mut vals,
        mut warnings,
        origins,
    } = loaded;
    if req.expand_env {
        expand_env(&mut vals, &|name| std::env::var(name).ok())?;
    }
    let kv = chart.kube_version();
    if !kv.is_empty() {
        // Helm checks the version's numbers alone (`v1.29.3-gke.1` as
        // `v1.29.3`); a constraint or version it cannot read fails the check.
        let numbers = crate::version::kube_numbers(&req.render.kube_version).unwrap_or_default();
        let normalized = format!(
            "v{}",
            numbers
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(".")
        );
        let ok = crate::version::semver_compare(&kv, &normalized).unwrap_or(false);
        if !ok {
            return Err(Error::new(
                Kind::Values,
                format!(
                    "chart requires kubeVersion: {kv} which is incompatible with Kubernetes {}",
                    req.render.kube_version
                ),
            )
            .with_hint("pass --kube-version for the cluster you deploy to"));
        }
    }
    // As in Helm, values are validated before anything renders.
    let mut check = SchemaCheck::default();
    if !req.skip_schema_validation {
        check = validate_guarded(&chart, &vals, &origins, req.strict)?;
        warnings.append(&mut check.warnings);
    }
    let rendered = render::render_each(&chart, &vals, &req.render, output::parse_rendered);
    // Values of the wrong type are refused where Helm would put objects the
    // API server rejects in front of it (or where the render fails on them).
    // A list or single value where a section belongs fails in Helm where a
    // template reads a field of it (or ranges over a single value).
    if !check.mismatches.is_empty() {
        let places: Vec<_> = check
            .mismatches
            .iter()
            .filter_map(|(_, v)| Some((v.wrong_shape.clone()?, v.path.clone())))
            .collect();
        let read = (!places.is_empty())
            .then(|| render::wrong_shape_read(&chart, &vals, &req.render, &places))
            .flatten();
        let invalid = match (read, &rendered) {
            (Some(read), _) => Some(format!("the chart reads them as sections or lists: {read}")),
            (None, Ok((files, _))) => first_invalid(files, &req.render.kube_version)
                .map(|why| format!("they render objects the API server rejects: {why}")),
            (None, Err(e)) => Some(format!("the chart cannot render them: {}", e.message)),
        };
        if let Some(why) = invalid {
            let mut e = schema_error(&check.mismatches, &origins);
            e.message.push('\n');
            e.message.push_str(&why);
            e.warnings = warnings;
            return Err(e);
        }
        warnings.extend(mismatch_warnings(&check.mismatches, &origins));
    }
    let (files, notices) = rendered.map_err(|mut e| {
        e.warnings = std::mem::take(&mut warnings);
        e
    })?;
    warnings.extend(notices);
    let (manifests, hooks) = output::sort_parsed(files, &mut warnings)?;
    Ok(Release {
        chart,
        values: vals,
        manifests,
        hooks,
        warnings,
    })
}

/// [`validate_schema`], with a panic in the validator (on a chart's own
/// schema) reported as an error instead of a crash.
fn validate_guarded(
    chart: &Chart,
    vals: &Map,
    origins: &Origins,
    strict: bool,
) -> Result<SchemaCheck> {
    let run = || validate_schema(chart, vals, origins, strict);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(|_| {
        Err(Error::new(Kind::Values, "schema validation panicked")
            .with_hint("this is a bug in tracecat-chart; --skip-schema-validation avoids it"))
    })
}

/// CRD files of the chart tree, with their `# Source` paths.
pub fn crds(chart: &Chart) -> Vec<(String, String)> {
    fn rec(c: &Chart, prefix: &str, out: &mut Vec<(String, String)>) {
        let p = if prefix.is_empty() {
            c.name()
        } else {
            format!("{prefix}/charts/{}", c.name())
        };
        for (rel, text) in &c.crds {
            out.push((format!("{p}/{rel}"), text.clone()));
        }
        for d in &c.dependencies {
            rec(d, &p, out);
        }
    }
    let mut out = Vec::new();
    rec(chart, "", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(req: &Request) -> Vec<(String, String)> {
        let r = template(req).unwrap();
        r.manifests
            .iter()
            .chain(&r.hooks)
            .map(|m| (m.path.clone(), m.content.clone()))
            .collect()
    }

    fn embedded_request() -> Request {
        let mut values = Sources::default();
        let quickstart = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/values/examples/quickstart.yaml"
        );
        values.files.push(quickstart.into());
        values.set.push("ui.replicas=2".into());
        Request {
            values,
            ..Request::default()
        }
    }

    #[test]
    fn the_embedded_chart_renders_the_same_twice() {
        let first = rendered(&embedded_request());
        assert!(first.iter().any(|(_, c)| c.contains("replicas: 2")));
        assert_eq!(rendered(&embedded_request()), first);
    }
}
