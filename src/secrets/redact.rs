//! Keeping secret values out of messages. Values under secret-looking keys
//! (passwords, tokens, the core secrets, client secrets, API keys, the
//! password part of URLs) are remembered as they are read, and everything
//! the tool prints on stderr passes through [`text`], which replaces them.

use crate::values::{Map, Value};
use std::borrow::Cow;
use std::sync::Mutex;

static KNOWN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Shorter strings are too likely to match ordinary text.
const MIN_LEN: usize = 4;

pub const MASK: &str = "<redacted>";

/// Whether a values key holds a secret (by name, case-insensitive).
pub fn sensitive_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    // Names of Secret objects and keys within them are not secret.
    if k.ends_with("name")
        || k.ends_with("ref")
        || k.ends_with("arn")
        || k == "existingsecret"
        || k == "secretkey"
    {
        return false;
    }
    [
        "password",
        "passwd",
        "token",
        "apikey",
        "api_key",
        "privatekey",
        "private_key",
        "clientsecret",
        "client_secret",
        "accesskey",
        "secretaccesskey",
        "encryptionkey",
        "servicekey",
        "signingsecret",
        "userauthsecret",
        "credentials",
    ]
    .iter()
    .any(|s| k.contains(s))
}

/// Remembers one secret value, with the escaped forms it takes inside JSON
/// output (lint reports) and quoted messages, so a secret holding a quote,
/// a backslash or a newline is masked there too.
pub fn remember(s: &str) {
    if s.len() < MIN_LEN {
        return;
    }
    let json = serde_json::to_string(s).unwrap_or_default();
    let debug = format!("{s:?}");
    let forms = [
        s,
        json.get(1..json.len().saturating_sub(1)).unwrap_or(s),
        debug.get(1..debug.len().saturating_sub(1)).unwrap_or(s),
    ];
    if let Ok(mut known) = KNOWN.lock() {
        for f in forms {
            if !known.iter().any(|k| k == f) {
                known.push(f.to_string());
            }
        }
        // Longest first, so a secret containing another is masked whole.
        known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    }
}

/// The password in `scheme://user:password@host...`, if any.
fn url_password(s: &str) -> Option<&str> {
    let rest = s.split_once("://")?.1;
    let auth = rest.split(['/', '?', '#']).next()?.rsplit_once('@')?.0;
    auth.split_once(':')
        .map(|(_, p)| p)
        .filter(|p| !p.is_empty())
}

fn walk(key: &str, v: &Value) {
    match v {
        Value::String(s) => {
            if sensitive_key(key) {
                remember(s);
            }
            if let Some(p) = url_password(s) {
                remember(p);
            }
        }
        Value::List(items) => items.iter().for_each(|i| walk(key, i)),
        Value::Map(m) => remember_values(m),
        _ => {}
    }
}

/// Remembers every secret-looking value of a values tree.
pub fn remember_values(m: &Map) {
    for (k, v) in m {
        walk(k, v);
    }
}

/// Remembers what the `--set` family of flags gives secret-looking keys,
/// before the flags are parsed, so even an error quoting one is masked.
pub fn remember_set_flags(src: &crate::values::Sources) {
    for flag in src
        .set
        .iter()
        .chain(&src.set_string)
        .chain(&src.set_json)
        .chain(&src.set_literal)
    {
        remember_set_flag(flag);
    }
}

/// Remembers what the loaded user values hold that must be masked: every
/// secret-looking value and every text `--set-file` read (which may be a
/// key or /proc/self/environ, and is never quoted back).
pub fn remember_user_values(user: &crate::values::UserValues) {
    remember_values(&user.values);
    for t in &user.file_texts {
        remember(t);
    }
}

fn remember_set_flag(flag: &str) {
    for pair in flag.split(',') {
        if let Some((k, v)) = pair.split_once('=') {
            let last = k.rsplit('.').next().unwrap_or(k);
            let last = last.split('[').next().unwrap_or(last);
            if sensitive_key(last) {
                remember(v);
            }
            if let Some(p) = url_password(v) {
                remember(p);
            }
        }
    }
}

/// The text with every remembered secret masked.
pub fn text(s: &str) -> Cow<'_, str> {
    let Ok(known) = KNOWN.lock() else {
        return Cow::Borrowed(s);
    };
    let mut out = Cow::Borrowed(s);
    for k in known.iter() {
        if out.contains(k.as_str()) {
            out = Cow::Owned(out.replace(k.as_str(), MASK));
        }
    }
    out
}

/// Rendered manifest text (what `--debug` shows of a failed render) with
/// secrets masked: every value under a secret-looking key, every entry of
/// a Secret's `data` and `stringData`, and whatever [`text`] masks. Line
/// by line, as the text is by definition not valid YAML.
pub fn rendered(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // The indent of a Secret's data block being masked, while inside it.
    let mut in_data: Option<usize> = None;
    let is_secret = s.lines().any(|l| l.trim_end() == "kind: Secret");
    for line in s.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start().len();
        let item = body.trim_start().trim_start_matches("- ");
        if let Some(d) = in_data {
            if !body.trim().is_empty() && indent <= d {
                in_data = None;
            }
        }
        let key_value = item.split_once(':').filter(|(k, _)| {
            !k.is_empty() && !k.contains(' ') || k.starts_with('"') || k.starts_with('\'')
        });
        let masked = match key_value {
            Some((k, v)) if !v.trim().is_empty() => {
                let key = k.trim_matches(['"', '\'']);
                if in_data.is_some() || sensitive_key(key) {
                    Some(format!("{}{k}: {MASK}", &body[..body.len() - item.len()]))
                } else {
                    None
                }
            }
            Some((k, _)) if is_secret && (k == "data" || k == "stringData") => {
                in_data = Some(indent);
                None
            }
            _ => None,
        };
        match masked {
            Some(m) => {
                out.push_str(&m);
                out.push_str(&line[body.len()..]);
            }
            None => out.push_str(line),
        }
    }
    text(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_masking() {
        assert!(sensitive_key("password") && sensitive_key("adminPassword"));
        assert!(sensitive_key("dbEncryptionKey") && sensitive_key("clientSecret"));
        assert!(!sensitive_key("existingSecret") && !sensitive_key("targetSecretName"));
        assert!(!sensitive_key("secretArn") && !sensitive_key("replicas"));
        assert_eq!(
            url_password("redis://:hunter22@redis:6379/0"),
            Some("hunter22")
        );
        assert_eq!(url_password("redis://redis:6379"), None);
        let m = crate::values::yaml::parse_values(
            "a:\n  password: pw-canary-1\n  url: redis://u:pw-canary-2@h\n  name: visible\n",
            None,
        )
        .unwrap();
        remember_values(&m);
        remember_set_flag("x.apiKey=pw-canary-3,y=1");
        let t = text("pw-canary-1 pw-canary-2 pw-canary-3 visible");
        assert_eq!(t, "<redacted> <redacted> <redacted> visible");
        // Escaped forms: as JSON writes them, and as quoted messages do.
        remember("pw\"canary\\4\nx");
        let report =
            serde_json::json!({ "message": "value pw\"canary\\4\nx is wrong" }).to_string();
        assert!(!text(&report).contains("canary"), "{report}");
        let msg = format!("bad value {:?}", "pw\"canary\\4\nx");
        assert!(!text(&msg).contains("canary"), "{msg}");
    }

    #[test]
    fn rendered_text_is_masked_by_key_and_secret_data() {
        let r = rendered(
            "kind: Secret\nmetadata:\n  name: visible-name\ndata:\n  anything: c2VjcmV0\n  \"quoted\": x\n\nstringData:\n  k: v1\nother:\n  token: t-canary\n  - password: p-canary\n  bad: [\n",
        );
        assert_eq!(
            r,
            "kind: Secret\nmetadata:\n  name: visible-name\ndata:\n  anything: <redacted>\n  \"quoted\": <redacted>\n\nstringData:\n  k: <redacted>\nother:\n  token: <redacted>\n  - password: <redacted>\n  bad: [\n"
        );
        // Outside a Secret, only secret-looking keys.
        assert_eq!(rendered("data:\n  a: b\n"), "data:\n  a: b\n");
    }
}
