//! Tracecat's four core secrets: generated from the operating system's
//! random source, written in the formats deployments consume, and checked
//! without ever printing a value.

pub mod redact;

use crate::error::{Error, Kind, Result};
use base64::Engine;

/// The keys, in the order Tracecat documents them.
pub const KEYS: [&str; 4] = [
    "dbEncryptionKey",
    "serviceKey",
    "signingSecret",
    "userAuthSecret",
];

/// Environment-variable names used by `--format env` (and accepted by
/// `check`), in the order of [`KEYS`].
pub const ENV_NAMES: [&str; 4] = [
    "TRACECAT_DB_ENCRYPTION_KEY",
    "TRACECAT_SERVICE_KEY",
    "TRACECAT_SIGNING_SECRET",
    "TRACECAT_USER_AUTH_SECRET",
];

/// Freshly generated secrets. Debug output never shows the values.
pub struct CoreSecrets {
    pub values: [(&'static str, String); 4],
}

impl std::fmt::Debug for CoreSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CoreSecrets { <redacted> }")
    }
}

fn random_bytes() -> Result<[u8; 32]> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b)
        .map_err(|e| Error::new(Kind::Other, format!("the OS random source failed: {e}")))?;
    Ok(b)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Generates the four secrets: a Fernet key (32 bytes, URL-safe base64 with
/// padding) and three 32-byte hex strings.
pub fn generate() -> Result<CoreSecrets> {
    let fernet = base64::engine::general_purpose::URL_SAFE.encode(random_bytes()?);
    Ok(CoreSecrets {
        values: [
            ("dbEncryptionKey", fernet),
            ("serviceKey", hex(&random_bytes()?)),
            ("signingSecret", hex(&random_bytes()?)),
            ("userAuthSecret", hex(&random_bytes()?)),
        ],
    })
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// A Kubernetes Secret manifest.
    #[default]
    Secret,
    /// KEY=value lines (TRACECAT_* names, for ${VAR} substitution).
    Env,
    /// The JSON document AWS Secrets Manager holds for External Secrets.
    Json,
    /// A secrets.create.tracecat values block.
    Values,
}

/// Renders secrets in one of the formats.
pub fn format(s: &CoreSecrets, fmt: Format, name: &str, namespace: Option<&str>) -> String {
    match fmt {
        Format::Secret => {
            let mut out = String::from("apiVersion: v1\nkind: Secret\nmetadata:\n");
            out.push_str(&format!("  name: {name}\n"));
            if let Some(ns) = namespace {
                out.push_str(&format!("  namespace: {ns}\n"));
            }
            out.push_str("type: Opaque\nstringData:\n");
            for (k, v) in &s.values {
                out.push_str(&format!("  {k}: \"{v}\"\n"));
            }
            out
        }
        Format::Env => s
            .values
            .iter()
            .zip(ENV_NAMES)
            .map(|((_, v), env)| format!("{env}={v}\n"))
            .collect(),
        Format::Json => {
            let m: serde_json::Map<String, serde_json::Value> = s
                .values
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone())))
                .collect();
            format!("{}\n", serde_json::to_string_pretty(&m).unwrap_or_default())
        }
        Format::Values => {
            let mut out = String::from("secrets:\n  create:\n    tracecat:\n      enabled: true\n");
            out.push_str(&format!("      name: {name}\n"));
            for (k, v) in &s.values {
                out.push_str(&format!("      {k}: \"{v}\"\n"));
            }
            out
        }
    }
}

/// What `check` found for one key; never holds the value.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyReport {
    pub key: &'static str,
    pub problem: Option<String>,
}

fn check_value(key: &str, v: &str) -> Option<String> {
    if v.is_empty() {
        return Some("is empty".into());
    }
    if v.contains("${") {
        return Some("is an unsubstituted ${...} placeholder".into());
    }
    if key == "dbEncryptionKey" {
        if v.contains('+') || v.contains('/') {
            return Some("uses standard base64 ('+' or '/'); a Fernet key must be URL-safe base64 ('-' and '_')".into());
        }
        return match base64::engine::general_purpose::URL_SAFE.decode(v.as_bytes()) {
            Ok(b) if b.len() == 32 => None,
            Ok(b) => Some(format!(
                "decodes to {} bytes; a Fernet key is exactly 32 bytes (44 characters)",
                b.len()
            )),
            Err(_) => Some(
                "is not URL-safe base64 with padding (expected 44 characters ending in '=')".into(),
            ),
        };
    }
    if v.len() != 64
        || !v
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Some(format!(
            "is {} characters; expected 64 lowercase hex characters (32 random bytes)",
            v.chars().count()
        ));
    }
    None
}

/// Pulls the four keys out of a Secret manifest, a JSON document or an env
/// file (by camelCase key or TRACECAT_* name).
pub fn parse_any(text: &str) -> Result<Vec<(String, String)>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            Error::new(Kind::Parse, format!("not valid JSON: {e}"))
                .with_hint("give a Secret manifest, an env file or the JSON document")
        })?;
        let obj = v
            .as_object()
            .ok_or_else(|| Error::new(Kind::Parse, "the JSON document is not an object"))?;
        return Ok(obj
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect());
    }
    let looks_env = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .all(|l| {
            l.trim_start_matches("export ")
                .split_once('=')
                .is_some_and(|(k, _)| !k.contains(' ') && !k.contains(':'))
        });
    if looks_env {
        return Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.trim_start_matches("export ").split_once('='))
            .map(|(k, v)| {
                (
                    k.trim().to_string(),
                    v.trim().trim_matches('"').trim_matches('\'').to_string(),
                )
            })
            .collect());
    }
    let doc = crate::values::yaml::parse_one(text).map_err(|e| {
        Error::new(
            Kind::Parse,
            format!(
                "not a Secret manifest, env file or JSON document: {}",
                e.message
            ),
        )
    })?;
    let mut out = Vec::new();
    // A values file (`secrets generate --format values`): the block the
    // chart creates its Secret from.
    if let Some(crate::values::Value::Map(block)) = doc.path("secrets.create.tracecat") {
        for (k, v) in block {
            if let crate::values::Value::String(s) = v {
                out.push((k.clone(), s.clone()));
            }
        }
        return Ok(out);
    }
    if let Some(crate::values::Value::Map(data)) = doc.path("data") {
        for (k, v) in data {
            let raw = v.as_str().unwrap_or_default();
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(raw.as_bytes())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .map_err(|_| Error::new(Kind::Parse, format!("data.{k} is not base64")))?;
            out.push((k.clone(), decoded));
        }
    }
    if let Some(crate::values::Value::Map(data)) = doc.path("stringData") {
        for (k, v) in data {
            out.push((k.clone(), v.to_string()));
        }
    }
    if out.is_empty() {
        return Err(Error::new(
            Kind::Parse,
            "found no data or stringData in the Secret manifest (nor secrets.create.tracecat in a values file)",
        ));
    }
    Ok(out)
}

/// Checks every key: present and in its format.
pub fn check(entries: &[(String, String)]) -> Vec<KeyReport> {
    KEYS.iter()
        .zip(ENV_NAMES)
        .map(|(&key, env)| {
            let found = entries.iter().find(|(k, _)| k == key || k == env);
            KeyReport {
                key,
                problem: match found {
                    None => Some("is missing".into()),
                    Some((_, v)) => check_value(key, v),
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_have_the_right_shape_and_differ() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.values[0].1.len(), 44);
        assert!(a.values[0].1.ends_with('='));
        for (_, v) in &a.values[1..] {
            assert_eq!(v.len(), 64);
        }
        assert_ne!(a.values[1].1, b.values[1].1);
        let entries: Vec<(String, String)> = a
            .values
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        assert!(check(&entries).iter().all(|r| r.problem.is_none()));
        assert!(!format!("{a:?}").contains(&a.values[1].1));
    }

    #[test]
    fn every_format_parses_back() {
        let s = generate().unwrap();
        for f in [Format::Secret, Format::Env, Format::Json, Format::Values] {
            let text = format(&s, f, "tracecat-secrets", Some("ns"));
            let entries = parse_any(&text).unwrap();
            assert!(check(&entries).iter().all(|r| r.problem.is_none()), "{f:?}");
        }
    }

    #[test]
    fn catches_standard_base64_and_truncation() {
        let mut entries = vec![
            ("dbEncryptionKey".to_string(), "ab+/".repeat(11)),
            ("serviceKey".to_string(), "a".repeat(63)),
            ("signingSecret".to_string(), "A".repeat(64)),
        ];
        let r = check(&entries);
        assert!(r[0].problem.as_ref().unwrap().contains("standard base64"));
        assert!(r[1].problem.as_ref().unwrap().contains("63 characters"));
        assert!(r[2].problem.is_some());
        assert_eq!(r[3].problem.as_deref(), Some("is missing"));
        entries[0].1 = base64::engine::general_purpose::URL_SAFE.encode([0u8; 16]);
        assert!(check(&entries)[0]
            .problem
            .as_ref()
            .unwrap()
            .contains("16 bytes"));
    }
}
