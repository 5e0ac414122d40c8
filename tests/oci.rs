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
    home.join("tracecat-0.3.45.tgz")
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
        "Pushed: 127.0.0.1:{}/charts/tracecat:0.3.45",
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
                "0.3.45",
                "--plain-http",
                "-d",
                &d.display().to_string(),
            ],
        );
        assert!(pull.status.success(), "{h}: {}", stderr(&pull));
        assert_eq!(
            std::fs::read(d.join("tracecat-0.3.45.tgz")).unwrap(),
            ours,
            "{h} pulled different bytes"
        );
        let show = helm(
            h,
            home.path(),
            &[
                "show",
                "chart",
                &d.join("tracecat-0.3.45.tgz").display().to_string(),
            ],
        );
        let text = stdout(&show);
        assert!(
            text.contains("name: tracecat") && text.contains("version: 0.3.45"),
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
    let q = root()
        .join("values/examples/quickstart.yaml")
        .display()
        .to_string();
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
            "0.3.45",
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
            "0.3.45",
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
            "0.3.45",
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
            "0.3.45",
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
    let mut login = bin()
        .args([
            "registry",
            "login",
            &host,
            "-u",
            "alice",
            "--password-stdin",
            "--ca-file",
            &ca,
            "--registry-config",
            &cfg,
        ])
        .env("HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    login
        .stdin
        .take()
        .unwrap()
        .write_all(b"wrong-pw-123\n")
        .unwrap();
    let bad = login.wait_with_output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(!stderr(&bad).contains("wrong-pw-123"));
    // Login writes Helm's file, which both tools then use.
    let mut login = bin()
        .args([
            "registry",
            "login",
            &host,
            "-u",
            "alice",
            "--password-stdin",
            "--ca-file",
            &ca,
            "--registry-config",
            &cfg,
        ])
        .env("HOME", home.path())
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    login
        .stdin
        .take()
        .unwrap()
        .write_all(b"s3cret-pw\n")
        .unwrap();
    let ok = login.wait_with_output().unwrap();
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
            "0.3.45",
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
    let d = home.path().join("d1");
    std::fs::create_dir_all(&d).unwrap();
    let out = bin()
        .args([
            "pull",
            &format!("{remote}/tracecat"),
            "--version",
            "0.3.45",
            "--ca-file",
            &ca,
            "-d",
            &d.display().to_string(),
        ])
        .env("HOME", home.path())
        .env("DOCKER_CONFIG", &docker)
        .env("TRACECAT_CHART_CACHE", home.path().join("c1"))
        .output()
        .unwrap();
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
    let d = home.path().join("d2");
    std::fs::create_dir_all(&d).unwrap();
    let out = bin()
        .args([
            "pull",
            &format!("{remote}/tracecat"),
            "--version",
            "0.3.45",
            "--ca-file",
            &ca,
            "-d",
            &d.display().to_string(),
        ])
        .env("HOME", home.path())
        .env("DOCKER_CONFIG", &docker)
        .env("TRACECAT_CHART_CACHE", home.path().join("c2"))
        .env(
            "PATH",
            format!(
                "{}:{}",
                helper_dir.display(),
                std::env::var("PATH").unwrap()
            ),
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "credential helper: {}", stderr(&out));
    assert!(d.join("tracecat-0.3.45.tgz").exists());
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
}

#[derive(Clone, Copy)]
enum Fault {
    /// Answer the first N requests with 503.
    Unavailable(usize),
    /// Cut blob responses short.
    TruncateBlobs,
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

fn start_proxy(upstream: u16, fault: Fault) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut client) = conn else { break };
            let counter = counter.clone();
            std::thread::spawn(move || loop {
                let Some(head) = read_head(&mut client) else {
                    return;
                };
                let mut body = vec![0u8; content_length(&head)];
                if client.read_exact(&mut body).is_err() {
                    return;
                }
                let n = counter.fetch_add(1, Ordering::SeqCst);
                if let Fault::Unavailable(k) = fault {
                    if n < k {
                        let _ = client.write_all(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n");
                        continue;
                    }
                }
                let head_text = String::from_utf8_lossy(&head).to_string();
                let is_blob_get = head_text.starts_with("GET ")
                    && head_text.lines().next().unwrap_or("").contains("/blobs/");
                let mut up = TcpStream::connect(("127.0.0.1", upstream)).unwrap();
                let rewritten = head_text.replacen("\r\n", "\r\nConnection: close\r\n", 1);
                up.write_all(rewritten.as_bytes()).unwrap();
                up.write_all(&body).unwrap();
                let mut resp = Vec::new();
                let _ = up.read_to_end(&mut resp);
                if matches!(fault, Fault::TruncateBlobs) && is_blob_get {
                    // Keep the headers (with the full Content-Length), drop half the body.
                    if let Some(pos) = resp.windows(4).position(|w| w == b"\r\n\r\n") {
                        let body_len = resp.len() - pos - 4;
                        resp.truncate(pos + 4 + body_len / 2);
                    }
                    let _ = client.write_all(&resp);
                    return;
                }
                let _ = client.write_all(&resp);
                return;
            });
        }
    });
    Proxy { port, served }
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
            "0.3.45",
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
            "0.3.45",
            "--plain-http",
            "-d",
            &o,
        ],
    );
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(proxy.served.load(Ordering::SeqCst) > 2);
    assert!(out.join("tracecat-0.3.45.tgz").exists());
    std::fs::remove_file(out.join("tracecat-0.3.45.tgz")).unwrap();
    // Truncated blobs: refused, no file and no cache entry.
    let proxy = start_proxy(reg.port, Fault::TruncateBlobs);
    let fresh = TempDir::new("trunc");
    let r = tc(
        fresh.path(),
        &[
            "pull",
            &format!("oci://127.0.0.1:{}/f/tracecat", proxy.port),
            "--version",
            "0.3.45",
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
