//! `post-render`: reads a manifest stream (from Helm or anything else),
//! applies the platform overlay, and writes the stream back, one document at
//! a time so memory grows with the largest object, not the stream.

pub mod overlay;
pub mod patch;

use crate::error::{Error, Kind, Result};
use crate::values::{yaml, yamlout, Value};
use overlay::Overlay;
use std::io::{BufRead, Write};

/// Upper bound on one document (raise with TRACECAT_CHART_MAX_DOCUMENT_BYTES).
fn max_document_bytes() -> usize {
    std::env::var("TRACECAT_CHART_MAX_DOCUMENT_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64 << 20)
}

const FILENAME_ANNOTATION: &str = "postrenderer.helm.sh/postrender-filename";

fn describe(index: usize, doc: Option<&Value>) -> String {
    let mut s = format!("document {}", index + 1);
    if let Some(d) = doc {
        let kind = d.path("kind").map(|v| v.to_string()).unwrap_or_default();
        let name = d
            .path("metadata.name")
            .map(|v| v.to_string())
            .unwrap_or_default();
        if !kind.is_empty() {
            s.push_str(&format!(" ({kind}/{name}"));
            if let Some(f) = d
                .path("metadata.annotations")
                .and_then(Value::as_map)
                .and_then(|a| a.get(FILENAME_ANNOTATION))
            {
                s.push_str(&format!(", from {f}"));
            }
            s.push(')');
        }
    }
    s
}

/// Processes one document's text; returns the text to write (the original
/// when nothing changed, so untouched objects pass through as they were).
fn process(text: &str, index: usize, overlay: &Overlay) -> Result<Option<String>> {
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(None);
    }
    let mut doc = yaml::parse_one(text).map_err(|e| {
        Error::new(
            Kind::Parse,
            format!("{}: invalid YAML: {e}", describe(index, None)),
        )
        .with_hint("the input must be a stream of Kubernetes objects separated by ---")
    })?;
    let is_list = doc
        .path("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"))
        && doc.path("items").is_some();
    let changed = match &mut doc {
        Value::Map(_) if is_list => {
            let mut any = false;
            if let Some(Value::List(items)) = doc.as_map_mut().and_then(|m| m.get_mut("items")) {
                for (i, it) in items.iter_mut().enumerate() {
                    any |= overlay.apply(it).map_err(|e| {
                        Error::new(
                            Kind::Values,
                            format!("{} item {i}: {e}", describe(index, None)),
                        )
                    })?;
                }
            }
            any
        }
        Value::Map(_) => {
            // Named before the overlay changes it.
            let what = describe(index, Some(&doc));
            overlay
                .apply(&mut doc)
                .map_err(|e| Error::new(Kind::Values, format!("{what}: {e}")))?
        }
        Value::Null => return Ok(None),
        _ => {
            return Err(Error::new(
                Kind::Parse,
                format!(
                    "{}: not a Kubernetes object (a YAML mapping)",
                    describe(index, None)
                ),
            ))
        }
    };
    if changed {
        Ok(Some(yamlout::to_yaml_document(&doc)))
    } else {
        let mut t = text.trim_end_matches('\n').to_string();
        t.push('\n');
        Ok(Some(t))
    }
}

/// Streams `input` to `out` through the overlay.
pub fn run(input: impl BufRead, mut out: impl Write, overlay: &Overlay) -> Result<usize> {
    let limit = max_document_bytes();
    let mut buf = String::new();
    let mut index = 0usize;
    let mut written = 0usize;
    let mut emit = |text: &str, index: usize, out: &mut dyn Write| -> Result<()> {
        if let Some(doc) = process(text, index, overlay)? {
            out.write_all(b"---\n")
                .and_then(|_| out.write_all(doc.as_bytes()))
                .map_err(|e| Error::stdout(&e))?;
            written += 1;
        }
        Ok(())
    };
    for line in input.lines() {
        let line = line.map_err(|e| {
            Error::new(Kind::Io, format!("reading stdin: {e}"))
                .with_hint("the input must be UTF-8 text")
        })?;
        if line == "---" || line.starts_with("--- ") {
            emit(&buf, index, &mut out)?;
            buf.clear();
            index += 1;
            continue;
        }
        if line == "..." {
            continue;
        }
        buf.push_str(&line);
        buf.push('\n');
        if buf.len() > limit {
            return Err(Error::new(
                Kind::Parse,
                format!("document {} is larger than {limit} bytes", index + 1),
            )
            .with_hint("raise TRACECAT_CHART_MAX_DOCUMENT_BYTES if this is intended"));
        }
    }
    emit(&buf, index, &mut out)?;
    out.flush().map_err(|e| Error::stdout(&e))?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overlay(values: &str) -> Overlay {
        Overlay::from_values(&yaml::parse_values(values, None).unwrap())
            .unwrap()
            .0
    }

    fn pr(input: &str, values: &str) -> Result<String> {
        let mut out = Vec::new();
        run(input.as_bytes(), &mut out, &overlay(values))?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn untouched_documents_pass_through_verbatim() {
        let input = "# Source: x\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a   # c\n";
        assert_eq!(pr(input, "{}").unwrap(), format!("---\n{input}"));
    }

    #[test]
    fn placement_and_images() {
        let input = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: ghcr.io/org/img:1}]\n";
        let out = pr(input, "scheduling: {architecture: amd64}\npostRender: {imageRegistryRewrite: {ghcr.io: mirror.local/ghcr}, imagePullSecrets: [regcred]}\n").unwrap();
        let d = yaml::parse_one(out.trim_start_matches("---\n")).unwrap();
        assert_eq!(
            d.path("spec.template.spec.nodeSelector")
                .unwrap()
                .as_map()
                .unwrap()["kubernetes.io/arch"],
            Value::from("amd64")
        );
        assert!(out.contains("image: mirror.local/ghcr/org/img:1"));
        assert!(out.contains("name: regcred"));
    }

    #[test]
    fn bad_input_names_the_document() {
        let e = pr("a: 1\n---\nb: [\n", "{}").unwrap_err();
        assert!(e.message.starts_with("document 2"), "{}", e.message);
        let e = pr("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "postRender: {patches: [{target: {kind: ConfigMap}, patch: [{op: remove, path: /data}]}]}").unwrap_err();
        assert!(
            e.message.contains("ConfigMap/x") && e.message.contains("no such field"),
            "{}",
            e.message
        );
    }

    #[test]
    fn list_kinds() {
        let out = pr("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n", "postRender: {commonLabels: {team: x}}").unwrap();
        assert!(out.contains("team: x"));
    }
}
