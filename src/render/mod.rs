//! Rendering: one template environment per render, every template of the
//! chart tree compiled once, each rendered with its chart's `.`.

pub mod context;
pub mod convert;
pub mod functions;
pub mod gate;
mod gotpl;
mod guard;
pub mod prepare;
mod session;
pub mod shape;

use crate::chart::Chart;
use crate::error::{Error, Kind, Result};
use crate::values::Map;
pub use context::RenderOptions;
use context::{build_dots, Dot};
use guard::engine_guard;
use minijinja::value::Value as JValue;
use minijinja::{Environment, Error as JError, ErrorKind, UndefinedBehavior};
use prepare::Prepared;
use std::collections::HashSet;
use std::sync::Arc;

/// Bounds on template recursion and output, so a runaway template fails
/// instead of hanging. Raise the output bound with TRACECAT_CHART_MAX_OUTPUT_BYTES.
const RECURSION_LIMIT: usize = 200;

/// Template instructions one chart's templates may run together (minijinja
/// "fuel", counted per engine state: see [`session`]): a loop that never
/// ends, or ends after billions of steps, fails instead of hanging. The
/// Tracecat chart needs under a hundred thousand. Raise with
/// TRACECAT_CHART_MAX_TEMPLATE_STEPS.
pub fn max_template_steps() -> u64 {
    std::env::var("TRACECAT_CHART_MAX_TEMPLATE_STEPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000_000)
}

/// Counts what templates write against the output bound, so a runaway
/// template stops when it passes the bound rather than after it has
/// filled memory.
pub(super) struct Bounded<'a> {
    buf: Vec<u8>,
    /// What the templates rendered so far wrote, this one included.
    total: &'a mut usize,
    limit: usize,
}

impl Bounded<'_> {
    fn new(total: &mut usize, limit: usize) -> Bounded<'_> {
        Bounded {
            buf: Vec::new(),
            total,
            limit,
        }
    }
}

/// Renders into a string held to the output bound on its own: what `tpl`
/// and `include_file` make is a value, built before any of it is written.
pub(super) fn bounded_string(
    render: impl FnOnce(&mut Bounded<'_>) -> std::result::Result<(), minijinja::Error>,
) -> std::result::Result<String, minijinja::Error> {
    let limit = max_output_bytes();
    let mut total = 0;
    let mut out = Bounded::new(&mut total, limit);
    let rendered = render(&mut out);
    let Bounded { buf, total, .. } = out;
    if *total > limit {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("a nested render's output exceeds {limit} bytes"),
        ));
    }
    rendered?;
    String::from_utf8(buf).map_err(|_| {
        minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            "output is not UTF-8",
        )
    })
}

impl std::io::Write for Bounded<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        *self.total = self.total.saturating_add(data.len());
        if *self.total > self.limit {
            return Err(std::io::Error::other("output bound"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn max_output_bytes() -> usize {
    std::env::var("TRACECAT_CHART_MAX_OUTPUT_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256 << 20)
}

/// One rendered template file.
#[derive(Debug, Clone)]
pub struct RenderedFile {
    /// `tracecat/templates/x.yaml`, `tracecat/charts/temporal/templates/y.yaml`.
    pub path: String,
    pub content: String,
}

struct Job<'s> {
    name: String,
    /// The template's chart: its path in the tree (`tracecat/charts/temporal`).
    chart: String,
    dot: Arc<Dot>,
    base_path: String,
    /// The template's whole-file gate, when it has one (see [`gate`]).
    gate: Option<gate::Gate<'s>>,
    /// Its source's length: what its cost and output size are judged by.
    size: usize,
}

/// One template of the chart tree, in chart order.
struct Entry {
    name: String,
    /// Rendered on its own (partials, NOTES.txt and library charts are only compiled).
    renderable: bool,
    /// Its chart's templates are known to compile ([`Chart::templates_checked`]).
    checked: bool,
}

/// Chart-relative template names resolve against the including template:
/// `_helpers.tpl` from `tracecat/templates/x.yaml` is
/// `tracecat/templates/_helpers.tpl`; a leading `/` names a path from the top.
fn join_path(name: &str, parent: &str) -> String {
    if let Some(abs) = name.strip_prefix('/') {
        return abs.to_string();
    }
    let mut parts: Vec<&str> = parent.split('/').collect();
    parts.pop();
    for seg in name.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

pub fn new_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_keep_trailing_newline(true);
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_recursion_limit(RECURSION_LIMIT);
    env.set_fuel(Some(max_template_steps()));
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_path_join_callback(|name, parent| std::borrow::Cow::Owned(join_path(name, parent)));
    env.set_formatter(|out, _state, v| {
        out.write_str(&convert::go_str(v))
            .map_err(|_| JError::new(ErrorKind::WriteFailure, "write failed"))
    });
    functions::register(&mut env);
    env
}

/// Every template of the chart tree, in chart order, and the sources by
/// name for the loader (shared with the chart, not copied).
fn templates_of(chart: &Chart) -> (Vec<Entry>, prepare::Sources) {
    let mut names = Vec::new();
    let mut sources = std::collections::HashMap::new();
    collect(chart, "", &mut names, &mut sources);
    (names, Arc::new(sources))
}

/// Whether the template `name` renders on its own: partials (`_*`),
/// NOTES.txt and a library chart's templates are only compiled.
fn renderable(name: &str, library: bool) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    !base.starts_with('_') && base != "NOTES.txt" && !library
}

fn collect(
    chart: &Chart,
    prefix: &str,
    names: &mut Vec<Entry>,
    sources: &mut std::collections::HashMap<String, crate::chart::Text>,
) {
    let chart_path = if prefix.is_empty() {
        chart.name()
    } else {
        format!("{prefix}/charts/{}", chart.name())
    };
    for (rel, src) in &chart.templates {
        let full = format!("{chart_path}/{rel}");
        sources.insert(full.clone(), src.clone());
        names.push(Entry {
            renderable: renderable(&full, chart.is_library()),
            name: full,
            checked: chart.templates_checked,
        });
    }
    for d in &chart.dependencies {
        collect(d, &chart_path, names, sources);
    }
}

/// Turns an engine error into the tool's error. The message names the
/// template being rendered (as Helm does); the location points at the line
/// that failed, which may be in a helper file.
pub fn template_error(e: &JError, rendering: &str) -> Error {
    // The innermost engine error carries the real cause (fail/required
    // inside a macro is wrapped by the call site's error).
    let mut inner = e;
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(j) = s.downcast_ref::<JError>() {
            inner = j;
        }
        src = s.source();
    }
    let file = inner.name().or(e.name()).unwrap_or(rendering).to_string();
    let line = inner.line().or(e.line());
    let detail = inner
        .detail()
        .map(str::to_string)
        .unwrap_or_else(|| inner.kind().to_string());
    let at = match line {
        Some(l) if file == rendering => format!("{rendering}:{l}"),
        _ => rendering.to_string(),
    };
    let (msg, hint) = match inner.kind() {
        ErrorKind::InvalidOperation
            if detail.contains("nested more than") || detail.contains("recursion limit") =>
        {
            (
                format!("template error at ({at}): {detail}"),
                "a template or value includes or `tpl`s itself, directly or through others; break the cycle in the chart",
            )
        }
        ErrorKind::InvalidOperation => (
            format!("execution error at ({at}): {detail}"),
            "the chart refused these values; set what the message names (defaults: `tracecat-chart show values`)",
        ),
        ErrorKind::OutOfFuel => (
            format!(
                "template error at ({at}): stopped after {} template steps (an endless or runaway loop?)",
                max_template_steps()
            ),
            "raise TRACECAT_CHART_MAX_TEMPLATE_STEPS if the template really needs more",
        ),
        // Go's "nil pointer evaluating": a field read through a missing value.
        ErrorKind::UndefinedError => (
            format!("template error at ({at}): a field was read from a value that is missing (nil pointer evaluating it, as Helm says)"),
            "a values key the template reads there was set to null or removed; restore it (defaults: `tracecat-chart show values`)",
        ),
        ErrorKind::SyntaxError | ErrorKind::BadEscape => {
            (format!("parse error at ({at}): {detail}"), "the template itself is malformed")
        }
        _ => (format!("template error at ({at}): {inner}"), "the template failed on these values; run with --debug for details"),
    };
    Error::new(Kind::Render, msg)
        .with_file(file)
        .at(line, None)
        .with_hint(hint)
}

/// The result of rendering: the files, and notices templates addressed to
/// the user (printed on stderr, never in the manifests).
#[derive(Debug, Default)]
pub struct Rendered {
    pub files: Vec<RenderedFile>,
    pub notices: Vec<String>,
}

/// Renders every template of the chart tree. `values` are the final,
/// coalesced values of the root chart.
pub fn render(chart: &Chart, values: &Map, opts: &RenderOptions) -> Result<Rendered> {
    let (files, notices) = render_each(chart, values, opts, |job, content| RenderedFile {
        path: job.to_string(),
        content,
    })?;
    Ok(Rendered { files, notices })
}

/// Whether a chart whose templates do not parse is written in Go's
/// template language (a Helm chart), by the constructs every such chart
/// uses and minijinja has no use for: `{{ .Values`, `{{ include "`,
/// `{{ define "`, `{{ template "`, `{{ $`.
fn go_template_chart(chart: &Chart) -> Option<String> {
    const MARKS: [&str; 6] = [
        ".Values",
        ".Release",
        ".Chart",
        "include \"",
        "define \"",
        "template \"",
    ];
    let go_action = |src: &str| {
        src.match_indices("{{").any(|(i, _)| {
            let rest = src[i + 2..].trim_start_matches('-').trim_start();
            rest.starts_with('$') || MARKS.iter().any(|m| rest.starts_with(m))
        })
    };
    if chart.templates.iter().any(|(_, src)| go_action(src)) {
        return Some(chart.name());
    }
    chart.dependencies.iter().find_map(go_template_chart)
}

/// Whether `chart` (or a subchart) is written in Go's template language.
pub fn is_go_template_chart(chart: &Chart) -> bool {
    go_template_chart(chart).is_some()
}

/// A parse error in a Go-template chart says what the chart is.
fn explain_go_chart(chart: &Chart, e: Error) -> Error {
    if e.kind != Kind::Render || !e.message.starts_with("parse error") {
        return e;
    }
    match go_template_chart(chart) {
        Some(name) => Error::new(
            Kind::Render,
            format!("chart {name:?} is written in Go's template language (a Helm chart): tracecat-chart renders charts written in minijinja, like its embedded Tracecat chart"),
        )
        .with_file(e.file.clone().unwrap_or_default())
        .with_hint("render it with `helm template`; for Tracecat, use the embedded chart (no CHART argument) or one packaged by `tracecat-chart package`"),
        None => e,
    }
}

/// The templates to render, each with its `.`, in Helm's execution order
/// (deepest path first, then reverse name): it decides which of several
/// `notice` or `fail` calls is reported first.
fn plan<'s>(
    templates: &[Entry],
    sources: &'s prepare::Sources,
    dots: &std::collections::BTreeMap<String, Arc<Dot>>,
) -> Vec<Job<'s>> {
    let mut jobs = Vec::new();
    for Entry {
        name, renderable, ..
    } in templates
    {
        if !renderable {
            continue;
        }
        // The chart a template belongs to is the longest dot key prefixing it.
        let chart_path = name
            .rsplit_once("/templates/")
            .map(|(c, _)| c.to_string())
            .unwrap_or_default();
        let Some(dot) = dots.get(&chart_path) else {
            continue;
        };
        let src = sources.get(name);
        // A gate is trusted only when what the prelude imports exists.
        let gate = src.and_then(|src| gate::find(src)).filter(|g| {
            g.imports
                .iter()
                .all(|i| sources.contains_key(&join_path(i, name)))
        });
        jobs.push(Job {
            name: name.clone(),
            chart: chart_path.clone(),
            dot: dot.clone(),
            base_path: format!("{chart_path}/templates"),
            gate,
            size: src.map_or(0, |s| s.len()),
        });
    }
    jobs.sort_by(|a, b| {
        let depth = |n: &str| n.matches('/').count();
        depth(&b.name)
            .cmp(&depth(&a.name))
            .then_with(|| b.name.cmp(&a.name))
    });
    jobs
}

/// What rendering one template gave: its text, or nothing when its gate
/// is off (Helm drops files that are only whitespace).
enum Outcome {
    Text(String),
    GatedOff,
}

/// Renders one job in its chart's session, counting its output against
/// the bound.
fn render_one(
    env: &Environment<'static>,
    sessions: &mut session::Sessions,
    job: &Job,
    total: &mut usize,
    limit: usize,
) -> Result<(Outcome, bool)> {
    let dot = Arc::new(job.dot.with_template(&job.name, &job.base_path));
    let mut compiled = false;
    let outcome = engine_guard(&job.name, || {
        let value = JValue::from_dyn_object(dot.clone());
        if job.gate.as_ref().is_some_and(|g| g.is_off(env, &value)) {
            return Ok(Outcome::GatedOff);
        }
        let mut out = Bounded::new(total, limit);
        // Output is about the size of its template.
        out.buf.reserve(job.size);
        let rendered = env.get_template(&job.name).and_then(|_| {
            compiled = true;
            sessions.render(&job.chart, &job.dot, dot.clone(), &job.name, &mut out)
        });
        let Bounded { buf, total, .. } = out;
        rendered.map_err(|e| {
            if *total > limit {
                Error::new(
                    Kind::Render,
                    format!(
                        "rendered output exceeds {limit} bytes (stopped in {})",
                        job.name
                    ),
                )
                .with_hint("raise TRACECAT_CHART_MAX_OUTPUT_BYTES if this is intended")
            } else {
                template_error(session::unwrapped(&e), &job.name)
            }
        })?;
        String::from_utf8(buf)
            .map(|text| Outcome::Text(functions::without_no_value(text)))
            .map_err(|_| {
                Error::new(
                    Kind::Render,
                    format!("{} rendered bytes that are not UTF-8", job.name),
                )
            })
    });
    outcome.map(|o| (o, compiled))
}

/// Renders every template of the chart tree, handing each file's path and
/// text to `finish`; returns the results sorted by path and the notices.
/// A Go-template chart's parse error says what the chart is.
pub fn render_each<T>(
    chart: &Chart,
    values: &Map,
    opts: &RenderOptions,
    finish: impl Fn(&str, String) -> T,
) -> Result<(Vec<T>, Vec<String>)> {
    render_templates(chart, convert::map_to_jinja(values), opts, finish)
        .map_err(|e| explain_go_chart(chart, e))
}

/// Whether the chart reads a field of, or ranges over, one of the values
/// at `places` (each of the wrong shape: see [`shape`]), which Go's
/// templates fail on: what it read and where, else None.
pub fn wrong_shape_read(
    chart: &Chart,
    values: &Map,
    opts: &RenderOptions,
    places: &[shape::Place],
) -> Option<String> {
    let reads = shape::Reads::default();
    let probed = shape::with_probes(values, places, &reads);
    let failed = render_templates(chart, probed, opts, |_, _| ()).err()?;
    let read = reads.first()?;
    Some(match (&failed.file, failed.line) {
        (Some(f), Some(l)) => format!("{read}, at {f}:{l}"),
        (Some(f), None) => format!("{read}, in {f}"),
        _ => read,
    })
}

/// Renders the chart tree's templates one after the other in Helm's order
/// and returns the results sorted by path, with the notices in the order
/// the templates made them.
fn render_templates<T>(
    chart: &Chart,
    values: JValue,
    opts: &RenderOptions,
    finish: impl Fn(&str, String) -> T,
) -> Result<(Vec<T>, Vec<String>)> {
    let (templates, sources) = templates_of(chart);
    let dots = build_dots(chart, values, opts);
    let jobs = plan(&templates, &sources, &dots);
    let notices = prepare::Notices::default();
    let Prepared {
        env,
        partials,
        generated,
    } = Prepared::new(&templates, sources.clone(), notices.clone())?;
    let charts: Vec<String> = dots.keys().cloned().collect();
    let partial_sources: Vec<(String, &str)> = partials
        .iter()
        .filter_map(|n| sources.get(n).map(|s| (n.clone(), &**s)))
        .collect();
    let mut sessions = session::Sessions::new(&env, &generated, &charts, &partial_sources);
    let limit = max_output_bytes();
    let mut total = 0;
    // Templates compiled cleanly or found gated off, for the sweep below.
    let mut compiled: HashSet<String> = partials.into_iter().collect();
    let mut gated_off = HashSet::new();
    let mut out = Vec::with_capacity(jobs.len());
    let mut failure = None;
    for job in &jobs {
        match render_one(&env, &mut sessions, job, &mut total, limit) {
            Ok((outcome, was_compiled)) => {
                if was_compiled {
                    compiled.insert(job.name.clone());
                }
                let text = match outcome {
                    Outcome::Text(t) => t,
                    Outcome::GatedOff => {
                        gated_off.insert(job.name.clone());
                        String::new()
                    }
                };
                out.push((job.name.as_str(), finish(&job.name, text)));
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    drop(sessions);
    // As in Helm, every template is parsed before any runs: a syntax error
    // anywhere (first in chart order) wins over execution errors. Templates
    // compiled cleanly are not compiled again, nor gated-off ones of a chart
    // whose templates are known to compile.
    for Entry { name, checked, .. } in &templates {
        if compiled.contains(name) || (*checked && gated_off.contains(name)) {
            continue;
        }
        if let Err(e) = engine_guard(name, || Ok(env.get_template(name).map(|_| ())))? {
            return Err(template_error(&e, name));
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    out.sort_by(|a, b| a.0.cmp(b.0));
    let mut notices_seen: Vec<String> = Vec::new();
    for msg in notices.lock().map(|v| v.clone()).unwrap_or_default() {
        if !notices_seen.contains(&msg) {
            notices_seen.push(msg);
        }
    }
    Ok((out.into_iter().map(|(_, t)| t).collect(), notices_seen))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chart `c` with `templates` (name, source).
    pub(super) fn chart(templates: &[(&str, &str)]) -> Chart {
        let mut files = crate::chart::Files::new();
        files.insert(
            "Chart.yaml".into(),
            bytes::Bytes::from_static(b"apiVersion: v2\nname: c\nversion: 0.1.0\n"),
        );
        for (name, body) in templates {
            files.insert(
                format!("templates/{name}"),
                bytes::Bytes::copy_from_slice(body.as_bytes()),
            );
        }
        Chart::from_files(files, "test").unwrap()
    }

    /// The chart rendered with no values.
    fn render_on(c: &Chart) -> Result<Rendered> {
        render(c, &Map::new(), &RenderOptions::default())
    }

    /// The output bound holds across templates.
    #[test]
    fn the_output_bound_spans_templates() {
        use std::io::Write;
        let mut total = 0;
        let mut a = Bounded::new(&mut total, 1000);
        a.write_all(&[b'a'; 600]).unwrap();
        assert_eq!(a.buf.len(), 600);
        let mut b = Bounded::new(&mut total, 1000);
        b.write_all(&[b'b'; 300]).unwrap();
        assert!(b.write_all(&[b'b'; 200]).is_err());
        assert_eq!(b.buf.len(), 300);
    }

    /// Notices and the reported failure follow Helm's order (reverse name).
    #[test]
    fn notices_and_failures_follow_helms_order() {
        let mut templates: Vec<(String, String)> = (0..24)
            .map(|i| {
                (
                    format!("t{i:02}.yaml"),
                    format!(
                        "{{{{ notice(\"n{}\") }}}}{{{{ notice(\"same\") }}}}kind: K{i}\n",
                        i % 5
                    ),
                )
            })
            .collect();
        let chart_of = |templates: &[(String, String)]| {
            let borrowed: Vec<(&str, &str)> = templates
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            chart(&borrowed)
        };
        // The failure reported is t20's: first in Helm's order.
        let reports_t20 = |c: &Chart| {
            let e = render_on(c).unwrap_err().to_string();
            assert!(e.contains("t20.yaml") && e.contains("last"), "{e}");
        };
        let r = render_on(&chart_of(&templates)).unwrap();
        assert_eq!(r.notices, vec!["n3", "same", "n2", "n1", "n0", "n4"]);
        let paths: Vec<_> = r.files.iter().map(|f| f.path.as_str()).collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);

        templates[3].1 = "{{ fail(\"first\") }}".into();
        templates[20].1 = "{{ fail(\"last\") }}".into();
        reports_t20(&chart_of(&templates));
        // A large template's failure, later in Helm's order, does not hide
        // the earlier one.
        templates[3].1 = format!("{{# {} #}}{{{{ fail(\"first\") }}}}", "x".repeat(500));
        reports_t20(&chart_of(&templates));
    }

    /// Templates compile lazily, yet a syntax error anywhere (even in a
    /// partial nothing imports, or NOTES.txt) is reported, and before any
    /// execution error, as Helm parses everything first.
    #[test]
    fn syntax_errors_win_wherever_they_are() {
        let cases: [(&[(&str, &str)], &str); 3] = [
            (
                &[
                    ("t1.yaml", "{{ fail(\"runtime\") }}"),
                    ("NOTES.txt", "{{ broken"),
                ],
                "c/templates/NOTES.txt",
            ),
            (
                &[("t1.yaml", "kind: A\n"), ("_unused.tpl", "{% macro m( %}")],
                "c/templates/_unused.tpl",
            ),
            (
                &[
                    ("a.yaml", "{{ fail(\"runtime\") }}"),
                    ("z.yaml", "{% if %}"),
                ],
                "c/templates/z.yaml",
            ),
        ];
        for (templates, culprit) in cases {
            let e = render_on(&chart(templates)).unwrap_err().to_string();
            assert!(e.contains(culprit) && !e.contains("runtime"), "{e}");
        }
    }

    #[test]
    fn joins_relative_names() {
        assert_eq!(
            join_path("_helpers.tpl", "c/templates/x.yaml"),
            "c/templates/_helpers.tpl"
        );
        assert_eq!(
            join_path("../_h.tpl", "c/templates/sub/x.yaml"),
            "c/templates/_h.tpl"
        );
        assert_eq!(
            join_path("/c/charts/t/templates/_h.tpl", "c/templates/x.yaml"),
            "c/charts/t/templates/_h.tpl"
        );
    }

    fn content<'a>(r: &'a Rendered, name: &str) -> &'a str {
        let f = r.files.iter().find(|f| f.path.ends_with(name)).unwrap();
        &f.content
    }

    /// A template gated off by its whole-file `if` renders nothing, as it
    /// would if it ran; gated on, it renders as usual. Sets before the gate
    /// are seen by it.
    #[test]
    fn gated_templates_render_as_if_they_ran() {
        let gated = "{%- import \"_h.tpl\" as h -%}\n{%- set on = Release.Name == \"x\" -%}\n{%- if on -%}\nkind: {{ h.k() }}\n{% endif -%}\n";
        let c = chart(&[
            ("_h.tpl", "{% macro k() %}G{% endmacro %}"),
            ("g.yaml", gated),
        ]);
        for (release, want) in [("x", "kind: G\n"), ("y", "")] {
            let opts = RenderOptions {
                release_name: release.into(),
                ..Default::default()
            };
            let r = render(&c, &Map::new(), &opts).unwrap();
            assert_eq!(content(&r, "g.yaml"), want, "{release}");
        }
    }

    /// A gate that fails to evaluate leaves the template to render, which
    /// reports the failure as it always has; notices in a gate are kept.
    #[test]
    fn failing_gates_fail_as_the_template_would() {
        let c = chart(&[(
            "g.yaml",
            "{%- if required(\"set x\", Values.x) -%}\nkind: A\n{% endif -%}",
        )]);
        let e = render_on(&c).unwrap_err().to_string();
        assert!(e.contains("g.yaml") && e.contains("set x"), "{e}");
        let c = chart(&[("g.yaml", "{%- if notice(\"hi\") -%}\nkind: A\n{% endif -%}")]);
        let r = render_on(&c).unwrap();
        assert_eq!(content(&r, "g.yaml"), "");
        assert_eq!(r.notices, vec!["hi".to_string()]);
    }

    /// A gated-off template is not compiled; its syntax errors are still
    /// reported unless its chart's templates are known to compile. A gate
    /// whose prelude imports a missing template is not trusted.
    #[test]
    fn gated_off_templates_are_still_checked() {
        let broken = "{%- if false -%}\n{{ broken + }}\n{% endif -%}";
        let mut c = chart(&[("g.yaml", broken)]);
        let e = render_on(&c).unwrap_err().to_string();
        assert!(e.contains("parse error") && e.contains("g.yaml"), "{e}");
        c.templates_checked = true;
        assert_eq!(content(&render_on(&c).unwrap(), "g.yaml"), "");

        let c = chart(&[(
            "g.yaml",
            "{%- import \"_missing.tpl\" as h -%}{%- if false -%}x{% endif -%}",
        )]);
        let e = render_on(&c).unwrap_err().to_string();
        assert!(e.contains("_missing.tpl"), "{e}");
    }

    /// The embedded chart may skip the syntax sweep for gated-off templates
    /// only because every one of its templates compiles.
    #[test]
    fn every_embedded_template_compiles() {
        let c = crate::chart::embedded().unwrap();
        let (names, sources) = templates_of(&c);
        assert!(names.len() > 30 && names.iter().all(|e| e.checked));
        let env = new_environment();
        for e in &names {
            let src = &sources[&e.name];
            if let Err(err) = env.template_from_named_str(&e.name, src) {
                panic!("{}: {err}", e.name);
            }
        }
    }
}
