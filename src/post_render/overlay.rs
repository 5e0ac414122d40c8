//! The platform overlay a post-render applies to every object: placement,
//! labels, pod annotations, image pull secrets, registry rewrites, default
//! resources, then the user's patches.

use super::patch::Patch;
use crate::values::{Map, Value};

#[derive(Debug, Default, Clone)]
pub struct Overlay {
    pub architecture: Option<String>,
    pub node_selector: Map,
    pub tolerations: Vec<Value>,
    pub affinity: Option<Value>,
    pub common_labels: Map,
    pub pod_annotations: Map,
    pub image_pull_secrets: Vec<String>,
    /// (from prefix, to prefix), longest first.
    pub registry_rewrite: Vec<(String, String)>,
    /// With `postRender.defaultResources`: resources by
    /// `app.kubernetes.io/component`, for containers that set none.
    pub default_resources: Map,
    pub patches: Vec<Patch>,
}

/// Components of the resource table: (component label, values key).
const COMPONENTS: [(&str, &str); 8] = [
    ("ui", "ui"),
    ("api", "api"),
    ("worker", "worker"),
    ("executor", "executor"),
    ("agent-executor", "agentExecutor"),
    ("agent-worker", "agentWorker"),
    ("litellm", "litellm"),
    ("mcp", "mcp"),
];

/// The resource table: each component's `resources` from the user's values,
/// else from the embedded chart's defaults (one source for both).
fn resource_table(user: &Map) -> Result<Map, String> {
    let chart = crate::chart::embedded().map_err(|e| e.to_string())?;
    let mut table = Map::new();
    for (component, key) in COMPONENTS {
        let path = format!("{key}.resources");
        let found = crate::values::map_path(user, &path)
            .or_else(|| crate::values::map_path(&chart.values, &path));
        if let Some(r) = found.filter(|r| r.truthy()) {
            table.insert(component.to_string(), r.clone());
        }
    }
    Ok(table)
}

fn map_of(v: Option<&Value>) -> Map {
    v.and_then(Value::as_map).cloned().unwrap_or_default()
}

/// What post-render reads under each section it owns, with the kind of
/// value each takes.
const SCHEDULING: [(&str, Kind); 4] = [
    ("architecture", Kind::Text),
    ("nodeSelector", Kind::Map),
    ("tolerations", Kind::List),
    ("affinity", Kind::Map),
];
const POST_RENDER: [(&str, Kind); 6] = [
    ("commonLabels", Kind::Map),
    ("podAnnotations", Kind::Map),
    ("imagePullSecrets", Kind::List),
    ("imageRegistryRewrite", Kind::Map),
    ("defaultResources", Kind::Bool),
    ("patches", Kind::List),
];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Text,
    Map,
    List,
    Bool,
}

impl Kind {
    fn accepts(self, v: &Value) -> bool {
        match self {
            Kind::Text => matches!(v, Value::String(_) | Value::Null),
            Kind::Map => matches!(v, Value::Map(_) | Value::Null),
            Kind::List => matches!(v, Value::List(_) | Value::Null),
            Kind::Bool => matches!(v, Value::Bool(_) | Value::Null),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Kind::Text => "a string",
            Kind::Map => "a map",
            Kind::List => "a list",
            Kind::Bool => "true or false",
        }
    }
}

fn unknown(path: &str, key: &str, known: &[&str]) -> String {
    let full = if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    };
    match crate::values::schema::did_you_mean(key, known.iter().copied()) {
        Some(k) if path.is_empty() => format!("{full}: unknown overlay key (did you mean {k}?)"),
        Some(k) => format!("{full}: unknown overlay key (did you mean {path}.{k}?)"),
        None => format!(
            "{full}: unknown overlay key (post-render reads {})",
            known.join(", ")
        ),
    }
}

/// Checks the overlay: the sections post-render owns (`scheduling`,
/// `postRender`, `podAnnotations`) hold only what it reads, with the right
/// kinds; other top-level keys must be keys of the chart's values (a values
/// file shared with the chart), so a misspelt section is caught too.
/// Returns warnings for chart settings under `scheduling` it does not apply.
pub fn check(v: &Map) -> Result<Vec<String>, String> {
    let chart = crate::chart::embedded().map_err(|e| e.to_string())?;
    let mut top: Vec<&str> = chart.values.keys().map(String::as_str).collect();
    top.push("postRender");
    let mut warnings = Vec::new();
    for (k, val) in v {
        if !top.contains(&k.as_str()) {
            return Err(unknown(
                "",
                k,
                &["scheduling", "podAnnotations", "postRender"],
            ));
        }
        let section: &[(&str, Kind)] = match k.as_str() {
            "scheduling" => &SCHEDULING,
            "postRender" => &POST_RENDER,
            "podAnnotations" => {
                if !Kind::Map.accepts(val) {
                    return Err("podAnnotations: expected a map of annotations".into());
                }
                continue;
            }
            _ => continue,
        };
        let Some(m) = val.as_map() else {
            if matches!(val, Value::Null) {
                continue;
            }
            return Err(format!("{k}: expected a map"));
        };
        let known: Vec<&str> = section.iter().map(|(n, _)| *n).collect();
        let chart_keys: Vec<String> = match chart.values.get(k) {
            Some(Value::Map(cm)) => cm.keys().cloned().collect(),
            _ => Vec::new(),
        };
        for (sub, sv) in m {
            match section.iter().find(|(n, _)| n == sub) {
                Some((_, kind)) if !kind.accepts(sv) => {
                    return Err(format!("{k}.{sub}: expected {}", kind.name()));
                }
                Some(_) => {}
                None if chart_keys.contains(sub) => warnings.push(format!(
                    "warning: {k}.{sub}: a chart setting post-render does not apply; it is ignored"
                )),
                None => return Err(unknown(k, sub, &known)),
            }
        }
    }
    Ok(warnings)
}

impl Overlay {
    /// From the user's values (not the chart's defaults: a post-renderer
    /// changes only what it is asked to), checked with [`check`]; with the
    /// warnings for settings it ignores.
    pub fn from_values(v: &Map) -> Result<(Overlay, Vec<String>), String> {
        let warnings = check(v)?;
        Ok((Self::read(v)?, warnings))
    }

    fn read(v: &Map) -> Result<Overlay, String> {
        let at = |p: &str| crate::values::map_path(v, p);
        let empty = Value::Map(Map::new());
        let pr = at("postRender").unwrap_or(&empty);
        let mut o = Overlay {
            architecture: at("scheduling.architecture")
                .map(|a| a.to_string())
                .filter(|a| !a.is_empty()),
            node_selector: map_of(at("scheduling.nodeSelector")),
            tolerations: match at("scheduling.tolerations") {
                Some(Value::List(l)) => l.clone(),
                _ => Vec::new(),
            },
            affinity: at("scheduling.affinity").filter(|a| a.truthy()).cloned(),
            common_labels: map_of(pr.path("commonLabels")),
            pod_annotations: map_of(at("podAnnotations")),
            ..Default::default()
        };
        if pr.path("defaultResources").is_some_and(Value::truthy) {
            o.default_resources = resource_table(v)?;
        }
        o.pod_annotations.extend(map_of(pr.path("podAnnotations")));
        if let Some(Value::List(l)) = pr.path("imagePullSecrets") {
            for s in l {
                let name = s
                    .path("name")
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| s.to_string());
                o.image_pull_secrets.push(name);
            }
        }
        for (from, to) in map_of(pr.path("imageRegistryRewrite")) {
            o.registry_rewrite.push((
                from.trim_end_matches('/').to_string(),
                to.to_string().trim_end_matches('/').to_string(),
            ));
        }
        o.registry_rewrite
            .sort_by_key(|(f, _)| std::cmp::Reverse(f.len()));
        if let Some(Value::List(l)) = pr.path("patches") {
            for (i, p) in l.iter().enumerate() {
                o.patches.push(Patch::from_value(p, i)?);
            }
        }
        Ok(o)
    }

    fn rewrite_image(&self, image: &str) -> Option<String> {
        for (from, to) in &self.registry_rewrite {
            if let Some(rest) = image.strip_prefix(from.as_str()) {
                if rest.starts_with('/') {
                    return Some(format!("{to}{rest}"));
                }
            }
        }
        None
    }

    /// Applies the overlay; returns whether anything changed.
    pub fn apply(&self, doc: &mut Value) -> Result<bool, String> {
        let before = doc.clone();
        if !self.common_labels.is_empty() {
            if let Some(meta) = doc
                .as_map_mut()
                .and_then(|m| m.get_mut("metadata"))
                .and_then(Value::as_map_mut)
            {
                let labels = meta
                    .entry("labels".to_string())
                    .or_insert_with(|| Value::Map(Map::new()));
                if let Value::Map(l) = labels {
                    for (k, v) in &self.common_labels {
                        l.insert(k.clone(), v.clone());
                    }
                } else {
                    *labels = Value::Map(self.common_labels.clone());
                }
            }
        }
        let component = doc
            .path("metadata.labels")
            .and_then(Value::as_map)
            .and_then(|l| l.get("app.kubernetes.io/component"))
            .map(|c| c.to_string());
        let kind = doc.path("kind").map(|k| k.to_string()).unwrap_or_default();
        let template_path: &[&str] = match kind.as_str() {
            "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "Job"
            | "ReplicationController" => &["spec", "template"],
            "CronJob" => &["spec", "jobTemplate", "spec", "template"],
            "Pod" => &[],
            _ => &["-"],
        };
        if template_path != ["-"] {
            let mut cur: Option<&mut Value> = Some(doc);
            for p in template_path {
                cur = cur.and_then(|c| c.as_map_mut()).and_then(|m| m.get_mut(*p));
            }
            if let Some(template) = cur {
                self.apply_pod_template(template, component.as_deref());
            }
        }
        for p in &self.patches {
            p.apply(doc)?;
        }
        Ok(*doc != before)
    }

    fn apply_pod_template(&self, template: &mut Value, component: Option<&str>) {
        let Some(t) = template.as_map_mut() else {
            return;
        };
        let meta = t
            .entry("metadata".to_string())
            .or_insert_with(|| Value::Map(Map::new()));
        if !meta.is_map() {
            *meta = Value::Map(Map::new());
        }
        let meta = meta.as_map_mut().expect("made a map");
        for (field, extra) in [
            ("labels", &self.common_labels),
            ("annotations", &self.pod_annotations),
        ] {
            if extra.is_empty() {
                continue;
            }
            let m = meta
                .entry(field.to_string())
                .or_insert_with(|| Value::Map(Map::new()));
            if !m.is_map() {
                *m = Value::Map(Map::new());
            }
            if let Value::Map(m) = m {
                for (k, v) in extra {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
        let Some(spec) = t.get_mut("spec").and_then(Value::as_map_mut) else {
            return;
        };
        if self.architecture.is_some() || !self.node_selector.is_empty() {
            let ns = spec
                .entry("nodeSelector".to_string())
                .or_insert_with(|| Value::Map(Map::new()));
            // The overlay is the user's explicit intent: it wins over what
            // the manifest pins. A nodeSelector key it names beats its
            // `architecture`.
            if let Value::Map(ns) = ns {
                if let Some(a) = &self.architecture {
                    ns.insert("kubernetes.io/arch".to_string(), Value::String(a.clone()));
                }
                for (k, v) in &self.node_selector {
                    ns.insert(k.clone(), v.clone());
                }
            }
        }
        if !self.tolerations.is_empty() {
            let tol = spec
                .entry("tolerations".to_string())
                .or_insert_with(|| Value::List(Vec::new()));
            if let Value::List(l) = tol {
                for t in &self.tolerations {
                    if !l.contains(t) {
                        l.push(t.clone());
                    }
                }
            }
        }
        if let Some(a) = &self.affinity {
            spec.entry("affinity".to_string())
                .or_insert_with(|| a.clone());
        }
        if !self.image_pull_secrets.is_empty() {
            let ips = spec
                .entry("imagePullSecrets".to_string())
                .or_insert_with(|| Value::List(Vec::new()));
            if let Value::List(l) = ips {
                for name in &self.image_pull_secrets {
                    let entry =
                        Value::Map([("name".to_string(), Value::String(name.clone()))].into());
                    if !l.contains(&entry) {
                        l.push(entry);
                    }
                }
            }
        }
        for list in ["containers", "initContainers"] {
            let Some(Value::List(cs)) = spec.get_mut(list) else {
                continue;
            };
            for c in cs.iter_mut() {
                let Some(c) = c.as_map_mut() else { continue };
                if let Some(Value::String(img)) = c.get("image") {
                    if let Some(new) = self.rewrite_image(img) {
                        c.insert("image".into(), Value::String(new));
                    }
                }
                let defaults = component.and_then(|comp| self.default_resources.get(comp));
                if let (true, Some(r)) = (list == "containers", defaults) {
                    if c.get("resources").is_none_or(|r| !r.truthy()) {
                        c.insert("resources".into(), r.clone());
                    }
                }
            }
        }
    }
}
