//! Parity with Helm's renders of the public Tracecat chart (the golden cases
//! under tests/goldens/cases, produced by Helm 4.1.4).
//!
//! The embedded chart is being ported component by component: every object
//! it renders must be identical to Helm's object of the same key, and come in
//! Helm's order. The count of objects still missing is printed, and the test
//! `all_objects_present` (ignored until the port is complete) demands none.

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

#[test]
fn rendered_objects_match_helm() {
    let mut problems = Vec::new();
    let (mut matched, mut missing) = (0, 0);
    for c in cases() {
        let Ok(expected) = std::fs::read_to_string(c.dir.join("expected.yaml")) else {
            continue;
        };
        let out = render(&c);
        if !out.status.success() {
            problems.push(format!("{}: render failed: {}", c.name, stderr(&out)));
            continue;
        }
        let want = objects(&expected);
        let got = objects(&stdout(&out));
        let mut last_pos = 0;
        for (key, obj) in &got {
            match want.iter().position(|(k, _)| k == key) {
                None => problems.push(format!("{}: extra object {key:?}", c.name)),
                Some(pos) => {
                    let (a, b) = (normalise(&want[pos].1), normalise(obj));
                    if a != b {
                        let d = first_diff(&a, &b, "").unwrap_or_default();
                        problems.push(format!("{}: {key:?} differs at {d}", c.name));
                    } else {
                        matched += 1;
                    }
                    if pos < last_pos {
                        problems.push(format!("{}: {key:?} is out of Helm's order", c.name));
                    }
                    last_pos = pos;
                }
            }
        }
        missing += want.len()
            - want
                .iter()
                .filter(|(k, _)| got.iter().any(|(g, _)| g == k))
                .count();
    }
    eprintln!("golden parity: {matched} objects identical, {missing} not yet rendered by the embedded chart");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(matched > 0);
}

#[test]
#[ignore = "the embedded chart does not render every component yet (issue 3)"]
fn all_objects_present() {
    for c in cases() {
        let Ok(expected) = std::fs::read_to_string(c.dir.join("expected.yaml")) else {
            continue;
        };
        let out = render(&c);
        assert!(out.status.success(), "{}: {}", c.name, stderr(&out));
        assert_eq!(
            objects(&expected).len(),
            objects(&stdout(&out)).len(),
            "{}",
            c.name
        );
    }
}
