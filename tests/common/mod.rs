//! Helpers shared by the end-to-end tests: running the binary, temporary
//! folders, and the semantic manifest comparison.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use tracecat_chart::values::{yaml, Value};

/// The binary under test: the one cargo built with the tests, or the one
/// `TRACECAT_CHART_TEST_BIN` names (`make test` runs the suite again against
/// the release build, which is linked differently).
pub fn bin_path() -> PathBuf {
    match std::env::var_os("TRACECAT_CHART_TEST_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_tracecat-chart")),
    }
}

pub fn bin() -> Command {
    Command::new(bin_path())
}

pub fn run(args: &[&str]) -> Output {
    bin()
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run tracecat-chart")
}

/// Runs the binary with `input` on stdin.
pub fn run_with_stdin(args: &[&str], input: &[u8]) -> Output {
    run_with_stdin_env(args, input, &[])
}

/// [`run_with_stdin`] with extra environment variables.
pub fn run_with_stdin_env(args: &[&str], input: &[u8], env: &[(&str, &std::ffi::OsStr)]) -> Output {
    use std::io::Write;
    let mut child = bin()
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tracecat-chart");
    // A child that exits early closes its stdin; that is its answer, not ours.
    let _ = child.stdin.take().expect("stdin").write_all(input);
    child.wait_with_output().expect("wait for tracecat-chart")
}

pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    bin()
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run tracecat-chart")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The README's quickstart values file.
pub fn quickstart() -> String {
    root()
        .join("values/examples/quickstart.yaml")
        .display()
        .to_string()
}

pub fn fixture(name: &str) -> String {
    root()
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// A real peer installed by ../shared/tools/get-peers.sh (helm3, helm4,
/// kubectl, docker-registry), from $TRACECAT_PEERS or ~/.local/peers.
pub fn peer(name: &str) -> PathBuf {
    let dir = std::env::var("TRACECAT_PEERS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".local/peers"));
    let p = dir.join(name);
    assert!(
        p.exists(),
        "{} not found: run ../shared/tools/get-peers.sh (or set TRACECAT_PEERS)",
        p.display()
    );
    p
}

/// A fresh temporary folder, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "tcc-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub type Key = (String, String, String, String);

fn s(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

/// Objects of a manifest stream keyed like manifest-compare.py:
/// (apiVersion, kind, namespace, name). The helm.sh/chart label value is
/// blanked, as the comparator ignores it.
pub fn objects(stream: &str) -> Vec<(Key, Value)> {
    let docs = yaml::parse_documents(stream, None).expect("stream parses");
    let mut out = Vec::new();
    for mut d in docs {
        if !d.is_map() {
            continue;
        }
        let key = (
            s(d.path("apiVersion")),
            s(d.path("kind")),
            s(d.path("metadata.namespace")),
            s(d.path("metadata.name")),
        );
        blank_chart_label(&mut d);
        out.push((key, d));
    }
    out
}

fn blank_chart_label(v: &mut Value) {
    if let Value::Map(m) = v {
        for (k, child) in m.iter_mut() {
            if k == "helm.sh/chart" {
                *child = Value::String(String::new());
            } else {
                blank_chart_label(child);
            }
        }
    } else if let Value::List(l) = v {
        for x in l {
            blank_chart_label(x);
        }
    }
}

/// Lists of maps that all have distinct `name`s compare as sets by name.
pub fn normalise(v: &Value) -> Value {
    match v {
        Value::Map(m) => Value::Map(m.iter().map(|(k, x)| (k.clone(), normalise(x))).collect()),
        Value::List(l) => {
            let names: Vec<Option<String>> = l
                .iter()
                .map(|x| x.path("name").and_then(|n| n.as_str()).map(str::to_string))
                .collect();
            let all_named =
                !l.is_empty() && l.iter().all(Value::is_map) && names.iter().all(Option::is_some);
            let distinct = names
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len()
                == names.len();
            if all_named && distinct {
                let mut by: BTreeMap<String, Value> = BTreeMap::new();
                for (n, x) in names.into_iter().zip(l) {
                    by.insert(n.unwrap(), normalise(x));
                }
                Value::List(by.into_values().collect())
            } else {
                Value::List(l.iter().map(normalise).collect())
            }
        }
        other => other.clone(),
    }
}

/// How a rendered stream differs from Helm's, as manifest-compare.py judges
/// it: extra, missing and differing objects, and objects out of Helm's
/// order. Empty when they agree.
pub fn compare_streams(helm: &str, ours: &str) -> Vec<String> {
    let want = objects(helm);
    let got = objects(ours);
    let mut problems = Vec::new();
    let mut last_pos = 0;
    for (key, obj) in &got {
        match want.iter().position(|(k, _)| k == key) {
            None => problems.push(format!("extra object {key:?}")),
            Some(pos) => {
                let (a, b) = (normalise(&want[pos].1), normalise(obj));
                if a != b {
                    let d = first_diff(&a, &b, "").unwrap_or_default();
                    problems.push(format!("{key:?} differs at {d}"));
                }
                if pos < last_pos {
                    problems.push(format!("{key:?} is out of Helm's order"));
                }
                last_pos = pos;
            }
        }
    }
    for (key, _) in &want {
        if !got.iter().any(|(g, _)| g == key) {
            problems.push(format!("missing object {key:?}"));
        }
    }
    problems
}

/// First differing path between two values, for messages.
pub fn first_diff(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Map(x), Value::Map(y)) => {
            for k in x.keys().chain(y.keys()) {
                let p = format!("{path}.{k}");
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => {
                        if let Some(d) = first_diff(u, v, &p) {
                            return Some(d);
                        }
                    }
                    (u, v) => return Some(format!("{p}: {u:?} vs {v:?}")),
                }
            }
            None
        }
        (Value::List(x), Value::List(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (u, v))| first_diff(u, v, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{path}: {a:?} vs {b:?}")),
    }
}

/// A one-off HTTP server on 127.0.0.1: answers one request with each of
/// `replies` in turn (a status line, which may carry further header lines,
/// and a body), and gives back each request's head. It stops waiting after
/// ten seconds, so a client that never comes fails the test instead of
/// hanging it.
pub fn serve_http(
    replies: &[(&str, &'static [u8])],
) -> (String, std::thread::JoinHandle<Vec<String>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let replies: Vec<(String, &'static [u8])> =
        replies.iter().map(|(s, b)| (s.to_string(), *b)).collect();
    let server = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut heads = Vec::new();
        while heads.len() < replies.len() && std::time::Instant::now() < deadline {
            let Ok((mut conn, _)) = listener.accept() else {
                std::thread::sleep(std::time::Duration::from_millis(5));
                continue;
            };
            conn.set_nonblocking(false).unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let (status, body) = &replies[heads.len()];
            let reply = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(reply.as_bytes());
            let _ = conn.write_all(body);
            heads.push(String::from_utf8_lossy(&head).into_owned());
        }
        heads
    });
    (url, server)
}
