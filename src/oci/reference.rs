//! `oci://HOST[:PORT]/REPO/NAME[:TAG|@sha256:DIGEST]` references.

use crate::error::{Error, Kind, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]`
    pub registry: String,
    /// Repository path inside the registry, e.g. `charts/tracecat`.
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

fn bad(s: &str, why: &str) -> Error {
    Error::new(Kind::Usage, format!("invalid OCI reference {s:?}: {why}"))
        .with_hint("write oci://HOST/PATH/NAME, optionally with :TAG or @sha256:DIGEST")
}

impl Reference {
    pub fn parse(s: &str) -> Result<Reference> {
        let rest = s.strip_prefix("oci://").ok_or_else(|| {
            let scheme = s.split("://").next().unwrap_or(s);
            if s.contains("://") {
                Error::new(Kind::Usage, format!("scheme {scheme:?} not supported"))
                    .with_hint("charts in registries are addressed as oci://HOST/PATH")
            } else {
                bad(s, "it must start with oci://")
            }
        })?;
        let authority = rest.split('/').next().unwrap_or(rest);
        if let Some((userinfo, host)) = authority.rsplit_once('@') {
            // Never echoed: the password must not reach a log or a CI page.
            if let Some((_, pw)) = userinfo.split_once(':') {
                crate::secrets::redact::remember(pw);
            }
            crate::secrets::redact::remember(userinfo);
            return Err(Error::new(
                Kind::Usage,
                format!("invalid OCI reference oci://<credentials>@{host}/...: a reference cannot carry credentials"),
            )
            .with_hint(format!(
                "log in once with `tracecat-chart registry login {host}` (or set the registry's credentials in the Docker config), then use oci://{host}/..."
            )));
        }
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| bad(s, "no repository path after the host"))?;
        if registry.is_empty() || path.is_empty() {
            return Err(bad(s, "empty host or path"));
        }
        let (path, digest) = match path.split_once('@') {
            Some((p, d)) => {
                let hex = d
                    .strip_prefix("sha256:")
                    .ok_or_else(|| bad(s, "only sha256 digests are supported"))?;
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(bad(s, "the digest must be sha256: and 64 hex characters"));
                }
                (p, Some(d.to_string()))
            }
            None => (path, None),
        };
        let last = path.rsplit('/').next().unwrap_or(path);
        let (path, tag) = match last.split_once(':') {
            Some((_, t)) => (&path[..path.len() - t.len() - 1], Some(t.to_string())),
            None => (path, None),
        };
        let component =
            regex::Regex::new(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$").expect("static");
        for c in path.split('/') {
            if !component.is_match(c) {
                return Err(bad(s, &format!("invalid repository component {c:?} (lower-case letters, digits, '.', '_', '-')")));
            }
        }
        if let Some(t) = &tag {
            let re = regex::Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$").expect("static");
            if !re.is_match(t) {
                return Err(bad(s, &format!("invalid tag {t:?}")));
            }
        }
        Ok(Reference {
            registry: registry.to_string(),
            repository: path.to_string(),
            tag,
            digest,
        })
    }

    /// The chart name: the last path segment.
    pub fn name(&self) -> &str {
        self.repository
            .rsplit('/')
            .next()
            .unwrap_or(&self.repository)
    }

    pub fn with_repository(&self, repo: &str) -> Reference {
        Reference {
            repository: repo.to_string(),
            ..self.clone()
        }
    }

    /// `host/repo:tag` or `host/repo@digest`, as Helm prints it.
    pub fn display(&self, tag_or_digest: &str) -> String {
        if tag_or_digest.starts_with("sha256:") {
            format!("{}/{}@{tag_or_digest}", self.registry, self.repository)
        } else {
            format!("{}/{}:{tag_or_digest}", self.registry, self.repository)
        }
    }
}

/// Helm writes `+` in versions as `_` in tags.
pub fn version_to_tag(v: &str) -> String {
    v.replace('+', "_")
}

pub fn tag_to_version(t: &str) -> String {
    t.replace('_', "+")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let r = Reference::parse("oci://127.0.0.1:5000/charts/tracecat:0.3.45").unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "charts/tracecat");
        assert_eq!(r.tag.as_deref(), Some("0.3.45"));
        assert_eq!(r.name(), "tracecat");
        let d = format!("oci://r.io/a/b@sha256:{}", "a".repeat(64));
        assert!(Reference::parse(&d).unwrap().digest.is_some());
        assert!(Reference::parse("https://r.io/a")
            .unwrap_err()
            .message
            .contains("scheme \"https\""));
        assert!(Reference::parse("oci://r.io/UPPER/x").is_err());
        assert!(Reference::parse("oci://r.io").is_err());
        assert_eq!(version_to_tag("1.2.3+build.7"), "1.2.3_build.7");
    }

    #[test]
    fn credentials_in_a_reference_are_refused_unquoted() {
        for r in [
            "oci://alice:pw-canary-oci@r.io:5000/charts/tracecat",
            "oci://alice:pw-canary-oci@r.io/charts/tracecat@sha256:00",
        ] {
            let e = Reference::parse(r).unwrap_err();
            let all = format!("{} {}", e.message, e.hint.clone().unwrap_or_default());
            assert!(
                !all.contains("pw-canary-oci") && !all.contains("alice"),
                "{all}"
            );
            assert!(all.contains("registry login r.io"), "{all}");
        }
    }
}
