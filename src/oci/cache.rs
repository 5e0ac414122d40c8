//! A local content-addressed cache of pulled charts: blobs by digest, and
//! which manifest a `registry/repository:tag` pointed at, so rendering a
//! pinned version again needs no network. Everything is written to a
//! temporary file, verified, then renamed: a crash never leaves a partial
//! blob under its digest.

use crate::error::{Error, Result};
use std::path::PathBuf;

pub fn root() -> PathBuf {
    if let Ok(p) = std::env::var("TRACECAT_CHART_CACHE") {
        if !p.is_empty() {
            return PathBuf::from(p);
        }
    }
    let base = std::env::var("XDG_CACHE_HOME")
        .ok()
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| ".".into())).join(".cache")
        });
    base.join("tracecat-chart/oci")
}

fn blob_path(digest: &str) -> Option<PathBuf> {
    let hex = digest.strip_prefix("sha256:")?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(root().join("blobs/sha256").join(hex))
}

fn ref_path(registry: &str, repository: &str, tag: &str) -> PathBuf {
    let safe = |s: &str| s.replace([':', '/'], "_");
    root()
        .join("refs")
        .join(safe(registry))
        .join(repository)
        .join(safe(tag))
}

/// A cached blob, re-verified against its digest.
pub fn get_blob(digest: &str) -> Option<Vec<u8>> {
    let data = std::fs::read(blob_path(digest)?).ok()?;
    (super::package::sha256_digest(&data) == digest).then_some(data)
}

/// Stores a blob under its digest (the caller has verified it).
pub fn put_blob(digest: &str, data: &[u8]) -> Result<()> {
    let Some(p) = blob_path(digest) else {
        return Ok(());
    };
    if p.exists() {
        return Ok(());
    }
    crate::fsutil::write_atomic(&p, data, 0o644)
}

pub fn get_ref(registry: &str, repository: &str, tag: &str) -> Option<String> {
    let d = std::fs::read_to_string(ref_path(registry, repository, tag)).ok()?;
    let d = d.trim().to_string();
    d.starts_with("sha256:").then_some(d)
}

pub fn put_ref(registry: &str, repository: &str, tag: &str, digest: &str) -> Result<()> {
    let p = ref_path(registry, repository, tag);
    crate::fsutil::write_atomic(&p, digest.as_bytes(), 0o644)
        .map_err(|e| Error::new(e.kind, format!("cache: {}", e.message)))
}
