//! The post-renderer (each overlay element, each patch form, pass-through,
//! big streams, errors), with real Helm 3 and Helm 4, and kubectl-safe
//! phases with `apply.sh` run against a stub kubectl.

mod common;
use common::*;
use std::io::Write;
use std::process::Stdio;
use tracecat_chart::values::{yaml, Value};

fn post_render(input: &str, overlay: &str) -> std::process::Output {
    let d = TempDir::new("pr");
    let f = d.write("overlay.yaml", overlay);
    let mut child = bin()
        .args(["post-render", "-f", &f.display().to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn docs(text: &str) -> Vec<Value> {
    yaml::parse_documents(text, None)
        .unwrap()
        .into_iter()
        .filter(|d| d.is_map())
        .collect()
}

const DEPLOY: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
  labels:
    app.kubernetes.io/component: api
  annotations:
    postrenderer.helm.sh/postrender-filename: demo/templates/web.yaml
spec:
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: ghcr.io/tracecathq/tracecat:1.0
        - name: sidecar
          image: docker.io/library/busybox:1
          resources: {requests: {cpu: 10m}}
";

fn at<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for k in keys {
        cur = match cur {
            Value::Map(m) => m.get(*k)?,
            Value::List(l) => l.get(k.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

#[test]
fn every_overlay_element() {
    let overlay = "scheduling:
  architecture: arm64
  nodeSelector: {pool: tracecat}
  tolerations: [{key: dedicated, operator: Exists, effect: NoSchedule}]
  affinity: {nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: 1, preference: {matchExpressions: [{key: a, operator: Exists}]}}]}}
podAnnotations: {sidecar.istio.io/inject: 'true'}
postRender:
  commonLabels: {team: secops}
  imagePullSecrets: [regcred]
  imageRegistryRewrite: {ghcr.io: mirror.internal/ghcr, docker.io: mirror.internal/hub}
  defaultResources: true
";
    let out = post_render(DEPLOY, overlay);
    assert!(out.status.success(), "{}", stderr(&out));
    let d = &docs(&stdout(&out))[0];
    let spec = at(d, &["spec", "template", "spec"]).unwrap();
    assert_eq!(
        at(spec, &["nodeSelector", "kubernetes.io/arch"]),
        Some(&Value::from("arm64"))
    );
    assert_eq!(
        at(spec, &["nodeSelector", "pool"]),
        Some(&Value::from("tracecat"))
    );
    assert_eq!(
        at(spec, &["tolerations", "0", "key"]),
        Some(&Value::from("dedicated"))
    );
    assert!(at(spec, &["affinity", "nodeAffinity"]).is_some());
    assert_eq!(
        at(spec, &["imagePullSecrets", "0", "name"]),
        Some(&Value::from("regcred"))
    );
    assert_eq!(
        at(spec, &["containers", "0", "image"]),
        Some(&Value::from("mirror.internal/ghcr/tracecathq/tracecat:1.0"))
    );
    assert_eq!(
        at(spec, &["containers", "1", "image"]),
        Some(&Value::from("mirror.internal/hub/library/busybox:1"))
    );
    // Default resources from the table by component; existing resources kept.
    assert_eq!(
        at(spec, &["containers", "0", "resources", "limits", "memory"]),
        Some(&Value::from("4096Mi"))
    );
    assert_eq!(
        at(spec, &["containers", "1", "resources", "requests", "cpu"]),
        Some(&Value::from("10m"))
    );
    assert!(at(spec, &["containers", "1", "resources", "limits"]).is_none());
    assert_eq!(
        at(d, &["metadata", "labels", "team"]),
        Some(&Value::from("secops"))
    );
    assert_eq!(
        at(d, &["spec", "template", "metadata", "labels", "team"]),
        Some(&Value::from("secops"))
    );
    assert_eq!(
        at(
            d,
            &[
                "spec",
                "template",
                "metadata",
                "annotations",
                "sidecar.istio.io/inject"
            ]
        ),
        Some(&Value::from("true"))
    );
    // Helm 4 needs its file annotation back to split the stream.
    assert_eq!(
        at(
            d,
            &[
                "metadata",
                "annotations",
                "postrenderer.helm.sh/postrender-filename"
            ]
        ),
        Some(&Value::from("demo/templates/web.yaml"))
    );
    // The overlay's architecture wins over the manifest's.
    let pinned = DEPLOY.replace(
        "      containers:",
        "      nodeSelector: {kubernetes.io/arch: amd64}\n      containers:",
    );
    let d = &docs(&stdout(&post_render(&pinned, overlay)))[0];
    assert_eq!(
        at(
            d,
            &[
                "spec",
                "template",
                "spec",
                "nodeSelector",
                "kubernetes.io/arch"
            ]
        ),
        Some(&Value::from("arm64"))
    );
}

#[test]
fn both_patch_forms_with_targets() {
    let input = format!("{DEPLOY}---\napiVersion: v1\nkind: Service\nmetadata: {{name: web, namespace: prod}}\nspec: {{ports: [{{port: 80}}]}}\n");
    let overlay = "postRender:
  patches:
    - target: {group: apps, version: v1, kind: Deployment, name: web, namespace: prod, labelSelector: 'app.kubernetes.io/component=api'}
      patch:
        spec:
          template:
            spec:
              containers:
                - name: sidecar
                  image: null
                  args: [--quiet]
    - target: {kind: Service}
      patch: |
        - {op: add, path: /metadata/annotations, value: {a: b}}
        - {op: replace, path: /spec/ports/0/port, value: 8080}
    - target: {kind: Deployment, name: other}
      patch: [{op: remove, path: /does/not/exist}]
";
    let out = post_render(&input, overlay);
    assert!(out.status.success(), "{}", stderr(&out));
    let ds = docs(&stdout(&out));
    let side = at(&ds[0], &["spec", "template", "spec", "containers", "1"]).unwrap();
    assert!(side.path("image").is_none(), "null deletes");
    assert_eq!(
        side.path("args"),
        Some(&Value::List(vec!["--quiet".into()]))
    );
    assert_eq!(
        at(
            &ds[0],
            &["spec", "template", "spec", "containers", "0", "name"]
        ),
        Some(&Value::from("web"))
    );
    assert_eq!(
        at(&ds[1], &["metadata", "annotations", "a"]),
        Some(&Value::from("b"))
    );
    assert_eq!(
        at(&ds[1], &["spec", "ports", "0", "port"]),
        Some(&Value::Float(8080.0))
    );
}

#[test]
fn untouched_objects_pass_through_in_order() {
    let input = "# Source: a\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\ndata:\n  x: \"on\"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two\n";
    let out = post_render(input, "{}\n");
    assert!(out.status.success());
    assert_eq!(stdout(&out), format!("---\n{input}"));
    // A List is processed item by item.
    let list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n";
    let out = post_render(list, "postRender: {commonLabels: {team: blue}}\n");
    assert!(stdout(&out).contains("team: blue"));
}

#[test]
fn ten_thousand_objects_stream() {
    let mut input = String::new();
    for i in 0..10_000 {
        input.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata:\n  k: v\n"
        ));
    }
    let out = post_render(&input, "postRender: {commonLabels: {team: a}}\n");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.matches("team: a").count(), 10_000);
    let first = text.find("name: cm-0\n").unwrap();
    let last = text.find("name: cm-9999\n").unwrap();
    assert!(first < last);
}

#[test]
fn errors_name_the_document() {
    let out = post_render(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\nkind: [broken\n",
        "{}\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("document 2"), "{}", stderr(&out));
    let out = post_render(DEPLOY, "postRender:\n  patches:\n    - target: {kind: Deployment}\n      patch: [{op: remove, path: /spec/nope}]\n");
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(
        e.contains("Deployment/web")
            && e.contains("demo/templates/web.yaml")
            && e.contains("/spec/nope"),
        "{e}"
    );
    assert!(out.stdout.is_empty() || !stdout(&out).contains("kind: Deployment"));
}

fn path_with_binary() -> String {
    let bin_dir = common::bin_path().parent().unwrap().display().to_string();
    format!("{bin_dir}:{}", std::env::var("PATH").unwrap_or_default())
}

const OVERLAY: &str = "scheduling: {architecture: amd64}\npostRender:\n  commonLabels: {platform.example.com/team: secops}\n  imageRegistryRewrite: {ghcr.io: registry.internal/ghcr}\n";

#[test]
fn helm3_post_renderer_contract() {
    let d = TempDir::new("helm3");
    let overlay = d.write("overlay.yaml", OVERLAY).display().to_string();
    let out = std::process::Command::new(peer("helm3"))
        .args(["template", "demo", &fixture("helm-demo")])
        .args([
            "--post-renderer",
            "tracecat-chart",
            "--post-renderer-args",
            "post-render",
            "--post-renderer-args",
            "-f",
            "--post-renderer-args",
            &overlay,
        ])
        .env("PATH", path_with_binary())
        .env("HOME", d.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let ds = docs(&stdout(&out));
    let deploy = ds
        .iter()
        .find(|d| d.path("kind") == Some(&Value::from("Deployment")))
        .unwrap();
    assert_eq!(
        at(deploy, &["metadata", "labels", "platform.example.com/team"]),
        Some(&Value::from("secops"))
    );
    assert_eq!(
        at(
            deploy,
            &["spec", "template", "spec", "containers", "0", "image"]
        ),
        Some(&Value::from(
            "registry.internal/ghcr/tracecathq/tracecat:1.0.0"
        ))
    );
    assert_eq!(
        at(
            deploy,
            &[
                "spec",
                "template",
                "spec",
                "nodeSelector",
                "kubernetes.io/arch"
            ]
        ),
        Some(&Value::from("amd64"))
    );
    // Helm 3 does not send hooks to post-renderers.
    let job = ds
        .iter()
        .find(|d| d.path("kind") == Some(&Value::from("Job")))
        .unwrap();
    assert!(at(job, &["metadata", "labels", "platform.example.com/team"]).is_none());
}

#[test]
fn helm4_post_renderer_plugin() {
    let d = TempDir::new("helm4");
    let overlay = d.write("overlay.yaml", OVERLAY).display().to_string();
    let helm = |args: &[&str]| {
        std::process::Command::new(peer("helm4"))
            .args(args)
            .env("PATH", path_with_binary())
            .env("HOME", d.path())
            .env("HELM_CONFIG_HOME", d.path().join("config"))
            .env("HELM_DATA_HOME", d.path().join("data"))
            .env("HELM_CACHE_HOME", d.path().join("cache"))
            .env_remove("HELM_PLUGINS")
            .output()
            .unwrap()
    };
    let plugin = root()
        .join("integrations/helm-plugin")
        .display()
        .to_string();
    let install = helm(&["plugin", "install", &plugin]);
    assert!(install.status.success(), "{}", stderr(&install));
    let out = helm(&[
        "template",
        "demo",
        &fixture("helm-demo"),
        "--post-renderer",
        "tracecat",
        "--post-renderer-args",
        "-f",
        "--post-renderer-args",
        &overlay,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    // Helm split our output back into its files using the annotation we kept.
    assert!(text.contains("# Source: helm-demo/templates/deployment.yaml"));
    assert!(!text.contains("postrender-filename"));
    let ds = docs(&text);
    assert_eq!(ds.len(), 4);
    for d in &ds {
        assert_eq!(
            at(d, &["metadata", "labels", "platform.example.com/team"]),
            Some(&Value::from("secops")),
            "{d:?}"
        );
    }
    let job = ds
        .iter()
        .find(|d| d.path("kind") == Some(&Value::from("Job")))
        .unwrap();
    assert_eq!(
        at(
            job,
            &["spec", "template", "spec", "containers", "0", "image"]
        ),
        Some(&Value::from(
            "registry.internal/ghcr/tracecathq/tracecat:1.0.0"
        ))
    );
    // A failing overlay: Helm 4 shows only that the plugin failed; the
    // message is in the plugin's log, readable by its owner only.
    let bad = d.write("bad.yaml", "postRendr: {}\n").display().to_string();
    let out = helm(&[
        "template",
        "demo",
        &fixture("helm-demo"),
        "--post-renderer",
        "tracecat",
        "--post-renderer-args",
        "-f",
        "--post-renderer-args",
        &bad,
    ]);
    assert!(!out.status.success());
    let log = d.path().join(".local/state/tracecat-chart/post-render.log");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("did you mean postRender?"), "{text}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&log).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn apply_phases_and_apply_script_with_stub_kubectl() {
    let d = TempDir::new("phases");
    let out_dir = d.path().join("phases");
    let q = root()
        .join("values/examples/chart-managed-secrets.yaml")
        .display()
        .to_string();
    let out = run(&[
        "template",
        "-n",
        "tracecat",
        "-f",
        &q,
        "--apply-phases",
        &out_dir.display().to_string(),
        "--job-name-suffix",
        "hash",
        "--job-ttl",
        "900",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut files: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        vec![
            "01-pre-install-weight-1000.yaml",
            "02-pre-install-weight-10.yaml",
            "03-pre-install-weight-5.yaml",
            "04-main.yaml",
            "05-post-install-weight0.yaml",
            "apply.sh"
        ]
    );
    let secrets = std::fs::read_to_string(out_dir.join("01-pre-install-weight-1000.yaml")).unwrap();
    assert_eq!(
        docs(&secrets)
            .iter()
            .filter(|d| d.path("kind") == Some(&Value::from("Secret")))
            .count(),
        3
    );
    let migrations = std::fs::read_to_string(out_dir.join("03-pre-install-weight-5.yaml")).unwrap();
    let job = &docs(&migrations)[0];
    let job_name = job.path("metadata.name").unwrap().to_string();
    assert!(
        job_name.starts_with("tracecat-migrations-")
            && job_name.len() == "tracecat-migrations-".len() + 8
    );
    assert_eq!(
        job.path("spec.ttlSecondsAfterFinished"),
        Some(&Value::Float(300.0)),
        "an explicit TTL is kept"
    );
    let main = std::fs::read_to_string(out_dir.join("04-main.yaml")).unwrap();
    assert!(!main.contains("helm.sh/hook"));
    // A dry run of apply.sh against a kubectl that records its calls.
    let stub_dir = d.path().join("bin");
    std::fs::create_dir_all(&stub_dir).unwrap();
    let log = d.path().join("calls.log");
    let stub = stub_dir.join("kubectl");
    std::fs::write(
        &stub,
        // Every Job it is asked about is complete.
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\n[ \"$1\" = get ] && echo 'Complete '\nexit 0\n",
            log.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let status = std::process::Command::new("sh")
        .arg(out_dir.join("apply.sh"))
        .env(
            "PATH",
            format!("{}:{}", stub_dir.display(), std::env::var("PATH").unwrap()),
        )
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", stderr(&status));
    let calls = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = calls.lines().collect();
    let pos = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no call with {needle}: {calls}"))
    };
    assert!(pos("-f 01-pre-install") < pos("-f 03-pre-install"));
    assert!(pos(&format!("delete job {job_name}")) < pos("-f 03-pre-install"));
    assert!(pos("-f 03-pre-install") < pos(&format!("get job {job_name} --namespace tracecat")));
    assert!(pos(&format!("get job {job_name}")) < pos("-f 04-main"));
    assert!(pos("-f 04-main") < pos("-f 05-post-install"));
    assert!(pos("-f 05-post-install") < pos("get job tracecat-temporal-setup-"));
    // A failing kubectl stops the script.
    std::fs::write(&stub, "#!/bin/sh\nexit 3\n").unwrap();
    let status = std::process::Command::new("sh")
        .arg(out_dir.join("apply.sh"))
        .env(
            "PATH",
            format!("{}:{}", stub_dir.display(), std::env::var("PATH").unwrap()),
        )
        .output()
        .unwrap();
    assert!(!status.status.success());
}

/// The overlay wins over what the manifest pins: the chart pins its
/// Deployments and Jobs to arm64, and `scheduling.architecture` (or a
/// nodeSelector key the overlay names) moves every pod template.
#[test]
fn the_overlay_retargets_pinned_pods() {
    let rendered = run(&["template", "-f", &quickstart()]);
    assert!(rendered.status.success(), "{}", stderr(&rendered));
    let input = stdout(&rendered);
    assert!(
        input.contains("kubernetes.io/arch: arm64"),
        "the chart pins arm64"
    );
    for overlay in [
        "scheduling:\n  architecture: amd64\n",
        "scheduling:\n  architecture: arm64\n  nodeSelector: {kubernetes.io/arch: amd64}\n",
    ] {
        let o = post_render(&input, overlay);
        assert!(o.status.success(), "{}", stderr(&o));
        let mut pods = 0;
        for d in docs(&stdout(&o)) {
            if let Some(spec) = at(&d, &["spec", "template", "spec"])
                .or_else(|| at(&d, &["spec", "jobTemplate", "spec", "template", "spec"]))
            {
                pods += 1;
                let arch = at(spec, &["nodeSelector", "kubernetes.io/arch"]);
                assert_eq!(
                    arch,
                    Some(&Value::String("amd64".into())),
                    "{overlay}: {d:?}"
                );
            }
        }
        assert!(pods >= 10, "{pods} pod templates");
    }
}

/// A misspelt overlay key is refused with a did-you-mean, whether a section
/// or a setting; chart settings post-render does not apply are warned about.
#[test]
fn the_overlay_is_checked() {
    for (overlay, says) in [
        ("postRendr: {}\n", "did you mean postRender?"),
        (
            "scheduling:\n  architecure: amd64\n",
            "did you mean scheduling.architecture?",
        ),
        (
            "postRender:\n  commonLabel: {a: b}\n",
            "did you mean postRender.commonLabels?",
        ),
        (
            "scheduling:\n  nodeSelector: [a]\n",
            "scheduling.nodeSelector: expected a map",
        ),
        (
            "postRender:\n  defaultResources: yes please\n",
            "expected true or false",
        ),
    ] {
        let o = post_render(DEPLOY, overlay);
        assert_eq!(o.status.code(), Some(1), "{overlay}");
        assert!(stderr(&o).contains(says), "{overlay}: {}", stderr(&o));
        assert!(o.stdout.is_empty());
    }
    // A values file shared with the chart passes; what post-render ignores
    // under its own sections is named.
    let o = post_render(
        DEPLOY,
        "tracecat: {}\nscheduling:\n  architecture: amd64\n  topologySpreadConstraints: []\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("scheduling.topologySpreadConstraints"),
        "{}",
        stderr(&o)
    );
}
