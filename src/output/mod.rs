//! Framing rendered files the way `helm template` prints them: documents
//! split on `---`, hooks separated out, both sorted by Helm's kind install
//! order, each printed as `---\n# Source: PATH\n<content>\n`.

pub mod head;
pub mod phases;
mod yaml_line;

use crate::error::{Error, Kind, Result};
use crate::render::RenderedFile;
use crate::values::{yaml, Value};

/// Helm 4.1's install order of kinds.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

#[derive(Debug, Clone)]
pub struct Manifest {
    /// `# Source:` path.
    pub path: String,
    pub content: String,
    pub kind: String,
    pub name: String,
    /// Hook events, empty for ordinary manifests.
    pub hooks: Vec<String>,
    pub hook_weight: i64,
    /// The `helm.sh/hook` annotation as written (for messages).
    pub hook_annotation: String,
    /// The parsed document (null for comment-only documents), read on first
    /// use: ordering and printing need only the head.
    doc: std::sync::OnceLock<Value>,
}

impl Manifest {
    /// The document as a value tree.
    pub fn doc(&self) -> &Value {
        // `content` was read (fully, or proven well-formed by the head
        // reader) when the manifest was made, so this parse succeeds.
        self.doc
            .get_or_init(|| yaml::parse_one(&self.content).unwrap_or(Value::Null))
    }
    /// The document, to change it (the caller rewrites `content` after).
    pub fn doc_mut(&mut self) -> &mut Value {
        self.doc();
        self.doc.get_mut().expect("initialised just above")
    }
    pub fn into_doc(mut self) -> Value {
        self.doc();
        self.doc.take().unwrap_or(Value::Null)
    }
    pub fn is_hook(&self) -> bool {
        !self.hooks.is_empty()
    }
    pub fn is_test(&self) -> bool {
        self.hooks
            .iter()
            .any(|h| h == "test" || h == "test-success")
    }
}

/// Go's `\s` in a regular expression: ASCII space, tab, newline, form feed, CR.
fn go_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0c' | b'\r')
}

/// Helm's `SplitManifests`: split on `(?:^|\s*\n)---\s*` (Go's `\s`),
/// trim, drop empties. Written out by hand rather than as a regex: it runs
/// on every render, where compiling the regex cost more than splitting.
pub fn split_documents(text: &str) -> Vec<String> {
    let t = text.trim();
    let b = t.as_bytes();
    let skip_space = |mut i: usize| {
        while i < b.len() && go_space(b[i]) {
            i += 1;
        }
        i
    };
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut i = 0;
    if b.starts_with(b"---") {
        pieces.push(&t[..0]);
        i = skip_space(3);
        start = i;
    }
    // Every separator contains a newline directly followed by `---`; it
    // starts at the run of spaces ending in that newline (never before the
    // end of the previous separator, whose trailing spaces it took).
    let finder = memchr::memmem::Finder::new(b"\n---");
    while let Some(p) = finder.find(&b[i..]) {
        let nl = i + p;
        let mut sep = nl;
        while sep > i && go_space(b[sep - 1]) {
            sep -= 1;
        }
        pieces.push(&t[start..sep]);
        i = skip_space(nl + 4);
        start = i;
    }
    pieces.push(&t[start..]);
    pieces
        .into_iter()
        .filter(|d| !d.is_empty())
        .map(|d| d.trim().to_string())
        .collect()
}

fn order_of(kind: &str) -> Option<usize> {
    INSTALL_ORDER.iter().position(|k| *k == kind)
}

/// Helm's `lessByKind`, as a stable-sort comparator.
pub fn kind_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (order_of(a), order_of(b)) {
        (None, None) => a.cmp(b),
        (None, Some(_)) => Greater,
        (Some(_), None) => Less,
        (Some(x), Some(y)) => x.cmp(&y),
    }
}

/// Helm 4 reads every document into a small head (`apiVersion`, `kind`,
/// `metadata.name` and `metadata.annotations` as strings) and fails the
/// render on the first field of the wrong shape, in the key order of its
/// JSON (sorted). Scalars are read as their text, and null as empty.
fn check_head_shape(path: &str, content: &str, doc: &Value) -> Result<()> {
    let Some((field, what, expected)) = head_shape_error(doc) else {
        return Ok(());
    };
    Err(Error::new(
        Kind::Render,
        format!("YAML parse error on {path}: {field} is {what}, but Helm reads it as {expected}"),
    )
    .with_file(path.to_string())
    .with_hint(if expected == "a string" {
        "quote the value, or render it with toJson"
    } else {
        "render a mapping there, or leave it out"
    })
    .with_debug(content.to_string()))
}

/// The first head field of the wrong shape in a parsed document: (its
/// path, what it holds, what Helm expects); None when Helm reads the head.
pub fn head_shape_error(doc: &Value) -> Option<(String, &'static str, &'static str)> {
    let collection = |v: Option<&Value>| match v {
        Some(v @ (Value::Map(_) | Value::List(_))) => Some(json_type(v)),
        _ => None,
    };
    let root = doc.as_map()?;
    for field in ["apiVersion", "kind"] {
        if let Some(what) = collection(root.get(field)) {
            return Some((field.to_string(), what, "a string"));
        }
    }
    let meta = match root.get("metadata") {
        None | Some(Value::Null) => return None,
        Some(Value::Map(m)) => m,
        Some(v) => return Some(("metadata".to_string(), json_type(v), "an object")),
    };
    match meta.get("annotations") {
        None | Some(Value::Null) => {}
        Some(Value::Map(a)) => {
            let mut keys: Vec<_> = a.iter().collect();
            keys.sort_by(|x, y| x.0.cmp(y.0));
            for (k, v) in keys {
                if let Some(what) = collection(Some(v)) {
                    return Some((format!("metadata.annotations.{k}"), what, "a string"));
                }
            }
        }
        Some(v) => {
            return Some((
                "metadata.annotations".to_string(),
                json_type(v),
                "an object",
            ))
        }
    }
    collection(meta.get("name")).map(|what| ("metadata.name".to_string(), what, "a string"))
}

/// The JSON type of `v`, with its article.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Map(_) => "an object",
        Value::List(_) => "an array",
        Value::String(_) => "a string",
        Value::Bool(_) => "a boolean",
        _ => "a number",
    }
}

/// Parses one document's head. Errors as Helm: every document must be a
/// YAML mapping. Documents in plain block YAML are only scanned for their
/// head ([`super::head`]); the rest go through the full parser.
pub fn parse_manifest(path: &str, content: String) -> Result<Manifest> {
    let (head, doc) = match head::read(&content) {
        Some(h) => (h, std::sync::OnceLock::new()),
        None => {
            let doc = full_parse(path, &content)?;
            check_head_shape(path, &content, &doc)?;
            (head::Head::from_tree(&doc), std::sync::OnceLock::from(doc))
        }
    };
    // Helm reads these fields as strings: a scalar as its text, null as "".
    let text = |v: Option<&Value>| match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    // Any value marks a hook, even null (an unknown hook "", skipped).
    let hooks = match &head.hook {
        Some(v) => text(Some(v))
            .split(',')
            .map(|h| h.trim().to_lowercase())
            .collect(),
        None => Vec::new(),
    };
    let hook_weight = text(head.hook_weight.as_ref()).trim().parse().unwrap_or(0);
    Ok(Manifest {
        path: path.to_string(),
        content,
        kind: text(head.kind.as_ref()),
        name: text(head.name.as_ref()),
        hooks,
        hook_weight,
        hook_annotation: text(head.hook.as_ref()),
        doc,
    })
}

/// The whole document, with Helm's errors for invalid YAML and for
/// documents that are not mappings.
fn full_parse(path: &str, content: &str) -> Result<Value> {
    let doc = yaml::parse_one(content).map_err(|e| {
        let line = e.line.map(|l| format!("line {l}: ")).unwrap_or_default();
        Error::new(
            Kind::Render,
            format!(
                "YAML parse error on {path}: error converting YAML to JSON: yaml: {line}{}",
                e.message
            ),
        )
        .with_file(path.to_string())
        .with_hint(
            "the template produced invalid YAML; run with --debug to see the rendered output",
        )
        .with_debug(content.to_string())
    })?;
    match &doc {
        Value::Map(_) | Value::Null => Ok(doc),
        other => Err(Error::new(
            Kind::Render,
            format!(
                "YAML parse error on {path}: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type util.SimpleHead",
                match other {
                    Value::List(_) => "array",
                    Value::String(_) => "string",
                    Value::Bool(_) => "bool",
                    _ => "number",
                }
            ),
        )
        .with_file(path.to_string())
        .with_debug(content.to_string())),
    }
}

/// Splits one rendered file into documents and parses each (nothing for
/// partials and files that rendered empty).
pub fn parse_file(path: &str, content: &str) -> Result<Vec<Manifest>> {
    let base = path.rsplit('/').next().unwrap_or(path);
    if base.starts_with('_') || content.trim().is_empty() {
        return Ok(Vec::new());
    }
    split_documents(content)
        .into_iter()
        .map(|d| parse_manifest(path, d))
        .collect()
}

/// A rendered file split into documents and parsed, ready for sorting.
#[derive(Debug)]
pub struct ParsedFile {
    pub path: String,
    /// The file's documents, or the YAML error Helm would report for it.
    pub manifests: Result<Vec<Manifest>>,
}

/// Splits and parses one rendered file (what [`crate::render::render_each`]
/// hands over) into a [`ParsedFile`].
pub fn parse_rendered(path: &str, content: String) -> ParsedFile {
    ParsedFile {
        path: path.to_string(),
        manifests: parse_file(path, &content),
    }
}

/// Classifies parsed files (sorted by path), then sorts manifests and hooks
/// by kind. Unknown hook events drop the document, with a note in `notes`.
/// The first file (by path) that failed to parse is the error reported.
pub fn sort_parsed(
    files: Vec<ParsedFile>,
    notes: &mut Vec<String>,
) -> Result<(Vec<Manifest>, Vec<Manifest>)> {
    let mut generic = Vec::new();
    let mut hooks = Vec::new();
    for f in files {
        for m in f.manifests? {
            if m.hooks.is_empty() {
                generic.push(m);
            } else if m.hooks.iter().all(|h| HOOK_EVENTS.contains(&h.as_str())) {
                hooks.push(m);
            } else {
                notes.push(format!(
                    "skipping unknown hooks: {:?} in {}",
                    m.hook_annotation, m.path
                ));
            }
        }
    }
    generic.sort_by(|a, b| kind_cmp(&a.kind, &b.kind));
    hooks.sort_by(|a, b| kind_cmp(&a.kind, &b.kind));
    Ok((generic, hooks))
}

/// Splits and classifies rendered files, then sorts manifests and hooks by
/// kind (see [`sort_parsed`]).
pub fn sort_manifests(
    files: &[RenderedFile],
    notes: &mut Vec<String>,
) -> Result<(Vec<Manifest>, Vec<Manifest>)> {
    let mut sorted: Vec<&RenderedFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let parsed = sorted
        .into_iter()
        .map(|f| ParsedFile {
            path: f.path.clone(),
            manifests: parse_file(&f.path, &f.content),
        })
        .collect();
    sort_parsed(parsed, notes)
}

/// What to print.
#[derive(Debug, Clone, Default)]
pub struct OutputOptions {
    pub include_crds: bool,
    pub no_hooks: bool,
    pub skip_tests: bool,
    pub show_only: Vec<String>,
}

/// A framed document: its `# Source` path and text, borrowed from the
/// release.
#[derive(Debug, Clone, Copy)]
pub struct Framed<'a> {
    pub path: &'a str,
    pub text: &'a str,
    pub is_hook: bool,
    pub is_crd: bool,
}

/// The documents to print, in Helm's order.
pub fn arrange<'a>(
    crds: &'a [(String, String)],
    generic: &'a [Manifest],
    hooks: &'a [Manifest],
    opts: &OutputOptions,
) -> Vec<Framed<'a>> {
    let mut out = Vec::new();
    if opts.include_crds {
        for (p, c) in crds {
            out.push(Framed {
                path: p,
                text: c,
                is_hook: false,
                is_crd: true,
            });
        }
    }
    for m in generic {
        out.push(Framed {
            path: &m.path,
            text: &m.content,
            is_hook: false,
            is_crd: false,
        });
    }
    if !opts.no_hooks {
        for m in hooks {
            if opts.skip_tests && m.is_test() {
                continue;
            }
            out.push(Framed {
                path: &m.path,
                text: &m.content,
                is_hook: true,
                is_crd: false,
            });
        }
    }
    out
}

/// The stream `helm template` prints, as the pieces it is made of, in
/// order: written out with one vectored write, it is never copied.
pub fn stream_pieces<'a>(docs: &[Framed<'a>]) -> Vec<&'a str> {
    let mut out = Vec::with_capacity(docs.len() * 4 + 1);
    let push = |out: &mut Vec<&'a str>, d: &Framed<'a>| {
        out.extend(["---\n# Source: ", d.path, "\n", d.text, "\n"]);
    };
    for d in docs.iter().filter(|d| !d.is_hook) {
        push(&mut out, d);
    }
    // The manifests part is trimmed (it starts with `---`, so only its end
    // can hold whitespace), then a newline, then the hooks as they are.
    // No whitespace character spans two pieces, so trimming piece by piece
    // trims the whole.
    while let Some(last) = out.last_mut() {
        let kept = last.trim_end();
        if !kept.is_empty() {
            *last = kept;
            break;
        }
        out.pop();
    }
    out.push("\n");
    for d in docs.iter().filter(|d| d.is_hook) {
        push(&mut out, d);
    }
    out
}

/// The stream of [`stream_pieces`] as one string.
pub fn format_stream(docs: &[Framed]) -> String {
    stream_pieces(docs).concat()
}

/// `--show-only`: pieces whose `# Source: CHART/REST` matches a pattern,
/// for each pattern in order.
pub fn show_only(full_text: &str, patterns: &[String]) -> Result<String> {
    let pieces = split_documents(full_text);
    let mut out = String::new();
    for pat in patterns {
        let pat = pat.replace('\\', "/");
        let mut found = false;
        for p in &pieces {
            let Some(rest) = p
                .lines()
                .find_map(|l| l.strip_prefix("# Source: "))
                .and_then(|s| s.split_once('/'))
                .map(|(_, r)| r)
            else {
                continue;
            };
            if crate::chart::ignore::glob_match(&pat, rest) {
                out.push_str("---\n");
                out.push_str(p);
                out.push('\n');
                found = true;
            }
        }
        if !found {
            return Err(Error::new(Kind::Render, format!("could not find template {pat} in chart"))
                .with_hint("paths are relative to the chart, e.g. -s templates/ui-deployment.yaml; files that render empty cannot be shown"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {

    /// The hand-written splitter against Helm's regular expression (with
    /// Go's `\s`), on every string of up to 7 characters over an alphabet
    /// of dashes, spaces and letters.
    #[test]
    fn splits_like_helms_regex() {
        let sep = regex::Regex::new(r"(?:^|[\t\n\x0c\r ]*\n)---[\t\n\x0c\r ]*").unwrap();
        let by_regex = |t: &str| -> Vec<String> {
            sep.split(t.trim())
                .filter(|d| !d.is_empty())
                .map(|d| d.trim().to_string())
                .collect()
        };
        let alphabet = ['-', '-', '\n', ' ', 'a', '\t', '\u{b}'];
        let mut frontier = vec![String::new()];
        for _ in 0..7 {
            let mut next = Vec::new();
            for w in &frontier {
                for c in alphabet {
                    let x = format!("{w}{c}");
                    assert_eq!(split_documents(&x), by_regex(&x), "{x:?}");
                    next.push(x);
                }
            }
            frontier = next;
        }
        for t in [
            "a: 1\n---\nb: 2\n",
            "---\na\n--- \n---\nb",
            "a\n----\nb",
            "a ---\nb",
        ] {
            assert_eq!(split_documents(t), by_regex(t), "{t:?}");
        }
    }

    use super::*;

    #[test]
    fn splits_like_helm() {
        assert_eq!(split_documents("a: 1\n---\nb: 2\n"), vec!["a: 1", "b: 2"]);
        assert_eq!(split_documents("---\n\n---\nb: 2"), vec!["---\nb: 2"]);
        assert!(split_documents("  \n").is_empty());
    }

    /// Helm reads a head of strings: a collection in a string field, or
    /// anything but a mapping where one goes, fails the render, reporting
    /// the first in its JSON's (sorted) key order; a scalar or null is read
    /// as text, and any value of the hook annotation marks a hook.
    #[test]
    fn refuses_heads_helm_cannot_read() {
        let err = |doc: &str| {
            parse_manifest("c/templates/a.yaml", doc.to_string())
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        for (doc, field) in [
            (
                "apiVersion: {a}
kind: [x]
",
                "apiVersion is an object, but Helm reads it as a string",
            ),
            (
                "kind: [x]
",
                "kind is an array",
            ),
            (
                "kind: A
metadata: 5
",
                "metadata is a number, but Helm reads it as an object",
            ),
            (
                "metadata: {name: [a], annotations: {b: [x], a: {y: 1}}}
",
                "metadata.annotations.a is an object",
            ),
            (
                "metadata: {name: x, annotations: s}
",
                "metadata.annotations is a string",
            ),
            (
                "metadata: {name: {a: 1}}
",
                "metadata.name is an object",
            ),
        ] {
            assert!(err(doc).contains(field), "{doc:?}: {}", err(doc));
            // Through the head reader's subset as well as the full parser.
            let block = crate::values::yaml::parse_one(doc).unwrap();
            let block = crate::values::yamlout::to_yaml(&block);
            assert!(err(&block).contains(field), "{block:?}: {}", err(&block));
        }
        for doc in [
            "apiVersion: 5
kind: true
metadata: {name: 1.5, annotations: {a: 5, b: null}}
",
            "metadata: null
",
            "metadata: {annotations: null}
",
        ] {
            assert_eq!(err(doc), "", "{doc:?}");
        }
        let m = parse_manifest(
            "p",
            "kind: A\nmetadata:\n  name: 5\n  annotations:\n    helm.sh/hook: 5\n".into(),
        )
        .unwrap();
        assert_eq!(
            (m.name.as_str(), m.hooks.as_slice()),
            ("5", &["5".to_string()][..])
        );
        let m =
            parse_manifest("p", "metadata:\n  annotations:\n    helm.sh/hook:\n".into()).unwrap();
        assert_eq!(m.hooks, vec![String::new()]);
    }

    #[test]
    fn kind_order() {
        let mut kinds = vec![
            "Zebra",
            "Deployment",
            "",
            "ExternalSecret",
            "Service",
            "ServiceAccount",
        ];
        kinds.sort_by(|a, b| kind_cmp(a, b));
        assert_eq!(
            kinds,
            vec![
                "ServiceAccount",
                "Service",
                "Deployment",
                "",
                "ExternalSecret",
                "Zebra"
            ]
        );
    }

    #[test]
    fn frames_and_filters() {
        let docs = vec![
            Framed {
                path: "c/templates/a.yaml",
                text: "kind: A",
                is_hook: false,
                is_crd: false,
            },
            Framed {
                path: "c/templates/h.yaml",
                text: "kind: H",
                is_hook: true,
                is_crd: false,
            },
        ];
        let s = format_stream(&docs);
        assert_eq!(s, "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/h.yaml\nkind: H\n");
        let only = show_only(&s, &["templates/h.yaml".to_string()]).unwrap();
        assert_eq!(only, "---\n# Source: c/templates/h.yaml\nkind: H\n");
        assert!(show_only(&s, &["templates/x.yaml".to_string()]).is_err());
        assert_eq!(format_stream(&[]), "\n");
        // the manifests part loses its trailing blank space; hooks keep theirs
        let mut spaced = docs.clone();
        spaced[0].text = "kind: A\n\n  ";
        spaced[1].text = "kind: H\n\n";
        assert_eq!(
            format_stream(&spaced),
            "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/h.yaml\nkind: H\n\n\n"
        );
        assert_eq!(
            format_stream(&spaced[1..]),
            "\n---\n# Source: c/templates/h.yaml\nkind: H\n\n\n"
        );
        // A manifest that is only blank space is trimmed away with the
        // newlines around it, up to the path before it.
        spaced[0].text = " \n ";
        assert_eq!(
            format_stream(&spaced),
            "---\n# Source: c/templates/a.yaml\n---\n# Source: c/templates/h.yaml\nkind: H\n\n\n"
        );
    }
}
