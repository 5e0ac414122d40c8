//! `explain`: what a values key is (type, default, allowed values, meaning,
//! child keys), from the chart's schema, defaults and values.yaml comments,
//! in the spirit of `kubectl explain`.

use crate::chart::Chart;
use crate::error::{Error, Kind, Result};
use crate::values::{schema, yamlout, Value};
use std::collections::HashMap;

/// Comments written directly above each key of values.yaml, by dotted path.
const POST_RENDER: &str = "KEY:         postRender
TYPE:        object
DESCRIPTION: the overlay `tracecat-chart post-render` applies to a rendered stream (it
             is not a chart value: `template` ignores it). Also read by post-render:
             scheduling.architecture|nodeSelector|tolerations|affinity, podAnnotations.
FIELDS:
  commonLabels              <object>   labels added to metadata and pod templates
  podAnnotations            <object>   annotations added to pod templates
  imagePullSecrets          <array>    Secret names added to every pod
  imageRegistryRewrite      <object>   registry prefix -> mirror prefix
  defaultResources          <boolean>  give containers without resources their component's
  patches                   <array>    kustomize-style patches, each with a target
";

pub fn comment_docs(values_text: &str) -> HashMap<String, String> {
    let mut docs = HashMap::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    for line in values_text.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.starts_with('#') {
            pending.push(trimmed.trim_start_matches('#').trim().to_string());
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('-') {
            if trimmed.is_empty() {
                pending.clear();
            }
            continue;
        }
        let Some((key, _)) = trimmed.split_once(':') else {
            pending.clear();
            continue;
        };
        let key = key.trim().trim_matches('"').trim_matches('\'').to_string();
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let path = stack
            .iter()
            .map(|(_, k)| k.as_str())
            .chain(std::iter::once(key.as_str()))
            .collect::<Vec<_>>()
            .join(".");
        if !pending.is_empty() {
            docs.insert(path.clone(), pending.join(" "));
            pending.clear();
        }
        stack.push((indent, key));
    }
    docs
}

fn type_of(node: &serde_json::Value) -> String {
    match node.get("type") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Array(a)) => {
            let types: Vec<&str> = a.iter().filter_map(|t| t.as_str()).collect();
            // Settings the templates quote take any scalar; call them strings.
            if types.first() == Some(&"string")
                && types
                    .iter()
                    .all(|t| matches!(*t, "string" | "number" | "integer" | "boolean"))
            {
                "string".into()
            } else {
                types.join(" | ")
            }
        }
        _ => "any".into(),
    }
}

/// The explanation of `key` (empty for the top level) as text.
pub fn explain(chart: &Chart, key: &str) -> Result<String> {
    // `postRender` is the post-renderer's overlay, not a chart value.
    if key == "postRender" || key.starts_with("postRender.") {
        return Ok(POST_RENDER.to_string());
    }
    let schema_text = chart.schema.as_deref().ok_or_else(|| {
        Error::new(
            Kind::Other,
            format!(
                "chart {} has no values.schema.json to explain",
                chart.name()
            ),
        )
    })?;
    let root: serde_json::Value = serde_json::from_str(schema_text).map_err(|e| {
        Error::new(
            Kind::Parse,
            format!("values.schema.json is not valid JSON: {e}"),
        )
    })?;
    let docs = comment_docs(&chart.values_text);
    let mut node = &root;
    let mut walked = Vec::new();
    for part in key.split('.').filter(|p| !p.is_empty()) {
        let props = node.get("properties").and_then(|p| p.as_object());
        match props.and_then(|p| p.get(part)) {
            Some(n) => node = n,
            None => {
                let here = if walked.is_empty() {
                    "the top level".to_string()
                } else {
                    walked.join(".")
                };
                let candidates: Vec<&str> = props
                    .map(|p| p.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                let mut err = Error::new(Kind::Usage, format!("{key}: no such key under {here}"))
                    .with_path(key.to_string());
                err = match schema::did_you_mean(part, candidates.iter().copied()) {
                    Some(s) => {
                        let p = walked
                            .iter()
                            .map(String::as_str)
                            .chain(std::iter::once(s))
                            .collect::<Vec<_>>()
                            .join(".");
                        err.with_hint(format!("did you mean {p}?"))
                    }
                    None => {
                        err.with_hint("run `tracecat-chart explain` to list the top-level keys")
                    }
                };
                return Err(err);
            }
        }
        walked.push(part.to_string());
    }
    let mut out = String::new();
    if !key.is_empty() {
        out.push_str(&format!("KEY:         {key}\n"));
    }
    out.push_str(&format!("TYPE:        {}\n", type_of(node)));
    if let Some(e) = node.get("enum").and_then(|e| e.as_array()) {
        let vals: Vec<String> = e.iter().map(|v| v.to_string()).collect();
        out.push_str(&format!("ALLOWED:     {}\n", vals.join(", ")));
    }
    if let Some(p) = node.get("pattern").and_then(|p| p.as_str()) {
        out.push_str(&format!("PATTERN:     {p}\n"));
    }
    if let Some(m) = node.get("minimum") {
        out.push_str(&format!("MINIMUM:     {m}\n"));
    }
    if let Some(d) = crate::values::map_path(&chart.values, key) {
        if !matches!(d, Value::Map(_)) {
            let text = yamlout::to_yaml(d);
            out.push_str(&format!(
                "DEFAULT:     {}\n",
                text.replace('\n', "\n             ")
            ));
        }
    }
    let description = node
        .get("description")
        .and_then(|d| d.as_str())
        .map(str::to_string)
        .or_else(|| docs.get(key).cloned());
    if let Some(d) = description {
        out.push_str(&format!("DESCRIPTION: {d}\n"));
    }
    if let Some(props) = node.get("properties").and_then(|p| p.as_object()) {
        out.push_str("FIELDS:\n");
        let width = props.keys().map(|k| k.len()).max().unwrap_or(0);
        for (k, child) in props {
            let full = if key.is_empty() {
                k.clone()
            } else {
                format!("{key}.{k}")
            };
            let desc = child
                .get("description")
                .and_then(|d| d.as_str())
                .map(str::to_string)
                .or_else(|| docs.get(&full).cloned());
            let mut line = format!("  {k:width$}  <{}>", type_of(child));
            if let Some(d) = desc {
                // The first line, cut at a word with an ellipsis: the full
                // text is `explain` of the child.
                let first = d.lines().next().unwrap_or("");
                let short = if first.chars().count() > 90 || d.lines().nth(1).is_some() {
                    let cut: String = first.chars().take(88).collect();
                    let cut = cut
                        .rsplit_once(' ')
                        .map_or(cut.as_str(), |(a, _)| a)
                        .to_string();
                    format!("{cut}...")
                } else {
                    first.to_string()
                };
                line.push_str(&format!("  {short}"));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    } else if node.get("type").and_then(|t| t.as_str()) == Some("object") {
        out.push_str("FIELDS:      free-form (any keys)\n");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_attach_to_the_key_below() {
        let d = comment_docs("# top\na:\n  # inner doc\n  b: 1\n\n  # detached\n\n  c: 2\n");
        assert_eq!(d["a"], "top");
        assert_eq!(d["a.b"], "inner doc");
        assert!(!d.contains_key("a.c"));
    }

    #[test]
    fn explains_the_embedded_chart() {
        let chart = crate::chart::embedded().unwrap();
        let t = explain(&chart, "tracecat.appEnv").unwrap();
        assert!(
            t.contains("ALLOWED:")
                && t.contains("\"staging\"")
                && t.contains("DEFAULT:     production")
        );
        let t = explain(&chart, "scheduling").unwrap();
        assert!(t.contains("FIELDS:") && t.contains("architecture"));
        let e = explain(&chart, "tracecat.auht").unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("did you mean tracecat.auth?"));
        // Keys of the subchart and of the post-render overlay are explained too.
        assert!(explain(&chart, "temporal.server")
            .unwrap()
            .contains("FIELDS:"));
        let t = explain(&chart, "postRender").unwrap();
        assert!(t.contains("post-render") && t.contains("imageRegistryRewrite"));
    }
}
