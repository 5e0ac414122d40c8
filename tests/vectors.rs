//! Helm's values semantics: every vector produced by real Helm is run
//! against `tracecat-chart values --output json`: the shared reference
//! (`helm-vectors/values-flags.json`, copied to tests/) and our own edge
//! cases of how values files are read (`helm-vectors-edge.json`, each
//! recorded from Helm 4 with the reference's `helm-values.sh`).

mod common;
use common::*;
use std::path::Path;

fn write_chart(
    root: &Path,
    name: &str,
    values: &str,
    subs: Option<&serde_json::Value>,
    extra: Option<&str>,
) {
    std::fs::create_dir_all(root).unwrap();
    let mut cy = format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n");
    if let Some(e) = extra {
        cy.push_str(e);
    }
    std::fs::write(root.join("Chart.yaml"), cy).unwrap();
    std::fs::write(root.join("values.yaml"), values).unwrap();
    if let Some(serde_json::Value::Array(subs)) = subs {
        for s in subs {
            let n = s["name"].as_str().unwrap();
            write_chart(
                &root.join("charts").join(n),
                n,
                s.get("values").and_then(|v| v.as_str()).unwrap_or(""),
                s.get("subcharts"),
                s.get("chart_yaml_extra").and_then(|v| v.as_str()),
            );
        }
    }
}

/// Strict JSON equality with numbers compared by value.
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => x.as_f64() == y.as_f64(),
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(u, v)| same(u, v))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn helm_values_vectors() {
    check_vectors("tests/helm-vectors.json");
}

#[test]
fn helm_values_edge_vectors() {
    check_vectors("tests/helm-vectors-edge.json");
}

fn check_vectors(file: &str) {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let vectors: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let mut failures = Vec::new();
    for v in &vectors {
        let name = v["name"].as_str().unwrap();
        let dir = TempDir::new("vec");
        write_chart(
            &dir.path().join("chart"),
            "vt",
            v["chart_values"].as_str().unwrap_or(""),
            v.get("subcharts"),
            v.get("chart_yaml_extra").and_then(|x| x.as_str()),
        );
        let mut args: Vec<String> = vec![
            "values".into(),
            "--output".into(),
            "json".into(),
            "--chart".into(),
            "chart".into(),
        ];
        if let Some(serde_json::Value::Array(files)) = v.get("files") {
            for (i, f) in files.iter().enumerate() {
                let fname = format!("values-{}.yaml", i + 1);
                dir.write(&fname, f.as_str().unwrap());
                args.push("-f".into());
                args.push(fname);
            }
        }
        if let Some(serde_json::Value::Object(data)) = v.get("data_files") {
            for (k, t) in data {
                dir.write(k, t.as_str().unwrap());
            }
        }
        if let Some(serde_json::Value::Array(a)) = v.get("args") {
            args.extend(a.iter().map(|x| x.as_str().unwrap().to_string()));
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run_in(dir.path(), &argv);
        if v["error"].is_string() {
            if out.status.success() {
                failures.push(format!("{name}: expected an error, got success"));
            }
            continue;
        }
        if !out.status.success() {
            failures.push(format!("{name}: failed: {}", stderr(&out)));
            continue;
        }
        let got: serde_json::Value = match serde_json::from_slice(&out.stdout) {
            Ok(g) => g,
            Err(e) => {
                failures.push(format!("{name}: output is not JSON: {e}"));
                continue;
            }
        };
        if !same(&got, &v["expected"]) {
            failures.push(format!("{name}: expected {} got {}", v["expected"], got));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors failed:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}
