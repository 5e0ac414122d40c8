//! User patches in kustomize's two forms: strategic-merge-style patches (a
//! partial object merged in: maps deeply, lists of named items by name,
//! `null` deletes, other lists replaced) and RFC 6902 JSON patches; each with
//! a target selector.

use crate::values::Value;

/// Which objects a patch applies to; unset fields match anything.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// `key=value,key2=value2` (equality only).
    pub label_selector: Option<String>,
}

fn glob(pattern: &str, s: &str) -> bool {
    crate::chart::ignore::glob_match(pattern, s)
}

impl Target {
    pub fn from_value(v: &Value) -> Target {
        let s = |k: &str| v.path(k).map(|x| x.to_string());
        Target {
            group: s("group"),
            version: s("version"),
            kind: s("kind"),
            name: s("name"),
            namespace: s("namespace"),
            label_selector: s("labelSelector"),
        }
    }

    pub fn matches(&self, obj: &Value) -> bool {
        let api = obj
            .path("apiVersion")
            .map(|v| v.to_string())
            .unwrap_or_default();
        let (group, version) = match api.rsplit_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), api.clone()),
        };
        let field = |p: &str| obj.path(p).map(|v| v.to_string()).unwrap_or_default();
        if self.group.as_ref().is_some_and(|g| g != &group)
            || self.version.as_ref().is_some_and(|v| v != &version)
            || self.kind.as_ref().is_some_and(|k| k != &field("kind"))
            || self
                .name
                .as_ref()
                .is_some_and(|n| !glob(n, &field("metadata.name")))
            || self
                .namespace
                .as_ref()
                .is_some_and(|n| n != &field("metadata.namespace"))
        {
            return false;
        }
        if let Some(sel) = &self.label_selector {
            let none = crate::values::Map::new();
            let labels = obj
                .path("metadata.labels")
                .and_then(Value::as_map)
                .unwrap_or(&none);
            for term in sel.split(',').map(str::trim).filter(|t| !t.is_empty()) {
                let ok = match term.split_once("!=") {
                    Some((k, v)) => {
                        labels.get(k.trim()).map(|x| x.to_string()) != Some(v.trim().to_string())
                    }
                    None => match term.split_once('=') {
                        Some((k, v)) => {
                            labels.get(k.trim()).map(|x| x.to_string())
                                == Some(v.trim().trim_start_matches('=').to_string())
                        }
                        None => labels.contains_key(term),
                    },
                };
                if !ok {
                    return false;
                }
            }
        }
        true
    }
}

fn named(list: &[Value]) -> bool {
    !list.is_empty() && list.iter().all(|x| x.path("name").is_some())
}

/// Strategic-merge-style patch of `patch` into `target`.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Map(t), Value::Map(p)) => {
            for (k, pv) in p {
                if matches!(pv, Value::Null) {
                    t.remove(k);
                    continue;
                }
                match t.get_mut(k) {
                    Some(tv) => merge_patch(tv, pv),
                    None => {
                        t.insert(k.clone(), pv.clone());
                    }
                }
            }
        }
        (Value::List(t), Value::List(p)) if named(t) && named(p) => {
            for pv in p {
                let name = pv.path("name").map(|n| n.to_string());
                match t
                    .iter_mut()
                    .find(|tv| tv.path("name").map(|n| n.to_string()) == name)
                {
                    Some(tv) => merge_patch(tv, pv),
                    None => t.push(pv.clone()),
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn unescape(seg: &str) -> String {
    seg.replace("~1", "/").replace("~0", "~")
}

fn pointer_parts(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    if !path.starts_with('/') {
        return Err(format!("JSON pointer {path:?} must start with '/'"));
    }
    Ok(path[1..].split('/').map(unescape).collect())
}

fn get<'a>(v: &'a Value, parts: &[String]) -> Option<&'a Value> {
    let mut cur = v;
    for p in parts {
        cur = match cur {
            Value::Map(m) => m.get(p)?,
            Value::List(l) => l.get(p.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn parent_mut<'a>(v: &'a mut Value, parts: &[String]) -> Option<&'a mut Value> {
    let mut cur = v;
    for p in &parts[..parts.len().saturating_sub(1)] {
        cur = match cur {
            Value::Map(m) => m.get_mut(p)?,
            Value::List(l) => l.get_mut(p.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn add(v: &mut Value, path: &str, val: Value) -> Result<(), String> {
    let parts = pointer_parts(path)?;
    let Some(last) = parts.last().cloned() else {
        *v = val;
        return Ok(());
    };
    match parent_mut(v, &parts) {
        Some(Value::Map(m)) => {
            m.insert(last, val);
            Ok(())
        }
        Some(Value::List(l)) => {
            if last == "-" {
                l.push(val);
                return Ok(());
            }
            let i: usize = last
                .parse()
                .map_err(|_| format!("{path}: {last:?} is not a list index"))?;
            if i > l.len() {
                return Err(format!(
                    "{path}: index {i} is past the end of a list of {}",
                    l.len()
                ));
            }
            l.insert(i, val);
            Ok(())
        }
        _ => Err(format!("{path}: the parent does not exist")),
    }
}

fn remove(v: &mut Value, path: &str) -> Result<Value, String> {
    let parts = pointer_parts(path)?;
    let Some(last) = parts.last().cloned() else {
        return Err("cannot remove the whole document".into());
    };
    match parent_mut(v, &parts) {
        Some(Value::Map(m)) => m
            .remove(&last)
            .ok_or_else(|| format!("{path}: no such field")),
        Some(Value::List(l)) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("{path}: {last:?} is not a list index"))?;
            if i >= l.len() {
                return Err(format!("{path}: index {i} is out of range"));
            }
            Ok(l.remove(i))
        }
        _ => Err(format!("{path}: the parent does not exist")),
    }
}

/// Applies RFC 6902 operations in order; any failure leaves an error.
pub fn json_patch(doc: &mut Value, ops: &[Value]) -> Result<(), String> {
    for (i, op) in ops.iter().enumerate() {
        let kind = op
            .path("op")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("operation {i} has no \"op\""))?;
        let path = op
            .path("path")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("operation {i} has no \"path\""))?;
        let value = || {
            op.as_map()
                .and_then(|m| m.get("value"))
                .cloned()
                .ok_or_else(|| format!("operation {i} ({kind}) has no \"value\""))
        };
        let res = match kind {
            "add" => add(doc, path, value()?),
            "remove" => remove(doc, path).map(|_| ()),
            "replace" => {
                let v = value()?;
                remove(doc, path).and_then(|_| add(doc, path, v))
            }
            "move" | "copy" => {
                let from = op
                    .path("from")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("operation {i} ({kind}) has no \"from\""))?;
                let v = if kind == "move" {
                    remove(doc, from)?
                } else {
                    get(doc, &pointer_parts(from)?)
                        .cloned()
                        .ok_or_else(|| format!("{from}: no such field"))?
                };
                add(doc, path, v)
            }
            "test" => {
                let want = value()?;
                match get(doc, &pointer_parts(path)?) {
                    Some(got) if *got == want => Ok(()),
                    _ => Err(format!("{path}: test failed")),
                }
            }
            other => Err(format!("unknown operation {other:?}")),
        };
        res.map_err(|e| format!("JSON patch operation {i} ({kind}): {e}"))?;
    }
    Ok(())
}

/// A configured patch: its target, and one of the two forms.
#[derive(Debug, Clone)]
pub struct Patch {
    pub target: Target,
    pub merge: Option<Value>,
    pub ops: Option<Vec<Value>>,
}

impl Patch {
    /// From a `postRender.patches` entry: `{target, patch}` where `patch` is a
    /// map (strategic merge), a list of operations, or YAML/JSON text of either.
    pub fn from_value(v: &Value, index: usize) -> Result<Patch, String> {
        let target = v.path("target").map(Target::from_value).unwrap_or_default();
        let body = v
            .as_map()
            .and_then(|m| m.get("patch"))
            .ok_or_else(|| format!("postRender.patches[{index}] has no \"patch\""))?;
        let body = match body {
            Value::String(s) => crate::values::yaml::parse_one(s)
                .map_err(|e| format!("postRender.patches[{index}].patch: {e}"))?,
            other => other.clone(),
        };
        match body {
            Value::Map(_) => Ok(Patch { target, merge: Some(body), ops: None }),
            Value::List(ops) => Ok(Patch { target, merge: None, ops: Some(ops) }),
            _ => Err(format!("postRender.patches[{index}].patch must be a partial object or a list of JSON patch operations")),
        }
    }

    pub fn apply(&self, doc: &mut Value) -> Result<bool, String> {
        if !self.target.matches(doc) {
            return Ok(false);
        }
        if let Some(m) = &self.merge {
            merge_patch(doc, m);
        }
        if let Some(ops) = &self.ops {
            json_patch(doc, ops)?;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::yaml::parse_one;

    fn v(s: &str) -> Value {
        parse_one(s).unwrap()
    }

    #[test]
    fn strategic_merge_by_name_and_null_delete() {
        let mut d =
            v("spec: {containers: [{name: a, image: x}, {name: b, image: y}], keep: 1, drop: 2}");
        merge_patch(
            &mut d,
            &v("spec: {containers: [{name: b, image: z}], drop: null}"),
        );
        assert_eq!(
            d,
            v("spec: {containers: [{name: a, image: x}, {name: b, image: z}], keep: 1}")
        );
    }

    #[test]
    fn json_patch_ops() {
        let mut d = v("a: {b: [1, 2]}");
        json_patch(
            &mut d,
            &[
                v("{op: add, path: /a/b/-, value: 3}"),
                v("{op: replace, path: /a/b/0, value: 9}"),
                v("{op: add, path: /a/c~1d, value: x}"),
            ],
        )
        .unwrap();
        assert_eq!(d, v("a: {b: [9, 2, 3], c/d: x}"));
        assert!(json_patch(&mut d, &[v("{op: remove, path: /nope}")])
            .unwrap_err()
            .contains("no such field"));
        assert!(json_patch(&mut d, &[v("{op: test, path: /a/c~1d, value: y}")]).is_err());
    }

    #[test]
    fn targets() {
        let d = v("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web-1, namespace: n, labels: {tier: front}}");
        let t = |s: &str| Target::from_value(&v(s));
        assert!(t("{group: apps, kind: Deployment, name: 'web-*'}").matches(&d));
        assert!(!t("{group: '', kind: Deployment}").matches(&d));
        assert!(t("{labelSelector: 'tier=front'}").matches(&d));
        assert!(!t("{labelSelector: 'tier!=front'}").matches(&d));
        assert!(!t("{namespace: other}").matches(&d));
    }
}
