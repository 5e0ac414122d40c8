//! `diff` between rendered files, folders and render specs.

mod common;
use common::*;

#[test]
fn files_and_exit_code() {
    let d = TempDir::new("diff");
    let old = d.write(
        "old.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  serviceKey: OLD-SECRET-VALUE\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gone\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    helm.sh/hook: pre-upgrade\nspec:\n  template:\n    spec:\n      containers: [{name: m, image: a}]\n",
    );
    d.write(
        "new/all.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  serviceKey: NEW-SECRET-VALUE\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: added\n",
    );
    let (o, n) = (
        old.display().to_string(),
        d.path().join("new").display().to_string(),
    );
    let out = run(&["diff", &o, &n]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("added:   v1 ConfigMap/added"));
    assert!(text.contains("removed: v1 ConfigMap/gone"));
    assert!(text.contains("secret keys changed (values hidden): serviceKey"));
    assert!(text.contains("hook removed (pre-upgrade)"));
    assert!(!text.contains("OLD-SECRET-VALUE") && !text.contains("NEW-SECRET-VALUE"));
    assert!(!text.contains("\x1b["), "no colour when not a terminal");
    assert_eq!(run(&["diff", &o, &n, "--exit-code"]).status.code(), Some(1));
    assert_eq!(run(&["diff", &o, &o, "--exit-code"]).status.code(), Some(0));
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&run(&["diff", &o, &n, "-o", "json"]))).unwrap();
    assert_eq!(json["changes"].as_array().unwrap().len(), 4);
    assert!(!json.to_string().contains("SECRET-VALUE"));
}

#[test]
fn render_specs_show_upgrade_findings() {
    let d = TempDir::new("diff2");
    let q = quickstart();
    let change = d
        .write(
            "change.yaml",
            "secrets:\n  existingSecret: new-core\napi:\n  replicas: 5\n",
        )
        .display()
        .to_string();
    let out = run(&[
        "diff",
        "--from",
        &q,
        "--to",
        &q,
        "--to",
        &change,
        "--exit-code",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("changed: apps/v1 Deployment/tracecat-api"));
    assert!(text.contains("+  replicas: 5"));
    assert!(text.contains("dbEncryptionKey moves from Secret tracecat-secrets to new-core"));
    let same = run(&["diff", "--from", &q, "--to", &q, "--exit-code"]);
    assert_eq!(same.status.code(), Some(0));
    assert!(stdout(&same).contains("0 added, 0 removed, 0 changed"));
}

#[test]
fn bad_usage_is_explained() {
    let out = run(&["diff", "only-one.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("give OLD and NEW"));
}
