//! Registry credentials, as users already have them: explicit flags, Helm's
//! registry config (what `helm registry login` writes), then Docker's
//! config.json (auths, credsStore, credHelpers running docker-credential-*).
//! Credentials never appear in output, errors or logs.

use crate::error::{Error, Kind, Result};
use base64::Engine;
use std::path::PathBuf;

#[derive(Clone)]
pub enum Credential {
    Basic {
        username: String,
        password: String,
    },
    /// An identity token (from a credential helper) used for bearer exchange.
    Token(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Credential::Token(_) => f.write_str("Token(<redacted>)"),
        }
    }
}

/// Helm's registry config path: $HELM_REGISTRY_CONFIG, else
/// $XDG_CONFIG_HOME/helm/registry/config.json (~/.config/...).
pub fn helm_registry_config(explicit: Option<&str>) -> PathBuf {
    if let Some(p) = explicit {
        return PathBuf::from(p);
    }
    if let Ok(p) = std::env::var("HELM_REGISTRY_CONFIG") {
        if !p.is_empty() {
            return PathBuf::from(p);
        }
    }
    let base = std::env::var("XDG_CONFIG_HOME")
        .ok()
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| ".".into())).join(".config")
        });
    base.join("helm/registry/config.json")
}

fn from_docker_style(reader: impl std::io::Read, host: &str) -> Option<Credential> {
    match docker_credential::get_credential_from_reader(reader, host) {
        Ok(docker_credential::DockerCredential::UsernamePassword(u, p)) => {
            Some(Credential::Basic {
                username: u,
                password: p,
            })
        }
        Ok(docker_credential::DockerCredential::IdentityToken(t)) => Some(Credential::Token(t)),
        Err(_) => None,
    }
}

/// The credential for `host`, if any source has one.
pub fn lookup(host: &str, registry_config: Option<&str>) -> Option<Credential> {
    let helm = helm_registry_config(registry_config);
    if let Ok(f) = std::fs::File::open(&helm) {
        if let Some(c) = from_docker_style(std::io::BufReader::new(f), host) {
            return Some(c);
        }
    }
    let docker_dir = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")))?;
    let f = std::fs::File::open(docker_dir.join("config.json")).ok()?;
    from_docker_style(std::io::BufReader::new(f), host)
}

fn read_json(path: &std::path::Path) -> Result<serde_json::Map<String, serde_json::Value>> {
    match std::fs::read_to_string(path) {
        Ok(t) if !t.trim().is_empty() => match serde_json::from_str::<serde_json::Value>(&t) {
            Ok(serde_json::Value::Object(m)) => Ok(m),
            _ => Err(Error::new(
                Kind::Parse,
                format!("{}: not a JSON object", path.display()),
            )),
        },
        Ok(_) => Ok(serde_json::Map::new()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(serde_json::Map::new()),
        Err(e) => Err(Error::io(&path.display().to_string(), &e)),
    }
}

/// Go's json.MarshalIndent with a tab, as Helm writes the file.
fn to_tab_json(v: &serde_json::Value) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(v, &mut ser).expect("JSON values serialize");
    String::from_utf8(buf).expect("JSON is UTF-8")
}

fn write_config(
    path: &std::path::Path,
    m: serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let text = to_tab_json(&serde_json::Value::Object(m));
    crate::fsutil::write_atomic(path, text.as_bytes(), 0o600)
}

/// Stores a login in Helm's format (`auths.HOST.auth` = base64 user:password).
pub fn store(
    host: &str,
    username: &str,
    password: &str,
    registry_config: Option<&str>,
) -> Result<PathBuf> {
    let path = helm_registry_config(registry_config);
    let mut m = read_json(&path)?;
    let auths = m
        .entry("auths")
        .or_insert_with(|| serde_json::Value::Object(Default::default()));
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    if let serde_json::Value::Object(a) = auths {
        let mut entry = serde_json::Map::new();
        entry.insert("auth".into(), serde_json::Value::String(auth));
        a.insert(host.to_string(), serde_json::Value::Object(entry));
    }
    write_config(&path, m)?;
    Ok(path)
}

/// Removes a login; false when there was none.
pub fn remove(host: &str, registry_config: Option<&str>) -> Result<bool> {
    let path = helm_registry_config(registry_config);
    let mut m = read_json(&path)?;
    let removed = match m.get_mut("auths") {
        Some(serde_json::Value::Object(a)) => a.remove(host).is_some(),
        _ => false,
    };
    if removed {
        write_config(&path, m)?;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_file_round_trip_in_helms_format() {
        let dir = std::env::temp_dir().join(format!("tcc-creds-{}", std::process::id()));
        let cfg = dir.join("config.json").display().to_string();
        store("127.0.0.1:5056", "alice", "s3cret", Some(&cfg)).unwrap();
        let text = std::fs::read_to_string(&cfg).unwrap();
        assert_eq!(text, "{\n\t\"auths\": {\n\t\t\"127.0.0.1:5056\": {\n\t\t\t\"auth\": \"YWxpY2U6czNjcmV0\"\n\t\t}\n\t}\n}");
        match lookup("127.0.0.1:5056", Some(&cfg)) {
            Some(Credential::Basic { username, password }) => {
                assert_eq!((username.as_str(), password.as_str()), ("alice", "s3cret"))
            }
            other => panic!("{other:?}"),
        }
        assert!(!format!("{:?}", lookup("127.0.0.1:5056", Some(&cfg))).contains("s3cret"));
        assert!(remove("127.0.0.1:5056", Some(&cfg)).unwrap());
        assert!(!remove("127.0.0.1:5056", Some(&cfg)).unwrap());
        let _ = std::fs::remove_dir_all(dir);
    }
}
