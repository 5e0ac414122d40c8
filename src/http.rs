//! Values files given as `http://` or `https://` URLs, read as Helm's
//! HTTP getter reads them: one GET, redirects followed, only a 200 accepted,
//! a password in the URL sent as Basic authentication and never printed.

use crate::error::{Error, Kind, Result};
use base64::Engine;
use std::io::Read;

/// The reader `-f` and `--set-file` use for URLs.
pub fn values_reader() -> crate::values::Fetch {
    crate::values::Fetch {
        takes: is_url,
        shown: redacted,
        read: get,
    }
}

/// Whether Helm would fetch `path` rather than open it: its scheme (as Go's
/// URL parser finds it, in any case) is one Helm has a getter for.
pub fn is_url(path: &str) -> bool {
    scheme(path).is_some_and(|s| s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https"))
}

fn scheme(path: &str) -> Option<&str> {
    let (s, _) = path.split_once(':')?;
    let mut chars = s.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(s)
}

/// The parts of a URL: the address to request (without user information or
/// fragment), and the user and password if it named them.
struct Parts {
    address: String,
    user: Option<(String, Option<String>)>,
}

fn split(url: &str) -> Parts {
    let url = url.split('#').next().unwrap_or(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return Parts {
            address: url.to_string(),
            user: None,
        };
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((info, host)) => {
            let user = match info.split_once(':') {
                Some((u, p)) => (percent_decode(u), Some(percent_decode(p))),
                None => (percent_decode(info), None),
            };
            Parts {
                address: format!("{}://{host}{tail}", scheme.to_ascii_lowercase()),
                user: Some(user),
            }
        }
        None => Parts {
            address: format!("{}://{rest}", scheme.to_ascii_lowercase()),
            user: None,
        },
    }
}

/// `url` as it may be shown: a password replaced by `***`, as Go shows one,
/// and a user name given alone too, since that is how a token is passed.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((info, host)) => match info.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => format!("{scheme}://***@{host}{tail}"),
        },
        None => url.to_string(),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads the body of `url`, at most `limit` bytes.
pub fn get(url: &str, limit: u64) -> Result<Vec<u8>> {
    use ureq::tls::{RootCerts, TlsConfig};
    let shown = redacted(url);
    let timeout = crate::oci::client::response_timeout();
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .tls_config(
            TlsConfig::builder()
                .root_certs(RootCerts::PlatformVerifier)
                .build(),
        )
        .timeout_connect(Some(timeout))
        .timeout_recv_response(Some(timeout))
        .timeout_per_read(Some(timeout))
        .timeout_global(Some(std::time::Duration::from_secs(300)))
        .max_redirects(10)
        // As Go's client: credentials follow a redirect on the same host only.
        .redirect_auth_headers(ureq::config::RedirectAuthHeaders::SameHost)
        .user_agent(concat!("tracecat-chart/", env!("CARGO_PKG_VERSION")))
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let parts = split(url);
    let mut req = agent.get(&parts.address);
    if let Some((user, password)) = &parts.user {
        let pair = format!("{user}:{}", password.as_deref().unwrap_or_default());
        let token = base64::engine::general_purpose::STANDARD.encode(pair);
        req = req.header("Authorization", format!("Basic {token}"));
    }
    let hint = "check the URL given to -f/--values or --set-file";
    let failed = |cause: String| {
        Error::new(Kind::Io, format!("Get \"{shown}\": {cause}")).with_hint(format!(
            "{hint}; TRACECAT_CHART_TIMEOUT_SECONDS bounds the wait for an answer"
        ))
    };
    let resp = req.call().map_err(|e| failed(e.to_string()))?;
    let status = resp.status();
    if status != 200 {
        let reason = status.canonical_reason().unwrap_or_default();
        return Err(Error::new(
            Kind::Io,
            format!("failed to fetch {shown} : {} {reason}", status.as_u16()),
        )
        .with_hint(hint));
    }
    let mut body = Vec::new();
    resp.into_body()
        .into_reader()
        .take(limit + 1)
        .read_to_end(&mut body)
        .map_err(|e| failed(e.to_string()))?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_paths_as_go_parses_them() {
        for url in ["http://h/v.yaml", "HTTPS://h/v", "https://u:p@h:1/v?x#y"] {
            assert!(is_url(url), "{url}");
        }
        for path in [
            "v.yaml",
            "./http://x",
            "oci://r/c",
            "ftp://h/v",
            "-",
            "C:\\v.yaml",
            "1http://x",
        ] {
            assert!(!is_url(path), "{path}");
        }
    }

    #[test]
    fn user_information_is_sent_apart_and_never_shown() {
        let p = split("HTTP://me:s%40cret@host:8080/v.yaml?x=1#part");
        assert_eq!(p.address, "http://host:8080/v.yaml?x=1");
        assert_eq!(p.user, Some(("me".into(), Some("s@cret".into()))));
        assert_eq!(
            redacted("https://me:s%40cret@host/v.yaml"),
            "https://me:***@host/v.yaml"
        );
        assert_eq!(redacted("https://token@host/v"), "https://***@host/v");
        assert_eq!(split("https://host/a@b").user, None);
    }
}
