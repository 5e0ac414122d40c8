//! Subchart values against real Helm 4: `import-values`, aliases, disabled
//! dependencies, and how nulls travel between parent and subchart defaults.
//! Each case writes the same chart tree twice, once with a Go template for
//! Helm and once with a minijinja template for us, both printing every
//! chart's `.Values` as JSON; the two outputs must be identical.

mod common;
use common::*;
use std::process::Command;

/// (path under the chart root, Chart.yaml, values.yaml)
type ChartSpec<'a> = (&'a str, &'a str, &'a str);

fn write_tree(dir: &TempDir, charts: &[ChartSpec], template: &str) {
    for (path, chart_yaml, values) in charts {
        let base = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        dir.write(&format!("{base}Chart.yaml"), chart_yaml);
        dir.write(&format!("{base}values.yaml"), values);
        dir.write(&format!("{base}templates/values.yaml"), template);
    }
}

/// Renders with Helm 4 and with us; returns (helm stdout, our stdout, our stderr).
fn both(charts: &[ChartSpec], user_values: &str) -> (String, String, String) {
    let helm_dir = TempDir::new("deps-helm");
    let ours_dir = TempDir::new("deps-ours");
    write_tree(&helm_dir, charts, "{{ toJson .Values }}\n");
    write_tree(&ours_dir, charts, "{{ Values | toJson }}\n");
    let user_dir = TempDir::new("deps-user");
    let user = user_dir.write("user.yaml", user_values);
    let helm = Command::new(peer("helm4"))
        .args(["template", "r"])
        .arg(helm_dir.path())
        .arg("-f")
        .arg(&user)
        .output()
        .expect("run helm4");
    assert!(helm.status.success(), "helm failed: {}", stderr(&helm));
    let ours = run(&[
        "template",
        "r",
        &ours_dir.path().display().to_string(),
        "-f",
        &user.display().to_string(),
    ]);
    assert!(ours.status.success(), "we failed: {}", stderr(&ours));
    // The chart folders have different names; the `# Source` lines use the
    // chart's name, not the folder, so the streams compare as they are.
    (stdout(&helm), stdout(&ours), stderr(&ours))
}

const PARENT: &str = "apiVersion: v2
name: parent
version: 0.1.0
dependencies:
  - name: sub1
    version: 0.1.0
    import-values:
      - data
      - child: config
        parent: imported.fromSub1
      - missing
      - child: nested.deep
        parent: .
  - name: sub2
    version: 0.1.0
    alias: second
    import-values:
      - child: settings
        parent: fromSecond
  - name: sub2
    version: 0.1.0
    alias: third
    condition: third.enabled
    import-values:
      - child: settings
        parent: fromThird
";

const SUB1: &str = "apiVersion: v2
name: sub1
version: 0.1.0
dependencies:
  - name: leaf
    version: 0.1.0
    import-values:
      - child: out
        parent: fromLeaf
";

fn chart(name: &str) -> String {
    format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
}

#[test]
fn import_values_match_helm() {
    let leaf = chart("leaf");
    let sub2 = chart("sub2");
    let charts: Vec<ChartSpec> = vec![
        (
            "",
            PARENT,
            "imported:\n  fromSub1:\n    override: parent-wins\nkeep: 1\nnullme: null\nglobal:\n  g: parent\nthird:\n  enabled: false\n",
        ),
        (
            "charts/sub1",
            SUB1,
            "exports:\n  data:\n    exported: yes\n    list: [1, 2]\nconfig:\n  override: child\n  extra: 2\n  nothing: null\nnested:\n  deep:\n    fromDeep: true\n",
        ),
        ("charts/sub1/charts/leaf", &leaf, "out:\n  leafValue: 42\n"),
        ("charts/sub2", &sub2, "settings:\n  a: 1\n  b: [x]\nenabled: true\n"),
    ];
    let (helm, ours, err) = both(&charts, "keep: 2\n");
    assert_eq!(ours, helm);
    // Imported tables reach the parent; the disabled alias imports nothing.
    assert!(ours.contains("\"fromLeaf\":{\"leafValue\":42}"), "{ours}");
    assert!(ours.contains("\"override\":\"parent-wins\""), "{ours}");
    assert!(!ours.contains("fromThird"), "{ours}");
    assert!(
        err.contains("ImportValues missing table") && err.contains("\"missing\" is not a table"),
        "{err}"
    );
}

#[test]
fn user_values_win_over_imported_ones() {
    let sub = chart("sub");
    let parent = "apiVersion: v2\nname: parent\nversion: 0.1.0\ndependencies:\n  - name: sub\n    version: 0.1.0\n    import-values:\n      - child: shared\n        parent: shared\n";
    let charts: Vec<ChartSpec> = vec![
        ("", parent, "shared:\n  fromParent: p\n"),
        (
            "charts/sub",
            &sub,
            "shared:\n  fromParent: child\n  fromChild: c\n  dropped: x\n",
        ),
    ];
    let (helm, ours, _) = both(&charts, "shared:\n  fromChild: user\n  dropped: null\n");
    assert_eq!(ours, helm);
    assert!(ours.contains("\"fromChild\":\"user\""), "{ours}");
}

#[test]
fn nulls_between_parent_and_subchart_defaults_match_helm() {
    let sub = chart("sub");
    let parent = "apiVersion: v2\nname: parent\nversion: 0.1.0\ndependencies:\n  - name: sub\n    version: 0.1.0\n";
    let charts: Vec<ChartSpec> = vec![
        (
            "",
            parent,
            "top: null\nsub:\n  erased: null\n  both: null\n  nested:\n    gone: null\n    bothNull: null\nglobal:\n  dropme: null\n  kept: 1\n",
        ),
        (
            "charts/sub",
            &sub,
            "erased: 1\nboth: null\nown: null\nnested:\n  gone: 2\n  stays: 3\n  bothNull: null\n  childNull: null\nglobal:\n  kept: 0\n",
        ),
    ];
    for user in [
        "{}\n",
        "sub:\n  own: null\n  sibling: 1\n",
        "sub:\n  nested: null\n",
    ] {
        let (helm, ours, _) = both(&charts, user);
        assert_eq!(ours, helm, "user values: {user}");
    }
}
