//! Parity with the public chart on values files beyond the golden cases:
//! unknown keys warn as Helm ignores them, the chart's refusals are ours,
//! long release names are cut as Helm cuts them, and random values files
//! render as real Helm renders them (`parity-fuzz.py`).

mod common;
use common::*;
use std::path::PathBuf;

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
#[test]
fn the_reference_chart_refusals_are_refusals() {
    let d = TempDir::new("refusals");
    let cases: &[(&str, &str)] = &[
        (
            "temporal:\n  server:\n    config:\n      persistence:\n        datastores:\n          visibility:\n            sql:\n              connectAddr: \"\"\n",
            "Please specify connectAddr for visibility store",
        ),
        (
            "temporal:\n  server:\n    config:\n      persistence:\n        datastores:\n          default: null\n",
            "No valid driver configured for default store",
        ),
        (
            "temporal:\n  server:\n    config:\n      persistence:\n        datastores:\n          default:\n            sql:\n              pluginName: sqlite\n              manageSchema: true\n",
            "manageSchema is not supported for sqlite SQL database plugin",
        ),
        (
            "secrets:\n  create:\n    tracecat:\n      enabled: true\n      name: core\n      dbEncryptionKey: k\n",
            "secrets.create.tracecat.serviceKey is required",
        ),
        (
            "secrets:\n  create:\n    postgres:\n      enabled: true\n      name: pg\n      password: p\n",
            "secrets.create.postgres.username is required",
        ),
        ("image: null\n", "nil pointer evaluating"),
        // The parent chart's own checks of the bundled Temporal's stores.
        (
            "temporal:\n  server:\n    config:\n      persistence:\n        datastores:\n          visibility:\n            sql:\n              user: \"\"\n",
            "datastores.visibility.sql.user is required when temporal.enabled=true",
        ),
        (
            "temporal:\n  server:\n    config:\n      persistence:\n        datastores:\n          visibility:\n            sql:\n              existingSecret: \"\"\n",
            "datastores.visibility.sql.existingSecret (or sql.password) is required",
        ),
        (
            "externalSecrets:\n  enabled: true\n  coreSecrets:\n    secretArn: arn:x\n",
            "externalSecrets.clusterSecretStoreRef is required when ESO is enabled",
        ),
        // Go refuses a nil where a function takes a map, and a number where
        // it takes a string.
        (
            "executor:\n  serviceAccount:\n    create: true\n    annotations: null\n",
            "expected map[string]interface {}; got interface {}",
        ),
        (
            "temporal:\n  fullnameOverride: 3\n",
            "wrong type for value; expected string",
        ),
    ];
    for (i, (values, says)) in cases.iter().enumerate() {
        let out = template(&quick_with(&d, &format!("r{i}.yaml"), values));
        assert_eq!(out.status.code(), Some(1), "{values}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(says),
            "{values}: expected {says:?} in {}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty(), "{values}");
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
    let shared = root().join("../shared");
    let fuzz = shared.join("tools/parity-fuzz.py");
    let chart = shared.join("reference/public-chart/tracecat");
    let helm = std::env::var("TRACECAT_PEERS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".local/peers"))
        .join("helm4");
    if !fuzz.exists() || !chart.exists() || !helm.exists() {
        eprintln!(
            "SKIPPED random_values_files_render_as_helm_renders_them: needs {}, {} and {} \
             (../shared and get-peers.sh)",
            fuzz.display(),
            chart.display(),
            helm.display()
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the parity check"
        );
        return;
    }
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
