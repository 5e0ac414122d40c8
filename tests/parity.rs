//! Parity with the public chart on values files beyond the golden cases:
//! unknown keys warn as Helm ignores them, the chart's refusals are ours,
//! long release names are cut as Helm cuts them, and random values files
//! render as real Helm renders them (`parity-fuzz.py`).

mod common;
use common::*;
use std::path::{Path, PathBuf};

fn quick_with(d: &TempDir, name: &str, extra: &str) -> Vec<String> {
    let f = d.write(name, extra);
    vec![
        "-f".into(),
        quickstart(),
        "-f".into(),
        f.display().to_string(),
    ]
}

fn template(args: &[String]) -> std::process::Output {
    let mut all = vec!["template".to_string()];
    all.extend(args.iter().cloned());
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    run(&refs)
}

#[test]
fn unknown_keys_warn_and_render_unless_strict() {
    let d = TempDir::new("unknown");
    let args = quick_with(
        &d,
        "typo.yaml",
        "api:\n  replcas: 3\npostgres:\n  enabled: true\n",
    );
    let out = template(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(e.contains("warning: api.replcas: unknown key"), "{e}");
    assert!(e.contains("typo.yaml:2"), "names the file and line: {e}");
    assert!(e.contains("did you mean api.replicas?"), "{e}");
    assert!(e.contains("postgres: unknown key"), "{e}");
    assert!(stdout(&out).contains("kind: Deployment"));

    // The same render with --strict refuses, with nothing on stdout.
    let mut strict = args.clone();
    strict.push("--strict".into());
    let out = template(&strict);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("api.replcas: unknown key"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());

    // A wrong type for a known key stays an error without --strict.
    let out = template(&quick_with(&d, "type.yaml", "api:\n  replicas: many\n"));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("api.replicas"), "{}", stderr(&out));
}

#[test]
fn a_wrong_type_refuses_only_where_it_renders_objects_the_server_rejects() {
    let d = TempDir::new("mismatch");
    // The account is not created, so its annotations never reach an object.
    let unused = quick_with(
        &d,
        "unused.yaml",
        "agentExecutor:\n  serviceAccount:\n    annotations:\n      a: {b: c}\n",
    );
    let out = template(&unused);
    assert!(out.status.success(), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.contains("warning: agentExecutor.serviceAccount.annotations.a: an object of 1 keys"),
        "{e}"
    );
    assert!(e.contains("unused.yaml:4"), "{e}");
    assert!(e.contains("Helm renders it, --strict refuses it"), "{e}");
    let mut strict = unused.clone();
    strict.push("--strict".into());
    let out = template(&strict);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());

    // Once the account is created the annotation is in the object: refused,
    // saying which object the server would reject.
    let used = quick_with(
        &d,
        "used.yaml",
        "agentExecutor:\n  serviceAccount:\n    create: true\n    annotations:\n      a: {b: c}\n",
    );
    let out = template(&used);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.contains("agentExecutor.serviceAccount.annotations.a"),
        "{e}"
    );
    assert!(
        e.contains("they render objects the API server rejects")
            && e.contains("agent-executor-serviceaccount"),
        "{e}"
    );
    assert!(out.stdout.is_empty());

    // A value of the wrong type is named once, as that, not also as a value
    // outside the listed choices.
    let out = template(&quick_with(
        &d,
        "policy.yaml",
        "image:\n  pullPolicy: true\n",
    ));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.contains("image.pullPolicy: true is not of type \"string\""),
        "{e}"
    );
    assert!(!e.contains("is not one of"), "{e}");
}

#[test]
fn a_value_of_the_wrong_shape_refuses_only_where_the_chart_reads_it() {
    let d = TempDir::new("shape");
    // The frontend Ingress is off: Helm never ranges over its hosts.
    let unread = quick_with(
        &d,
        "unread.yaml",
        "temporal:\n  server:\n    frontend:\n      ingress:\n        enabled: false\n        hosts: true\n",
    );
    let out = template(&unread);
    assert!(out.status.success(), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.contains("warning: temporal.server.frontend.ingress.hosts: true is not of type")
            && e.contains("Helm renders it, --strict refuses it"),
        "{e}"
    );
    // The same value once the Ingress is on: Helm's schema Job reads its
    // first host, and fails.
    let read = quick_with(
        &d,
        "read.yaml",
        "temporal:\n  server:\n    frontend:\n      ingress:\n        enabled: true\n        hosts: true\n",
    );
    let out = template(&read);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let e = stderr(&out);
    assert!(
        e.contains(
            "can't index item of type bool (temporal.server.frontend.ingress.hosts is not a list)"
        ),
        "{e}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn an_existing_core_secret_wins_over_a_chart_managed_one() {
    // The reference names the core Secret from externalSecrets, then
    // secrets.existingSecret, then secrets.create.tracecat, in that order.
    let d = TempDir::new("core-secret");
    let args = quick_with(
        &d,
        "both.yaml",
        "secrets:\n  existingSecret: mine\n  create:\n    tracecat:\n      enabled: true\n      name: made\n      dbEncryptionKey: a\n      serviceKey: b\n      signingSecret: c\n      userAuthSecret: d\n",
    );
    let out = template(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(
        s.contains("name: mine\n                  key: userAuthSecret"),
        "{s}"
    );
    assert!(
        !s.contains("name: made\n                  key: userAuthSecret"),
        "{s}"
    );
}

#[test]
fn unknown_key_warnings_come_before_a_refusal() {
    // A typo is often why a required setting is missing: say both.
    let d = TempDir::new("typo-refusal");
    let f = d.write(
        "v.yaml",
        "tracecat:\n  auth:\n    superadminEmial: a@example.com\n",
    );
    let out = run(&["template", "-f", &f.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(
        e.contains("did you mean tracecat.auth.superadminEmail?"),
        "{e}"
    );
    assert!(out.stdout.is_empty());
}

/// Each refusal below is one the public chart makes (`required`, `fail`
/// or a value a template dereferences), named by the key Helm names.
/// Helm 4 from get-peers.sh and the public chart beside the project, when
/// both are there.
fn helm_and_reference() -> Option<(PathBuf, PathBuf)> {
    let chart = root().join("../shared/reference/public-chart/tracecat");
    let helm = std::env::var("TRACECAT_PEERS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".local/peers"))
        .join("helm4");
    (chart.exists() && helm.exists()).then_some((helm, chart))
}

/// `helm template tracecat CHART -n tracecat` with `values` files, in order.
fn helm_template(helm: &Path, chart: &Path, values: &[&Path]) -> std::process::Output {
    let mut cmd = std::process::Command::new(helm);
    cmd.args(["template", "tracecat"])
        .arg(chart)
        .args(["-n", "tracecat"]);
    for v in values {
        cmd.arg("-f").arg(v);
    }
    cmd.output().expect("helm")
}

/// Our `template tracecat -n tracecat` with `values` files, in order (as
/// [`helm_template`], without Helm's overlay: our chart has it built in).
fn ours_template(values: &[&Path]) -> std::process::Output {
    let mut args = vec!["-n".to_string(), "tracecat".to_string()];
    for v in values {
        args.push("-f".into());
        args.push(v.display().to_string());
    }
    template(&args)
}

/// Every `fail`, `required` and Go-level failure of the reference chart,
/// one values file each in tests/refusals/ (first line `# refuses: TEXT`),
/// layered over the quickstart: we refuse with TEXT and print nothing on
/// stdout, and so does Helm on the public chart where it is installed.
#[test]
fn the_reference_chart_refusals_are_refusals() {
    let reference = helm_and_reference();
    assert!(
        reference.is_some() || std::env::var_os("CI").is_none(),
        "CI must check the refusals against Helm"
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/refusals"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 50, "{} refusal cases", files.len());
    let mut wrong = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let says = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# refuses: "))
            .unwrap_or_else(|| panic!("{}: first line must be `# refuses: TEXT`", f.display()));
        let name = f.file_name().unwrap().to_string_lossy();
        let out = template(&[
            "-f".into(),
            quickstart(),
            "-f".into(),
            f.display().to_string(),
        ]);
        if out.status.code() != Some(1) || !out.stdout.is_empty() || !stderr(&out).contains(says) {
            wrong.push(format!(
                "{name}: we gave exit {:?}, {} bytes on stdout:\n{}",
                out.status.code(),
                out.stdout.len(),
                stderr(&out)
            ));
        }
        if let Some((helm, chart)) = &reference {
            let h = helm_template(helm, chart, &[Path::new(&quickstart()), f]);
            if h.status.success() || !stderr(&h).contains(says) {
                wrong.push(format!(
                    "{name}: Helm does not refuse it that way:\n{}",
                    stderr(&h)
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    if reference.is_none() {
        eprintln!("SKIPPED the Helm side of the refusal cases: needs ../shared and get-peers.sh");
    }
}

/// A null or empty `virtualService.apiVersion` falls back to Istio's
/// v1beta1, as the reference template's `default` does (a null in a values
/// file deletes the chart's own default).
#[test]
fn an_unset_virtual_service_api_version_falls_back_to_v1beta1() {
    let d = TempDir::new("vs-api");
    let istio = root()
        .join("values/examples/istio.yaml")
        .display()
        .to_string();
    for (name, unset) in [("null.yaml", "null"), ("empty.yaml", "\"\"")] {
        let f = d.write(name, &format!("virtualService:\n  apiVersion: {unset}\n"));
        let out = run(&["template", "-f", &istio, "-f", &f.display().to_string()]);
        assert!(out.status.success(), "{name}: {}", stderr(&out));
        let api_versions: Vec<String> = objects(&stdout(&out))
            .into_iter()
            .filter(|((_, kind, _, _), _)| kind == "VirtualService")
            .map(|((api, ..), _)| api)
            .collect();
        assert!(api_versions.len() >= 3, "{name}: {api_versions:?}");
        assert!(
            api_versions
                .iter()
                .all(|a| a == "networking.istio.io/v1beta1"),
            "{name}: {api_versions:?}"
        );
    }
}

/// Temporal's Service annotations go through `tpl`, so users write Go
/// template actions there: each form below renders as real Helm renders it
/// (one annotation each, compared object by object); without Helm, our own
/// output still holds the values the actions name.
#[test]
fn go_template_actions_in_values_render_as_helm_renders_them() {
    let actions = [
        "{{ .Release.Name }}-x",
        "{{ .Release.Namespace }}.svc",
        "{{ $.Chart.Name }}",
        "{{ .Values.server.image.tag | quote }}",
        "{{ .Release.Name | upper | trunc 3 }}",
        "{{ default \"d\" .Values.nope }}",
        "{{ printf \"%s-%d\" .Release.Name 3 }}",
        "{{ if eq .Release.Name \"tracecat\" }}same{{ else }}other{{ end }}",
        " {{- .Release.Name -}} ",
        "{{ with .Values.server.image }}{{ .repository }}:{{ .tag }}{{ end }}",
        "{{ range $k, $v := .Values.server.image }}{{ $k }}={{ $v }};{{ end }}",
        "{{ range .Values.nope }}x{{ else }}empty{{ end }}",
        "{{ and .Release.Name \"y\" }}/{{ or \"\" \"z\" }}/{{ not true }}/{{ len .Release.Name }}",
        "{{ .Values.server.resources }}|{{ 1.5 }}|{{ 1000000 }}|{{ 0x1F }}|{{ default 1 nil }}",
        "{{ ternary \"a\" \"b\" true }}{{ index .Values.server.image \"tag\" }}",
        "{#x#} {%y%} {{/* c */}}",
        "{{ include \"temporal.fullname\" . }}/{{ template \"temporal.chart\" $ }}",
        "{{ include \"temporal.serviceAccountName\" . | upper }}",
        "{{ add 1.5 1 }}/{{ mul 2.5 2 }}/{{ sub 9223372036854775807 -1 }}/{{ div -9223372036854775808 -1 }}",
        "{{ printf \"%d|%d|%d|%d|%d\" .Values.server.replicaCount \"x\" true nil 7 }}",
        "{{ range $k, $v := .Values.server.image }}{{ printf \"%d:%s\" $k $v }};{{ end }}",
        "{{ \"ab\" | repeat 2 }}/{{ substr 1 10 \"abc\" }}/{{ substr -1 2 \"abc\" }}/{{ cat \"a\" 1 nil 2.5 }}",
        "{{ add1 \"4\" }}/{{ mod -7 3 }}/{{ atoi \"12\" }}/{{ atoi \"x\" }}/{{ trunc -1 \"h\u{e9}llo\" }}",
    ];
    let d = TempDir::new("gotpl");
    let mut values =
        String::from("temporal:\n  server:\n    frontend:\n      service:\n        annotations:\n");
    for (i, a) in actions.iter().enumerate() {
        values.push_str(&format!(
            "          a{i:02}: {}\n",
            serde_json::to_string(a).unwrap()
        ));
    }
    let f = d.write("gotpl.yaml", &values);
    let ours = ours_template(&[Path::new(&quickstart()), &f]);
    assert!(ours.status.success(), "{}", stderr(&ours));
    let out = stdout(&ours);
    assert!(
        out.contains("a00: 'tracecat-x'") && out.contains("a11: 'empty'"),
        "{out}"
    );
    if let Some((helm, chart)) = helm_and_reference() {
        let overlay = root().join("../shared/reference/goldens/overlay.yaml");
        let h = helm_template(&helm, &chart, &[&overlay, Path::new(&quickstart()), &f]);
        assert!(h.status.success(), "{}", stderr(&h));
        let problems = compare_streams(&stdout(&h), &out);
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}

/// A values file given as a URL, fetched by Helm and by us from the same
/// server, gives the same objects.
#[test]
fn a_values_file_from_a_url_renders_as_helm_renders_it() {
    let Some((helm, chart)) = helm_and_reference() else {
        eprintln!("SKIPPED a_values_file_from_a_url_renders_as_helm_renders_it: needs Helm 4");
        return;
    };
    let body = b"ui:\n  replicas: 3\napi:\n  podAnnotations:\n    a: 'yes'\n";
    let (base, server) = common::serve_http(&[("200 OK", body), ("200 OK", body)]);
    let url = format!("{base}/remote.yaml");
    let ours = ours_template(&[Path::new(&quickstart()), Path::new(&url)]);
    assert!(ours.status.success(), "{}", stderr(&ours));
    let overlay = root().join("../shared/reference/goldens/overlay.yaml");
    let h = helm_template(
        &helm,
        &chart,
        &[&overlay, Path::new(&quickstart()), Path::new(&url)],
    );
    assert!(h.status.success(), "{}", stderr(&h));
    assert_eq!(server.join().unwrap().len(), 2);
    assert!(stdout(&ours).contains("replicas: 3"));
    let problems = compare_streams(&stdout(&h), &stdout(&ours));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Lists given as maps and maps as lists, with content, where the chart
/// ranges over them: Go's `range` visits a map's values and a list's
/// indexes, so Helm renders several of these; we render the same objects
/// and refuse the same ones.
#[test]
fn collections_in_the_other_shape_render_as_helm_renders_them() {
    let Some((helm, chart)) = helm_and_reference() else {
        eprintln!(
            "SKIPPED collections_in_the_other_shape_render_as_helm_renders_them: needs Helm 4"
        );
        return;
    };
    let cases = [
        ("ingress-tls-nginx", "ingress:\n  tls:\n    a:\n      hosts: [x.example.com]\n      secretName: s\n"),
        ("ingress-tls-nginx", "ingress:\n  tls:\n    - hosts: {a: x.example.com}\n      secretName: s\n"),
        ("ingress-tls-nginx", "ingress:\n  tls:\n    - hosts: x.example.com\n      secretName: s\n"),
        ("minimal-existing-secrets", "tracecat:\n  temporal:\n    searchAttributes: [A, B]\n"),
        ("minimal-existing-secrets", "tracecat:\n  temporal:\n    searchAttributes: AB\n"),
        ("istio-virtualservices", "virtualService:\n  tracecat:\n    configs:\n      a:\n        name: n\n        hosts: [h.example.com]\n        gateways: [g]\n"),
        ("istio-virtualservices", "virtualService:\n  tracecat:\n    configs:\n      - name: n\n        hosts: {a: h.example.com}\n        gateways: {b: g}\n"),
        ("scheduling-amd64-spread-tolerations", "api:\n  topologySpreadConstraints:\n    a:\n      maxSkew: 2\n      topologyKey: zone\n"),
        ("minimal-existing-secrets", "temporal:\n  web:\n    ingress:\n      enabled: true\n      hosts: {a: t.example.com}\n      tls: {b: {hosts: {c: t.example.com}, secretName: s}}\n"),
        ("minimal-existing-secrets", "temporal:\n  server:\n    config:\n      namespaces:\n        create: true\n        namespace: {a: {name: n1}}\n"),
    ];
    let overlay = root().join("../shared/reference/goldens/overlay.yaml");
    let d = TempDir::new("reshape");
    for (i, (base, text)) in cases.iter().enumerate() {
        let base = root().join(format!(
            "../shared/reference/goldens/cases/{base}/values.yaml"
        ));
        let f = d.write(&format!("m{i}.yaml"), text);
        let h = helm_template(&helm, &chart, &[&overlay, &base, &f]);
        let ours = ours_template(&[&base, &f]);
        assert_eq!(
            ours.status.success(),
            h.status.success(),
            "{text}\nHelm: {}\nours: {}",
            stderr(&h),
            stderr(&ours)
        );
        if h.status.success() {
            let problems = compare_streams(&stdout(&h), &stdout(&ours));
            assert!(problems.is_empty(), "{text}\n{}", problems.join("\n"));
        }
    }
}

#[test]
fn long_release_names_are_cut_as_helm_cuts_the_subchart_names() {
    let name = "tracecat-prod-eu-west-1-secops-platform";
    let out = run(&["template", name, "-f", &quickstart()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    // fullname "<release>-temporal" cut to 62 - len(component), then "-component".
    for want in [
        "name: tracecat-prod-eu-west-1-secops-platform-tempo-internal-frontend",
        "name: tracecat-prod-eu-west-1-secops-platform-tempor-history-headless",
        "name: tracecat-prod-eu-west-1-secops-platform-tempora-worker-headless",
    ] {
        assert!(s.contains(want), "missing {want}");
    }
}

/// The shared differential check: random values files rendered by real
/// Helm from the public chart and by this binary, compared object for
/// object. It needs the public chart beside the project and Helm 4 from
/// get-peers.sh; CI has both, elsewhere the test says it was skipped.
#[test]
fn random_values_files_render_as_helm_renders_them() {
    let fuzz = root().join("../shared/tools/parity-fuzz.py");
    let Some((helm, _)) = helm_and_reference().filter(|_| fuzz.exists()) else {
        eprintln!(
            "SKIPPED random_values_files_render_as_helm_renders_them: needs {}, the public \
             chart and Helm 4 (../shared and get-peers.sh)",
            fuzz.display()
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the parity check"
        );
        return;
    };
    let count = std::env::var("TRACECAT_PARITY_COUNT").unwrap_or_else(|_| "200".into());
    let out_dir = TempDir::new("parity-fuzz");
    let renderer = format!(
        "{} template {{release}} -n {{namespace}} {{values}}",
        bin_path().display()
    );
    let out = std::process::Command::new("python3")
        .arg(&fuzz)
        .args([
            "--renderer",
            &renderer,
            "--count",
            &count,
            "--seed",
            "ci-parity-1",
        ])
        .arg("--helm")
        .arg(&helm)
        .arg("--out")
        .arg(out_dir.path())
        .output()
        .expect("python3");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "parity-fuzz found disagreements:\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        report.contains(&format!("parity: {count}/{count} cases agree")),
        "{report}"
    );
}

/// Every key of the public chart's defaults (its own and the Temporal
/// subchart's, sections included), set to null over the golden Istio case,
/// renders as Helm renders it. A null deletes the chart's default, so this
/// reaches each template's `default`, `required` and nil check, which the
/// random values files reach only by chance.
#[test]
fn every_default_set_to_null_renders_as_helm_renders_it() {
    let Some((helm, chart)) = helm_and_reference() else {
        eprintln!("SKIPPED every_default_set_to_null: needs ../shared and get-peers.sh");
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the null sweep"
        );
        return;
    };
    let overlay = root().join("../shared/reference/goldens/overlay.yaml");
    let base = root().join("tests/goldens/cases/istio-virtualservices/values.yaml");
    let defaults = run(&[
        "values",
        "--output",
        "json",
        "--chart",
        &chart.display().to_string(),
    ]);
    assert!(defaults.status.success(), "{}", stderr(&defaults));
    let tree: serde_json::Value = serde_json::from_slice(&defaults.stdout).unwrap();
    let mut paths = Vec::new();
    key_paths(&tree, &mut Vec::new(), &mut paths);
    assert!(paths.len() > 500, "{} keys", paths.len());

    let d = TempDir::new("null-sweep");
    // JSON is YAML, and quotes any key (annotations have dots and slashes).
    let files: Vec<(String, PathBuf)> = paths
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let nulled = p.iter().rev().fold(
                serde_json::Value::Null,
                |inner, k| serde_json::json!({ k.as_str(): inner }),
            );
            (
                p.join("."),
                d.write(&format!("{i}.yaml"), &nulled.to_string()),
            )
        })
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let problems = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((key, f)) = files.get(i) else { break };
                let h = helm_template(&helm, &chart, &[&overlay, &base, f]);
                let ours = ours_template(&[&base, f]);
                let found = match (h.status.success(), ours.status.success()) {
                    (true, true) => compare_streams(&stdout(&h), &stdout(&ours)),
                    (true, false) => vec![format!("we refuse: {}", stderr(&ours))],
                    (false, true) => vec![format!("Helm refuses: {}", stderr(&h))],
                    (false, false) => Vec::new(),
                };
                if !found.is_empty() {
                    problems
                        .lock()
                        .unwrap()
                        .push(format!("{key}: null\n  {}", found.join("\n  ")));
                }
            });
        }
    });
    let problems = problems.into_inner().unwrap();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every key path of a JSON tree, maps before their keys.
fn key_paths(v: &serde_json::Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    if let serde_json::Value::Object(m) = v {
        for (k, child) in m {
            at.push(k.clone());
            out.push(at.clone());
            key_paths(child, at, out);
            at.pop();
        }
    }
}
