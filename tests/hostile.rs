//! Hostile inputs, end to end: each gets a clear error (exit 1 or 2, a
//! message naming the problem) within a bounded time and memory, never a
//! panic or a hang. The binary runs with a 2 GiB address-space limit and is
//! killed if it runs past 60 s, so a blow-up fails the test instead of the
//! machine.

mod common;
use common::*;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

const MEMORY_LIMIT: u64 = 2 << 30;
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// Runs the binary under the memory and time bounds.
fn bounded(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = bin();
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    // SAFETY: setrlimit is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: MEMORY_LIMIT,
                rlim_max: MEMORY_LIMIT,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    // Output is drained on another thread so a full pipe cannot stall it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(TIME_LIMIT) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            let shown: Vec<String> = args.iter().map(|a| a.chars().take(60).collect()).collect();
            panic!("hung: {shown:?} ran past {TIME_LIMIT:?}");
        }
    }
}

/// A refusal: exit 1 or 2, the expected words, one screen, no panic, and
/// nothing on stdout.
fn refused(o: &Output, says: &str) {
    let err = stderr(o);
    assert!(
        matches!(o.status.code(), Some(1) | Some(2)),
        "exit {:?}: {err}",
        o.status
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(says), "expected {says:?} in: {err}");
    assert!(err.lines().count() <= 25, "more than a screen: {err}");
    assert!(o.stdout.is_empty(), "output despite the error");
}

fn file(dir: &Path, name: &str, data: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p.display().to_string()
}

#[test]
fn hostile_values_files() {
    let t = TempDir::new("hostile-values");
    let d = t.path();
    // Nesting: flow and block.
    let deep = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    refused(
        &bounded(
            &["template", "-f", &file(d, "deep.yaml", deep.as_bytes())],
            &[],
        ),
        "recursion limit",
    );
    let mut block = String::new();
    for i in 0..2000 {
        block.push_str(&" ".repeat(i));
        block.push_str("k:\n");
    }
    refused(
        &bounded(
            &["template", "-f", &file(d, "block.yaml", block.as_bytes())],
            &[],
        ),
        "nesting",
    );
    // Billion laughs.
    let mut bomb = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{p}"); 10].join(", ")
        ));
    }
    refused(
        &bounded(
            &["template", "-f", &file(d, "bomb.yaml", bomb.as_bytes())],
            &[],
        ),
        "alias bomb",
    );
    // The bound counts what aliases add, before copying them: a bomb is
    // refused within a few MiB; ordinary anchors pass.
    let anchors = file(
        d,
        "anchors.yaml",
        b"base: &b {x: 1, y: 2, z: 3}\na: *b\nb: *b\n",
    );
    let o = bounded(
        &["values", "-f", &anchors],
        &[("TRACECAT_CHART_MAX_YAML_NODES", "10")],
    );
    refused(&o, "alias bomb");
    let o = bounded(
        &["values", "-f", &anchors],
        &[("TRACECAT_CHART_MAX_YAML_NODES", "14")],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // A file past the size bound, and a huge scalar within it.
    let big = vec![b'#'; 65 << 20];
    refused(
        &bounded(&["template", "-f", &file(d, "big.yaml", &big)], &[]),
        "big.yaml",
    );
    let scalar = format!("temporal:\n  blob: {}\n", "x".repeat(4 << 20));
    let o = bounded(
        &["values", "-f", &file(d, "scalar.yaml", scalar.as_bytes())],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // Not UTF-8.
    refused(
        &bounded(
            &["template", "-f", &file(d, "bytes.yaml", b"a: \xff\xfe\n")],
            &[],
        ),
        "UTF-8",
    );
    // Tags: !!binary decodes, bad base64 is refused, unknown tags are kept.
    let tags = file(
        d,
        "tags.yaml",
        b"temporal:\n  bin: !!binary aGVsbG8=\n  own: !mine kept\n",
    );
    let o = bounded(&["values", "-f", &tags, "-o", "json"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("\"bin\":\"hello\"") || stdout(&o).contains("\"bin\": \"hello\""),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("kept"));
    refused(
        &bounded(
            &[
                "template",
                "-f",
                &file(d, "b64.yaml", b"temporal:\n  x: !!binary \"%%%\"\n"),
            ],
            &[],
        ),
        "base64",
    );
    refused(
        &bounded(
            &[
                "template",
                "-f",
                &file(d, "int.yaml", b"temporal:\n  x: !!int abc\n"),
            ],
            &[],
        ),
        "!!int",
    );
    // Duplicate keys: the last wins, as Helm reads them.
    let dup = file(
        d,
        "dup.yaml",
        b"tracecat:\n  logLevel: INFO\n  logLevel: DEBUG\n",
    );
    let o = bounded(&["values", "-f", &dup], &[]);
    assert!(stdout(&o).contains("logLevel: DEBUG"), "{}", stdout(&o));
    // Syntax errors name the file and line.
    let o = bounded(
        &["template", "-f", &file(d, "syntax.yaml", b"a: 1\nb: [\n")],
        &[],
    );
    refused(&o, "syntax.yaml");
}

#[test]
fn hostile_set_flags() {
    let segments = vec!["a"; 5000].join(".") + "=1";
    refused(
        &bounded(&["template", "--set", &segments], &[]),
        "nested level",
    );
    refused(
        &bounded(&["template", "--set", "a[1000000000]=1"], &[]),
        "maximum supported index",
    );
    let many = (0..5000)
        .map(|i| format!("k{i}=v"))
        .collect::<Vec<_>>()
        .join(",");
    let o = bounded(&["template", "--strict", "--set", &many], &[]);
    refused(&o, "... and 4980 more");
    // Without --strict they are warnings, listed just as briefly.
    let o = bounded(&["template", "--set", &many], &[]);
    assert!(
        stderr(&o).contains("warning: ... and 4980 more"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).lines().count() <= 30, "{}", stderr(&o));
    refused(
        &bounded(
            &["template", "--set", &format!("x={}", "[".repeat(100_000))],
            &[],
        ),
        "",
    );
    refused(
        &bounded(
            &[
                "template",
                "--set-json",
                &format!("x={}", "[".repeat(100_000)),
            ],
            &[],
        ),
        "set-json",
    );
}

/// A chart folder with the given templates.
fn chart(dir: &Path, templates: &[(&str, &str)]) -> String {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: evil\nversion: 0.1.0\n",
    )
    .unwrap();
    for (n, body) in templates {
        std::fs::write(dir.join("templates").join(n), body).unwrap();
    }
    dir.display().to_string()
}

#[test]
fn hostile_templates() {
    let t = TempDir::new("hostile-templates");
    let c = chart(
        &t.path().join("recurse"),
        &[(
            "x.yaml",
            "{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}",
        )],
    );
    refused(&bounded(&["template", &c], &[]), "recursion");
    let c = chart(
        &t.path().join("include"),
        &[
            ("_h.tpl", "{% include \"x.yaml\" %}"),
            ("x.yaml", "{% include \"_h.tpl\" %}"),
        ],
    );
    refused(&bounded(&["template", &c], &[]), "recursion");
    // `tpl` and `include_file` start fresh renders: their nesting is bounded
    // on its own, whether a value renders itself (through `tpl`, in Go's
    // syntax) or a template includes itself.
    let c = chart(
        &t.path().join("tpl"),
        &[("a.yaml", "x: {{ tpl(Values.loop, ctx) }}\n")],
    );
    std::fs::write(
        Path::new(&c).join("values.yaml"),
        "loop: \"{{ tpl .Values.loop . }}\"\n",
    )
    .unwrap();
    let o = bounded(&["template", &c], &[]);
    refused(&o, "tpl nested more than");
    assert!(stderr(&o).contains("a.yaml"), "{}", stderr(&o));
    let c = chart(
        &t.path().join("tpl-include"),
        &[(
            "a.yaml",
            "x: {{ include_file(\"evil/templates/a.yaml\", ctx) }}\n",
        )],
    );
    refused(
        &bounded(&["template", &c], &[]),
        "include_file nested more than",
    );
    // A value's template reaches only Go's and Sprig's functions.
    let c = chart(
        &t.path().join("tpl-reach"),
        &[(
            "a.yaml",
            "x: {{ tpl('{{ include_file \"evil/templates/a.yaml\" . }}', ctx) }}\n",
        )],
    );
    refused(
        &bounded(&["template", &c], &[]),
        "function \"include_file\" not defined",
    );
    // Output without end: stopped at the bound, not after filling memory.
    let c = chart(
        &t.path().join("output"),
        &[("x.yaml", "{% for i in range(100000) %}{% for j in range(100000) %}xxxxxxxxxxxxxxxx{% endfor %}{% endfor %}")],
    );
    let o = bounded(
        &["template", &c],
        &[("TRACECAT_CHART_MAX_OUTPUT_BYTES", "10000000")],
    );
    refused(&o, "exceeds 10000000 bytes");
    // Work without output: stopped by the step bound.
    let c = chart(
        &t.path().join("spin"),
        &[(
            "x.yaml",
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        )],
    );
    refused(&bounded(&["template", &c], &[]), "template steps");
    // Allocation through helpers is bounded too.
    let c = chart(
        &t.path().join("until"),
        &[("x.yaml", "{{ until(1000000000000) }}")],
    );
    refused(&bounded(&["template", &c], &[]), "until");
    let c = chart(
        &t.path().join("indent"),
        &[("x.yaml", "{{ \"a\" | indent(1000000000000) }}")],
    );
    refused(&bounded(&["template", &c], &[]), "indent");
    let c = chart(
        &t.path().join("repeat"),
        &[("x.yaml", "{{ \"ab\" * 10000000000 }}")],
    );
    refused(&bounded(&["template", &c], &[]), "too large");
    // Strings a value's template builds before anything is written: a
    // nested render, huge printf widths, an indent over many lines.
    for (name, body, says) in [
        (
            "tpl-loop",
            "x: {{ tpl('{{ range until 1000 }}{{ printf \"%10000009d\" 1 }}{{ end }}', ctx) }}\n",
            "nested render's output exceeds 10000000 bytes",
        ),
        (
            "printf-width",
            "x: {{ printf('%99999999999999d', 1) | quote }}\n",
            "",
        ),
        (
            "indent-lines",
            "x: {{ \"a\\n\" | repeat(100000) | indent(100000) }}\n",
            "indent: a string of",
        ),
    ] {
        let c = chart(&t.path().join(name), &[("x.yaml", body)]);
        let o = bounded(
            &["template", &c],
            &[("TRACECAT_CHART_MAX_OUTPUT_BYTES", "10000000")],
        );
        if says.is_empty() {
            assert!(
                o.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(String::from_utf8_lossy(&o.stdout).contains("%!(NOVERB)%!(EXTRA int64=1)"));
        } else {
            refused(&o, says);
        }
    }
    // A whole-file `if` whose condition holds `}}`: the engine's expression
    // lexer panics on it, the template's reports a syntax error (found by
    // the template_gate fuzz target).
    let c = chart(
        &t.path().join("gate"),
        &[(
            "x.yaml",
            "{%- if Values.x }} b -%}\nkind: A\n{% endif -%}\n",
        )],
    );
    refused(&bounded(&["template", &c], &[]), "parse error");
    // Templates the engine panics on instead of refusing (minijinja 2.24,
    // found by the same target): an error naming the template, on either
    // thread, for a partial too.
    for (name, body) in [
        ("x.yaml", "{%- import \"_h.tpl\" as - h %}\nkind: A\n"),
        ("_h.tpl", "{%- import \"_g.tpl\" as - h %}"),
    ] {
        let c = chart(
            &t.path().join(format!("engine-{name}")),
            &[(name, body), ("_g.tpl", ""), ("y.yaml", "kind: B\n")],
        );
        let o = bounded(&["template", &c], &[("TRACECAT_CHART_THREADS", "2")]);
        refused(&o, &format!("evil/templates/{name}"));
        refused(&o, "the template engine failed");
    }
}

/// One raw tar entry: name, type flag, link target, body.
type Entry<'a> = (&'a [u8], u8, &'a [u8], &'a [u8]);

/// A raw ustar header (name, type and link written as given, unchecked).
fn tar_header(name: &[u8], kind: u8, link: &[u8], size: u64) -> [u8; 512] {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name);
    h[100..107].copy_from_slice(b"0000644");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = kind;
    h[157..157 + link.len()].copy_from_slice(link);
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|b| *b as u32).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    h
}

/// A gzipped tar of raw entries (names and types as given, unchecked).
fn archive(entries: &[Entry]) -> Vec<u8> {
    let mut tar = Vec::new();
    for (name, kind, link, body) in entries {
        tar.extend_from_slice(&tar_header(name, *kind, link, body.len() as u64));
        tar.extend_from_slice(body);
        tar.resize(tar.len().div_ceil(512) * 512, 0);
    }
    tar.resize(tar.len() + 1024, 0);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

#[test]
fn hostile_chart_archives() {
    let t = TempDir::new("hostile-archives");
    let d = t.path();
    let chart_yaml: &[u8] = b"apiVersion: v2\nname: evil\nversion: 0.1.0\n";
    let ok = (
        b"evil/Chart.yaml".as_slice(),
        b'0',
        b"".as_slice(),
        chart_yaml,
    );
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "traversal",
            archive(&[ok, (b"evil/../../etc/x", b'0', b"", b"x")]),
            "..",
        ),
        (
            "absolute",
            archive(&[ok, (b"/etc/evil", b'0', b"", b"x")]),
            "/etc/evil",
        ),
        (
            "symlink",
            archive(&[ok, (b"evil/templates/l.yaml", b'2', b"/etc/passwd", b"")]),
            "link",
        ),
        (
            "hardlink",
            archive(&[
                ok,
                (b"evil/templates/h.yaml", b'1', b"evil/Chart.yaml", b""),
            ]),
            "link",
        ),
        (
            "device",
            archive(&[ok, (b"evil/templates/dev", b'3', b"", b"")]),
            "evil/templates/dev",
        ),
        (
            "fifo",
            archive(&[ok, (b"evil/templates/fifo", b'6', b"", b"")]),
            "evil/templates/fifo",
        ),
        (
            "garbage",
            b"\x1f\x8b\x08\x00 this is not gzip".to_vec(),
            "garbage.tgz",
        ),
        ("empty", Vec::new(), "empty.tgz"),
    ];
    for (name, data, says) in cases {
        let p = file(d, &format!("{name}.tgz"), &data);
        let o = bounded(&["template", &p], &[]);
        refused(&o, says);
    }
    // Gzip bomb: 200 MiB of zeros in one file, about 200 KiB compressed.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let tar = tar_header(b"evil/values.yml", b'0', b"", 200u64 << 20);
    gz.write_all(&tar).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..200 {
        gz.write_all(&zeros).unwrap();
    }
    gz.write_all(&[0u8; 1024]).unwrap();
    let p = file(d, "bomb.tgz", &gz.finish().unwrap());
    refused(&bounded(&["template", &p], &[]), "bomb.tgz");
    // The same archives through `pull --untar`'s reader: `show chart`.
    let p = file(
        d,
        "t2.tgz",
        &archive(&[ok, (b"evil/../x", b'0', b"", b"x")]),
    );
    refused(&bounded(&["show", "chart", &p], &[]), "..");
}

#[test]
fn hostile_post_render_input() {
    let input = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    let o = run_with_stdin(&["post-render"], input.as_bytes());
    refused(&o, "recursion limit");
    let o = run_with_stdin(&["post-render"], b"kind: A\n\xff\xfe\n");
    refused(&o, "UTF-8");
}
