//! A small OCI distribution client: requests with Basic or Bearer-challenge
//! authentication, TLS options, bounded retries of transient failures
//! (resets, 429 with Retry-After, 5xx) and fast failure on permanent ones.

use super::creds::Credential;
use super::progress::{self, Progress};
use crate::error::{Error, Kind, Result};
use base64::Engine;
use std::collections::HashMap;
use std::io::Read;
use std::time::{Duration, Instant};
use ureq::http;

/// How to reach registries.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub plain_http: bool,
    pub insecure_skip_tls_verify: bool,
    pub ca_file: Option<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    /// Explicit credentials (--username/--password[-stdin]).
    pub username: Option<String>,
    pub password: Option<String>,
    pub registry_config: Option<String>,
}

/// Total time spent retrying one request (TRACECAT_CHART_RETRY_SECONDS).
fn retry_budget() -> Duration {
    let s = std::env::var("TRACECAT_CHART_RETRY_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30u64);
    Duration::from_secs(s)
}

/// How long to wait for a connection or for a response to start
/// (TRACECAT_CHART_TIMEOUT_SECONDS, default 30): a stalled registry is
/// retried within the retry budget instead of hanging the pipeline.
pub fn response_timeout() -> Duration {
    let s = std::env::var("TRACECAT_CHART_TIMEOUT_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|s| *s > 0)
        .unwrap_or(30u64);
    Duration::from_secs(s)
}

/// Largest manifest or config accepted (4 MiB, as distribution allows).
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;

pub fn max_blob_bytes() -> u64 {
    std::env::var("TRACECAT_CHART_MAX_CHART_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100 << 20)
}

pub struct Response {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

pub struct Client {
    agent: ureq::Agent,
    registry: String,
    scheme: &'static str,
    credential: Option<Credential>,
    /// Bearer tokens by scope.
    tokens: HashMap<String, String>,
}

fn read_pem(path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, &e))
}

fn www_authenticate(v: &str) -> (String, HashMap<String, String>) {
    let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
    let re = regex::Regex::new(r#"(\w+)="([^"]*)""#).expect("static");
    let params = re
        .captures_iter(rest)
        .map(|c| (c[1].to_lowercase(), c[2].to_string()))
        .collect();
    (scheme.to_lowercase(), params)
}

/// The slowest a response body may arrive, averaged over each window of
/// the response timeout: a registry (or proxy) trickling bytes would
/// otherwise hold a pull until the 300 s bound, as every read brings
/// something and the per-read timeout never fires.
const MIN_BYTES_PER_SECOND: u64 = 1024;

struct Steady<R> {
    inner: R,
    window: Duration,
    started: Instant,
    bytes: u64,
}

impl<R> Steady<R> {
    fn new(inner: R) -> Steady<R> {
        Steady {
            inner,
            window: response_timeout(),
            started: Instant::now(),
            bytes: 0,
        }
    }
}

impl<R: std::io::Read> std::io::Read for Steady<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        let elapsed = self.started.elapsed();
        if n > 0 && elapsed >= self.window {
            if self.bytes < MIN_BYTES_PER_SECOND * self.window.as_secs().max(1) {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "the registry sent {} bytes in {} s (below {MIN_BYTES_PER_SECOND} bytes a second): too slow",
                        self.bytes,
                        elapsed.as_secs()
                    ),
                ));
            }
            self.started = Instant::now();
            self.bytes = 0;
        }
        Ok(n)
    }
}

/// Whether a transport failure may pass on a retry: a reset or a cut
/// connection, a timeout. A refused connection, a name that does not
/// resolve and a failed TLS handshake do not change by waiting: they fail
/// at once, with the hint.
fn retriable(e: &ureq::Error) -> bool {
    use std::io::ErrorKind as K;
    match e {
        ureq::Error::Timeout(t) => !matches!(t, ureq::Timeout::Resolve),
        ureq::Error::Io(io) => {
            let text = io.to_string();
            let tls = text.contains("rustls") || text.contains("certificate");
            !tls && matches!(
                io.kind(),
                K::ConnectionReset
                    | K::ConnectionAborted
                    | K::BrokenPipe
                    | K::UnexpectedEof
                    | K::TimedOut
                    | K::Interrupted
            )
        }
        // A malformed response mid-exchange (a cut stream): worth one more try.
        ureq::Error::Protocol(_) => true,
        _ => false,
    }
}

/// A `Retry-After` value: delay seconds, or an HTTP date (RFC 9110 allows
/// both; a date in the past means now). None when it is neither.
fn retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn transient(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

impl Client {
    pub fn new(registry: &str, opts: &Options) -> Result<Client> {
        use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};
        let mut tls = TlsConfig::builder().disable_verification(opts.insecure_skip_tls_verify);
        if let Some(ca) = &opts.ca_file {
            let pem = read_pem(ca)?;
            let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
                .filter_map(|i| match i {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c.to_owned()),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(Error::new(
                    Kind::Usage,
                    format!("--ca-file {ca}: no PEM certificates found"),
                ));
            }
            tls = tls.root_certs(RootCerts::new_with_certs(&certs));
        } else {
            tls = tls.root_certs(RootCerts::PlatformVerifier);
        }
        match (&opts.cert_file, &opts.key_file) {
            (Some(c), Some(k)) => {
                let cert = Certificate::from_pem(&read_pem(c)?)
                    .map_err(|e| Error::new(Kind::Usage, format!("--cert-file {c}: {e}")))?;
                let key = PrivateKey::from_pem(&read_pem(k)?)
                    .map_err(|e| Error::new(Kind::Usage, format!("--key-file {k}: {e}")))?;
                tls = tls.client_cert(Some(ClientCert::new_with_certs(&[cert], key)));
            }
            (None, None) => {}
            _ => return Err(Error::usage("--cert-file and --key-file go together")),
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls.build())
            .timeout_connect(Some(response_timeout()))
            .timeout_recv_response(Some(response_timeout()))
            .timeout_per_read(Some(response_timeout()))
            .timeout_global(Some(Duration::from_secs(300)))
            .max_redirects(5)
            .user_agent(concat!("tracecat-chart/", env!("CARGO_PKG_VERSION")))
            .build();
        let credential = match (&opts.username, &opts.password) {
            (Some(u), Some(p)) => Some(Credential::Basic {
                username: u.clone(),
                password: p.clone(),
            }),
            _ => super::creds::lookup(registry, opts.registry_config.as_deref()),
        };
        Ok(Client {
            agent: ureq::Agent::new_with_config(config),
            registry: registry.to_string(),
            scheme: if opts.plain_http { "http" } else { "https" },
            credential,
            tokens: HashMap::new(),
        })
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            return path.to_string();
        }
        format!("{}://{}{path}", self.scheme, self.registry)
    }

    fn send_once(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
        auth: Option<&str>,
    ) -> std::result::Result<Response, ureq::Error> {
        let mut b = http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            b = b.header(*k, v);
        }
        if let Some(a) = auth {
            b = b.header("Authorization", a);
        }
        let label = progress::label_for(url);
        let resp = match &label {
            // Blob uploads stream through a progress reader; the explicit
            // Content-Length keeps them length-delimited.
            Some(l) if method == "PUT" && !body.is_empty() => {
                let mut reader = progress::Reader {
                    inner: body,
                    progress: Progress::on_terminal(
                        &format!("Pushing {l}"),
                        Some(body.len() as u64),
                    ),
                };
                let send = ureq::SendBody::from_reader(&mut reader);
                self.agent.run(b.body(send).map_err(ureq::Error::Http)?)?
            }
            _ => self.agent.run(b.body(body).map_err(ureq::Error::Http)?)?,
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let blob_download = method == "GET" && url.contains("/blobs/");
        let limit = if blob_download {
            max_blob_bytes()
        } else {
            MAX_MANIFEST_BYTES
        };
        let mut body = Vec::new();
        if method != "HEAD" {
            let progress = match (&label, blob_download && status == 200) {
                (Some(l), true) => {
                    let total = headers
                        .get("Content-Length")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse().ok());
                    Progress::on_terminal(&format!("Pulling {l}"), total)
                }
                _ => None,
            };
            // Too large is permanent (not retried): refused on the declared
            // length, or as soon as the body passes the limit.
            let declared = headers
                .get("Content-Length")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if declared.is_some_and(|n| n > limit) {
                return Err(ureq::Error::BodyExceedsLimit(limit));
            }
            let inner = Steady::new(resp.into_body().into_reader().take(limit + 1));
            let mut reader = progress::Reader { inner, progress };
            reader.read_to_end(&mut body).map_err(ureq::Error::Io)?;
            if body.len() as u64 > limit {
                return Err(ureq::Error::BodyExceedsLimit(limit));
            }
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    fn basic_header(&self) -> Option<String> {
        match &self.credential {
            Some(Credential::Basic { username, password }) => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            _ => None,
        }
    }

    /// Exchanges credentials for a bearer token (the challenge flow ECR,
    /// GHCR, Docker Hub and Harbor use).
    fn fetch_token(&mut self, params: &HashMap<String, String>, scope: &str) -> Result<String> {
        let realm = params.get("realm").ok_or_else(|| {
            Error::new(
                Kind::Registry,
                format!("{}: bearer challenge without realm", self.registry),
            )
        })?;
        let mut url = realm.clone();
        let mut q = Vec::new();
        if let Some(s) = params.get("service") {
            q.push(format!("service={}", urlencode(s)));
        }
        let sc = params
            .get("scope")
            .cloned()
            .unwrap_or_else(|| scope.to_string());
        if !sc.is_empty() {
            q.push(format!("scope={}", urlencode(&sc)));
        }
        if !q.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&q.join("&"));
        }
        let auth = match &self.credential {
            Some(Credential::Token(t)) => Some(format!("Bearer {t}")),
            _ => self.basic_header(),
        };
        let resp = self.retrying("GET", &url, &[], &[], auth.as_deref())?;
        if resp.status == 401 || resp.status == 403 {
            return Err(self.auth_error(resp.status));
        }
        if resp.status != 200 {
            return Err(Error::new(
                Kind::Registry,
                format!("{}: token endpoint answered {}", self.registry, resp.status),
            ));
        }
        let v: serde_json::Value = serde_json::from_slice(&resp.body).map_err(|_| {
            Error::new(
                Kind::Registry,
                format!("{}: token endpoint returned invalid JSON", self.registry),
            )
        })?;
        v.get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .map(str::to_string)
            .ok_or_else(|| {
                Error::new(
                    Kind::Registry,
                    format!("{}: token endpoint returned no token", self.registry),
                )
            })
    }

    fn auth_error(&self, status: u16) -> Error {
        let have = self.credential.is_some();
        let msg = if have {
            format!("{}: authentication failed ({status})", self.registry)
        } else {
            format!(
                "{}: authentication required ({status}) and no credentials found",
                self.registry
            )
        };
        Error::new(Kind::Registry, msg).with_hint(format!(
            "log in with `tracecat-chart registry login {}` (or `helm registry login`, `docker login`), or pass --username with --password-stdin",
            self.registry
        ))
    }

    /// One request with retries of transient failures.
    fn retrying(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
        auth: Option<&str>,
    ) -> Result<Response> {
        let start = Instant::now();
        let budget = retry_budget();
        let mut delay = Duration::from_millis(250);
        loop {
            let attempt = self.send_once(method, url, headers, body, auth);
            let wait = match &attempt {
                Ok(r) if transient(r.status) => {
                    let after = r
                        .header("Retry-After")
                        .and_then(|s| retry_after(&s, std::time::SystemTime::now()));
                    Some(after.unwrap_or(delay).min(Duration::from_secs(30)))
                }
                Ok(_) => None,
                Err(e) if retriable(e) => Some(delay),
                Err(_) => None,
            };
            match wait {
                Some(w) if start.elapsed() + w < budget => {
                    std::thread::sleep(w);
                    delay = (delay * 2).min(Duration::from_secs(8));
                }
                _ => {
                    return match attempt {
                        Ok(r) => Ok(r),
                        Err(e) => Err(self.transport_error(url, e)),
                    }
                }
            }
        }
    }

    fn transport_error(&self, url: &str, e: ureq::Error) -> Error {
        let host = &self.registry;
        if let ureq::Error::Timeout(t) = &e {
            let (what, hint) = match t {
                ureq::Timeout::Global => (
                    "did not finish within 300 s (the registry is sending too slowly)".to_string(),
                    "check the network to the registry, or a proxy in between",
                ),
                ureq::Timeout::PerRead => (
                    format!("sent nothing for {} s", response_timeout().as_secs()),
                    "the registry stalled; raise TRACECAT_CHART_TIMEOUT_SECONDS if it is just slow",
                ),
                ureq::Timeout::Resolve => (
                    "its name did not resolve in time".to_string(),
                    "check the host name and DNS",
                ),
                _ => (
                    format!("did not answer within {} s", response_timeout().as_secs()),
                    "check that the registry is up; raise TRACECAT_CHART_TIMEOUT_SECONDS if it is just slow",
                ),
            };
            let path = url.split_once(host.as_str()).map(|(_, p)| p).unwrap_or(url);
            return Error::new(Kind::Registry, format!("{host}: request to {path} {what}"))
                .with_hint(hint);
        }
        if let ureq::Error::BodyExceedsLimit(limit) = e {
            let path = url.split_once(host.as_str()).map(|(_, p)| p).unwrap_or(url);
            return Error::new(
                Kind::Registry,
                format!("{host}: the response to {path} is larger than {limit} bytes; refused"),
            )
            .with_hint(if url.contains("/blobs/") {
                "raise TRACECAT_CHART_MAX_CHART_BYTES if this chart is really that large"
            } else {
                "manifests are at most 4 MiB; the registry or a proxy in between is misbehaving"
            });
        }
        let text = e.to_string();
        let hint = if text.contains("InvalidContentType")
            || text.contains("corrupt message")
            || text.contains("HTTP response to HTTPS")
        {
            "the registry may be serving plain HTTP: pass --plain-http".to_string()
        } else if text.to_lowercase().contains("certificate") || text.contains("UnknownIssuer") {
            "the registry's certificate is not trusted: pass --ca-file with its CA, or --insecure-skip-tls-verify to skip the check".to_string()
        } else {
            format!("check that {host} is reachable and the address is right")
        };
        let path = url.split_once(host.as_str()).map(|(_, p)| p).unwrap_or(url);
        Error::new(
            Kind::Registry,
            format!("{host}: request to {path} failed: {text}"),
        )
        .with_hint(hint)
    }

    /// A request that follows the registry's authentication challenge.
    /// `scope` is the bearer scope, e.g. `repository:charts/x:pull`.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
        scope: &str,
    ) -> Result<Response> {
        let url = self.url(path);
        let cached = self.tokens.get(scope).map(|t| format!("Bearer {t}"));
        let auth = cached.or_else(|| self.basic_header());
        let resp = self.retrying(method, &url, headers, body, auth.as_deref())?;
        if resp.status != 401 {
            return Ok(resp);
        }
        let challenge = resp.header("WWW-Authenticate").unwrap_or_default();
        let (scheme, params) = www_authenticate(&challenge);
        let auth = match scheme.as_str() {
            "bearer" => {
                let token = self.fetch_token(&params, scope)?;
                self.tokens.insert(scope.to_string(), token.clone());
                format!("Bearer {token}")
            }
            _ => match self.basic_header() {
                Some(b) => b,
                None => return Err(self.auth_error(401)),
            },
        };
        let resp = self.retrying(method, &url, headers, body, Some(&auth))?;
        if resp.status == 401 {
            return Err(self.auth_error(401));
        }
        Ok(resp)
    }

    pub fn registry(&self) -> &str {
        &self.registry
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The registry's error message, if the body is an OCI error document.
pub fn error_text(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("errors")?.as_array().map(|a| {
                a.iter()
                    .map(|e| {
                        format!(
                            "{}: {}",
                            e.get("code").and_then(|c| c.as_str()).unwrap_or(""),
                            e.get("message").and_then(|m| m.as_str()).unwrap_or("")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        // The obsolete RFC 850 form, which recipients must still accept.
        assert_eq!(
            retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("-3", now), None);
    }

    #[test]
    fn parses_challenges() {
        let (s, p) = www_authenticate(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull""#,
        );
        assert_eq!(s, "bearer");
        assert_eq!(p["realm"], "https://auth.docker.io/token");
        assert_eq!(p["scope"], "repository:a/b:pull");
        assert_eq!(
            urlencode("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
    }
}
