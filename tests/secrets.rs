//! `secrets generate|check` and `template --expand-env`, as a pipeline uses them.

mod common;
use common::*;

fn check_stdin(input: &str) -> std::process::Output {
    run_with_stdin(&["secrets", "check", "-"], input.as_bytes())
}

#[test]
fn generate_formats_check_and_differ() {
    let mut seen = Vec::new();
    for f in ["secret", "env", "json", "values"] {
        let out = run(&["secrets", "generate", "--format", f, "-n", "tracecat"]);
        assert!(out.status.success(), "{f}");
        let text = stdout(&out);
        if f != "values" {
            let c = check_stdin(&text);
            assert!(c.status.success(), "{f}: {}", stdout(&c));
        }
        seen.push(text);
    }
    let a = stdout(&run(&["secrets", "generate", "--format", "json"]));
    let b = stdout(&run(&["secrets", "generate", "--format", "json"]));
    assert_ne!(a, b, "two runs must differ");
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert_eq!(v["dbEncryptionKey"].as_str().unwrap().len(), 44);
    for k in ["serviceKey", "signingSecret", "userAuthSecret"] {
        let s = v[k].as_str().unwrap();
        assert_eq!(s.len(), 64);
        assert!(s
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
    assert!(seen[0].contains("kind: Secret") && seen[0].contains("namespace: tracecat"));
    assert!(seen[3].contains("secrets:\n  create:\n    tracecat:"));
}

#[test]
fn output_file_is_private_and_not_overwritten() {
    let d = TempDir::new("sec");
    let f = d.path().join("core.env").display().to_string();
    assert!(run(&["secrets", "generate", "--format", "env", "-o", &f])
        .status
        .success());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let before = std::fs::read_to_string(&f).unwrap();
    let again = run(&["secrets", "generate", "--format", "env", "-o", &f]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("--force"));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), before);
    assert!(
        run(&["secrets", "generate", "--format", "env", "-o", &f, "--force"])
            .status
            .success()
    );
    assert_ne!(std::fs::read_to_string(&f).unwrap(), before);
    // Nothing about the values on the terminal.
    let out = run(&[
        "secrets",
        "generate",
        "-o",
        &d.path().join("s.yaml").display().to_string(),
    ]);
    assert!(out.stdout.is_empty());
}

#[test]
fn check_reports_the_wrong_key_without_its_value() {
    let good = stdout(&run(&["secrets", "generate", "--format", "json"]));
    let mut v: serde_json::Value = serde_json::from_str(&good).unwrap();
    let key = v["dbEncryptionKey"]
        .as_str()
        .unwrap()
        .replace('-', "+")
        .replace('_', "/");
    let key = if key.contains('+') || key.contains('/') {
        key
    } else {
        format!("+{}", &key[1..])
    };
    v["dbEncryptionKey"] = serde_json::Value::String(key.clone());
    let truncated = v["serviceKey"].as_str().unwrap()[..40].to_string();
    v["serviceKey"] = serde_json::Value::String(truncated.clone());
    let out = check_stdin(&v.to_string());
    assert_eq!(out.status.code(), Some(1));
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(all.contains("invalid dbEncryptionKey") && all.contains("standard base64"));
    assert!(all.contains("invalid serviceKey"));
    assert!(
        !all.contains(&key) && !all.contains(&truncated),
        "values leaked: {all}"
    );
    assert!(!all.contains(v["signingSecret"].as_str().unwrap()));
}

#[test]
fn expand_env_substitutes_and_lists_missing_names_only() {
    let example = root()
        .join("values/examples/chart-managed-secrets.yaml")
        .display()
        .to_string();
    let missing = bin()
        .args(["template", "--expand-env", "-f", &example])
        .env_clear()
        .env("POSTGRES_PASSWORD", "pw-not-to-print-123")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    let e = stderr(&missing);
    assert!(e.contains("TRACECAT_DB_ENCRYPTION_KEY") && e.contains("REDIS_PASSWORD"));
    assert!(!e.contains("POSTGRES_PASSWORD,") || !e.contains("pw-not-to-print-123"));
    assert!(!e.contains("pw-not-to-print-123"));
    let env = stdout(&run(&["secrets", "generate", "--format", "env"]));
    let mut cmd = bin();
    cmd.args([
        "template",
        "--expand-env",
        "-f",
        &example,
        "-s",
        "templates/secret-templates.yaml",
    ])
    .env_clear();
    for line in env.lines() {
        let (k, v) = line.split_once('=').unwrap();
        cmd.env(k, v);
    }
    cmd.env("POSTGRES_USER", "tracecat")
        .env("POSTGRES_PASSWORD", "pw")
        .env("REDIS_PASSWORD", "rp");
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains("${"));
    assert!(text.contains("rediss://:rp@"));
    // Without the flag the placeholders stay literal.
    let lit = stdout(&run(&[
        "template",
        "-f",
        &example,
        "-s",
        "templates/secret-templates.yaml",
    ]));
    assert!(lit.contains("${TRACECAT_SERVICE_KEY}"));
}
