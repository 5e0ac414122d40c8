//! Chart archives (`.tgz`) are untrusted input: entries must stay inside the
//! chart folder, be regular files, and stay within bounded counts and sizes.

use super::Files;
use crate::error::{Error, Kind, Result};
use std::io::Read;

pub fn max_chart_bytes() -> u64 {
    std::env::var("TRACECAT_CHART_MAX_CHART_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100 << 20)
}

fn max_files() -> usize {
    std::env::var("TRACECAT_CHART_MAX_CHART_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

fn bad(origin: &str, msg: impl std::fmt::Display) -> Error {
    Error::new(Kind::Parse, format!("{origin}: {msg}"))
        .with_hint("the archive is corrupt or not a Helm chart package")
}

/// Reads a gzip'd tar chart archive into files relative to its top folder.
pub fn read_tgz(data: &[u8], origin: &str) -> Result<Files> {
    if !data.starts_with(&[0x1f, 0x8b]) {
        let values_file = [".yaml", ".yml", ".json"]
            .iter()
            .any(|e| origin.ends_with(e));
        let hint = if values_file {
            format!("to use it as a values file, pass it with -f {origin}")
        } else {
            "a chart is a folder with Chart.yaml or a .tgz package from `helm package`".to_string()
        };
        return Err(Error::new(
            Kind::Parse,
            format!("{origin}: not a chart: a chart file must be a gzip'd tar archive"),
        )
        .with_hint(hint));
    }
    let limit = max_chart_bytes();
    let gz = flate2::read::GzDecoder::new(data);
    let mut ar = tar::Archive::new(gz.take(limit.saturating_add(1 << 20)));
    let mut files = Files::new();
    let mut total: u64 = 0;
    let entries = ar
        .entries()
        .map_err(|e| bad(origin, format!("not a gzip'd tar archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(origin, format!("reading archive: {e}")))?;
        let kind = entry.header().entry_type();
        let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if kind.is_dir()
            || kind.is_pax_global_extensions()
            || kind.is_pax_local_extensions()
            || kind.is_gnu_longname()
        {
            continue;
        }
        if !kind.is_file() {
            return Err(bad(origin, format!("entry {raw_path:?} is not a regular file ({kind:?}); links and devices are refused")));
        }
        if raw_path.starts_with('/') || raw_path.split(['/', '\\']).any(|c| c == "..") {
            return Err(bad(
                origin,
                format!("entry {raw_path:?} points outside the chart folder"),
            ));
        }
        let clean = raw_path.trim_start_matches("./");
        let Some((_, rel)) = clean.split_once('/') else {
            // Files at the archive root are not part of the chart (Helm drops them too).
            continue;
        };
        if rel.is_empty() {
            continue;
        }
        if files.len() >= max_files() {
            return Err(bad(origin, format!("more than {} files", max_files())));
        }
        let size = entry.header().size().unwrap_or(0);
        total = total.saturating_add(size);
        if total > limit {
            return Err(bad(
                origin,
                format!("uncompressed content exceeds {limit} bytes"),
            )
            .with_hint("raise TRACECAT_CHART_MAX_CHART_BYTES if this chart really is that large"));
        }
        let mut buf = Vec::with_capacity(size.min(1 << 20) as usize);
        entry
            .read_to_end(&mut buf)
            .map_err(|e| bad(origin, format!("reading {raw_path}: {e}")))?;
        files.insert(rel.to_string(), buf.into());
    }
    if files.is_empty() {
        return Err(bad(origin, "no chart files found in archive"));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tgz(entries: &[(&str, &[u8], tar::EntryType)]) -> Vec<u8> {
        let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (p, d, t) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*t);
            h.set_size(d.len() as u64);
            h.set_mode(0o644);
            // set_path refuses "..", so write the name bytes directly
            let name = h.as_old_mut().name.as_mut();
            name[..p.len()].copy_from_slice(p.as_bytes());
            h.set_cksum();
            b.append(&h, *d).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn reads_files_under_top_folder() {
        let data = tgz(&[("c/Chart.yaml", b"name: c\n", tar::EntryType::Regular)]);
        let f = read_tgz(&data, "t").unwrap();
        assert!(f.contains_key("Chart.yaml"));
    }

    #[test]
    fn refuses_traversal_and_links() {
        let data = tgz(&[("c/../../etc/x", b"x", tar::EntryType::Regular)]);
        assert!(read_tgz(&data, "t")
            .unwrap_err()
            .message
            .contains("outside"));
        let data = tgz(&[("c/l", b"", tar::EntryType::Symlink)]);
        assert!(read_tgz(&data, "t")
            .unwrap_err()
            .message
            .contains("not a regular file"));
    }

    #[test]
    fn refuses_garbage() {
        assert!(read_tgz(b"not an archive", "t").is_err());
    }
}
