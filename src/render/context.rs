//! What templates see: `Values`, `Release`, `Chart`, `Capabilities`,
//! `Template`, `Files`, `Subcharts`, and `ctx` (the whole thing, Helm's `.`,
//! for passing to macros and `tpl`).

use super::convert::map_to_jinja;
use crate::chart::{ignore::glob_match, Chart, Files as ChartFiles};
use crate::values::{Map, Value};
use minijinja::value::{Enumerator, Object, ObjectRepr, Value as JValue};
use minijinja::{Error as JError, ErrorKind, State};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Release and cluster facts for a render (Helm's template mode defaults).
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub release_name: String,
    pub namespace: String,
    pub is_upgrade: bool,
    pub revision: i64,
    /// e.g. "v1.35.0"
    pub kube_version: String,
    pub extra_api_versions: Vec<String>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            release_name: "release-name".into(),
            namespace: "default".into(),
            is_upgrade: false,
            revision: 1,
            kube_version: DEFAULT_KUBE_VERSION.into(),
            extra_api_versions: Vec::new(),
        }
    }
}

/// Helm 4.1's template-mode default.
pub const DEFAULT_KUBE_VERSION: &str = "v1.35.0";
pub const HELM_VERSION: &str = "v4.1.4";

/// Helm 4.1.4's default `.Capabilities.APIVersions`, in its order.
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "autoscaling/v2beta1",
    "autoscaling/v2beta2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1alpha3",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1",
    "scheduling.k8s.io/v1alpha1",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1alpha1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
    "apiregistration.k8s.io/v1beta1",
];

/// `.Capabilities.APIVersions`: a list with a `Has` method.
#[derive(Debug)]
pub struct ApiVersions(pub Vec<String>);

impl Object for ApiVersions {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }
    fn get_value(self: &Arc<Self>, key: &JValue) -> Option<JValue> {
        let i = key.as_usize()?;
        self.0.get(i).map(|s| JValue::from(s.as_str()))
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Seq(self.0.len())
    }
    fn call_method(
        self: &Arc<Self>,
        _s: &State,
        name: &str,
        args: &[JValue],
    ) -> Result<JValue, JError> {
        match name {
            "Has" | "has" => {
                let want = args.first().and_then(|a| a.as_str()).unwrap_or_default();
                Ok(JValue::from(self.0.iter().any(|v| v == want)))
            }
            _ => Err(JError::new(
                ErrorKind::UnknownMethod,
                format!("APIVersions has no method {name}"),
            )),
        }
    }
}

/// `.Files`: the chart's non-template files, read-only.
#[derive(Debug)]
pub struct FilesObj(pub BTreeMap<String, bytes::Bytes>);

impl FilesObj {
    pub fn from_chart(files: &ChartFiles) -> FilesObj {
        FilesObj(
            files
                .iter()
                .filter(|(p, _)| {
                    !p.starts_with("templates/")
                        && p.as_str() != "Chart.yaml"
                        && p.as_str() != "values.yaml"
                })
                .map(|(p, d)| (p.clone(), d.clone()))
                .collect(),
        )
    }
    fn get(&self, name: &str) -> String {
        self.0
            .get(name)
            .map(|d| String::from_utf8_lossy(d).into_owned())
            .unwrap_or_default()
    }
}

impl Object for FilesObj {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }
    fn get_value(self: &Arc<Self>, key: &JValue) -> Option<JValue> {
        key.as_str()
            .and_then(|k| self.0.get(k))
            .map(|d| JValue::from(String::from_utf8_lossy(d).into_owned()))
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.keys().map(|k| JValue::from(k.as_str())).collect())
    }
    fn call_method(
        self: &Arc<Self>,
        _s: &State,
        name: &str,
        args: &[JValue],
    ) -> Result<JValue, JError> {
        let arg = |i: usize| {
            args.get(i)
                .and_then(|a| a.as_str())
                .unwrap_or_default()
                .to_string()
        };
        match name {
            "Get" | "get" => Ok(JValue::from(self.get(&arg(0)))),
            "GetBytes" | "getBytes" => Ok(JValue::from_bytes(
                self.0.get(&arg(0)).map(|d| d.to_vec()).unwrap_or_default(),
            )),
            "Glob" | "glob" => {
                let pat = arg(0);
                Ok(JValue::from_object(FilesObj(
                    self.0
                        .iter()
                        .filter(|(p, _)| glob_match(&pat, p))
                        .map(|(p, d)| (p.clone(), d.clone()))
                        .collect(),
                )))
            }
            "Lines" | "lines" => Ok(JValue::from(
                self.get(&arg(0))
                    .split('\n')
                    .map(|l| JValue::from(l.to_string()))
                    .collect::<Vec<_>>(),
            )),
            "AsConfig" | "asConfig" => {
                let m: Map = self
                    .0
                    .iter()
                    .map(|(p, d)| {
                        (
                            basename(p),
                            Value::String(String::from_utf8_lossy(d).into_owned()),
                        )
                    })
                    .collect();
                Ok(JValue::from(crate::values::yamlout::to_yaml(&Value::Map(
                    m,
                ))))
            }
            "AsSecrets" | "asSecrets" => {
                use base64::Engine;
                let m: Map = self
                    .0
                    .iter()
                    .map(|(p, d)| {
                        (
                            basename(p),
                            Value::String(base64::engine::general_purpose::STANDARD.encode(&d[..])),
                        )
                    })
                    .collect();
                Ok(JValue::from(crate::values::yamlout::to_yaml(&Value::Map(
                    m,
                ))))
            }
            _ => Err(JError::new(
                ErrorKind::UnknownMethod,
                format!("Files has no method {name}"),
            )),
        }
    }
}

fn basename(p: &str) -> String {
    p.rsplit('/').next().unwrap_or(p).to_string()
}

/// Helm's `.` for one chart: every top-level object, plus `ctx` (itself).
#[derive(Debug, Clone)]
pub struct Dot {
    values: JValue,
    release: JValue,
    capabilities: JValue,
    chart: JValue,
    files: JValue,
    subcharts: JValue,
    /// `Template`, set for each file (see [`Dot::with_template`]).
    template: Option<JValue>,
}

impl Object for Dot {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }
    // Looked up thousands of times a render: a match on the name, not a
    // map search.
    fn get_value(self: &Arc<Self>, key: &JValue) -> Option<JValue> {
        Some(match key.as_str()? {
            "Values" => self.values.clone(),
            "Release" => self.release.clone(),
            "Chart" => self.chart.clone(),
            "Capabilities" => self.capabilities.clone(),
            "Files" => self.files.clone(),
            "Subcharts" => self.subcharts.clone(),
            "Template" => self.template.clone()?,
            "ctx" => JValue::from_dyn_object(self.clone()),
            _ => return None,
        })
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        // In name order, as a map of them would list them.
        let mut keys = vec!["Capabilities", "Chart", "Files", "Release", "Subcharts"];
        if self.template.is_some() {
            keys.push("Template");
        }
        keys.push("Values");
        Enumerator::Values(keys.into_iter().map(JValue::from).collect())
    }
}

impl Dot {
    /// A copy with `Template` set for one file.
    pub fn with_template(&self, name: &str, base_path: &str) -> Dot {
        let mut t = BTreeMap::new();
        t.insert("Name".to_string(), JValue::from(name));
        t.insert("BasePath".to_string(), JValue::from(base_path));
        Dot {
            template: Some(JValue::from(t)),
            ..self.clone()
        }
    }
}

fn chart_object(chart: &Chart, is_root: bool) -> JValue {
    // Chart.yaml fields under Helm's capitalised names.
    let m = &chart.metadata;
    let mut out = BTreeMap::new();
    let names = [
        ("name", "Name"),
        ("version", "Version"),
        ("appVersion", "AppVersion"),
        ("description", "Description"),
        ("type", "Type"),
        ("kubeVersion", "KubeVersion"),
        ("home", "Home"),
        ("icon", "Icon"),
        ("apiVersion", "APIVersion"),
        ("condition", "Condition"),
        ("tags", "Tags"),
        ("deprecated", "Deprecated"),
        ("annotations", "Annotations"),
        ("keywords", "Keywords"),
        ("sources", "Sources"),
        ("maintainers", "Maintainers"),
        ("dependencies", "Dependencies"),
    ];
    for (src, dst) in names {
        let v = match m.get(src) {
            Some(v) => super::convert::to_jinja(v),
            None => match dst {
                "Deprecated" => JValue::from(false),
                _ => JValue::from(""),
            },
        };
        out.insert(dst.to_string(), v);
    }
    out.insert("IsRoot".to_string(), JValue::from(is_root));
    JValue::from(out)
}

fn kube_version_object(v: &str) -> JValue {
    let (major, minor) = crate::version::kube_numbers(v)
        .map(|c| (c[0].to_string(), c[1].to_string()))
        .unwrap_or_default();
    let mut m = BTreeMap::new();
    m.insert("Version".to_string(), JValue::from(v));
    m.insert("GitVersion".to_string(), JValue::from(v));
    m.insert("Major".to_string(), JValue::from(major));
    m.insert("Minor".to_string(), JValue::from(minor));
    JValue::from(m)
}

/// Builds the `.` of every chart in the tree, keyed by the chart's full
/// path (`tracecat`, `tracecat/charts/temporal`).
pub fn build_dots(
    root: &Chart,
    values: JValue,
    opts: &RenderOptions,
) -> BTreeMap<String, Arc<Dot>> {
    let mut release = BTreeMap::new();
    release.insert("Name".to_string(), JValue::from(opts.release_name.as_str()));
    release.insert(
        "Namespace".to_string(),
        JValue::from(opts.namespace.as_str()),
    );
    release.insert("IsInstall".to_string(), JValue::from(!opts.is_upgrade));
    release.insert("IsUpgrade".to_string(), JValue::from(opts.is_upgrade));
    release.insert("Revision".to_string(), JValue::from(opts.revision));
    release.insert("Service".to_string(), JValue::from("Helm"));
    let release = JValue::from(release);

    let mut apis: Vec<String> = DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect();
    apis.extend(opts.extra_api_versions.iter().cloned());
    let mut caps = BTreeMap::new();
    caps.insert(
        "KubeVersion".to_string(),
        kube_version_object(&opts.kube_version),
    );
    caps.insert(
        "APIVersions".to_string(),
        JValue::from_object(ApiVersions(apis)),
    );
    let mut hv = BTreeMap::new();
    hv.insert("Version".to_string(), JValue::from(HELM_VERSION));
    caps.insert("HelmVersion".to_string(), JValue::from(hv));
    let caps = JValue::from(caps);

    let mut out = BTreeMap::new();
    // A subchart's values are a table of its parent's: converted once, with
    // the parent's, and shared.
    fn rec(
        c: &Chart,
        path: String,
        vals: JValue,
        is_root: bool,
        release: &JValue,
        caps: &JValue,
        out: &mut BTreeMap<String, Arc<Dot>>,
    ) -> JValue {
        let mut subcharts = BTreeMap::new();
        for d in &c.dependencies {
            let sv = match vals.get_attr(&d.name()) {
                Ok(v) if v.kind() == minijinja::value::ValueKind::Map => v,
                _ => map_to_jinja(&Map::new()),
            };
            let sub = rec(
                d,
                format!("{path}/charts/{}", d.name()),
                sv,
                false,
                release,
                caps,
                out,
            );
            subcharts.insert(d.name(), sub);
        }
        let dot = Arc::new(Dot {
            values: vals,
            release: release.clone(),
            capabilities: caps.clone(),
            chart: chart_object(c, is_root),
            files: JValue::from_object(FilesObj::from_chart(&c.files)),
            subcharts: JValue::from(subcharts),
            template: None,
        });
        out.insert(path, dot.clone());
        JValue::from_dyn_object(dot)
    }
    rec(root, root.name(), values, true, &release, &caps, &mut out);
    out
}
