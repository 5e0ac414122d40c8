//! Secret values never reach stderr, error messages, `--debug` output,
//! lint reports or diffs, whatever command is run with them; only commands
//! whose purpose is to output them (template's manifests, `secrets
//! generate`, `values`) print them, on stdout. Generated files are 0600.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;
use std::process::Output;

const CANARIES: [&str; 6] = [
    "canary-db-key-3f9a7c",
    "canary-service-7d2e41",
    "canary-pg-password-91b3",
    "canary-oidc-secret-55c0",
    "canary-redis-pw-ab12",
    "canary-set-token-e7e7",
];

fn values(dir: &std::path::Path, service_key: &str) -> String {
    let text = format!(
        "tracecat:\n  auth:\n    superadminEmail: admin@example.com\n\
         externalPostgres:\n  host: db.example.com\n\
         temporal:\n  server:\n    config:\n      persistence:\n        datastores:\n          default:\n            sql:\n              connectAddr: db.example.com:5432\n              user: temporal\n          visibility:\n            sql:\n              connectAddr: db.example.com:5432\n              user: temporal\n\
         secrets:\n  create:\n    tracecat:\n      enabled: true\n      dbEncryptionKey: {}\n      serviceKey: {service_key}\n      signingSecret: canary-signing-0000\n      userAuthSecret: canary-userauth-0000\n\
         \x20   postgres:\n      enabled: true\n      username: tracecat\n      password: {}\n\
         \x20   temporalUiOidc:\n      enabled: true\n      clientId: ui\n      clientSecret: {}\n\
         \x20   redis:\n      enabled: true\n      url: redis://:{}@redis:6379/0\n",
        CANARIES[0], CANARIES[2], CANARIES[3], CANARIES[4]
    );
    let p = dir.join(format!("values-{service_key}.yaml"));
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn clean(what: &str, text: &str) {
    for c in CANARIES {
        assert!(!text.contains(c), "{what} shows secret {c}:\n{text}");
    }
}

fn no_secrets_on_stderr(what: &str, o: &Output) {
    clean(&format!("{what} (stderr)"), &stderr(o));
}

#[test]
fn secrets_stay_out_of_messages_debug_lint_and_diffs() {
    let t = TempDir::new("hygiene");
    let d = t.path();
    let a = values(d, CANARIES[1]);
    let b = values(d, "canary-service-changed-1");
    let set = format!("tracecat.oidc.clientSecret={}", CANARIES[5]);

    // A normal render: manifests on stdout (its purpose), nothing on stderr.
    let o = run(&["template", "-f", &a, "--set", &set]);
    assert!(o.status.success(), "{}", stderr(&o));
    no_secrets_on_stderr("template", &o);

    // Errors quoting values: a schema error on a secret's own key, a bad
    // --set flag carrying a secret, and --debug.
    let bad = d.join("bad.yaml");
    std::fs::write(
        &bad,
        format!(
            "ui:\n  replicas: -1\nsecrets:\n  create:\n    tracecat:\n      enabled: true\n      serviceKey: [{}]\n      bogusKey: 1\n",
            CANARIES[1]
        ),
    )
    .unwrap();
    for args in [
        vec!["template", "-f", &a, "-f", bad.to_str().unwrap(), "--debug"],
        vec![
            "template",
            "-f",
            &a,
            "--set",
            &format!("{set},oops[x]=1"),
            "--debug",
        ],
        vec!["lint", "-f", &a, "-f", bad.to_str().unwrap()],
    ] {
        let o = run(&args);
        assert!(!o.status.success(), "{args:?} should fail");
        no_secrets_on_stderr(&format!("{args:?}"), &o);
        clean(&format!("{args:?} (stdout)"), &stdout(&o));
    }

    // A secret holding a quote and a backslash, quoted by a schema error in
    // every report format (JSON and SARIF escape it twice).
    let quoted = d.join("escaped.yaml");
    std::fs::write(
        &quoted,
        "secrets:\n  create:\n    tracecat:\n      serviceKey: ['canary\"quoted\\x-77']\n",
    )
    .unwrap();
    for fmt in ["text", "json", "sarif"] {
        let o = run(&["lint", "-f", &a, "-f", quoted.to_str().unwrap(), "-o", fmt]);
        assert!(
            !o.status.success(),
            "lint -o {fmt} should report the schema error"
        );
        for out in [stdout(&o), stderr(&o)] {
            assert!(
                !out.contains("quoted"),
                "lint -o {fmt} shows the secret:\n{out}"
            );
        }
    }

    // lint of good values: its report is not a place for secrets.
    let o = run(&["lint", "-f", &a, "--set", &set]);
    clean("lint (stdout)", &stdout(&o));
    no_secrets_on_stderr("lint", &o);

    // diff between two renders whose secrets differ: shown as changed, hidden.
    let o = run(&["diff", "--from", &a, "--to", &b]);
    let out = stdout(&o);
    clean("diff (stdout)", &out);
    assert!(!out.contains("canary-service-changed-1"), "{out}");
    assert!(
        out.contains("tracecat-secrets"),
        "the Secret is reported as changed: {out}"
    );
    no_secrets_on_stderr("diff", &o);

    // diff of a chart that copies a password into a ConfigMap: the value is
    // masked there too, in text and in JSON (which escapes its quote).
    let cm_chart = d.join("cm-chart");
    std::fs::create_dir_all(cm_chart.join("templates")).unwrap();
    std::fs::write(
        cm_chart.join("Chart.yaml"),
        "apiVersion: v2\nname: cm\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        cm_chart.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  dsn: {{ Values.db.password | quote }}\n",
    )
    .unwrap();
    let (old_v, new_v) = (d.join("old.yaml"), d.join("new.yaml"));
    std::fs::write(&old_v, "db:\n  password: 'leaky\"old-11'\n").unwrap();
    std::fs::write(&new_v, "db:\n  password: 'leaky\"new-22'\n").unwrap();
    let cm = cm_chart.to_str().unwrap();
    for fmt in ["text", "json"] {
        let o = run(&[
            "diff",
            "--from-chart",
            cm,
            "--from",
            old_v.to_str().unwrap(),
            "--to-chart",
            cm,
            "--to",
            new_v.to_str().unwrap(),
            "-o",
            fmt,
        ]);
        let out = stdout(&o);
        assert!(
            out.contains("ConfigMap"),
            "diff -o {fmt} reports the change: {out}"
        );
        assert!(
            !out.contains("leaky"),
            "diff -o {fmt} shows the password:\n{out}"
        );
    }

    // --debug on a template that renders invalid YAML containing a secret.
    let chart = d.join("chart");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: leak\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/s.yaml"),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: {{ Values.db.password }}\n  fromChart: {{ Values.db.apiKey }}\n  literal: canary-literal-in-template\n  broken: [\n",
    )
    .unwrap();
    // A secret among the chart's own defaults, which no user value names.
    std::fs::write(
        chart.join("values.yaml"),
        "db:\n  apiKey: canary-chart-default-key\n",
    )
    .unwrap();
    let o = run(&[
        "template",
        chart.to_str().unwrap(),
        "--set",
        &format!("db.password={}", CANARIES[2]),
        "--debug",
    ]);
    assert!(!o.status.success());
    let all = format!("{}{}", stdout(&o), stderr(&o));
    clean("--debug output", &all);
    assert!(
        !all.contains("canary-chart-default") && !all.contains("canary-literal"),
        "{all}"
    );
    assert!(!stderr(&o).contains("run with --debug"), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("<redacted>"),
        "the debug output is shown, masked: {}",
        stdout(&o)
    );

    // post-render never echoes its input's secrets in errors.
    let o = run_with_stdin(
        &["post-render"],
        format!(
            "kind: Secret\nstringData:\n  password: {}\n  x: [\n",
            CANARIES[2]
        )
        .as_bytes(),
    );
    assert!(!o.status.success());
    no_secrets_on_stderr("post-render", &o);

    // registry login: the password from stdin is not echoed on failure.
    let o = run_with_stdin_env(
        &[
            "registry",
            "login",
            "127.0.0.1:9",
            "--username",
            "u",
            "--password-stdin",
            "--plain-http",
        ],
        CANARIES[5].as_bytes(),
        &[
            ("HOME", d.as_os_str()),
            ("TRACECAT_CHART_RETRY_SECONDS", "1".as_ref()),
        ],
    );
    clean("registry login", &format!("{}{}", stdout(&o), stderr(&o)));
}

#[test]
fn generated_secret_files_are_private_and_unprinted() {
    let t = TempDir::new("hygiene-gen");
    for (fmt, name) in [
        ("env", "core.env"),
        ("secret", "core.yaml"),
        ("json", "core.json"),
        ("values", "v.yaml"),
    ] {
        let f = t.path().join(name);
        let o = run(&[
            "secrets",
            "generate",
            "--format",
            fmt,
            "-o",
            f.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name}");
        let body = std::fs::read_to_string(&f).unwrap();
        let printed = format!("{}{}", stdout(&o), stderr(&o));
        for line in body.lines() {
            for word in line
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '='))
            {
                if word.len() >= 32 {
                    assert!(
                        !printed.contains(word),
                        "{fmt}: a generated value was printed"
                    );
                }
            }
        }
        // check reads them back without printing them.
        if fmt != "values" {
            let c = run(&["secrets", "check", f.to_str().unwrap()]);
            assert!(c.status.success(), "{}", stdout(&c));
            let shown = format!("{}{}", stdout(&c), stderr(&c));
            assert!(body.lines().all(|l| l.len() < 32
                || !shown.contains(
                    l.split_once(['=', ':'])
                        .map(|(_, v)| v.trim())
                        .unwrap_or("")
                )));
        }
    }
}

/// A file given with `--set-file` is never quoted back, whichever output
/// carries the error: a short file is masked, a long one is described by
/// its size, so even a large file gives a one-screen error.
#[test]
fn set_file_content_stays_out_of_errors_and_reports() {
    let t = TempDir::new("set-file-errors");
    let short = t.path().join("short");
    std::fs::write(&short, "canary-file-short-0c1d").unwrap();
    let long = t.path().join("long");
    std::fs::write(
        &long,
        format!(
            "CANARY_ENV=canary-file-long-8f8f\n{}",
            "PATH=/bin\n".repeat(500_000)
        ),
    )
    .unwrap();
    let q = quickstart();
    for f in [&short, &long] {
        let set = format!("api.replicas={}", f.display());
        let o = run(&["template", "-f", &q, "--set-file", &set]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("api.replicas"), "{}", stderr(&o));
        for out in ["text", "json", "sarif"] {
            let l = run(&["lint", "-f", &q, "--set-file", &set, "-o", out]);
            let all = format!("{}{}", stdout(&l), stderr(&l));
            assert!(all.len() < 20_000, "{out}: {} bytes", all.len());
            assert!(!all.contains("canary-file"), "{out}: {all}");
        }
        let err = stderr(&o);
        assert!(err.len() < 4000 && !err.contains("canary-file"), "{err}");
    }
}

/// Every file --output-dir and --apply-phases write can hold a Secret (or,
/// with --expand-env, an expanded credential): owner-only, folders too.
#[test]
fn rendered_trees_are_owner_only() {
    let t = TempDir::new("private-trees");
    let v = root().join("values/examples/chart-managed-secrets.yaml");
    let v = v.to_str().unwrap();
    for flag in ["--output-dir", "--apply-phases"] {
        let out = t.path().join(flag.trim_start_matches('-')).join("nested");
        let o = run(&["template", "rel", "-f", v, flag, out.to_str().unwrap()]);
        assert!(o.status.success(), "{flag}: {}", stderr(&o));
        let mut seen = 0;
        let mut stack = vec![t.path().join(flag.trim_start_matches('-'))];
        while let Some(d) = stack.pop() {
            let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", d.display());
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                assert!(!name.contains(".tmp-"), "left over: {name}");
                let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
                let want = if name == "apply.sh" { 0o700 } else { 0o600 };
                assert_eq!(mode, want, "{}", p.display());
                seen += 1;
            }
        }
        assert!(seen > 3, "{flag}: only {seen} files");
    }
}

/// A password written into an oci:// reference is refused, never echoed.
#[test]
fn credentials_in_a_registry_reference_are_not_printed() {
    let r = "oci://alice:canary-oci-pw-77aa@127.0.0.1:1/charts/tracecat";
    for args in [
        vec!["pull", r],
        vec!["template", r],
        vec!["show", "values", r],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            !err.contains("canary-oci-pw") && !err.contains("alice"),
            "{err}"
        );
        assert!(err.contains("registry login 127.0.0.1:1"), "{err}");
    }
}
