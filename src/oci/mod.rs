//! Charts as OCI artifacts, interoperable with Helm 3 and 4: package, push,
//! pull (exact versions, semver ranges, digests), a local cache, and
//! registry logins in Helm's format.

pub mod cache;
pub mod client;
pub mod creds;
pub mod package;
pub mod progress;
pub mod reference;

use crate::error::{Error, Kind, Result};
use client::{Client, Options};
use package::{
    sha256_digest, CHART_MEDIA_TYPE, CONFIG_MEDIA_TYPE, LEGACY_CHART_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE,
};
use reference::{tag_to_version, version_to_tag, Reference};

fn scope(repo: &str, push: bool) -> String {
    if push {
        format!("repository:{repo}:pull,push")
    } else {
        format!("repository:{repo}:pull")
    }
}

fn status_error(c: &Client, what: &str, r: &client::Response) -> Error {
    let detail = client::error_text(&r.body);
    let mut e = Error::new(
        Kind::Registry,
        format!(
            "{}: {what}: HTTP {}{}",
            c.registry(),
            r.status,
            if detail.is_empty() {
                String::new()
            } else {
                format!(" ({detail})")
            }
        ),
    );
    e = match r.status {
        404 => e.with_hint("check the repository path, tag or digest"),
        403 => e.with_hint("the credentials lack permission for this repository"),
        _ => e,
    };
    e
}

fn upload_blob(c: &mut Client, repo: &str, data: &[u8]) -> Result<String> {
    let digest = sha256_digest(data);
    let sc = scope(repo, true);
    let head = c.request("HEAD", &format!("/v2/{repo}/blobs/{digest}"), &[], &[], &sc)?;
    if head.status == 200 {
        return Ok(digest);
    }
    let start = c.request(
        "POST",
        &format!("/v2/{repo}/blobs/uploads/"),
        &[("Content-Length", "0".into())],
        &[],
        &sc,
    )?;
    if start.status != 202 {
        return Err(status_error(c, "starting a blob upload", &start));
    }
    let loc = start.header("Location").ok_or_else(|| {
        Error::new(
            Kind::Registry,
            format!("{}: upload without Location", c.registry()),
        )
    })?;
    let sep = if loc.contains('?') { '&' } else { '?' };
    let url = format!("{loc}{sep}digest={}", digest.replace(':', "%3A"));
    let put = c.request(
        "PUT",
        &url,
        &[
            ("Content-Type", "application/octet-stream".into()),
            ("Content-Length", data.len().to_string()),
        ],
        data,
        &sc,
    )?;
    if put.status != 201 && put.status != 204 {
        return Err(status_error(c, "uploading a blob", &put));
    }
    Ok(digest)
}

/// Pushes a chart archive; returns (reference, manifest digest).
pub fn push(
    archive: &[u8],
    created: &str,
    target: &str,
    opts: &Options,
) -> Result<(String, String)> {
    let base = Reference::parse(target)?;
    if base.tag.is_some() || base.digest.is_some() {
        return Err(Error::usage(format!(
            "{target}: give the repository only; the tag comes from the chart version"
        ))
        .with_hint(
            "e.g. tracecat-chart push tracecat-0.3.45.tgz oci://registry.example.com/charts",
        ));
    }
    let files = crate::chart::archive::read_tgz(archive, "archive")?;
    let chart = crate::chart::Chart::from_files(files, "archive")?;
    let repo = format!("{}/{}", base.repository, chart.name());
    let tag = version_to_tag(&chart.version());
    let config = package::config_json(&chart.metadata);
    let ann = package::annotations(&chart.metadata, created);
    let manifest = package::manifest_json(config.as_bytes(), archive, &ann);
    let mut c = Client::new(&base.registry, opts)?;
    upload_blob(&mut c, &repo, config.as_bytes())?;
    upload_blob(&mut c, &repo, archive)?;
    let r = c.request(
        "PUT",
        &format!("/v2/{repo}/manifests/{tag}"),
        &[("Content-Type", MANIFEST_MEDIA_TYPE.into())],
        manifest.as_bytes(),
        &scope(&repo, true),
    )?;
    if r.status != 201 && r.status != 200 {
        return Err(status_error(&c, "pushing the manifest", &r));
    }
    Ok((
        base.with_repository(&repo).display(&tag),
        sha256_digest(manifest.as_bytes()),
    ))
}

/// Strict SemVer tags of a repository, newest first.
fn list_tags(c: &mut Client, repo: &str) -> Result<Vec<String>> {
    let mut tags = Vec::new();
    let mut path = format!("/v2/{repo}/tags/list");
    for _ in 0..100 {
        let r = c.request("GET", &path, &[], &[], &scope(repo, false))?;
        if r.status != 200 {
            return Err(status_error(c, "listing tags", &r));
        }
        let v: serde_json::Value = serde_json::from_slice(&r.body)
            .map_err(|_| Error::new(Kind::Registry, "tag list is not JSON"))?;
        if let Some(a) = v.get("tags").and_then(|t| t.as_array()) {
            tags.extend(a.iter().filter_map(|t| t.as_str()).map(str::to_string));
        }
        match r.header("Link").and_then(|l| {
            l.split(';')
                .next()
                .map(|u| u.trim().trim_matches(['<', '>']).to_string())
        }) {
            Some(next) if !next.is_empty() => path = next,
            _ => break,
        }
    }
    Ok(tags)
}

/// Picks the tag for a version or range, as Helm does: an exact version is
/// used as the tag directly; a range is matched against the strict SemVer
/// tags, newest first.
fn resolve_tag(c: &mut Client, r: &Reference, version: Option<&str>) -> Result<String> {
    if let Some(t) = &r.tag {
        if let Some(v) = version {
            if version_to_tag(v) != *t {
                return Err(Error::usage(format!(
                    "chart reference and version mismatch: {v} is not {}",
                    tag_to_version(t)
                )));
            }
        }
        return Ok(t.clone());
    }
    let want = version.unwrap_or("");
    // Like Helm, anything that parses as a version is used as the tag as is.
    if crate::version::Version::parse(want).is_some() {
        return Ok(version_to_tag(want));
    }
    let constraint_text = if want.is_empty() { "*" } else { want };
    let constraint = crate::version::Constraint::parse(constraint_text).map_err(|e| {
        Error::usage(e).with_hint("give a version (0.3.45) or a range (^0.3, >=0.3.0 <0.4.0)")
    })?;
    let mut versions: Vec<(crate::version::Version, String)> = list_tags(c, &r.repository)?
        .into_iter()
        .filter_map(|t| crate::version::Version::parse_strict(&tag_to_version(&t)).map(|v| (v, t)))
        .collect();
    if versions.is_empty() {
        return Err(Error::new(
            Kind::Registry,
            format!(
                "unable to locate any tags in provided repository: {}/{}",
                r.registry, r.repository
            ),
        ));
    }
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    versions
        .into_iter()
        .find(|(v, _)| constraint.matches(v))
        .map(|(_, t)| t)
        .ok_or_else(|| {
            Error::new(
                Kind::Registry,
                format!(
                    "could not locate a version matching provided version string {constraint_text}"
                ),
            )
        })
}

fn fetch_blob(
    c: &mut Client,
    repo: &str,
    digest: &str,
    size: Option<u64>,
    what: &str,
) -> Result<Vec<u8>> {
    if let Some(b) = cache::get_blob(digest) {
        return Ok(b);
    }
    let r = c.request(
        "GET",
        &format!("/v2/{repo}/blobs/{digest}"),
        &[],
        &[],
        &scope(repo, false),
    )?;
    if r.status != 200 {
        return Err(status_error(c, &format!("fetching the {what}"), &r));
    }
    if let Some(s) = size {
        if r.body.len() as u64 != s {
            return Err(Error::new(Kind::Registry, format!("{}: the {what} is {} bytes, the manifest says {s}", c.registry(), r.body.len()))
                .with_hint("the transfer was truncated or the registry is serving the wrong content; try again"));
        }
    }
    let got = sha256_digest(&r.body);
    if got != digest {
        return Err(Error::new(
            Kind::Registry,
            format!(
                "{}: digest mismatch for the {what}: expected {digest}, got {got}",
                c.registry()
            ),
        )
        .with_hint("the content was altered in transit or in the registry; nothing was written"));
    }
    cache::put_blob(digest, &r.body)?;
    Ok(r.body)
}

/// A pulled chart.
pub struct Pulled {
    pub archive: Vec<u8>,
    /// Tag or digest it was pulled by.
    pub tag: String,
    pub manifest_digest: String,
    pub reference: Reference,
    /// Notes for the user (e.g. a deprecated media type), for stderr.
    pub warnings: Vec<String>,
}

impl Pulled {
    /// The lines `helm pull` prints on stderr, after any warnings.
    pub fn report(&self) -> Vec<String> {
        let mut lines = self.warnings.clone();
        lines.push(format!("Pulled: {}", self.reference.display(&self.tag)));
        lines.push(format!("Digest: {}", self.manifest_digest));
        lines
    }
}

/// What a chart manifest points at.
struct ChartManifest {
    config: (String, Option<u64>),
    layer: (String, Option<u64>),
    legacy_media_type: bool,
}

fn parse_manifest(body: &[u8]) -> Result<ChartManifest> {
    let m: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| Error::new(Kind::Registry, "the manifest is not valid JSON"))?;
    let cfg = m
        .get("config")
        .ok_or_else(|| Error::new(Kind::Registry, "the manifest has no config"))?;
    fn media_type(v: &serde_json::Value) -> Option<&str> {
        v.get("mediaType").and_then(|t| t.as_str())
    }
    if media_type(cfg) != Some(CONFIG_MEDIA_TYPE) {
        return Err(Error::new(
            Kind::Registry,
            format!("could not load config with mediatype {CONFIG_MEDIA_TYPE}"),
        )
        .with_hint("this artifact is not a Helm chart"));
    }
    let layers = m
        .get("layers")
        .and_then(|l| l.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default();
    let find = |t: &str| layers.iter().find(|l| media_type(l) == Some(t));
    let (layer, legacy_media_type) = match find(CHART_MEDIA_TYPE) {
        Some(l) => (l, false),
        None => match find(LEGACY_CHART_MEDIA_TYPE) {
            Some(l) => (l, true),
            None => {
                return Err(Error::new(
                    Kind::Registry,
                    format!("manifest does not contain a layer with mediatype {CHART_MEDIA_TYPE}"),
                ))
            }
        },
    };
    let blob = |v: &serde_json::Value, what: &str| -> Result<(String, Option<u64>)> {
        let digest = v
            .get("digest")
            .and_then(|d| d.as_str())
            .ok_or_else(|| Error::new(Kind::Registry, format!("{what} without digest")))?;
        Ok((digest.to_string(), v.get("size").and_then(|s| s.as_u64())))
    };
    Ok(ChartManifest {
        config: blob(cfg, "config")?,
        layer: blob(layer, "layer")?,
        legacy_media_type,
    })
}

fn manifest_warnings(m: &ChartManifest) -> Vec<String> {
    if m.legacy_media_type {
        vec![format!(
            "Warning: chart media type {LEGACY_CHART_MEDIA_TYPE} is deprecated"
        )]
    } else {
        Vec::new()
    }
}

/// A pinned reference (digest, tag or exact version) whose manifest, config
/// and archive are all in the cache: no network needed.
fn pull_from_cache(r: &Reference, version: Option<&str>) -> Option<Pulled> {
    let (tag, manifest_digest) = match &r.digest {
        Some(d) => (d.clone(), d.clone()),
        None => {
            let tag = r.tag.clone().or_else(|| {
                version
                    .filter(|v| crate::version::Version::parse_strict(v).is_some())
                    .map(version_to_tag)
            })?;
            let d = cache::get_ref(&r.registry, &r.repository, &tag)?;
            (tag, d)
        }
    };
    let m = parse_manifest(&cache::get_blob(&manifest_digest)?).ok()?;
    cache::get_blob(&m.config.0)?;
    let archive = cache::get_blob(&m.layer.0)?;
    Some(Pulled {
        archive,
        tag,
        manifest_digest,
        reference: r.clone(),
        warnings: manifest_warnings(&m),
    })
}

/// Resolves and fetches a chart, verifying every digest and media type.
/// With an exact version or digest already cached, no network is used.
pub fn pull(target: &str, version: Option<&str>, opts: &Options) -> Result<Pulled> {
    let r = Reference::parse(target)?;
    if let Some(p) = pull_from_cache(&r, version) {
        return Ok(p);
    }
    let mut c = Client::new(&r.registry, opts)?;
    let tag = match &r.digest {
        Some(d) => d.clone(),
        None => resolve_tag(&mut c, &r, version)?,
    };
    let resp = c.request(
        "GET",
        &format!("/v2/{}/manifests/{tag}", r.repository),
        &[(
            "Accept",
            format!("{MANIFEST_MEDIA_TYPE}, application/vnd.docker.distribution.manifest.v2+json"),
        )],
        &[],
        &scope(&r.repository, false),
    )?;
    if resp.status != 200 {
        let what = format!("fetching {}", r.display(&tag));
        return Err(status_error(&c, &what, &resp));
    }
    let manifest_digest = sha256_digest(&resp.body);
    if let Some(d) = &r.digest {
        if *d != manifest_digest {
            return Err(Error::new(
                Kind::Registry,
                format!("manifest digest mismatch: asked for {d}, got {manifest_digest}"),
            ));
        }
    }
    let m = parse_manifest(&resp.body)?;
    let config = fetch_blob(&mut c, &r.repository, &m.config.0, m.config.1, "config")?;
    serde_json::from_slice::<serde_json::Value>(&config)
        .map_err(|_| Error::new(Kind::Registry, "the chart config is not valid JSON"))?;
    let archive = fetch_blob(
        &mut c,
        &r.repository,
        &m.layer.0,
        m.layer.1,
        "chart archive",
    )?;
    cache::put_blob(&manifest_digest, &resp.body)?;
    if r.digest.is_none() {
        cache::put_ref(&r.registry, &r.repository, &tag, &manifest_digest)?;
    }
    Ok(Pulled {
        archive,
        tag,
        manifest_digest,
        reference: r,
        warnings: manifest_warnings(&m),
    })
}

/// File name `helm pull` writes: `<name>-<version>.tgz`, or
/// `<name>@sha256-<hex>.tgz` for a digest.
pub fn archive_file_name(p: &Pulled) -> String {
    if let Some(d) = p.tag.strip_prefix("sha256:") {
        format!("{}@sha256-{d}.tgz", p.reference.name())
    } else {
        format!("{}-{}.tgz", p.reference.name(), tag_to_version(&p.tag))
    }
}

/// Checks credentials against `/v2/`.
pub fn login_check(host: &str, opts: &Options) -> Result<()> {
    let mut c = Client::new(host, opts)?;
    let r = c.request("GET", "/v2/", &[], &[], "")?;
    if r.status == 200 {
        Ok(())
    } else {
        Err(status_error(&c, "login", &r))
    }
}
