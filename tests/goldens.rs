//! Parity with Helm's renders of the public Tracecat chart (the golden cases
//! under tests/goldens/cases, produced by Helm 4.1.4).
//!
//! Every render case must give exactly Helm's objects, in Helm's order (YAML
//! types included); every error case must fail, naming the values key that
//! Helm's message names, with nothing on stdout.

mod common;
use common::*;

struct Case {
    name: String,
    dir: std::path::PathBuf,
    release: String,
    namespace: String,
}

fn cases() -> Vec<Case> {
    let base = root().join("tests/goldens/cases");
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&base)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let (mut release, mut namespace) = ("tracecat".to_string(), "tracecat".to_string());
        if let Ok(args) = std::fs::read_to_string(dir.join("args")) {
            let words: Vec<&str> = args
                .lines()
                .map(|l| l.split('#').next().unwrap_or(""))
                .flat_map(str::split_whitespace)
                .collect();
            for w in words.windows(2) {
                match w[0] {
                    "--name-template" => release = w[1].to_string(),
                    "-n" | "--namespace" => namespace = w[1].to_string(),
                    _ => {}
                }
            }
        }
        out.push(Case {
            name: dir.file_name().unwrap().to_string_lossy().into_owned(),
            dir,
            release,
            namespace,
        });
    }
    out
}

fn render(c: &Case) -> std::process::Output {
    let values = c.dir.join("values.yaml").display().to_string();
    run(&["template", &c.release, "-n", &c.namespace, "-f", &values])
}

/// The first dotted values key Helm's error message names.
fn first_key(text: &str) -> Option<String> {
    let re = regex::Regex::new(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+").unwrap();
    let key = re
        .find_iter(text)
        .map(|m| m.as_str().to_string())
        .find(|k| !k.ends_with(".yaml") && !k.ends_with(".tpl") && !k.contains("templates"));
    key
}

#[test]
fn every_case_renders_what_helm_renders() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for c in cases() {
        let out = render(&c);
        if let Ok(err) = std::fs::read_to_string(c.dir.join("expected-error.txt")) {
            checked += 1;
            if out.status.success() {
                problems.push(format!(
                    "{}: rendered, but Helm refuses these values: {}",
                    c.name,
                    err.trim()
                ));
                continue;
            }
            if !out.stdout.is_empty() {
                problems.push(format!("{}: wrote to stdout on error", c.name));
            }
            if let Some(key) = first_key(&err) {
                if !stderr(&out).contains(&key) {
                    problems.push(format!(
                        "{}: error does not name {key}: {}",
                        c.name,
                        stderr(&out)
                    ));
                }
            }
            continue;
        }
        let Ok(expected) = std::fs::read_to_string(c.dir.join("expected.yaml")) else {
            continue;
        };
        checked += 1;
        if !out.status.success() {
            problems.push(format!("{}: render failed: {}", c.name, stderr(&out)));
            continue;
        }
        for p in compare_streams(&expected, &stdout(&out)) {
            problems.push(format!("{}: {p}", c.name));
        }
    }
    assert!(checked >= 35, "only {checked} golden cases found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The Temporal server Deployments carry a checksum of the server ConfigMap
/// text as rendered, so the ConfigMap must match Helm byte for byte.
#[test]
fn temporal_config_checksum_matches_helm() {
    let c = cases()
        .into_iter()
        .find(|c| c.name == "minimal-existing-secrets")
        .unwrap();
    let expected = std::fs::read_to_string(c.dir.join("expected.yaml")).unwrap();
    let out = stdout(&render(&c));
    let pick = |text: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with("checksum/config:"))
            .map(str::to_string)
    };
    assert!(pick(&expected).is_some());
    assert_eq!(pick(&out), pick(&expected));
}
