//! What we claim about Kubernetes, asked of a real API server
//! (`../shared/kube`: kube-apiserver and etcd on loopback, with the real
//! CRDs): every render is accepted by server-side dry-run, `lint` reports an
//! error exactly when the server refuses, `diff`'s upgrade findings name the
//! objects the server refuses to update, and `apply.sh` applies the phases.
//!
//! One server per run of this file, in its own data folder on free ports,
//! stopped by its PIDs when the test ends, also when a part fails. Each part
//! uses its own namespaces. Skipped, loudly, only where the binaries or
//! ../shared/kube are absent; CI installs them.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Server {
    data: TempDir,
    kube: PathBuf,
    kubeconfig: String,
}

impl Server {
    /// Starts a server and installs the CRDs; None (with the reason) when
    /// what it needs is not on this machine.
    fn start() -> Result<Server, String> {
        let kube = root().join("../shared/kube");
        let peers = std::env::var("TRACECAT_PEERS")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".local/peers"));
        for need in [
            kube.join("start.sh"),
            peers.join("kube-apiserver"),
            peers.join("etcd"),
            peers.join("kubectl"),
        ] {
            if !need.exists() {
                return Err(format!(
                    "{} is missing (make peers installs it where ../shared/kube exists)",
                    need.display()
                ));
            }
        }
        let data = TempDir::new("kube");
        let out = Command::new("bash")
            .arg(kube.join("start.sh"))
            .arg(data.path())
            .env("KUBE_BIN", &peers)
            .env("KUBECTL", peers.join("kubectl"))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        // The server is stopped by Drop from here on, even if it did not
        // become ready.
        let server = Server {
            kubeconfig: data.path().join("kubeconfig").display().to_string(),
            data,
            kube,
        };
        assert!(
            out.status.success(),
            "start.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let crds = server.kube.join("crds").display().to_string();
        let o = server.kubectl(&["apply", "--server-side", "-f", &crds], None);
        assert!(o.status.success(), "CRDs: {}", stderr(&o));
        Ok(server)
    }

    fn kubectl(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut c = Command::new(peer("kubectl"));
        c.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(input) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(input).unwrap();
        }
        drop(child.stdin.take());
        child.wait_with_output().unwrap()
    }

    fn namespace(&self, name: &str) {
        let o = self.kubectl(&["create", "namespace", name], None);
        assert!(o.status.success(), "namespace {name}: {}", stderr(&o));
    }

    /// Server-side dry-run of a manifest file: None when accepted, else the
    /// server's refusal.
    fn dry_run(&self, ns: &str, file: &str) -> Option<String> {
        let o = self.kubectl(
            &[
                "apply",
                "--server-side",
                "--dry-run=server",
                "-n",
                ns,
                "-f",
                file,
            ],
            None,
        );
        (!o.status.success()).then(|| stderr(&o))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(self.kube.join("stop.sh"))
            .arg(self.data.path())
            .arg("--wipe")
            .output();
    }
}

/// Every values file the acceptance part renders: the examples and the
/// golden cases (ours and the shared, held-back set), with their flags.
fn values_files() -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut examples: Vec<_> = std::fs::read_dir(root().join("values/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    examples.sort();
    for p in examples {
        out.push((p.display().to_string(), Vec::new()));
    }
    for cases in [
        root().join("tests/goldens/cases"),
        root().join("../shared/reference/goldens/cases"),
    ] {
        let Ok(rd) = std::fs::read_dir(&cases) else {
            continue;
        };
        let mut dirs: Vec<_> = rd.map(|e| e.unwrap().path()).collect();
        dirs.sort();
        for d in dirs {
            let v = d.join("values.yaml");
            // Cases Helm refuses have no expected render.
            if !v.exists() || !d.join("expected.yaml").exists() {
                continue;
            }
            let args = std::fs::read_to_string(d.join("args")).unwrap_or_default();
            let words: Vec<String> = args
                .lines()
                .flat_map(|l| l.split('#').next().unwrap_or("").split_whitespace())
                .map(str::to_string)
                .collect();
            // The namespace is the test's own.
            let mut kept = Vec::new();
            let mut it = words.into_iter();
            while let Some(w) = it.next() {
                if w == "--namespace" || w == "-n" {
                    it.next();
                } else if !w.starts_with("--namespace=") {
                    kept.push(w);
                }
            }
            out.push((v.display().to_string(), kept));
        }
    }
    out
}

/// Renders `values` into apply phases and dry-runs each phase in order.
fn accepted(
    s: &Server,
    ns: &str,
    values: &str,
    flags: &[String],
    dir: &Path,
) -> Result<usize, String> {
    let phases = dir.display().to_string();
    let mut args: Vec<&str> = vec![
        "template",
        "-n",
        ns,
        "-f",
        values,
        "--apply-phases",
        &phases,
    ];
    args.extend(flags.iter().map(String::as_str));
    let o = run(&args);
    if !o.status.success() {
        return Err(format!("render failed: {}", stderr(&o)));
    }
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    for f in &files {
        if let Some(refusal) = s.dry_run(ns, &f.display().to_string()) {
            return Err(format!(
                "{}: {refusal}",
                f.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    Ok(files.len())
}

fn acceptance(s: &Server) {
    let t = TempDir::new("acceptance");
    let mut failures = Vec::new();
    let all = values_files();
    for (i, (values, flags)) in all.iter().enumerate() {
        let ns = format!("accept-{i}");
        s.namespace(&ns);
        if let Err(e) = accepted(s, &ns, values, flags, &t.path().join(&ns)) {
            failures.push(format!("{values}: {e}"));
        }
    }
    eprintln!(
        "acceptance: {} of {} renders accepted by the API server",
        all.len() - failures.len(),
        all.len()
    );
    assert!(all.len() >= 40, "only {} values files", all.len());
    assert!(
        failures.is_empty(),
        "refused by the API server:\n{}",
        failures.join("\n")
    );
}

/// Invalid (and valid control) values: each is rendered past the schema
/// check, then `lint` must report an error exactly when the server refuses.
const LINT_CORPUS: &[(&str, &str)] = &[
    ("quantity", "api:\n  resources:\n    requests:\n      cpu: abc\n"),
    ("annotation-key", "podAnnotations:\n  \"bad key!\": x\n"),
    ("annotation-key-prefix", "podAnnotations:\n  \"Bad_Prefix/key\": x\n"),
    ("nodeselector-key", "scheduling:\n  nodeSelector:\n    \"bad key\": x\n"),
    ("nodeselector-value", "scheduling:\n  nodeSelector:\n    pool: \"bad value!\"\n"),
    ("replicas-negative", "api:\n  replicas: -1\n"),
    ("ingress-host", "ingress:\n  host: Bad_Host.example.com\n"),
    ("name-too-long", "fullnameOverride: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"),
    ("name-bad-chars", "fullnameOverride: Bad_Name\n"),
    ("toleration-operator", "scheduling:\n  tolerations:\n    - key: a\n      operator: Bogus\n"),
    ("toleration-effect", "scheduling:\n  tolerations:\n    - key: a\n      operator: Exists\n      effect: Sometimes\n"),
    ("requests-over-limits", "api:\n  resources:\n    requests:\n      memory: 2Gi\n    limits:\n      memory: 1Gi\n"),
    ("memory-quantity", "ui:\n  resources:\n    limits:\n      memory: 1 GB\n"),
    ("pull-policy", "image:\n  pullPolicy: Sometimes\n"),
    ("ingress-tls-host", "ingress:\n  tls:\n    - hosts: [\"UPPER.example.com\"]\n      secretName: t\n"),
    ("ok-ingress-host", "ingress:\n  host: tracecat.internal.example.com\n"),
    ("ok-annotation", "podAnnotations:\n  example.com/ok: \"v\"\n"),
    ("ok-replicas", "api:\n  replicas: 3\n"),
    ("ok-nodeselector", "scheduling:\n  nodeSelector:\n    pool: tracecat\n"),
    ("ok-toleration", "scheduling:\n  tolerations:\n    - key: a\n      operator: Exists\n      effect: NoSchedule\n"),
];

fn lint_agreement(s: &Server) {
    let t = TempDir::new("lint-agreement");
    let q = quickstart();
    let (mut false_passes, mut false_alarms, mut cases) = (Vec::new(), Vec::new(), 0);
    for (i, (name, body)) in LINT_CORPUS.iter().enumerate() {
        let f = t.write(&format!("{name}.yaml"), body).display().to_string();
        let ns = format!("lint-{i}");
        s.namespace(&ns);
        let out = t.path().join(format!("{name}.out"));
        let o = run(&[
            "template",
            "-n",
            &ns,
            "-f",
            &q,
            "-f",
            &f,
            "--skip-schema-validation",
        ]);
        if !o.status.success() {
            // Refused before the server could see it: lint must refuse too.
            let l = run(&["lint", "-n", &ns, "-f", &q, "-f", &f]);
            assert_eq!(
                l.status.code(),
                Some(1),
                "{name}: lint passes what the render refuses"
            );
            cases += 1;
            continue;
        }
        std::fs::write(&out, &o.stdout).unwrap();
        let refused = s.dry_run(&ns, &out.display().to_string());
        let l = run(&["lint", "-n", &ns, "-f", &q, "-f", &f, "-o", "json"]);
        let report: serde_json::Value = serde_json::from_str(&stdout(&l)).unwrap();
        let errors: Vec<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["severity"] == "error")
            .map(|x| format!("{}: {}", x["location"], x["message"]))
            .collect();
        cases += 1;
        match (&refused, errors.is_empty()) {
            (Some(why), true) => false_passes.push(format!(
                "{name}: the server refuses ({}) and lint passes",
                why.lines().next().unwrap_or("")
            )),
            (None, false) => false_alarms.push(format!(
                "{name}: lint reports {errors:?}, the server accepts"
            )),
            _ => {}
        }
    }
    eprintln!(
        "lint agreement: {cases} cases, {} false passes, {} false alarms",
        false_passes.len(),
        false_alarms.len()
    );
    let all: Vec<String> = false_passes.into_iter().chain(false_alarms).collect();
    assert!(
        all.is_empty(),
        "lint and the API server disagree:\n{}",
        all.join("\n")
    );
}

/// Pairs of renders (name, first values, second values, second release
/// name, second in another namespace): the first is applied for real, the
/// second dry-run over it.
const UPGRADES: &[(&str, &str, &str, &str, bool)] = &[
    (
        "image-tag",
        "{}\n",
        "image:\n  tag: 1.0.0-beta.40\n",
        "tracecat",
        false,
    ),
    (
        "selector-labels",
        "fullnameOverride: tc\n",
        "fullnameOverride: tc\nnameOverride: other\n",
        "tracecat",
        false,
    ),
    (
        "cluster-ip",
        "temporal:\n  web:\n    service:\n      clusterIP: 10.96.0.50\n",
        "temporal:\n  web:\n    service:\n      clusterIP: 10.96.0.51\n",
        "tracecat",
        false,
    ),
    (
        "service-type",
        "{}\n",
        "temporal:\n  web:\n    service:\n      type: NodePort\n",
        "tracecat",
        false,
    ),
    ("unchanged", "{}\n", "{}\n", "tracecat", false),
    ("release-name", "{}\n", "{}\n", "other", false),
    ("namespace", "{}\n", "{}\n", "tracecat", true),
];

/// `Kind/name` of each object the server refused, from kubectl's errors.
fn refused_objects(stderr: &str) -> std::collections::BTreeSet<String> {
    let re = regex::Regex::new(
        r#"(?:The |Error from server \(Invalid\): )([A-Za-z]+)(?:\.[a-z.]+)? "([^"]+)" is invalid"#,
    )
    .unwrap();
    re.captures_iter(stderr)
        .map(|c| format!("{}/{}", &c[1], &c[2]))
        .collect()
}

fn diff_agreement(s: &Server) {
    let t = TempDir::new("diff-agreement");
    let q = quickstart();
    let mut disagreements = Vec::new();
    let mut refusals = 0;
    for (i, (name, from, to, release, moved)) in UPGRADES.iter().enumerate() {
        let (ns1, ns2) = (format!("upgrade-{i}"), format!("upgrade-{i}-moved"));
        s.namespace(&ns1);
        let ns2 = if *moved {
            s.namespace(&ns2);
            ns2
        } else {
            ns1.clone()
        };
        let fa = t
            .write(&format!("{name}-a.yaml"), from)
            .display()
            .to_string();
        let fb = t.write(&format!("{name}-b.yaml"), to).display().to_string();
        let a = run(&["template", "tracecat", "-n", &ns1, "-f", &q, "-f", &fa]);
        let b = run(&["template", release, "-n", &ns2, "-f", &q, "-f", &fb]);
        assert!(
            a.status.success() && b.status.success(),
            "{name}: {}{}",
            stderr(&a),
            stderr(&b)
        );
        let (pa, pb) = (
            t.path().join(format!("{name}-a.out")),
            t.path().join(format!("{name}-b.out")),
        );
        std::fs::write(&pa, &a.stdout).unwrap();
        std::fs::write(&pb, &b.stdout).unwrap();
        let (pa, pb) = (pa.display().to_string(), pb.display().to_string());
        let applied = s.kubectl(&["apply", "--server-side", "-n", &ns1, "-f", &pa], None);
        assert!(
            applied.status.success(),
            "{name}: first apply: {}",
            stderr(&applied)
        );
        let second = s.kubectl(
            &[
                "apply",
                "--server-side",
                "--dry-run=server",
                "-n",
                &ns2,
                "-f",
                &pb,
            ],
            None,
        );
        let server = refused_objects(&stderr(&second));
        assert!(
            second.status.success() || !server.is_empty(),
            "{name}: refused for another reason: {}",
            stderr(&second)
        );
        refusals += server.len();
        // diff takes both sides as one release: objects without a
        // namespace are in the same one. Each side gets its namespace
        // written in, as a dump of the cluster has it.
        let with_ns = |file: &str, ns: &str, out: &str| {
            let text = std::fs::read_to_string(file).unwrap();
            let p = t.path().join(out);
            std::fs::write(
                &p,
                text.replace(
                    "\nmetadata:\n",
                    &format!("\nmetadata:\n  namespace: {ns}\n"),
                ),
            )
            .unwrap();
            p.display().to_string()
        };
        let (da, db) = (
            with_ns(&pa, &ns1, &format!("{name}-a.ns.yaml")),
            with_ns(&pb, &ns2, &format!("{name}-b.ns.yaml")),
        );
        let d = run(&["diff", &da, &db, "-o", "json"]);
        assert!(d.status.success(), "{name}: {}", stderr(&d));
        let report: serde_json::Value = serde_json::from_str(&stdout(&d)).unwrap();
        let flagged: std::collections::BTreeSet<String> = report["upgradeFindings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                f["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("immutable"))
            })
            .filter_map(|f| f["object"].as_str().map(str::to_string))
            .collect();
        if flagged != server {
            disagreements.push(format!(
                "{name}: diff flags {flagged:?}, the server refuses {server:?}"
            ));
        }
    }
    eprintln!(
        "diff agreement: {} upgrades, {refusals} objects refused by the server, {} disagreements",
        UPGRADES.len(),
        disagreements.len()
    );
    assert!(
        refusals >= 3,
        "the corpus should make the server refuse something"
    );
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

/// Stands in for the Job controller the server lacks: marks every Job of
/// `ns` Complete (or Failed when its name contains `fail`) through the
/// status subresource, until `stop` is set.
fn job_controller(s: &Server, ns: &str, fail: Option<&str>, stop: &std::sync::atomic::AtomicBool) {
    use std::collections::BTreeSet;
    let mut done: BTreeSet<String> = BTreeSet::new();
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let o = s.kubectl(
            &[
                "get",
                "jobs",
                "-n",
                ns,
                "-o",
                "jsonpath={range .items[*]}{.metadata.name} {.metadata.uid}{\"\\n\"}{end}",
            ],
            None,
        );
        for line in stdout(&o).lines() {
            let Some((name, uid)) = line.split_once(' ') else {
                continue;
            };
            if !done.insert(uid.to_string()) {
                continue;
            }
            let now = "2026-01-01T00:00:00Z";
            let failed = fail.is_some_and(|f| name.contains(f));
            let status = if failed {
                format!(
                    r#"{{"status":{{"startTime":"{now}","failed":1,"conditions":[{{"type":"FailureTarget","status":"True","lastTransitionTime":"{now}","reason":"BackoffLimitExceeded","message":"stand-in"}},{{"type":"Failed","status":"True","lastTransitionTime":"{now}","reason":"BackoffLimitExceeded","message":"stand-in"}}]}}}}"#
                )
            } else {
                format!(
                    r#"{{"status":{{"startTime":"{now}","completionTime":"{now}","succeeded":1,"conditions":[{{"type":"SuccessCriteriaMet","status":"True","lastTransitionTime":"{now}"}},{{"type":"Complete","status":"True","lastTransitionTime":"{now}"}}]}}}}"#
                )
            };
            let p = s.kubectl(
                &[
                    "patch",
                    "job",
                    name,
                    "-n",
                    ns,
                    "--subresource=status",
                    "--type=merge",
                    "-p",
                    &status,
                ],
                None,
            );
            assert!(p.status.success(), "marking {name}: {}", stderr(&p));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Renders into apply phases and runs apply.sh with the stand-in Job
/// controller; returns its output.
fn apply_sh(s: &Server, ns: &str, dir: &Path, extra: &[&str], fail: Option<&str>) -> Output {
    let d = dir.display().to_string();
    let q = quickstart();
    let mut args = vec!["template", "-n", ns, "-f", &q, "--apply-phases", &d];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| job_controller(s, ns, fail, &stop));
        let out = Command::new("sh")
            .arg(dir.join("apply.sh"))
            .env("KUBECTL", peer("kubectl"))
            .env("KUBECONFIG", &s.kubeconfig)
            .env("TIMEOUT", "60")
            .output()
            .unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        out
    })
}

fn job_uid(s: &Server, ns: &str, name: &str) -> String {
    stdout(&s.kubectl(
        &[
            "get",
            "job",
            name,
            "-n",
            ns,
            "-o",
            "jsonpath={.metadata.uid}",
        ],
        None,
    ))
}

fn apply_phases(s: &Server) {
    let t = TempDir::new("apply-phases");
    s.namespace("phases");
    // Install: every phase in order.
    let o = apply_sh(s, "phases", &t.path().join("install"), &[], None);
    assert!(o.status.success(), "install: {}{}", stdout(&o), stderr(&o));
    let phases: Vec<String> = stdout(&o)
        .lines()
        .filter(|l| l.starts_with("==> "))
        .map(str::to_string)
        .collect();
    let mut sorted = phases.clone();
    sorted.sort();
    assert_eq!(phases.last().map(String::as_str), Some("==> done"));
    assert_eq!(phases, sorted, "phases out of order");
    let before = job_uid(s, "phases", "tracecat-migrations");
    assert!(!before.is_empty());
    // Upgrade with a new image: the hook Job is recreated, so its changed
    // template goes through.
    let o = apply_sh(
        s,
        "phases",
        &t.path().join("upgrade"),
        &["--is-upgrade", "--set", "image.tag=1.0.0-beta.40"],
        None,
    );
    assert!(o.status.success(), "upgrade: {}{}", stdout(&o), stderr(&o));
    assert_ne!(
        job_uid(s, "phases", "tracecat-migrations"),
        before,
        "the hook Job was not recreated"
    );
    // A plain Job whose template changes: the server refuses the update and
    // apply.sh reports it; named by content (--job-name-suffix hash), it is a
    // new Job and goes through.
    let admintools = [
        "--is-upgrade",
        "--set",
        "temporal.admintools.image.tag=1.29.9",
    ];
    let o = apply_sh(s, "phases", &t.path().join("plain-job"), &admintools, None);
    assert!(
        !o.status.success(),
        "a changed Job template was applied in place"
    );
    assert!(stderr(&o).contains("field is immutable"), "{}", stderr(&o));
    let hashed = [&admintools[..], &["--job-name-suffix", "hash"]].concat();
    let o = apply_sh(s, "phases", &t.path().join("hashed"), &hashed, None);
    assert!(
        o.status.success(),
        "hashed names: {}{}",
        stdout(&o),
        stderr(&o)
    );
    // A failed hook Job stops the script at once, with a message.
    s.namespace("phases-fail");
    let start = std::time::Instant::now();
    let o = apply_sh(
        s,
        "phases-fail",
        &t.path().join("fail"),
        &[],
        Some("migrations"),
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("job/tracecat-migrations failed"),
        "{}",
        stderr(&o)
    );
    assert!(
        !stdout(&o).contains("03-main"),
        "went on past the failure: {}",
        stdout(&o)
    );
    assert!(
        start.elapsed() < std::time::Duration::from_secs(45),
        "waited for the timeout"
    );
    eprintln!("apply phases: install, hook upgrade, plain-Job refusal and hashed upgrade, failed hook: as expected");
}

/// One part of the test, run against the shared server.
type Part = fn(&Server);

#[test]
fn against_a_real_api_server() {
    let s = match Server::start() {
        Ok(s) => s,
        Err(why) => {
            eprintln!("SKIPPED: the API-server tests ({why})");
            return;
        }
    };
    let parts: [(&str, Part); 4] = [
        ("acceptance", acceptance),
        ("lint agreement", lint_agreement),
        ("diff agreement", diff_agreement),
        ("apply phases", apply_phases),
    ];
    let mut failed = Vec::new();
    for (name, part) in parts {
        if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| part(&s))) {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!("{name}: {msg}"));
        }
    }
    drop(s);
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}
