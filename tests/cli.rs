//! End-to-end tests of the `tracecat-chart` binary: flags, output framing and
//! order, --show-only, --output-dir, schema errors, exit codes, determinism.

mod common;
use common::*;

#[test]
fn quickstart_renders_and_is_deterministic() {
    let q = quickstart();
    let a = run(&["template", "-f", &q]);
    assert!(a.status.success(), "{}", stderr(&a));
    let b = run(&["template", "-f", &q]);
    assert_eq!(
        a.stdout, b.stdout,
        "same input must give byte-identical output"
    );
    let s = stdout(&a);
    assert!(s.starts_with("---\n# Source: tracecat/templates/"));
    assert!(s.ends_with('\n') && !s.ends_with("\n\n"));
}

#[test]
fn documents_follow_helm_kind_order_with_hooks_last() {
    let out = run(&["template", "rel", &fixture("demo"), "-n", "ns"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    let sources: Vec<&str> = s
        .lines()
        .filter_map(|l| l.strip_prefix("# Source: "))
        .collect();
    assert_eq!(
        sources,
        vec![
            "demo/charts/sub/templates/cm.yaml",
            "demo/templates/cm.yaml",
            "demo/templates/app.yaml",
            "demo/templates/app.yaml",
            "demo/templates/hook.yaml",
            "demo/templates/hook.yaml",
        ]
    );
    let kinds: Vec<&str> = s.lines().filter_map(|l| l.strip_prefix("kind: ")).collect();
    assert_eq!(
        kinds,
        vec![
            "ConfigMap",
            "ConfigMap",
            "Service",
            "Deployment",
            "Pod",
            "Job"
        ]
    );
    // NOTES.txt and partials are never printed; the alias `other` is disabled.
    assert!(!s.contains("Installed rel"));
    assert!(!s.contains("rel-other"));
    assert!(s.contains("namespace: ns"));
    assert!(s.contains("region: \"eu\""), "globals reach subcharts");
    assert!(s.contains("tpl: \"hello from rel\""));
    assert!(s.contains("file: \"file content\""));
}

#[test]
fn subchart_alias_condition_and_flags() {
    let out = run(&[
        "template",
        "rel",
        &fixture("demo"),
        "--set",
        "other.enabled=true",
        "--is-upgrade",
        "--kube-version",
        "1.29",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = stdout(&out);
    assert!(s.contains("# Source: demo/charts/other/templates/cm.yaml"));
    assert!(s.contains("name: rel-other"));
    assert!(s.contains("upgrade: \"true\""));
    assert!(s.contains("kube: \"v1.29\""));
}

#[test]
fn hooks_tests_and_crds_flags() {
    let s = stdout(&run(&["template", "rel", &fixture("demo"), "--no-hooks"]));
    assert!(!s.contains("helm.sh/hook"));
    let s = stdout(&run(&["template", "rel", &fixture("demo"), "--skip-tests"]));
    assert!(s.contains("rel-migrate") && !s.contains("rel-test"));
    let s = stdout(&run(&[
        "template",
        "rel",
        &fixture("demo"),
        "--include-crds",
    ]));
    assert!(s.starts_with("---\n# Source: demo/crds/crd.yaml\n"));
}

#[test]
fn show_only_selects_and_refuses_unknown() {
    let out = run(&[
        "template",
        "rel",
        &fixture("demo"),
        "-s",
        "templates/app.yaml",
    ]);
    assert!(out.status.success());
    let s = stdout(&out);
    assert_eq!(s.matches("# Source: demo/templates/app.yaml").count(), 2);
    assert!(!s.contains("ConfigMap"));
    let out = run(&[
        "template",
        "rel",
        &fixture("demo"),
        "-s",
        "templates/nothere.yaml",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("could not find template templates/nothere.yaml in chart"));
    assert!(out.stdout.is_empty());
}

#[test]
fn output_dir_layout_and_atomicity() {
    let d = TempDir::new("outdir");
    let dir = d.path().join("out").display().to_string();
    let out = run(&["template", "rel", &fixture("demo"), "--output-dir", &dir]);
    assert!(out.status.success(), "{}", stderr(&out));
    let app = std::fs::read_to_string(d.path().join("out/demo/templates/app.yaml")).unwrap();
    assert_eq!(
        app.matches("---\n# Source: demo/templates/app.yaml")
            .count(),
        2
    );
    assert!(d
        .path()
        .join("out/demo/charts/sub/templates/cm.yaml")
        .exists());
    let log = stdout(&out);
    assert!(log.ends_with(".yaml\n\n"), "{log:?}");
    assert!(
        log.trim_end()
            .lines()
            .all(|l| l.starts_with(&format!("wrote {dir}/demo/"))),
        "{log}"
    );
    // A failing render writes nothing.
    let dir2 = d.path().join("out2").display().to_string();
    let out = run(&[
        "template",
        "rel",
        &fixture("demo"),
        "--output-dir",
        &dir2,
        "--set",
        "boom=true",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!d.path().join("out2").exists());
}

#[test]
fn fail_and_template_errors_name_the_template() {
    let out = run(&["template", "rel", &fixture("demo"), "--set", "boom=true"]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(
        e.contains("execution error at (demo/templates/fail.yaml:1): boom was set"),
        "{e}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn schema_violations_name_the_values_path() {
    let out = run(&["template", "rel", &fixture("demo"), "--set", "replicas=0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("- replicas:"), "{}", stderr(&out));
    let ok = run(&[
        "template",
        "rel",
        &fixture("demo"),
        "--set",
        "replicas=0",
        "--skip-schema-validation",
    ]);
    assert!(ok.status.success());
}

#[test]
fn yaml_errors_name_file_and_line() {
    let d = TempDir::new("badyaml");
    let f = d.write("bad.yaml", "a: 1\nb: [\n  c\n");
    let out = run(&["template", "-f", &f.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(e.contains("bad.yaml") && e.contains("at: "), "{e}");
    assert!(out.stdout.is_empty());
    let out = run(&["template", "-f", "/nonexistent/values.yaml"]);
    assert!(stderr(&out).contains("no such file or directory"));
}

#[test]
fn values_command_and_stdin() {
    let out = run_with_stdin(
        &["values", "-o", "json", "-f", "-", "--set", "ui.replicas=3"],
        b"nameOverride: x\n",
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["nameOverride"], "x");
    assert_eq!(v["ui"]["replicas"], 3);
    assert_eq!(v["ui"]["resources"]["limits"]["memory"], "1024Mi");
}

#[test]
fn helm_flags_we_do_not_support_are_refused() {
    for flag in ["--atomic", "--wait", "--post-renderer=x", "--repo"] {
        let out = run(&["template", flag]);
        assert_eq!(out.status.code(), Some(2), "{flag}");
        assert!(stderr(&out).contains("is not supported"), "{flag}");
    }
    let out = run(&["template", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Every flag of `helm template` (Helm 3 and 4, global flags included) is
/// either taken or refused with a reason: none meets clap's generic
/// "unexpected argument".
#[test]
fn every_helm_template_flag_is_taken_or_refused_with_a_reason() {
    let flags =
        "--api-versions -a --atomic --ca-file --cert-file --create-namespace --dependency-update \
        --description --devel --disable-openapi-validation --dry-run --enable-dns --force \
        --force-replace --force-conflicts --generate-name -g --hide-notes --include-crds \
        --insecure-skip-tls-verify --is-upgrade --key-file --keyring --kube-version --labels -l \
        --name-template --no-hooks --output-dir --pass-credentials --password --plain-http \
        --post-renderer --post-renderer-args --release-name --render-subchart-notes --replace \
        --repo --rollback-on-failure --server-side --set --set-file --set-json --set-literal \
        --set-string --show-only -s --skip-crds --skip-schema-validation --skip-tests \
        --take-ownership --timeout --username --validate --values -f --verify --version --wait \
        --wait-for-jobs --burst-limit --debug --kube-apiserver --kube-as-group --kube-as-user \
        --kube-ca-file --kube-context --kube-insecure-skip-tls-verify --kube-tls-server-name \
        --kube-token --kubeconfig --namespace -n --qps --registry-config --repository-cache \
        --repository-config --color --colour --content-cache";
    for flag in flags.split_whitespace() {
        let out = run(&["template", flag]);
        let err = stderr(&out);
        assert!(!err.contains("unexpected argument"), "{flag}: {err}");
        if err.contains("is not supported") {
            assert_eq!(out.status.code(), Some(2), "{flag}");
            assert!(err.contains(": ") && err.contains("hint:"), "{flag}: {err}");
        }
    }
}

/// `-f` and `--set-file` take http(s) URLs as Helm does; a user and
/// password in the URL go out as Basic authentication and are never shown.
#[test]
fn values_files_may_be_urls() {
    use base64::Engine;
    let yaml: &[u8] = b"ui:\n  replicas: 7\n";
    let moved = "302 Found\r\nLocation: /v.yaml?x=1";
    let (base, server) = common::serve_http(&[(moved, b""), ("200 OK", yaml), ("200 OK", yaml)]);
    let url = base.replace("http://", "HTTP://me:s%40cret@") + "/old.yaml?x=1#part";
    let out = run(&[
        "values",
        "-o",
        "json",
        "-f",
        &url,
        "--set-file",
        &format!("nameOverride={url}"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ui"]["replicas"], 7);
    assert_eq!(v["nameOverride"], "ui:\n  replicas: 7\n");
    let heads = server.join().unwrap();
    let token = base64::engine::general_purpose::STANDARD.encode("me:s@cret");
    // The first request is redirected, on the same host: the credentials
    // go along.
    assert!(
        heads[0].starts_with("GET /old.yaml?x=1 HTTP/1.1\r\n"),
        "{}",
        heads[0]
    );
    for head in &heads {
        let auth = format!("authorization: basic {token}\r\n").to_lowercase();
        assert!(head.to_lowercase().contains(&auth), "{head}");
    }
    assert_eq!(heads.len(), 3);
    assert!(heads[1].starts_with("GET /v.yaml?x=1 "), "{}", heads[1]);

    let (base, server) = common::serve_http(&[("404 Not Found", b"")]);
    let url = base.replace("http://", "http://me:s3cret@") + "/v.yaml";
    let out = run(&["template", "-f", &url]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("failed to fetch http://me:***@") && err.contains("404"),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
    assert!(out.stdout.is_empty());
    server.join().unwrap();
}

/// A values file given where the chart goes is named as such, with the fix.
#[test]
fn a_values_file_in_the_chart_position_gets_a_hint() {
    let q = quickstart();
    let out = run(&["template", &q]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("not a chart") && err.contains(&format!("pass it with -f {q}")),
        "{err}"
    );
}

/// `-f` lists split as Helm splits them: an empty value names no file, a
/// trailing comma an empty one; a folder is refused as Helm refuses it.
#[test]
fn values_lists_and_folders_read_as_in_helm() {
    let q = quickstart();
    let out = run(&["template", "-f", &q, "-f", ""]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&["template", "-f", &format!("{q},")]);
    assert!(stderr(&out).contains("open : no such file or directory"));
    let out = run(&["template", "-f", "a\"b"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("bare \" in non-quoted-field"));
    let d = TempDir::new("values-dir");
    let out = run(&["template", "-f", &d.path().display().to_string()]);
    assert!(stderr(&out).contains("is a directory"), "{}", stderr(&out));
}

#[test]
fn release_name_and_kube_version_are_checked() {
    let out = run(&["template", "Upper"]);
    assert!(stderr(&out).contains("invalid release name"));
    let out = run(&["template", ""]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("release name \"\": no name provided"),
        "{}",
        stderr(&out)
    );
    let out = run(&["template", "--kube-version", "banana"]);
    assert!(stderr(&out).contains("invalid kube version"));
    let out = run(&["template", "a", "b", "c"]);
    assert!(stderr(&out).contains("expected at most two arguments"));
}

/// `--kube-version` as Helm 4 takes it: checked by Kubernetes' own parser,
/// kept as given (with a `v`) in `.Capabilities.KubeVersion.Version`, and
/// compared with the chart's `kubeVersion` by its numbers alone.
#[test]
fn kube_versions_are_read_as_helm_reads_them() {
    let d = TempDir::new("kube-version");
    d.write(
        "c/Chart.yaml",
        "apiVersion: v2\nname: c\nversion: 0.1.0\nkubeVersion: '>=1.29.3'\n",
    );
    d.write(
        "c/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kv\ndata:\n  \
         v: {{ Capabilities.KubeVersion.Version | quote }}\n  \
         m: {{ (Capabilities.KubeVersion.Major ~ '.' ~ Capabilities.KubeVersion.Minor) | quote }}\n",
    );
    let chart = d.path().join("c").display().to_string();
    let render = |v: &str| run(&["template", "t", &chart, "--kube-version", v]);
    for (given, version, numbers) in [
        ("1.29.5-gke.1", "v1.29.5-gke.1", "1.29"),
        ("v1.030", "v1.030", "1.30"),
        ("", "v1.35.0", "1.35"),
    ] {
        let out = render(given);
        assert!(out.status.success(), "{given}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains(&format!("v: \"{version}\"")),
            "{given}: {text}"
        );
        assert!(
            text.contains(&format!("m: \"{numbers}\"")),
            "{given}: {text}"
        );
    }
    for (given, message) in [
        ("1.29.2", "incompatible with Kubernetes v1.29.2"),
        ("v1.29.4.1", "incompatible with Kubernetes v1.29.4.1"),
        ("1", "illegal version string \"1\""),
        (
            "01.29",
            "illegal zero-prefixed version component \"01\" in \"01.29\"",
        ),
    ] {
        let out = render(given);
        assert!(!out.status.success(), "{given}");
        assert!(stderr(&out).contains(message), "{given}: {}", stderr(&out));
    }
}

#[test]
fn name_template_sets_the_release_name_as_in_helm() {
    let q = quickstart();
    let by_flag = run(&[
        "template",
        "--name-template",
        "acme",
        "--namespace",
        "secops",
        "-f",
        &q,
    ]);
    assert!(by_flag.status.success(), "{}", stderr(&by_flag));
    let positional = run(&["template", "acme", "-n", "secops", "-f", &q]);
    assert_eq!(by_flag.stdout, positional.stdout);
    // As with Helm's flags, a repeated flag's last value wins.
    let repeated = run(&[
        "template",
        "--name-template",
        "other",
        "--name-template",
        "acme",
        "-n",
        "default",
        "-n",
        "secops",
        "-f",
        &q,
    ]);
    assert_eq!(by_flag.stdout, repeated.stdout, "{}", stderr(&repeated));
    assert!(stdout(&by_flag).contains("name: acme-tracecat-api"));
    // With the flag, the one positional argument is the chart.
    let out = run(&["template", "--name-template", "rel", &fixture("demo")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("# Source: demo/"));
    let out = run(&["template", "--name-template", "a", "b", &fixture("demo")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot set --name-template and also specify a name"));
    let out = run(&["template", "--name-template", "{{ randAlpha 6 }}"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("templated release names are not supported"));
    let out = run(&["template", "--name-template", "Upper"]);
    assert!(stderr(&out).contains("invalid release name"));
}

#[test]
fn show_and_completion_and_version() {
    let out = run(&["show", "values"]);
    assert!(stdout(&out).contains("uiImage:"));
    let out = run(&["show", "chart"]);
    assert!(stdout(&out).contains("name: tracecat"));
    let out = run(&["completion", "bash"]);
    assert!(stdout(&out).contains("tracecat-chart"));
    let out = run(&["--version"]);
    assert!(stdout(&out).starts_with("tracecat-chart "));
}

#[test]
fn tgz_charts_load() {
    let d = TempDir::new("tgz");
    let tgz = d.path().join("demo-1.2.3.tgz");
    let status = std::process::Command::new("tar")
        .args([
            "-czf",
            &tgz.display().to_string(),
            "-C",
            &root().join("tests/fixtures").display().to_string(),
            "demo",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let out = run(&["template", "rel", &tgz.display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("# Source: demo/templates/app.yaml"));
}

#[test]
fn every_example_renders() {
    let dir = root().join("values/examples");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    names.sort();
    assert!(names.len() >= 5);
    for p in names {
        let f = p.display().to_string();
        let out = run(&["template", "-f", &f]);
        assert!(out.status.success(), "{f}: {}", stderr(&out));
        let s = stdout(&out);
        assert!(s.contains("kind: Deployment"), "{f}");
    }
}

#[test]
fn chart_refusals_name_the_key() {
    let d = TempDir::new("refuse");
    let f = d.write(
        "v.yaml",
        "tracecat:\n  auth:\n    superadminEmail: a@example.com\nexternalRedis:\n  auth:\n    existingSecret: r\nexternalPostgres:\n  auth:\n    existingSecret: p\n",
    );
    // As in Helm, the subchart's templates render first: its refusal wins.
    let out = run(&["template", "-f", &f.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(
        e.contains("Please specify connectAddr for default store"),
        "{e}"
    );
    assert!(out.stdout.is_empty());
    let stores = "temporal:\n  server:\n    config:\n      persistence:\n        datastores:\n          default:\n            sql:\n              connectAddr: db:5432\n          visibility:\n            sql:\n              connectAddr: db:5432\n";
    let g = d.write("stores.yaml", stores);
    let out = run(&[
        "template",
        "-f",
        &f.display().to_string(),
        "-f",
        &g.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(e.contains("secrets.existingSecret"), "{e}");
    assert!(out.stdout.is_empty());
}

/// `tracecat.auth.types` is a comma-separated list whose items may carry
/// spaces around them (the public chart matches `(^|,)\s*oidc\s*(,|$)`):
/// the API gets the OIDC settings exactly when one item is `oidc`.
#[test]
fn auth_types_match_items_with_spaces_around_them() {
    let q = quickstart();
    let render = |types: &str| {
        // `\,` keeps a comma inside the value, as with Helm.
        let set = format!("tracecat.auth.types={}", types.replace(',', "\\,"));
        let out = run(&[
            "template",
            "-f",
            &q,
            "--set",
            "tracecat.oidc.issuer=https://idp.example.com",
            "--set-string",
            &set,
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out).contains("name: OIDC_ISSUER")
    };
    assert!(render("basic,oidc"));
    assert!(render(" basic ,\toidc \n"));
    assert!(render("oidc"));
    assert!(render("saml , oidc"));
    assert!(!render("basic, saml"));
    assert!(!render("basic"));
}

/// The stream goes out whole through a pipe whatever its size, a reader
/// that stops early is no error (as with `| head`), and a write that fails
/// is reported as one.
#[test]
fn output_to_pipes_and_full_devices() {
    use std::io::Read;
    use std::process::Stdio;
    let q = quickstart();
    let whole = run(&["template", "-f", &q]);
    assert!(whole.status.success(), "{}", stderr(&whole));
    // Read slowly through a pipe: partial writes must resume where they
    // stopped.
    let mut child = bin()
        .args(["template", "-f", &q])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = out.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(got, whole.stdout);
    // A reader that closes after a few bytes.
    let mut child = bin()
        .args(["template", "-f", &q])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    out.read_exact(&mut buf[..16]).unwrap();
    drop(out);
    let done = child.wait_with_output().unwrap();
    assert!(done.status.success(), "{}", stderr(&done));
    // A device that takes nothing.
    if let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") {
        let o = bin()
            .args(["template", "-f", &q])
            .stdout(full)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1));
        assert!(
            stderr(&o).contains("write <stdout>: No space left"),
            "{}",
            stderr(&o)
        );
    }
}

/// Exit statuses a CI step can tell apart: 0 nothing to report, 1 findings
/// or differences (lint, diff, secrets check) or a failed command (the
/// others, as Helm), 2 usage, 3 a findings command that could not check.
#[test]
fn exit_codes_tell_findings_from_failures() {
    let t = TempDir::new("exit-codes");
    let d = t.path();
    let q = quickstart();
    let write = |name: &str, text: &str| {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let bad = write("bad.yaml", "api:\n  replicas: many\n");
    let missing = d.join("missing.yaml").display().to_string();
    let code = |args: &[&str]| run(args).status.code();
    // lint: findings 1, cannot check 3, usage 2.
    assert_eq!(code(&["lint", "-f", &q]), Some(0));
    assert_eq!(code(&["lint", "-f", &bad]), Some(1));
    assert_eq!(code(&["lint", "-f", &missing]), Some(3));
    assert_eq!(code(&["lint", "--no-such-flag"]), Some(2));
    // diff: differences 1 only with --exit-code; cannot compare 3.
    let a = write(
        "a.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  k: a\n",
    );
    let b = write(
        "b.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  k: b\n",
    );
    assert_eq!(code(&["diff", &a, &a, "--exit-code"]), Some(0));
    assert_eq!(code(&["diff", &a, &b]), Some(0));
    assert_eq!(code(&["diff", &a, &b, "--exit-code"]), Some(1));
    assert_eq!(code(&["diff", &a, &missing, "--exit-code"]), Some(3));
    // secrets check: malformed secrets are findings.
    let env = write("s.env", "TRACECAT__DB_ENCRYPTION_KEY=short\n");
    assert_eq!(code(&["secrets", "check", &env]), Some(1));
    assert_eq!(code(&["secrets", "check", &missing]), Some(3));
    // Other commands fail with 1, as Helm does.
    assert_eq!(code(&["template", "-f", &bad]), Some(1));
    assert_eq!(code(&["template", "-f", &missing]), Some(1));
    assert_eq!(code(&["template", "--no-such-flag"]), Some(2));
}

/// A package of the embedded chart cannot be mistaken for the upstream
/// chart: its own version (a distinct registry tag) and an annotation naming
/// the renderer it needs. A Go-template chart is packaged as it is, and is
/// refused for rendering with a message saying what it is.
#[test]
fn packages_are_marked_and_go_template_charts_named() {
    let t = TempDir::new("package-marks");
    let d = t.path().display().to_string();
    let o = run(&["package", "-d", &d]);
    assert!(o.status.success(), "{}", stderr(&o));
    let tgz = t.path().join("tracecat-0.3.45+minijinja.tgz");
    assert!(tgz.exists(), "{}", stdout(&o));
    let tgz = tgz.display().to_string();
    let show = run(&["show", "chart", &tgz]);
    assert!(
        stdout(&show).contains("version: 0.3.45+minijinja"),
        "{}",
        stdout(&show)
    );
    assert!(
        stdout(&show).contains("tracecat.com/template-engine"),
        "{}",
        stdout(&show)
    );
    let r = run(&["template", &tgz, "-f", &quickstart()]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(stdout(&r).contains("helm.sh/chart: tracecat-0.3.45_minijinja"));

    let o = run(&["package", &fixture("helm-demo"), "-d", &d]);
    assert!(o.status.success(), "{}", stderr(&o));
    let go = t.path().join("helm-demo-0.1.0.tgz").display().to_string();
    for chart in [fixture("helm-demo"), go] {
        let o = run(&["template", &chart]);
        assert_eq!(o.status.code(), Some(1));
        let err = stderr(&o);
        assert!(
            err.contains("Go's template language") && err.contains("helm template"),
            "{err}"
        );
    }
}

/// The bash completion script completes a subcommand's flags and a nested
/// subcommand in a real bash, through the function it registers.
#[test]
fn bash_completes_subcommand_flags() {
    if std::process::Command::new("bash")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: bash_completes_subcommand_flags: no bash on PATH");
        return;
    }
    let t = TempDir::new("completion");
    let o = run(&["completion", "bash"]);
    assert!(o.status.success());
    let script = t.path().join("c.bash");
    std::fs::write(&script, &o.stdout).unwrap();
    let complete = |words: &str, cword: usize| {
        let prog = format!(
            "source {}; f=$(complete -p tracecat-chart | sed 's/.*-F \\([^ ]*\\).*/\\1/'); \
             COMP_WORDS=({words}); COMP_CWORD={cword}; \
             $f tracecat-chart \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; \
             echo \"${{COMPREPLY[*]}}\"",
            script.display()
        );
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(prog)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(complete("tracecat-chart template --val", 2), "--values");
    assert!(complete("tracecat-chart lint --", 2).contains("--strict"));
    assert_eq!(complete("tracecat-chart secrets g", 2), "generate");
    assert!(complete("tracecat-chart te", 1).contains("template"));
}

/// A --set-file that cannot be read is reported as -f reports a file (exit
/// 1, the path and why), not as a malformed flag.
#[test]
fn unreadable_set_file_is_a_file_error() {
    let t = TempDir::new("set-file-unreadable");
    let dir = t.path().display().to_string();
    let missing = t.path().join("missing").display().to_string();
    for target in [dir, missing] {
        let o = run(&["template", "--set-file", &format!("api.replicas={target}")]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(&target) && !err.contains("commas"), "{err}");
    }
}

/// A chart version Helm refuses is refused here too.
#[test]
fn an_invalid_chart_version_is_refused() {
    let t = TempDir::new("bad-version");
    t.write("Chart.yaml", "apiVersion: v2\nname: c\nversion: 0.1.0-\n");
    t.write("templates/cm.yaml", "kind: ConfigMap\n");
    let o = run(&["template", &t.path().display().to_string()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("chart.metadata.version \"0.1.0-\" is invalid"),
        "{}",
        stderr(&o)
    );
}
