//! Chart archives in Helm's layout, reproducibly, and the OCI config and
//! manifest documents Helm pushes for them.

use crate::chart::Chart;
use crate::error::{Error, Kind, Result};
use crate::values::json::write_string;
use crate::values::{yamlout, Map, Value};
use sha2::Digest;
use std::borrow::Cow;

pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
pub const CHART_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
pub const LEGACY_CHART_MEDIA_TYPE: &str = "application/tar+gzip";
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

pub fn sha256_digest(data: &[u8]) -> String {
    let d = sha2::Sha256::digest(data);
    format!(
        "sha256:{}",
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// Fixed entry time: $SOURCE_DATE_EPOCH, else 0, so the same chart gives the
/// same bytes.
fn entry_mtime() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Chart.yaml as Helm re-serialises it: sorted keys, comments dropped, and
/// `repository` always present on dependencies.
fn chart_yaml(chart: &Chart) -> String {
    let mut m = chart.metadata.clone();
    if let Some(Value::List(deps)) = m.get_mut("dependencies") {
        for d in deps.iter_mut() {
            if let Value::Map(dm) = d {
                dm.entry("repository".to_string())
                    .or_insert_with(|| Value::String(String::new()));
            }
        }
    }
    yamlout::to_yaml_document(&Value::Map(m))
}

/// Files of a chart in Helm's archive order, paths relative to the archive:
/// Chart.yaml, Chart.lock, values.yaml, values.schema.json, templates, the
/// other files, then each subchart by name.
fn entries<'a>(chart: &'a Chart, prefix: &str, out: &mut Vec<(String, Cow<'a, [u8]>)>) {
    out.push((
        format!("{prefix}/Chart.yaml"),
        Cow::Owned(chart_yaml(chart).into_bytes()),
    ));
    let rank = |p: &str| match p {
        "Chart.lock" => 0,
        "values.yaml" => 1,
        "values.schema.json" => 2,
        _ if p.starts_with("templates/") => 3,
        _ => 4,
    };
    let mut files: Vec<(&String, &bytes::Bytes)> = chart
        .files
        .iter()
        .filter(|(p, _)| p.as_str() != "Chart.yaml")
        .collect();
    files.sort_by(|a, b| (rank(a.0), a.0).cmp(&(rank(b.0), b.0)));
    for (p, d) in files {
        out.push((format!("{prefix}/{p}"), Cow::Borrowed(&d[..])));
    }
    let mut subs: Vec<&Chart> = chart.dependencies.iter().collect();
    subs.sort_by_key(|c| c.name());
    for s in subs {
        entries(s, &format!("{prefix}/charts/{}", s.name()), out);
    }
}

/// Annotation marking a packaged chart as written for this tool.
pub const ENGINE_ANNOTATION: &str = "tracecat.com/template-engine";

/// Marks a minijinja chart before it is packaged, so that the archive is
/// never mistaken for the upstream chart of the same name: `+minijinja`
/// build metadata in its version (a distinct registry tag, `_minijinja`),
/// unless it has build metadata already, and an annotation saying which
/// renderer it needs. A Go-template chart is packaged as it is.
pub fn mark_for_this_tool(chart: &mut Chart) {
    if crate::render::is_go_template_chart(chart) {
        return;
    }
    let version = chart.version();
    if !version.is_empty() && !version.contains('+') {
        chart.metadata.insert(
            "version".into(),
            Value::String(format!("{version}+minijinja")),
        );
    }
    let annotations = chart
        .metadata
        .entry("annotations".to_string())
        .or_insert_with(|| Value::Map(Map::new()));
    if !matches!(annotations, Value::Map(_)) {
        *annotations = Value::Map(Map::new());
    }
    if let Value::Map(a) = annotations {
        a.insert(
            ENGINE_ANNOTATION.into(),
            Value::String("minijinja; render with tracecat-chart, not helm".into()),
        );
    }
}

/// Builds `NAME-VERSION.tgz` bytes for a loaded chart.
pub fn archive(chart: &Chart) -> Result<(String, Vec<u8>)> {
    let name = chart.name();
    let version = chart.version();
    if crate::version::Version::parse_strict(&version).is_none() {
        return Err(Error::new(
            Kind::Parse,
            format!("{name}: version {version:?} is not a valid SemVer 2 version"),
        )
        .with_hint("set version in Chart.yaml, e.g. version: 0.3.45"));
    }
    let mut files = Vec::new();
    entries(chart, &name, &mut files);
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    let mtime = entry_mtime();
    for (path, data) in &files {
        let mut h = tar::Header::new_ustar();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(mtime);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, path, data.as_ref())
            .map_err(|e| Error::new(Kind::Other, format!("packaging {path}: {e}")))?;
    }
    let gz = tar
        .into_inner()
        .map_err(|e| Error::new(Kind::Other, format!("packaging: {e}")))?;
    let bytes = gz
        .finish()
        .map_err(|e| Error::new(Kind::Other, format!("packaging: {e}")))?;
    Ok((format!("{name}-{version}.tgz"), bytes))
}

fn s(m: &Map, k: &str) -> Option<String> {
    match m.get(k) {
        Some(Value::Null) | None => None,
        Some(Value::String(x)) if x.is_empty() => None,
        Some(v) => Some(v.to_string()),
    }
}

fn push_str_field(out: &mut Vec<String>, key: &str, v: &str) {
    let mut t = String::new();
    write_string(&mut t, key, true);
    t.push(':');
    write_string(&mut t, v, true);
    out.push(t);
}

fn str_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::List(l)) => l.iter().map(|x| x.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn json_list(items: &[String]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|i| {
            let mut t = String::new();
            write_string(&mut t, i, true);
            t
        })
        .collect();
    format!("[{}]", parts.join(","))
}

/// The config blob: Chart.yaml metadata as compact JSON in Helm's field
/// order, empty fields omitted, HTML-escaped like Go.
pub fn config_json(meta: &Map) -> String {
    let mut f: Vec<String> = Vec::new();
    let key = |k: &str| {
        let mut t = String::new();
        write_string(&mut t, k, true);
        t
    };
    if let Some(v) = s(meta, "name") {
        push_str_field(&mut f, "name", &v);
    }
    if let Some(v) = s(meta, "home") {
        push_str_field(&mut f, "home", &v);
    }
    let sources = str_list(meta.get("sources"));
    if !sources.is_empty() {
        f.push(format!("{}:{}", key("sources"), json_list(&sources)));
    }
    if let Some(v) = s(meta, "version") {
        push_str_field(&mut f, "version", &v);
    }
    if let Some(v) = s(meta, "description") {
        push_str_field(&mut f, "description", &v);
    }
    let keywords = str_list(meta.get("keywords"));
    if !keywords.is_empty() {
        f.push(format!("{}:{}", key("keywords"), json_list(&keywords)));
    }
    if let Some(Value::List(ms)) = meta.get("maintainers") {
        let items: Vec<String> = ms
            .iter()
            .filter_map(Value::as_map)
            .map(|m| {
                let mut parts = Vec::new();
                for k in ["name", "email", "url"] {
                    if let Some(v) = s(m, k) {
                        push_str_field(&mut parts, k, &v);
                    }
                }
                format!("{{{}}}", parts.join(","))
            })
            .collect();
        if !items.is_empty() {
            f.push(format!("{}:[{}]", key("maintainers"), items.join(",")));
        }
    }
    for k in ["icon", "apiVersion", "condition"] {
        if let Some(v) = s(meta, k) {
            push_str_field(&mut f, k, &v);
        }
    }
    if let Some(v) = s(meta, "tags") {
        push_str_field(&mut f, "tags", &v);
    }
    if let Some(v) = s(meta, "appVersion") {
        push_str_field(&mut f, "appVersion", &v);
    }
    if meta.get("deprecated").is_some_and(Value::truthy) {
        f.push(format!("{}:true", key("deprecated")));
    }
    if let Some(Value::Map(a)) = meta.get("annotations") {
        if !a.is_empty() {
            let mut parts = Vec::new();
            for (k, v) in a {
                push_str_field(&mut parts, k, &v.to_string());
            }
            f.push(format!("{}:{{{}}}", key("annotations"), parts.join(",")));
        }
    }
    if let Some(v) = s(meta, "kubeVersion") {
        push_str_field(&mut f, "kubeVersion", &v);
    }
    if let Some(Value::List(ds)) = meta.get("dependencies") {
        let items: Vec<String> = ds
            .iter()
            .filter_map(Value::as_map)
            .map(|d| {
                let mut parts = Vec::new();
                for k in ["name", "version"] {
                    if let Some(v) = s(d, k) {
                        push_str_field(&mut parts, k, &v);
                    }
                }
                push_str_field(
                    &mut parts,
                    "repository",
                    &s(d, "repository").unwrap_or_default(),
                );
                if let Some(v) = s(d, "condition") {
                    push_str_field(&mut parts, "condition", &v);
                }
                let tags = str_list(d.get("tags"));
                if !tags.is_empty() {
                    parts.push(format!("{}:{}", key("tags"), json_list(&tags)));
                }
                if let Some(v) = s(d, "alias") {
                    push_str_field(&mut parts, "alias", &v);
                }
                format!("{{{}}}", parts.join(","))
            })
            .collect();
        if !items.is_empty() {
            f.push(format!("{}:[{}]", key("dependencies"), items.join(",")));
        }
    }
    if let Some(v) = s(meta, "type") {
        push_str_field(&mut f, "type", &v);
    }
    format!("{{{}}}", f.join(","))
}

/// Manifest annotations Helm sets, sorted (Chart.yaml annotations may
/// override all but title and version).
pub fn annotations(meta: &Map, created: &str) -> std::collections::BTreeMap<String, String> {
    let mut a = std::collections::BTreeMap::new();
    let put = |a: &mut std::collections::BTreeMap<String, String>, k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.trim().is_empty()) {
            a.insert(format!("org.opencontainers.image.{k}"), v);
        }
    };
    put(&mut a, "description", s(meta, "description"));
    put(&mut a, "url", s(meta, "home"));
    put(
        &mut a,
        "source",
        str_list(meta.get("sources")).into_iter().next(),
    );
    if let Some(Value::List(ms)) = meta.get("maintainers") {
        let authors: Vec<String> = ms
            .iter()
            .filter_map(Value::as_map)
            .filter_map(|m| {
                let name = s(m, "name")?;
                Some(match s(m, "email") {
                    Some(e) => format!("{name} ({e})"),
                    None => name,
                })
            })
            .collect();
        put(&mut a, "authors", Some(authors.join(", ")));
    }
    put(&mut a, "created", Some(created.to_string()));
    if let Some(Value::Map(extra)) = meta.get("annotations") {
        for (k, v) in extra {
            a.insert(k.clone(), v.to_string());
        }
    }
    a.insert(
        "org.opencontainers.image.title".into(),
        s(meta, "name").unwrap_or_default(),
    );
    a.insert(
        "org.opencontainers.image.version".into(),
        s(meta, "version").unwrap_or_default(),
    );
    a
}

/// The manifest Helm pushes: compact, no top-level mediaType.
pub fn manifest_json(
    config: &[u8],
    layer: &[u8],
    annotations: &std::collections::BTreeMap<String, String>,
) -> String {
    let desc = |mt: &str, data: &[u8]| {
        format!(
            "{{\"mediaType\":\"{mt}\",\"digest\":\"{}\",\"size\":{}}}",
            sha256_digest(data),
            data.len()
        )
    };
    let mut ann = Vec::new();
    for (k, v) in annotations {
        push_str_field(&mut ann, k, v);
    }
    format!(
        "{{\"schemaVersion\":2,\"config\":{},\"layers\":[{}],\"annotations\":{{{}}}}}",
        desc(CONFIG_MEDIA_TYPE, config),
        desc(CHART_MEDIA_TYPE, layer),
        ann.join(",")
    )
}

/// RFC 3339 UTC to the second, from seconds since the epoch.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::yaml::parse_values;

    #[test]
    fn config_matches_helms_bytes() {
        let meta = parse_values(
            "apiVersion: v2\nname: mychart\nhome: https://example.com\nsources: [https://github.com/example/mychart]\nversion: 1.2.3+build.7\ndescription: A test chart\nkeywords: [test, demo]\nmaintainers: [{name: Jane, email: jane@example.com, url: https://example.com/jane}]\nicon: https://example.com/icon.png\nappVersion: 2.0.1\nannotations: {category: Testing, org.opencontainers.image.vendor: Example Inc}\nkubeVersion: '>=1.20.0-0'\ntype: application\n",
            None,
        )
        .unwrap();
        let want = r#"{"name":"mychart","home":"https://example.com","sources":["https://github.com/example/mychart"],"version":"1.2.3+build.7","description":"A test chart","keywords":["test","demo"],"maintainers":[{"name":"Jane","email":"jane@example.com","url":"https://example.com/jane"}],"icon":"https://example.com/icon.png","apiVersion":"v2","appVersion":"2.0.1","annotations":{"category":"Testing","org.opencontainers.image.vendor":"Example Inc"},"kubeVersion":"\u003e=1.20.0-0","type":"application"}"#;
        assert_eq!(config_json(&meta), want);
        let a = annotations(&meta, "2026-11-29T08:15:22Z");
        assert_eq!(
            a["org.opencontainers.image.authors"],
            "Jane (jane@example.com)"
        );
        assert_eq!(a["org.opencontainers.image.title"], "mychart");
    }

    #[test]
    fn archives_are_reproducible() {
        let chart = crate::chart::embedded().unwrap();
        let (name, a) = archive(&chart).unwrap();
        let (_, b) = archive(&chart).unwrap();
        assert_eq!(name, "tracecat-0.3.45.tgz");
        assert_eq!(a, b);
        let files = crate::chart::archive::read_tgz(&a, "t").unwrap();
        assert!(
            files.contains_key("Chart.yaml") && files.contains_key("charts/temporal/values.yaml")
        );
    }

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1795940122), "2026-11-29T08:15:22Z");
    }
}
