//! `lint`: one fixture per deployment problem, schema and name checks on
//! rendered objects, exit codes, and the machine-readable outputs.

mod common;
use common::*;

const BASE: &str = "secrets:
  existingSecret: tracecat-secrets
tracecat:
  auth:
    superadminEmail: admin@example.com
externalPostgres:
  host: db.example.internal
  auth:
    existingSecret: pg
externalRedis:
  auth:
    existingSecret: redis
temporal:
  server:
    resources:
      requests:
        cpu: '1'
        memory: 2Gi
    config:
      persistence:
        datastores:
          default:
            sql:
              connectAddr: db.example.internal:5432
              user: temporal
          visibility:
            sql:
              connectAddr: db.example.internal:5432
              user: temporal
";

fn lint(extra: &str, flags: &[&str]) -> (i32, String, String) {
    let d = TempDir::new("lint");
    let base = d.write("base.yaml", BASE);
    let extra = d.write("extra.yaml", extra);
    let (b, e) = (base.display().to_string(), extra.display().to_string());
    let mut args = vec!["lint", "-f", &b, "-f", &e];
    args.extend_from_slice(flags);
    let out = run(&args);
    (out.status.code().unwrap_or(-1), stdout(&out), stderr(&out))
}

fn rules(extra: &str) -> Vec<(String, String)> {
    let (_, out, _) = lint(extra, &["-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_clean_deployment_passes() {
    let (code, out, _) = lint("{}\n", &["--strict"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 error(s), 0 warning(s)"));
}

#[test]
fn each_problem_is_reported() {
    let cases: &[(&str, &str, &str)] = &[
        ("ingress:\n  enabled: true\nvirtualService:\n  enabled: true\n", "ingress-and-virtualservice", "warning"),
        ("secrets:\n  existingSecret: ''\n", "core-secrets", "error"),
        (
            "secrets:\n  create:\n    tracecat:\n      enabled: true\n      dbEncryptionKey: literal-value\n      serviceKey: ${SK}\n      signingSecret: ${SS}\n      userAuthSecret: ${UA}\n",
            "plaintext-secret",
            "warning",
        ),
        ("tracecat:\n  auth:\n    types: basic,oidc\n", "basic-auth-production", "warning"),
        ("worker:\n  autoscaling:\n    enabled: true\n", "scaledobject-without-keda", "warning"),
        ("api:\n  autoscaling:\n    enabled: true\n", "hpa-without-metrics-server", "warning"),
        ("temporal:\n  server:\n    resources:\n      requests:\n        cpu: 100m\n", "temporal-undersized", "warning"),
        ("tracecat:\n  sandbox:\n    disableNsjail: true\n", "nsjail-disabled", "warning"),
        ("tracecat:\n  appEnv: prod\n", "values-schema", "error"),
        ("nameOverride: Bad_Name\n", "k8s-names", "error"),
        ("api:\n  resources:\n    requests:\n      cpu: lots\n", "k8s-schema", "error"),
        ("securityContext:\n  runAsUser: root\n", "k8s-schema", "error"),
    ];
    for (values, rule, severity) in cases {
        let found = rules(values);
        assert!(
            found.iter().any(|(r, s)| r == rule && s == severity),
            "{rule} not reported for {values:?}: {found:?}"
        );
    }
    // Declaring the operators silences their findings.
    let found = rules("worker:\n  autoscaling:\n    enabled: true\nkeda:\n  enabled: true\n");
    assert!(!found.iter().any(|(r, _)| r == "scaledobject-without-keda"));
}

#[test]
fn exit_codes_and_strict() {
    let (code, _, _) = lint("tracecat:\n  sandbox:\n    disableNsjail: true\n", &[]);
    assert_eq!(code, 0, "warnings alone pass");
    let (code, _, err) = lint(
        "tracecat:\n  sandbox:\n    disableNsjail: true\n",
        &["--strict"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("--strict"));
    let (code, _, _) = lint("secrets:\n  existingSecret: ''\n", &[]);
    assert_eq!(code, 1);
}

#[test]
fn render_failures_are_findings() {
    let (code, out, _) = lint("externalPostgres:\n  host: ''\n", &[]);
    assert_eq!(code, 1);
    assert!(
        out.contains("externalPostgres.host") && out.contains("[render]"),
        "{out}"
    );
}

#[test]
fn every_supported_kube_version_and_the_examples() {
    for minor in 27..=35 {
        let v = format!("1.{minor}");
        let (code, out, _) = lint("{}\n", &["--kube-version", &v]);
        assert_eq!(code, 0, "{v}: {out}");
    }
    let (code, _, err) = lint("{}\n", &["--kube-version", "1.20"]);
    assert_eq!(code, 2, "{err}");
    for ex in [
        "quickstart",
        "aws-eks",
        "istio",
        "temporal-cloud",
        "chart-managed-secrets",
        "eks-grafana-cloud",
    ] {
        let f = root()
            .join(format!("values/examples/{ex}.yaml"))
            .display()
            .to_string();
        let out = run(&["lint", "-f", &f]);
        assert!(out.status.success(), "{ex}: {}", stdout(&out));
    }
}

#[test]
fn sarif_validates_against_the_sarif_schema() {
    let (_, out, _) = lint(
        "tracecat:\n  appEnv: prod\n  sandbox:\n    disableNsjail: true\n",
        &["-o", "sarif"],
    );
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    // The published SARIF 2.1.0 schema has one malformed `language` pattern
    // (a stray `]`) that strict validators refuse; it does not concern us.
    let text = std::fs::read_to_string(root().join("tests/data/sarif-2.1.0.json"))
        .unwrap()
        .replace(
            "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$",
            "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$",
        );
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(results
        .iter()
        .any(|r| r["ruleId"] == "values-schema" && r["level"] == "error"));
    assert!(results
        .iter()
        .any(|r| r["ruleId"] == "nsjail-disabled" && r["level"] == "warning"));
    github_accepts(&doc);
    // The quickstart's findings (a values default, not set in the file)
    // point at a file too.
    let o = run(&["lint", "-f", &quickstart(), "-o", "sarif"]);
    github_accepts(&serde_json::from_str(&stdout(&o)).unwrap());
}

/// GitHub code scanning's documented requirements beyond the schema: every
/// result has a message and a physical location whose artifact URI is a
/// relative path or an absolute file URI, and a region's startLine is 1 or
/// more.
fn github_accepts(doc: &serde_json::Value) {
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        assert!(
            r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()),
            "{r}"
        );
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or_else(|| panic!("no physical location: {r}"));
        assert!(
            !uri.is_empty() && (!uri.starts_with('/') || uri.starts_with("file://")),
            "{uri}"
        );
        assert!(!uri.contains(' '), "{uri}");
        if let Some(l) = loc["region"]["startLine"].as_u64() {
            assert!(l >= 1, "{r}");
        }
    }
}

/// Tracecat's deployment checks apply to the Tracecat chart only.
#[test]
fn other_charts_get_no_tracecat_rules() {
    let o = run(&["lint", &fixture("demo"), "-o", "json"]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    for tracecat_only in [
        "core-secrets",
        "temporal-undersized",
        "nsjail-disabled",
        "basic-auth-production",
    ] {
        assert!(!rules.contains(&tracecat_only), "{rules:?}");
    }
}
