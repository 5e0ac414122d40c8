//! `diff`: what an upgrade changes, object by object, with the findings that
//! make an upgrade fail or lose data (immutable fields, lost core-secret
//! references, removed hooks). Secret data is never shown, only which keys changed.

use crate::values::{yaml, yamlout, Map, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// (apiVersion, kind, namespace, name)
pub type Key = (String, String, String, String);

pub fn key_of(v: &Value) -> Key {
    let s = |p: &str| v.path(p).map(|x| x.to_string()).unwrap_or_default();
    (
        s("apiVersion"),
        s("kind"),
        s("metadata.namespace"),
        s("metadata.name"),
    )
}

pub fn key_label(k: &Key) -> String {
    if k.2.is_empty() {
        format!("{} {}/{}", k.0, k.1, k.3)
    } else {
        format!("{} {}/{} (namespace {})", k.0, k.1, k.3, k.2)
    }
}

/// Objects of a manifest stream, keyed; later duplicates win.
pub fn objects(text: &str, origin: &str) -> crate::Result<BTreeMap<Key, Value>> {
    let docs = yaml::parse_documents(text, None).map_err(|e| {
        crate::Error::new(
            crate::error::Kind::Parse,
            format!("{origin}: {}", e.message),
        )
        .with_file(origin)
        .at(e.line, e.col)
    })?;
    let mut out = BTreeMap::new();
    add_objects(&mut out, docs);
    Ok(out)
}

/// Adds parsed documents by key, unpacking `kind: *List` documents into
/// their items; documents that are not objects are skipped.
pub fn add_objects(out: &mut BTreeMap<Key, Value>, docs: impl IntoIterator<Item = Value>) {
    for mut d in docs {
        let is_list = d
            .path("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k.ends_with("List"))
            && matches!(d.path("items"), Some(Value::List(_)));
        if is_list {
            if let Some(Value::List(items)) = d.as_map_mut().and_then(|m| m.remove("items")) {
                for it in items {
                    out.insert(key_of(&it), it);
                }
                continue;
            }
        }
        if d.is_map() && d.path("kind").is_some() {
            out.insert(key_of(&d), d);
        }
    }
}

fn is_secret(k: &Key) -> bool {
    k.1 == "Secret"
}

/// A Secret with every data value replaced, so no diff can show one.
fn redact(v: &Value) -> Value {
    let mut v = v.clone();
    if let Value::Map(m) = &mut v {
        for field in ["data", "stringData"] {
            if let Some(Value::Map(d)) = m.get_mut(field) {
                for val in d.values_mut() {
                    *val = Value::String("(hidden)".into());
                }
            }
        }
    }
    v
}

fn secret_values(v: &Value) -> Map {
    let mut out = Map::new();
    for field in ["data", "stringData"] {
        if let Some(Value::Map(d)) = v.path(field) {
            for (k, val) in d {
                out.insert(k.clone(), val.clone());
            }
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Added(Key),
    Removed(Key),
    Changed {
        key: Key,
        diff: String,
        secret_keys: Vec<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub object: String,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Report {
    pub changes: Vec<Change>,
    pub findings: Vec<Finding>,
}

fn unified(old: &str, new: &str, label: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("old/{label}"), &format!("new/{label}"))
        .to_string()
}

fn text_of(v: &Value) -> String {
    yamlout::to_yaml_document(v)
}

fn hook_of(v: &Value) -> Option<String> {
    v.path("metadata.annotations")
        .and_then(Value::as_map)
        .and_then(|a| a.get("helm.sh/hook"))
        .map(|h| h.to_string())
}

/// Core-secret references: (secret key) -> Secret names, across workloads.
fn core_refs(objs: &BTreeMap<Key, Value>) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    fn walk(v: &Value, out: &mut BTreeMap<String, Vec<String>>) {
        match v {
            Value::Map(m) => {
                if let (Some(Value::String(name)), Some(Value::String(key))) =
                    (m.get("name"), m.get("key"))
                {
                    if crate::secrets::KEYS.contains(&key.as_str()) {
                        let e = out.entry(key.clone()).or_default();
                        if !e.contains(name) {
                            e.push(name.clone());
                        }
                    }
                }
                m.values().for_each(|x| walk(x, out));
            }
            Value::List(l) => l.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    for v in objs.values() {
        walk(v, &mut out);
    }
    out
}

/// Compares two renders.
pub fn diff(old: &BTreeMap<Key, Value>, new: &BTreeMap<Key, Value>) -> Report {
    let mut r = Report::default();
    for (k, nv) in new {
        match old.get(k) {
            None => r.changes.push(Change::Added(k.clone())),
            Some(ov) if ov != nv => {
                let (a, b) = if is_secret(k) {
                    (Cow::Owned(redact(ov)), Cow::Owned(redact(nv)))
                } else {
                    (Cow::Borrowed(ov), Cow::Borrowed(nv))
                };
                let label = format!("{}/{}", k.1, k.3);
                let secret_keys = if is_secret(k) {
                    let (sa, sb) = (secret_values(ov), secret_values(nv));
                    sa.keys()
                        .chain(sb.keys())
                        .filter(|key| sa.get(*key) != sb.get(*key))
                        .cloned()
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect()
                } else {
                    Vec::new()
                };
                let diff = unified(&text_of(&a), &text_of(&b), &label);
                r.changes.push(Change::Changed {
                    key: k.clone(),
                    diff,
                    secret_keys,
                });
                // Upgrade safety: fields the API server will not change in place.
                let changed = |p: &str| ov.path(p) != nv.path(p);
                match k.1.as_str() {
                    "Deployment" | "StatefulSet" | "DaemonSet" if changed("spec.selector") => r.findings.push(Finding {
                        object: label.clone(),
                        message: "spec.selector changed: it is immutable, the upgrade fails until the object is deleted and recreated".into(),
                    }),
                    "Job" if changed("spec.template") => r.findings.push(Finding {
                        object: label.clone(),
                        message: "spec.template changed: Job templates are immutable; a hook Job is recreated, a plain Job must be deleted first".into(),
                    }),
                    "Service" if ov.path("spec.clusterIP").is_some() && changed("spec.clusterIP") => r.findings.push(Finding {
                        object: label.clone(),
                        message: "spec.clusterIP changed: it is immutable once assigned".into(),
                    }),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    for k in old.keys() {
        if !new.contains_key(k) {
            r.changes.push(Change::Removed(k.clone()));
            if let Some(h) = old.get(k).and_then(hook_of) {
                r.findings.push(Finding {
                    object: format!("{}/{}", k.1, k.3),
                    message: format!(
                        "hook removed ({h}): whatever it did before install/upgrade no longer runs"
                    ),
                });
            }
        }
    }
    let (ro, rn) = (core_refs(old), core_refs(new));
    for (key, names) in &ro {
        match rn.get(key) {
            None => r.findings.push(Finding {
                object: format!("core secret {key}"),
                message: format!("no workload references {key} any more (was in Secret {}): losing it makes encrypted credentials unrecoverable and invalidates webhook URLs", names.join(", ")),
            }),
            Some(n) if n != names => r.findings.push(Finding {
                object: format!("core secret {key}"),
                message: format!("{key} moves from Secret {} to {}: the new Secret must hold the same value, or encrypted credentials become unrecoverable and webhook URLs change", names.join(", "), n.join(", ")),
            }),
            _ => {}
        }
    }
    r
}

fn colour(diff: &str) -> String {
    diff.lines()
        .map(|l| {
            if l.starts_with("+++") || l.starts_with("---") {
                format!("\x1b[1m{l}\x1b[0m")
            } else if l.starts_with('+') {
                format!("\x1b[32m{l}\x1b[0m")
            } else if l.starts_with('-') {
                format!("\x1b[31m{l}\x1b[0m")
            } else if l.starts_with("@@") {
                format!("\x1b[36m{l}\x1b[0m")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

pub fn text(r: &Report, color: bool) -> String {
    let mut out = String::new();
    for c in &r.changes {
        match c {
            Change::Added(k) => out.push_str(&format!("added:   {}\n", key_label(k))),
            Change::Removed(k) => out.push_str(&format!("removed: {}\n", key_label(k))),
            Change::Changed {
                key,
                diff,
                secret_keys,
            } => {
                out.push_str(&format!("changed: {}\n", key_label(key)));
                if !secret_keys.is_empty() {
                    out.push_str(&format!(
                        "  secret keys changed (values hidden): {}\n",
                        secret_keys.join(", ")
                    ));
                }
                out.push_str(&if color { colour(diff) } else { diff.clone() });
            }
        }
    }
    if !r.findings.is_empty() {
        out.push_str("\nupgrade safety:\n");
        for f in &r.findings {
            out.push_str(&format!("  [WARNING] {}: {}\n", f.object, f.message));
        }
    }
    let (a, rm, ch) = counts(r);
    out.push_str(&format!(
        "\n{a} added, {rm} removed, {ch} changed, {} upgrade finding(s)\n",
        r.findings.len()
    ));
    out
}

fn counts(r: &Report) -> (usize, usize, usize) {
    let a = r
        .changes
        .iter()
        .filter(|c| matches!(c, Change::Added(_)))
        .count();
    let rm = r
        .changes
        .iter()
        .filter(|c| matches!(c, Change::Removed(_)))
        .count();
    (a, rm, r.changes.len() - a - rm)
}

pub fn json(r: &Report) -> String {
    use serde_json::json;
    let obj = |k: &Key| json!({"apiVersion": k.0, "kind": k.1, "namespace": k.2, "name": k.3});
    let changes: Vec<serde_json::Value> = r
        .changes
        .iter()
        .map(|c| match c {
            Change::Added(k) => json!({"change": "added", "object": obj(k)}),
            Change::Removed(k) => json!({"change": "removed", "object": obj(k)}),
            Change::Changed { key, diff, secret_keys } => {
                json!({"change": "changed", "object": obj(key), "diff": diff, "secretKeysChanged": secret_keys})
            }
        })
        .collect();
    let findings: Vec<serde_json::Value> = r
        .findings
        .iter()
        .map(|f| json!({"object": f.object, "message": f.message}))
        .collect();
    format!(
        "{}\n",
        serde_json::to_string_pretty(&json!({"changes": changes, "upgradeFindings": findings}))
            .unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objs(s: &str) -> BTreeMap<Key, Value> {
        objects(s, "t").unwrap()
    }

    #[test]
    fn secrets_are_never_shown() {
        let a = objs("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {serviceKey: old-value-123, other: same}\n");
        let b = objs("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {serviceKey: new-value-456, other: same}\n");
        let r = diff(&a, &b);
        let t = text(&r, false) + &json(&r);
        assert!(!t.contains("old-value-123") && !t.contains("new-value-456"));
        assert!(t.contains("secret keys changed (values hidden): serviceKey"));
    }

    #[test]
    fn immutable_fields_and_secret_references() {
        let a = objs("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    spec:\n      containers:\n        - env:\n            - valueFrom: {secretKeyRef: {name: core, key: dbEncryptionKey}}\n");
        let b = objs("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {a: c}}\n  template:\n    spec:\n      containers:\n        - env:\n            - valueFrom: {secretKeyRef: {name: other, key: dbEncryptionKey}}\n");
        let r = diff(&a, &b);
        assert!(r
            .findings
            .iter()
            .any(|f| f.message.contains("spec.selector")));
        assert!(r
            .findings
            .iter()
            .any(|f| f.message.contains("moves from Secret core to other")));
    }

    #[test]
    fn removed_hooks_are_reported() {
        let a = objs("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, annotations: {helm.sh/hook: pre-install}}\n");
        let r = diff(&a, &BTreeMap::new());
        assert!(matches!(r.changes[0], Change::Removed(_)));
        assert!(r.findings[0].message.contains("hook removed"));
    }
}
