//! OCI interop against a real registry (CNCF distribution's docker-registry,
//! started per test on a free loopback port) and real Helm 3 and Helm 4:
//! both directions, digests, tampering, auth (htpasswd behind TLS with a test
//! CA; login, Docker config, credential helper) and faults through a proxy.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Registry {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Tls {
    ca: PathBuf,
}

fn make_tls(dir: &Path) -> (Tls, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=tracecat-test-ca",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(dir.join("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    (
        Tls {
            ca: dir.join("ca.pem"),
        },
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

fn start_registry(auth: bool, tls: bool) -> (Registry, Option<Tls>) {
    let dir = TempDir::new("registry");
    let port = free_port();
    let mut cfg = format!(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
        dir.path().join("data").display()
    );
    let mut tls_out = None;
    if tls {
        let (t, cert, key) = make_tls(dir.path());
        cfg.push_str(&format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            cert.display(),
            key.display()
        ));
        tls_out = Some(t);
    }
    if auth {
        let out = Command::new("htpasswd")
            .args(["-Bbn", "alice", "s3cret-pw"])
            .output()
            .expect("htpasswd (apache2-utils)");
        std::fs::write(dir.path().join("htpasswd"), &out.stdout).unwrap();
        cfg.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: test\n    path: {}\n",
            dir.path().join("htpasswd").display()
        ));
    }
    let cfg_path = dir.path().join("config.yml");
    std::fs::write(&cfg_path, cfg).unwrap();
    let child = Command::new("docker-registry")
        .args(["serve", &cfg_path.display().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("docker-registry (Debian package docker-registry)");
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (Registry { child, port, dir }, tls_out)
}

/// Runs our binary with an isolated HOME and cache.
fn tc(home: &Path, args: &[&str]) -> std::process::Output {
    bin()
        .args(args)
        .env("HOME", home)
        .env("TRACECAT_CHART_CACHE", home.join("cache"))
        .env_remove("DOCKER_CONFIG")
        .env_remove("HELM_REGISTRY_CONFIG")
        .env("TRACECAT_CHART_RETRY_SECONDS", "10")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `registry login` as a CI job runs it: user `alice`, the password on stdin.
fn login(home: &Path, host: &str, ca: &str, cfg: &str, password: &str) -> std::process::Output {
    run_with_stdin_env(
        &[
            "registry",
            "login",
            host,
            "-u",
            "alice",
            "--password-stdin",
            "--ca-file",
            ca,
            "--registry-config",
            cfg,
        ],
        format!("{password}\n").as_bytes(),
        &[("HOME", home.as_os_str())],
    )
}

fn helm(which: &str, home: &Path, args: &[&str]) -> std::process::Output {
    Command::new(peer(which))
        .args(args)
        .env("HOME", home)
        .env("HELM_CONFIG_HOME", home.join("helm-config"))
        .env("HELM_CACHE_HOME", home.join("helm-cache"))
        .env("HELM_DATA_HOME", home.join("helm-data"))
        .output()
        .unwrap()
}

fn packaged(home: &Path) -> PathBuf {
    let out = tc(home, &["package", "-d", &home.display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    home.join("tracecat-0.3.45+minijinja.tgz")
}

#[test]
fn ours_to_helm_3_and_4() {
    let (reg, _) = start_registry(false, false);
    let home = TempDir::new("o2h");
    let tgz = packaged(home.path());
    let remote = format!("oci://127.0.0.1:{}/charts", reg.port);
    let out = tc(
        home.path(),
        &["push", &tgz.display().to_string(), &remote, "--plain-http"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!(
        "Pushed: 127.0.0.1:{}/charts/tracecat:0.3.45_minijinja",
        reg.port
    )));
    let ours = std::fs::read(&tgz).unwrap();
    for h in ["helm4", "helm3"] {
        let d = home.path().join(h);
        std::fs::create_dir_all(&d).unwrap();
        let pull = helm(
            h,
            home.path(),
            &[
                "pull",
                &format!("{remote}/tracecat"),
                "--version",
                "0.3.45+minijinja",
                "--plain-http",
                "-d",
                &d.display().to_string(),
            ],
        );
        assert!(pull.status.success(), "{h}: {}", stderr(&pull));
        assert_eq!(
            std::fs::read(d.join("tracecat-0.3.45+minijinja.tgz")).unwrap(),
            ours,
            "{h} pulled different bytes"
        );
        let show = helm(
            h,
            home.path(),
            &[
                "show",
                "chart",
                &d.join("tracecat-0.3.45+minijinja.tgz")
                    .display()
                    .to_string(),
            ],
        );
        let text = stdout(&show);
        assert!(
            text.contains("name: tracecat") && text.contains("version: 0.3.45+minijinja"),
            "{h}: {text}"
        );
    }
    let values = helm(
        "helm4",
        home.path(),
        &["show", "values", &tgz.display().to_string()],
    );
    assert!(stdout(&values).contains("uiImage:"));
    // Reproducible: packaging again gives the same bytes.
    let again = packaged(home.path());
    assert_eq!(std::fs::read(again).unwrap(), ours);
}

#[test]
fn helm_to_ours_with_ranges_digests_cache_and_tampering() {
    let (reg, _) = start_registry(false, false);
    let home = TempDir::new("h2o");
    let tgz = packaged(home.path());
    let remote = format!("oci://127.0.0.1:{}/helm", reg.port);
    let push = helm(
        "helm4",
        home.path(),
        &["push", &tgz.display().to_string(), &remote, "--plain-http"],
    );
    assert!(push.status.success(), "{}", stderr(&push));
    let digest = stderr(&push)
        .lines()
        .find_map(|l| l.strip_prefix("Digest: "))
        .unwrap()
        .trim()
        .to_string();
    let chart = format!("{remote}/tracecat");
    let q = quickstart();
    let t = tc(
        home.path(),
        &[
            "template",
            &chart,
            "--version",
            "^0.3",
            "--plain-http",
            "-f",
            &q,
        ],
    );
    assert!(t.status.success(), "{}", stderr(&t));
    assert_eq!(stdout(&t).matches("\nkind: ").count(), 30);
    let d = home.path().join("pulled");
    std::fs::create_dir_all(&d).unwrap();
    let p = tc(
        home.path(),
        &[
            "pull",
            &format!("{chart}@{digest}"),
            "--plain-http",
            "-d",
            &d.display().to_string(),
        ],
    );
    assert!(p.status.success(), "{}", stderr(&p));
    assert!(d
        .join(format!("tracecat@{}.tgz", digest.replace(':', "-")))
        .exists());
    let p = tc(
        home.path(),
        &[
            "pull",
            &chart,
            "--version",
            "0.3.45+minijinja",
            "--plain-http",
            "-d",
            &d.display().to_string(),
            "--untar",
        ],
    );
    assert!(p.status.success(), "{}", stderr(&p));
    assert!(
        d.join("tracecat/Chart.yaml").exists()
            && d.join("tracecat/charts/temporal/Chart.yaml").exists()
    );
    // A pinned version renders from the cache with the registry gone.
    let p = tc(
        home.path(),
        &[
            "template",
            &chart,
            "--version",
            "0.3.45+minijinja",
            "--plain-http",
            "-f",
            &q,
        ],
    );
    assert!(p.status.success());
    let data = reg.dir.path().join("data");
    drop(reg);
    let offline = tc(
        home.path(),
        &[
            "template",
            &chart,
            "--version",
            "0.3.45+minijinja",
            "--plain-http",
            "-f",
            &q,
        ],
    );
    assert!(offline.status.success(), "{}", stderr(&offline));
    // Tampering: corrupt the chart blob in the registry's storage.
    let (reg2, _) = start_registry(false, false);
    let remote2 = format!("oci://127.0.0.1:{}/helm", reg2.port);
    assert!(helm(
        "helm4",
        home.path(),
        &["push", &tgz.display().to_string(), &remote2, "--plain-http"]
    )
    .status
    .success());
    let layer = package_digest(&tgz);
    let blob = reg2
        .dir
        .path()
        .join("data/docker/registry/v2/blobs/sha256")
        .join(&layer[7..9])
        .join(&layer[7..])
        .join("data");
    let mut bytes = std::fs::read(&blob).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    let fresh = TempDir::new("tamper");
    let out_dir = fresh.path().join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let bad = tc(
        fresh.path(),
        &[
            "pull",
            &format!("{remote2}/tracecat"),
            "--version",
            "0.3.45+minijinja",
            "--plain-http",
            "-d",
            &out_dir.display().to_string(),
        ],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("digest mismatch"), "{}", stderr(&bad));
    assert_eq!(
        std::fs::read_dir(&out_dir).unwrap().count(),
        0,
        "nothing written"
    );
    let _ = data;
}

fn package_digest(tgz: &Path) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(std::fs::read(tgz).unwrap());
    format!(
        "sha256:{}",
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

#[test]
fn auth_behind_tls_login_docker_config_and_credential_helper() {
    let (reg, tls) = start_registry(true, true);
    let tls = tls.unwrap();
    let home = TempDir::new("auth");
    let tgz = packaged(home.path());
    let host = format!("127.0.0.1:{}", reg.port);
    let remote = format!("oci://{host}/secure");
    let ca = tls.ca.display().to_string();
    let tgz_s = tgz.display().to_string();
    // No credentials: a clear refusal.
    let out = tc(home.path(), &["push", &tgz_s, &remote, "--ca-file", &ca]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no credentials found") && stderr(&out).contains("registry login"),
        "{}",
        stderr(&out)
    );
    // Untrusted certificate without the CA.
    let out = tc(home.path(), &["push", &tgz_s, &remote]);
    assert_eq!(out.status.code(), Some(1));
    // Wrong password: refused, and never echoed.
    let cfg = home.path().join("registry.json").display().to_string();
    let bad = login(home.path(), &host, &ca, &cfg, "wrong-pw-123");
    assert_eq!(bad.status.code(), Some(1));
    assert!(!stderr(&bad).contains("wrong-pw-123"));
    // Login writes Helm's file, which both tools then use.
    let ok = login(home.path(), &host, &ca, &cfg, "s3cret-pw");
    assert!(ok.status.success(), "{}", stderr(&ok));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&cfg).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let out = tc(
        home.path(),
        &[
            "push",
            &tgz_s,
            &remote,
            "--ca-file",
            &ca,
            "--registry-config",
            &cfg,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).contains("s3cret") && !stderr(&out).contains("s3cret"));
    let hd = home.path().join("helm-pulled");
    std::fs::create_dir_all(&hd).unwrap();
    let hp = helm(
        "helm4",
        home.path(),
        &[
            "pull",
            &format!("{remote}/tracecat"),
            "--version",
            "0.3.45+minijinja",
            "--ca-file",
            &ca,
            "--registry-config",
            &cfg,
            "-d",
            &hd.display().to_string(),
        ],
    );
    assert!(hp.status.success(), "helm with our login: {}", stderr(&hp));
    // Docker's config.json (auths).
    let docker = home.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret-pw");
    std::fs::write(
        docker.join("config.json"),
        format!("{{\"auths\":{{\"{host}\":{{\"auth\":\"{auth}\"}}}}}}"),
    )
    .unwrap();
    // A pull that finds its credentials through Docker's config only.
    let docker_pull = |dir: &str, path: Option<String>| {
        let d = home.path().join(dir);
        std::fs::create_dir_all(&d).unwrap();
        let mut cmd = bin();
        cmd.args([
            "pull",
            &format!("{remote}/tracecat"),
            "--version",
            "0.3.45+minijinja",
            "--ca-file",
            &ca,
            "-d",
            &d.display().to_string(),
        ])
        .env("HOME", home.path())
        .env("DOCKER_CONFIG", &docker)
        .env(
            "TRACECAT_CHART_CACHE",
            home.path().join(format!("cache-{dir}")),
        );
        if let Some(p) = path {
            cmd.env("PATH", p);
        }
        (cmd.output().unwrap(), d)
    };
    let (out, _) = docker_pull("d1", None);
    assert!(out.status.success(), "docker config: {}", stderr(&out));
    // A credential helper on PATH (credsStore), as ECR users have.
    let helper_dir = home.path().join("helpers");
    std::fs::create_dir_all(&helper_dir).unwrap();
    let helper = helper_dir.join("docker-credential-testhelper");
    std::fs::write(&helper, "#!/bin/sh\nread server\necho '{\"ServerURL\":\"'\"$server\"'\",\"Username\":\"alice\",\"Secret\":\"s3cret-pw\"}'\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::write(
        docker.join("config.json"),
        "{\"credsStore\":\"testhelper\"}",
    )
    .unwrap();
    let (out, d) = docker_pull(
        "d2",
        Some(format!(
            "{}:{}",
            helper_dir.display(),
            std::env::var("PATH").unwrap()
        )),
    );
    assert!(out.status.success(), "credential helper: {}", stderr(&out));
    assert!(d.join("tracecat-0.3.45+minijinja.tgz").exists());
    // Logout removes the entry.
    let out = tc(
        home.path(),
        &["registry", "logout", &host, "--registry-config", &cfg],
    );
    assert!(out.status.success());
    assert!(!std::fs::read_to_string(&cfg).unwrap().contains(&host));
}

/// A TCP proxy in front of the real registry that injects faults.
struct Proxy {
    port: u16,
    served: Arc<AtomicUsize>,
    blob_gets: Arc<AtomicUsize>,
}

#[derive(Clone, Copy)]
enum Fault {
    /// Answer the first N requests with 503.
    Unavailable(usize),
    /// Answer the first N requests with this status and Retry-After.
    Status(usize, u16, &'static str),
    /// Cut blob responses short (every time).
    TruncateBlobs,
    /// Reset the connection (RST) half-way through the first blob response.
    ResetFirstBlob,
    /// Hold the first N responses back this many seconds.
    Stall(usize, u64),
    /// Hold every blob response back this many seconds.
    StallBlobs(u64),
    /// Flip a byte in every blob body (same length: the digest is wrong).
    CorruptBlobs,
    /// Serve manifests whose config has another media type.
    WrongMediaType,
    /// Serve a manifest larger than any registry allows.
    HugeManifest,
}

fn read_head(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut b = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut b).ok()? == 0 {
            return None;
        }
        buf.push(b[0]);
    }
    Some(buf)
}

fn content_length(head: &[u8]) -> usize {
    String::from_utf8_lossy(head)
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(0))
        })
        .unwrap_or(0)
}

/// Splits a raw HTTP response into head and body.
fn split_response(resp: &[u8]) -> (String, Vec<u8>) {
    match resp.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(pos) => (
            String::from_utf8_lossy(&resp[..pos + 4]).into_owned(),
            resp[pos + 4..].to_vec(),
        ),
        None => (String::from_utf8_lossy(resp).into_owned(), Vec::new()),
    }
}

/// The response with a new body, Content-Length and Docker-Content-Digest
/// dropped so only the body itself can be checked.
fn with_body(head: &str, body: &[u8]) -> Vec<u8> {
    let mut out = String::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("content-length:") || lower.starts_with("docker-content-digest:") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Closes with RST instead of FIN, as a crashed peer or middlebox does.
fn reset(s: TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket and a correctly sized option value.
    unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(s);
}

fn start_proxy(upstream: u16, fault: Fault) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = Arc::new(AtomicUsize::new(0));
    let blob_gets = Arc::new(AtomicUsize::new(0));
    let (counter, blobs) = (served.clone(), blob_gets.clone());
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut client) = conn else { break };
            let (counter, blobs) = (counter.clone(), blobs.clone());
            std::thread::spawn(move || {
                let Some(head) = read_head(&mut client) else {
                    return;
                };
                let mut body = vec![0u8; content_length(&head)];
                if client.read_exact(&mut body).is_err() {
                    return;
                }
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let head_text = String::from_utf8_lossy(&head).to_string();
                let request_line = head_text.lines().next().unwrap_or("").to_string();
                let is_get = head_text.starts_with("GET ");
                let is_blob_get = is_get && request_line.contains("/blobs/");
                let is_manifest_get = is_get && request_line.contains("/manifests/");
                let nth_blob = if is_blob_get {
                    blobs.fetch_add(1, Ordering::SeqCst)
                } else {
                    usize::MAX
                };
                match fault {
                    Fault::Unavailable(k) if n < k => {
                        let _ = client.write_all(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
                        return;
                    }
                    Fault::Status(k, code, after) if n < k => {
                        let _ = client.write_all(
                            format!("HTTP/1.1 {code} Fault\r\nRetry-After: {after}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n").as_bytes(),
                        );
                        return;
                    }
                    Fault::Stall(k, secs) if n < k => {
                        std::thread::sleep(std::time::Duration::from_secs(secs))
                    }
                    Fault::StallBlobs(secs) if is_blob_get => {
                        std::thread::sleep(std::time::Duration::from_secs(secs))
                    }
                    _ => {}
                }
                let mut up = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
                let rewritten = head_text.replacen("\r\n", "\r\nConnection: close\r\n", 1);
                up.write_all(rewritten.as_bytes()).unwrap();
                up.write_all(&body).unwrap();
                let mut resp = Vec::new();
                let _ = up.read_to_end(&mut resp);
                let (rhead, mut rbody) = split_response(&resp);
                let ok = rhead.starts_with("HTTP/1.1 200");
                match fault {
                    Fault::TruncateBlobs if is_blob_get && ok => {
                        // The full Content-Length, half the body.
                        let half = rbody.len() / 2;
                        let _ = client.write_all(rhead.as_bytes());
                        let _ = client.write_all(&rbody[..half]);
                    }
                    Fault::ResetFirstBlob if nth_blob == 0 && ok => {
                        let half = rbody.len() / 2;
                        let _ = client.write_all(rhead.as_bytes());
                        let _ = client.write_all(&rbody[..half]);
                        let _ = client.flush();
                        reset(client);
                    }
                    Fault::CorruptBlobs if is_blob_get && ok && !rbody.is_empty() => {
                        let mid = rbody.len() / 2;
                        rbody[mid] ^= 0xff;
                        let _ = client.write_all(rhead.as_bytes());
                        let _ = client.write_all(&rbody);
                    }
                    Fault::WrongMediaType if is_manifest_get && ok => {
                        let text = String::from_utf8_lossy(&rbody).replace(
                            "application/vnd.cncf.helm.config.v1+json",
                            "application/vnd.oci.image.config.v1+json",
                        );
                        let _ = client.write_all(&with_body(&rhead, text.as_bytes()));
                    }
                    Fault::HugeManifest if is_manifest_get && ok => {
                        let mut big = rbody.clone();
                        big.resize(5 << 20, b' ');
                        let _ = client.write_all(&with_body(&rhead, &big));
                    }
                    _ => {
                        let _ = client.write_all(&resp);
                    }
                }
            });
        }
    });
    Proxy {
        port,
        served,
        blob_gets,
    }
}

#[test]
fn faults_leave_nothing_partial() {
    let (reg, _) = start_registry(false, false);
    let home = TempDir::new("faults");
    let tgz = packaged(home.path());
    let push = tc(
        home.path(),
        &[
            "push",
            &tgz.display().to_string(),
            &format!("oci://127.0.0.1:{}/f", reg.port),
            "--plain-http",
        ],
    );
    assert!(push.status.success(), "{}", stderr(&push));
    let out = home.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let o = out.display().to_string();
    // Nothing listening: a clear error, nothing written.
    let dead = free_port();
    let r = tc(
        home.path(),
        &[
            "pull",
            &format!("oci://127.0.0.1:{dead}/f/tracecat"),
            "--version",
            "0.3.45+minijinja",
            "--plain-http",
            "-d",
            &o,
        ],
    );
    assert_eq!(r.status.code(), Some(1));
    assert!(
        stderr(&r).contains(&format!("127.0.0.1:{dead}")),
        "{}",
        stderr(&r)
    );
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
    // 503 twice, then success: retried.
    let proxy = start_proxy(reg.port, Fault::Unavailable(2));
    let r = tc(
        home.path(),
        &[
            "pull",
            &format!("oci://127.0.0.1:{}/f/tracecat", proxy.port),
            "--version",
            "0.3.45+minijinja",
            "--plain-http",
            "-d",
            &o,
        ],
    );
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(proxy.served.load(Ordering::SeqCst) > 2);
    assert!(out.join("tracecat-0.3.45+minijinja.tgz").exists());
    std::fs::remove_file(out.join("tracecat-0.3.45+minijinja.tgz")).unwrap();
    // Truncated blobs: refused, no file and no cache entry.
    let proxy = start_proxy(reg.port, Fault::TruncateBlobs);
    let fresh = TempDir::new("trunc");
    let r = tc(
        fresh.path(),
        &[
            "pull",
            &format!("oci://127.0.0.1:{}/f/tracecat", proxy.port),
            "--version",
            "0.3.45+minijinja",
            "--plain-http",
            "-d",
            &o,
        ],
    );
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        0,
        "no partial file"
    );
    let cache_blobs = fresh.path().join("cache/blobs/sha256");
    let cached = std::fs::read_dir(&cache_blobs)
        .map(|d| d.count())
        .unwrap_or(0);
    assert!(cached <= 1, "only verified blobs are cached ({cached})");
}

/// Every cached blob is whole (hashes to its name) and no temporary file is
/// left in the cache.
fn assert_cache_whole(cache: &Path) {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                if e.path().is_dir() {
                    walk(&e.path(), out);
                } else {
                    out.push(e.path());
                }
            }
        }
    }
    let mut files = Vec::new();
    walk(cache, &mut files);
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !name.contains(".tmp-"),
            "temporary file left: {}",
            f.display()
        );
        if f.parent().is_some_and(|p| p.ends_with("blobs/sha256")) {
            assert_eq!(
                package_digest(&f),
                format!("sha256:{name}"),
                "corrupt cache blob"
            );
        }
    }
}

/// Names of the files in a folder (sorted).
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// A registry with the chart pushed; returns it, a home, and the digest of
/// the archive that was pushed.
fn pushed(name: &str) -> (Registry, TempDir, String) {
    let (reg, _) = start_registry(false, false);
    let home = TempDir::new(name);
    let tgz = packaged(home.path());
    let digest = package_digest(&tgz);
    let push = tc(
        home.path(),
        &[
            "push",
            &tgz.display().to_string(),
            &format!("oci://127.0.0.1:{}/f", reg.port),
            "--plain-http",
        ],
    );
    assert!(push.status.success(), "{}", stderr(&push));
    (reg, home, digest)
}

fn pull_via(
    home: &Path,
    port: u16,
    dest: &Path,
    extra_env: &[(&str, &str)],
) -> std::process::Output {
    let mut cmd = bin();
    cmd.args([
        "pull",
        &format!("oci://127.0.0.1:{port}/f/tracecat"),
        "--version",
        "0.3.45+minijinja",
        "--plain-http",
        "-d",
        &dest.display().to_string(),
    ])
    .env("HOME", home)
    .env("TRACECAT_CHART_CACHE", home.join("cache"))
    .env_remove("DOCKER_CONFIG")
    .env_remove("HELM_REGISTRY_CONFIG")
    .env("TRACECAT_CHART_RETRY_SECONDS", "10")
    .stdin(Stdio::null());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Transient faults (429 with Retry-After, 500, a reset mid-blob, a stall
/// longer than the response timeout) are retried and the pull succeeds with
/// the right bytes.
#[test]
fn transient_registry_faults_are_retried() {
    let (reg, _home, digest) = pushed("transient");
    let cases = [
        ("429", Fault::Status(1, 429, "1")),
        ("500", Fault::Status(2, 500, "0")),
        ("reset", Fault::ResetFirstBlob),
        ("stall", Fault::Stall(1, 4)),
    ];
    for (label, fault) in cases {
        let proxy = start_proxy(reg.port, fault);
        let home = TempDir::new(label);
        let dest = home.path().join("out");
        std::fs::create_dir_all(&dest).unwrap();
        let start = std::time::Instant::now();
        let r = pull_via(
            home.path(),
            proxy.port,
            &dest,
            &[("TRACECAT_CHART_TIMEOUT_SECONDS", "1")],
        );
        assert!(r.status.success(), "{label}: {}", stderr(&r));
        assert_eq!(
            listing(&dest),
            vec!["tracecat-0.3.45+minijinja.tgz"],
            "{label}"
        );
        assert_eq!(
            package_digest(&dest.join("tracecat-0.3.45+minijinja.tgz")),
            digest,
            "{label}"
        );
        assert_cache_whole(&home.path().join("cache"));
        if label == "429" {
            // Retry-After: 1 was honoured.
            assert!(
                start.elapsed() >= std::time::Duration::from_secs(1),
                "{label}"
            );
        }
        if label == "reset" {
            assert!(
                proxy.blob_gets.load(Ordering::SeqCst) >= 2,
                "the blob was fetched again"
            );
        }
    }
}

/// Permanent faults fail fast with a message naming the problem, and leave
/// no file in the output folder and nothing unverified in the cache.
#[test]
fn permanent_registry_faults_fail_fast() {
    let (reg, _home, _) = pushed("permanent");
    let counting = start_proxy(reg.port, Fault::Unavailable(0));
    let h = TempDir::new("clean");
    std::fs::create_dir_all(h.path().join("o")).unwrap();
    let r = pull_via(h.path(), counting.port, &h.path().join("o"), &[]);
    assert!(r.status.success(), "{}", stderr(&r));
    let clean = counting.served.load(Ordering::SeqCst);
    let cases = [
        ("digest", Fault::CorruptBlobs, "digest"),
        ("media-type", Fault::WrongMediaType, "mediatype"),
        ("huge-manifest", Fault::HugeManifest, "larger than"),
    ];
    for (label, fault, says) in cases {
        let proxy = start_proxy(reg.port, fault);
        let home = TempDir::new(label);
        let dest = home.path().join("out");
        std::fs::create_dir_all(&dest).unwrap();
        let r = pull_via(home.path(), proxy.port, &dest, &[]);
        let err = stderr(&r);
        assert_eq!(r.status.code(), Some(1), "{label}: {err}");
        assert!(err.to_lowercase().contains(says), "{label}: {err}");
        assert!(!err.contains("panicked"), "{label}: {err}");
        // Fast: nothing was asked twice (a clean pull makes `clean` requests).
        assert!(
            proxy.served.load(Ordering::SeqCst) <= clean,
            "{label}: retried a permanent fault"
        );
        assert!(listing(&dest).is_empty(), "{label}: {:?}", listing(&dest));
        assert_cache_whole(&home.path().join("cache"));
    }
}

/// A pull killed while the blob is in flight leaves nothing behind, and the
/// next pull succeeds.
#[test]
fn killed_mid_pull_leaves_nothing_partial() {
    let (reg, _home, digest) = pushed("killed");
    let proxy = start_proxy(reg.port, Fault::StallBlobs(30));
    let home = TempDir::new("killed-pull");
    let dest = home.path().join("out");
    std::fs::create_dir_all(&dest).unwrap();
    let mut child = bin()
        .args([
            "pull",
            &format!("oci://127.0.0.1:{}/f/tracecat", proxy.port),
            "--version",
            "0.3.45+minijinja",
            "--plain-http",
            "-d",
            &dest.display().to_string(),
        ])
        .env("HOME", home.path())
        .env("TRACECAT_CHART_CACHE", home.path().join("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while proxy.blob_gets.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        proxy.blob_gets.load(Ordering::SeqCst) > 0,
        "the pull reached the blob"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(listing(&dest).is_empty(), "{:?}", listing(&dest));
    assert_cache_whole(&home.path().join("cache"));
    let r = pull_via(home.path(), reg.port, &dest, &[]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(
        package_digest(&dest.join("tracecat-0.3.45+minijinja.tgz")),
        digest
    );
}

/// Four pulls of the same chart into the same folder and cache at once:
/// every one succeeds and one whole copy is left, with no temporary files.
#[test]
fn concurrent_pulls_leave_one_valid_copy() {
    let (reg, _home, digest) = pushed("concurrent");
    let home = TempDir::new("concurrent-pull");
    let dest = home.path().join("out");
    std::fs::create_dir_all(&dest).unwrap();
    let port = reg.port;
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (h, d) = (home.path().to_path_buf(), dest.clone());
            std::thread::spawn(move || pull_via(&h, port, &d, &[]))
        })
        .collect();
    for h in handles {
        let r = h.join().unwrap();
        assert!(r.status.success(), "{}", stderr(&r));
    }
    assert_eq!(listing(&dest), vec!["tracecat-0.3.45+minijinja.tgz"]);
    assert_eq!(
        package_digest(&dest.join("tracecat-0.3.45+minijinja.tgz")),
        digest
    );
    assert_cache_whole(&home.path().join("cache"));
    // And --untar into the same folder at once: one whole tree.
    let untar = home.path().join("untar");
    std::fs::create_dir_all(&untar).unwrap();
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let (h, d) = (home.path().to_path_buf(), untar.clone());
            std::thread::spawn(move || {
                bin()
                    .args([
                        "pull",
                        &format!("oci://127.0.0.1:{port}/f/tracecat"),
                        "--version",
                        "0.3.45+minijinja",
                        "--plain-http",
                        "--untar",
                        "-d",
                        &d.display().to_string(),
                    ])
                    .env("HOME", &h)
                    .env("TRACECAT_CHART_CACHE", h.join("cache"))
                    .stdin(Stdio::null())
                    .output()
                    .unwrap()
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(results.iter().any(|r| r.status.success()));
    for r in &results {
        assert!(!stderr(r).contains("panicked"), "{}", stderr(r));
    }
    let chart_yaml = std::fs::read_to_string(untar.join("tracecat/Chart.yaml")).unwrap();
    assert!(chart_yaml.contains("name: tracecat"));
    let r = run(&["lint", &untar.join("tracecat").display().to_string()]);
    assert!(!stderr(&r).contains("panicked"));
}

/// Failures that waiting does not fix are reported at once, with the hint:
/// a refused connection, a name that does not resolve, HTTPS to a registry
/// that speaks plain HTTP.
#[test]
fn permanent_connection_failures_are_not_retried() {
    let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = plain.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in plain.incoming().flatten() {
            let mut s = s;
            let _ = std::io::Write::write_all(
                &mut s,
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
            );
        }
    });
    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = refused.local_addr().unwrap().port();
    drop(refused);
    for (reference, says) in [
        (format!("oci://127.0.0.1:{dead}/c/tracecat"), "reachable"),
        (
            "oci://no-such-registry.invalid/c/tracecat".to_string(),
            "reachable",
        ),
        (format!("oci://127.0.0.1:{port}/c/tracecat"), "--plain-http"),
    ] {
        let start = std::time::Instant::now();
        let o = run(&["pull", &reference, "--version", "1.0.0"]);
        let took = start.elapsed();
        assert_eq!(o.status.code(), Some(1), "{reference}");
        assert!(stderr(&o).contains(says), "{reference}: {}", stderr(&o));
        assert!(
            took < std::time::Duration::from_secs(3),
            "{reference}: {took:?}"
        );
    }
}

/// A registry that trickles its response is cut off once a window of the
/// response timeout brings less than the minimum rate, with a message
/// saying so, instead of holding the pull until the 300 s bound.
#[test]
fn a_trickling_registry_is_cut_off() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut s = s;
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 100000\r\n\r\n";
                if s.write_all(head.as_bytes()).is_err() {
                    return;
                }
                for _ in 0..200 {
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    if s.write_all(b" ").is_err() {
                        return;
                    }
                }
            });
        }
    });
    let start = std::time::Instant::now();
    let o = bin()
        .args([
            "pull",
            &format!("oci://127.0.0.1:{port}/c/tracecat"),
            "--version",
            "1.0.0",
            "--plain-http",
        ])
        .env("TRACECAT_CHART_TIMEOUT_SECONDS", "2")
        .env("TRACECAT_CHART_RETRY_SECONDS", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("too slow"), "{}", stderr(&o));
    assert!(
        start.elapsed() < std::time::Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
}
