//! `lint`: checks a deployment offline before it reaches a cluster. Values
//! against the chart's schema, the render itself, every rendered object
//! against the Kubernetes (and CRD) schemas of the target version and the
//! API server's name rules, and Tracecat deployment checks.

pub mod report;

use crate::error::{Error, Kind, Result};
use crate::kube::{self, parse_quantity};
use crate::output::Manifest;
use crate::release::{self, Request};
use crate::values::{Map, Value};
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub severity: Severity,
    /// Stable identifier, e.g. `values-schema`, `k8s-schema`.
    pub rule: &'static str,
    /// `Kind/name` of an object, or a values path.
    pub location: String,
    /// Template or values file the finding points at, when known.
    pub file: Option<String>,
    pub line: Option<usize>,
    pub message: String,
    pub hint: Option<String>,
}

/// Every rule with a one-line description (for SARIF and `--help`).
pub const RULES: &[(&str, &str)] = &[
    (
        "values-schema",
        "Values do not match the chart's values.schema.json",
    ),
    ("render", "The chart refuses to render these values"),
    (
        "k8s-schema",
        "A rendered object is not valid for the target Kubernetes version",
    ),
    (
        "k8s-names",
        "A name or label breaks the API server's naming rules",
    ),
    ("unknown-kind", "No schema is known for a rendered kind"),
    (
        "ingress-and-virtualservice",
        "Both an Ingress and Istio VirtualServices route traffic",
    ),
    ("core-secrets", "No source for the four core secrets"),
    (
        "plaintext-secret",
        "A chart-managed Secret holds a literal value instead of a ${VAR} placeholder",
    ),
    (
        "basic-auth-production",
        "Basic (password) login is enabled in production",
    ),
    (
        "scaledobject-without-keda",
        "ScaledObjects are rendered but KEDA is not declared present",
    ),
    (
        "hpa-without-metrics-server",
        "HorizontalPodAutoscalers are rendered but metrics-server is not declared present",
    ),
    (
        "temporal-undersized",
        "The bundled Temporal server requests less than 4 CPU and 8 GiB",
    ),
    (
        "nsjail-disabled",
        "The nsjail sandbox for executed code is disabled",
    ),
];

pub struct Options {
    pub minor: u64,
}

fn f(
    severity: Severity,
    rule: &'static str,
    location: impl Into<String>,
    message: impl Into<String>,
) -> Finding {
    Finding {
        severity,
        rule,
        location: location.into(),
        file: None,
        line: None,
        message: message.into(),
        hint: None,
    }
}

fn kind_name(m: &Manifest) -> String {
    format!("{}/{}", m.kind, m.name)
}

fn is_placeholder(s: &str) -> bool {
    static RE: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$").expect("static regex")
    });
    RE.is_match(s)
}

/// Tracecat deployment checks on the computed values and rendered objects.
fn deployment_checks(vals: &Map, objects: &[&Manifest], out: &mut Vec<Finding>) {
    let at = |p: &str| crate::values::map_path(vals, p);
    let truthy = |p: &str| at(p).is_some_and(Value::truthy);
    let text = |p: &str| at(p).map(|x| x.to_string()).unwrap_or_default();
    if truthy("ingress.enabled") && truthy("virtualService.enabled") {
        out.push(Finding {
            hint: Some("set ingress.enabled=false when routing through Istio".into()),
            ..f(Severity::Warning, "ingress-and-virtualservice", "ingress.enabled", "both ingress.enabled and virtualService.enabled are on; traffic gets two entry points")
        });
    }
    let eso = truthy("externalSecrets.enabled")
        && truthy("externalSecrets.coreSecrets.enabled")
        && truthy("externalSecrets.coreSecrets.secretArn");
    if !truthy("secrets.existingSecret") && !truthy("secrets.create.tracecat.enabled") && !eso {
        out.push(Finding {
            hint: Some("create one with `tracecat-chart secrets generate` and set secrets.existingSecret".into()),
            ..f(Severity::Error, "core-secrets", "secrets.existingSecret", "no source for the core secrets (secrets.existingSecret, secrets.create.tracecat or externalSecrets.coreSecrets)")
        });
    }
    for (section, keys) in [
        (
            "tracecat",
            &[
                "dbEncryptionKey",
                "serviceKey",
                "signingSecret",
                "userAuthSecret",
            ][..],
        ),
        ("postgres", &["username", "password"][..]),
        ("redis", &["url"][..]),
        ("temporalUiOidc", &["clientId", "clientSecret"][..]),
    ] {
        if !truthy(&format!("secrets.create.{section}.enabled")) {
            continue;
        }
        for k in keys {
            let path = format!("secrets.create.{section}.{k}");
            let val = text(&path);
            // A Redis URL may embed a ${VAR} for its password; a username is not secret.
            let allowed = val.is_empty()
                || is_placeholder(&val)
                || (section == "redis" && val.contains("${"))
                || (section == "postgres" && *k == "username");
            let literal = !allowed;
            if literal {
                out.push(Finding {
                    hint: Some(format!("write {path}: ${{SOME_VAR}} and substitute in the pipeline (see --expand-env)")),
                    ..f(Severity::Warning, "plaintext-secret", path, "a literal secret value in values (plaintext in version control)")
                });
            }
        }
    }
    let types = text("tracecat.auth.types");
    if text("tracecat.appEnv") == "production" && types.split(',').any(|t| t.trim() == "basic") {
        out.push(Finding {
            hint: Some("prefer oidc or saml for production logins".into()),
            ..f(
                Severity::Warning,
                "basic-auth-production",
                "tracecat.auth.types",
                "basic (password) login is enabled with appEnv production",
            )
        });
    }
    let count = |k: &str| objects.iter().filter(|m| m.kind == k).count();
    if count("ScaledObject") > 0 && !truthy("keda.enabled") {
        out.push(Finding {
            hint: Some("install KEDA (helm install keda keda --repo https://kedacore.github.io/charts) and set keda.enabled=true".into()),
            ..f(Severity::Warning, "scaledobject-without-keda", "keda.enabled", format!("{} ScaledObject(s) rendered, but KEDA is not declared present", count("ScaledObject")))
        });
    }
    if count("HorizontalPodAutoscaler") > 0 && !truthy("metricsserver.enabled") {
        out.push(Finding {
            hint: Some("install metrics-server and set metricsserver.enabled=true".into()),
            ..f(Severity::Warning, "hpa-without-metrics-server", "metricsserver.enabled", format!("{} HorizontalPodAutoscaler(s) rendered, but metrics-server is not declared present", count("HorizontalPodAutoscaler")))
        });
    }
    if truthy("temporal.enabled") {
        let (mut cpu, mut mem) = (0.0, 0.0);
        for m in objects.iter().filter(|m| m.kind == "Deployment") {
            let comp = m
                .doc()
                .path("spec.template.metadata.labels")
                .and_then(Value::as_map)
                .and_then(|l| l.get("app.kubernetes.io/component"))
                .map(|c| c.to_string());
            let part_of = m
                .doc()
                .path("metadata.labels")
                .and_then(Value::as_map)
                .and_then(|l| l.get("app.kubernetes.io/part-of"))
                .map(|c| c.to_string());
            if part_of.as_deref() != Some("temporal")
                || !matches!(
                    comp.as_deref(),
                    Some("frontend" | "history" | "matching" | "worker")
                )
            {
                continue;
            }
            let replicas = match m.doc().path("spec.replicas") {
                Some(Value::Float(r)) => *r,
                Some(Value::Int(r)) => *r as f64,
                _ => 1.0,
            };
            if let Some(Value::List(cs)) = m.doc().path("spec.template.spec.containers") {
                for c in cs {
                    cpu += c
                        .path("resources.requests.cpu")
                        .and_then(parse_quantity)
                        .unwrap_or(0.0)
                        * replicas;
                    mem += c
                        .path("resources.requests.memory")
                        .and_then(parse_quantity)
                        .unwrap_or(0.0)
                        * replicas;
                }
            }
        }
        let gib = 1024.0 * 1024.0 * 1024.0;
        if cpu < 4.0 || mem < 8.0 * gib {
            out.push(Finding {
                hint: Some("raise temporal.server.resources.requests (and replicaCount) to at least 4 CPU and 8Gi in total; undersized Temporal shows up as \"No hosts available\" errors".into()),
                ..f(Severity::Warning, "temporal-undersized", "temporal.server.resources", format!("bundled Temporal server pods request {cpu:.2} CPU and {:.1} GiB in total (below 4 CPU / 8 GiB)", mem / gib))
            });
        }
    }
    if truthy("tracecat.sandbox.disableNsjail") {
        out.push(Finding {
            hint: Some("keep nsjail on where nodes allow privileged pods".into()),
            ..f(
                Severity::Warning,
                "nsjail-disabled",
                "tracecat.sandbox.disableNsjail",
                "the nsjail sandbox is disabled: user code runs without isolation",
            )
        });
    }
}

/// Runs every check. Errors in the tool itself (unreadable files) are
/// returned as Err; problems with the deployment are findings.
pub fn lint(req: &Request, opts: &Options) -> Result<Vec<Finding>> {
    if !(kube::MIN_MINOR..=kube::MAX_MINOR).contains(&opts.minor) {
        return Err(Error::usage(format!(
            "--kube-version 1.{} is outside the supported 1.{}-1.{}",
            opts.minor,
            kube::MIN_MINOR,
            kube::MAX_MINOR
        )));
    }
    let loaded = release::load(req)?;
    let origins = loaded.origins.clone();
    let chart_values = match &req.chart {
        Some(c) if !c.starts_with("oci://") && !c.ends_with(".tgz") => format!("{c}/values.yaml"),
        _ => format!("{}/values.yaml", loaded.chart.name()),
    };
    let mut out = findings(req, opts, loaded)?;
    let first_file = req.values.files.iter().find(|f| f.as_str() != "-");
    for f in &mut out {
        place(f, &origins, first_file.map(String::as_str), &chart_values);
    }
    Ok(out)
}

/// Gives a finding without a file the place to fix it (SARIF consumers such
/// as GitHub code scanning need one): where the values file set its path or
/// the nearest parent, else the first values file, else the chart's
/// values.yaml.
fn place(
    f: &mut Finding,
    origins: &crate::values::Origins,
    first_file: Option<&str>,
    chart_values: &str,
) {
    if f.file.is_some() {
        return;
    }
    let mut path = f.location.as_str();
    loop {
        if let Some((file, line, _)) = origins.get(path) {
            f.file = Some(file.clone());
            f.line = Some(*line);
            return;
        }
        match path.rfind(['.', '[']) {
            Some(i) => path = &path[..i],
            None => break,
        }
    }
    f.file = Some(first_file.unwrap_or(chart_values).to_string());
}

fn findings(req: &Request, opts: &Options, loaded: release::Loaded) -> Result<Vec<Finding>> {
    let mut out = Vec::new();
    for (_, v) in release::schema_violations(&loaded.chart, &loaded.values)? {
        let (file, line) = match loaded.origins.get(&v.path) {
            Some((f, l, _)) => (Some(f.clone()), Some(*l)),
            None => (None, None),
        };
        out.push(Finding {
            file,
            line,
            hint: v.hint,
            ..f(
                Severity::Error,
                "values-schema",
                if v.path.is_empty() {
                    "(root)".into()
                } else {
                    v.path
                },
                v.message,
            )
        });
    }
    // Values are kept for the deployment checks should the render fail.
    let vals = loaded.values.clone();
    // The deployment checks are about the Tracecat chart's values; another
    // chart gets the schema, Kubernetes and name checks only.
    let tracecat = loaded.chart.name() == "tracecat";
    let mut render_req = req.clone();
    render_req.skip_schema_validation = true;
    let rel = match release::render_loaded(&render_req, loaded) {
        Ok(r) => r,
        Err(e) => {
            out.push(Finding {
                file: e.file.clone(),
                line: e.line,
                hint: e.hint.clone(),
                ..f(
                    Severity::Error,
                    "render",
                    e.file.clone().unwrap_or_default(),
                    e.message.clone(),
                )
            });
            if tracecat {
                deployment_checks(&vals, &[], &mut out);
            }
            out.sort_by_key(|f| std::cmp::Reverse(f.severity));
            return Ok(out);
        }
    };
    let objects: Vec<&Manifest> = rel.manifests.iter().chain(rel.hooks.iter()).collect();
    let mut schemas = kube::Schemas::for_minor(opts.minor)
        .ok_or_else(|| Error::new(Kind::Other, "no embedded schemas for that version"))?;
    for m in &objects {
        if !m.doc().is_map() {
            continue;
        }
        match schemas.validate(m.doc()) {
            None => out.push(Finding {
                file: Some(m.path.clone()),
                ..f(
                    Severity::Warning,
                    "unknown-kind",
                    kind_name(m),
                    format!(
                        "no schema for {} {} in Kubernetes 1.{}",
                        m.doc()
                            .path("apiVersion")
                            .map(|v| v.to_string())
                            .unwrap_or_default(),
                        m.kind,
                        opts.minor
                    ),
                )
            }),
            Some(errs) => errors_at(m, "k8s-schema", errs, &mut out),
        }
        errors_at(m, "k8s-schema", kube::resource_rules(m.doc()), &mut out);
        errors_at(m, "k8s-names", kube::name_rules(m.doc()), &mut out);
    }
    if tracecat {
        deployment_checks(&rel.values, &objects, &mut out);
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    Ok(out)
}

/// One error finding per (path, message) an object check returned.
fn errors_at(
    m: &Manifest,
    rule: &'static str,
    errs: impl IntoIterator<Item = (String, String)>,
    out: &mut Vec<Finding>,
) {
    for (path, msg) in errs {
        out.push(Finding {
            file: Some(m.path.clone()),
            ..f(
                Severity::Error,
                rule,
                kind_name(m),
                format!("{path}: {msg}"),
            )
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity(&Value::from("500m")), Some(0.5));
        assert_eq!(
            parse_quantity(&Value::from("2Gi")),
            Some(2.0 * 1024.0 * 1024.0 * 1024.0)
        );
        assert_eq!(parse_quantity(&Value::Float(2.0)), Some(2.0));
        assert_eq!(parse_quantity(&Value::from("x")), None);
    }
}
