//! The part of a render that needs the chart's templates but not its
//! values: the engine environment with the chart's functions, and the
//! shared partials (`_*.tpl`) compiled.
//!
//! `template` and `lint` start it on another thread as soon as the chart is
//! loaded, so it runs while the values are computed instead of between the
//! values and the first rendered file. The values may still switch a
//! subchart off meanwhile: [`Prepared::adopt`] drops whatever was prepared
//! from a template that is not in the tree finally rendered.

use super::guard::engine_guard;
use super::{new_environment, templates_of, Entry};
use crate::chart::{Chart, Text};
use crate::error::Result;
use crate::threads::Pending;
use minijinja::Environment;
use std::collections::HashMap;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};

/// Messages of `notice(msg)` calls, with the job that made each.
pub(super) type Notices = Arc<Mutex<Vec<(usize, String)>>>;

/// Template sources by full name (`tracecat/templates/x.yaml`).
pub(super) type Sources = Arc<HashMap<String, Text>>;

/// An environment ready to render a chart tree.
pub struct Prepared {
    env: Environment<'static>,
    notices: Notices,
    /// What it was prepared from.
    sources: Sources,
    /// Partials that compiled cleanly (and are in the environment's cache).
    partials: Vec<String>,
}

/// [`Prepared`], for the templates of the tree being rendered.
pub(super) struct Ready {
    pub env: Environment<'static>,
    pub notices: Notices,
    pub partials: Vec<String>,
}

impl Prepared {
    /// Prepares the templates `entries` (with their `sources`) on this
    /// thread. Fails only when the engine itself failed on a partial (see
    /// `engine_guard`).
    pub(super) fn new(entries: &[Entry], sources: Sources) -> Result<Prepared> {
        let notices = Notices::default();
        let mut env = new_environment();
        let sink = notices.clone();
        env.add_function("notice", move |msg: String| -> String {
            if let Ok(mut v) = sink.lock() {
                v.push((super::CURRENT_JOB.with(|j| j.get()), msg));
            }
            String::new()
        });
        set_loader(&mut env, &sources);
        let mut partials = Vec::new();
        for e in entries {
            let base = e.name.rsplit('/').next().unwrap_or(&e.name);
            if !e.renderable && base.starts_with('_') {
                // Partials are imported by many templates: compiled once
                // here, they are shared by every render thread's copy of
                // the environment (cloning one shares its compiled
                // templates). A syntax error is left to the render's sweep.
                if engine_guard(&e.name, || Ok(env.get_template(&e.name).is_ok()))? {
                    partials.push(e.name.clone());
                }
            }
        }
        Ok(Prepared {
            env,
            notices,
            sources,
            partials,
        })
    }

    /// The environment for rendering templates `sources`: templates loaded
    /// from now on come from them, and what was prepared from a template
    /// that is missing there or differs is dropped.
    pub(super) fn adopt(self, sources: &Sources) -> Ready {
        let Prepared {
            mut env,
            notices,
            sources: prepared_from,
            mut partials,
        } = self;
        for (name, text) in prepared_from.iter() {
            if !sources.get(name).is_some_and(|t| same_text(t, text)) {
                env.remove_template(name);
                partials.retain(|p| p != name);
            }
        }
        set_loader(&mut env, sources);
        Ready {
            env,
            notices,
            partials,
        }
    }
}

/// Equal texts; those of one chart share their bytes, which spares
/// comparing them.
fn same_text(a: &Text, b: &Text) -> bool {
    std::ptr::eq(a.as_ptr(), b.as_ptr()) && a.len() == b.len() || **a == **b
}

/// Templates compile on first use, on the thread that needs them, so
/// compiling overlaps with rendering instead of preceding it.
fn set_loader(env: &mut Environment<'static>, sources: &Sources) {
    let sources = sources.clone();
    env.set_loader(move |name| Ok(sources.get(name).map(|s| s.to_string())));
}

/// The work that prepares `chart`'s templates and sends the result to
/// `done`. The sources are shared with the chart, not copied.
fn work(chart: &Chart, done: SyncSender<Result<Prepared>>) -> impl FnOnce() + Send + 'static {
    let (entries, sources) = templates_of(chart);
    move || {
        let _ = done.send(Prepared::new(&entries, sources));
    }
}

/// A preparation being made elsewhere, or none.
pub struct Preparing(Pending<Result<Prepared>>);

impl Preparing {
    /// Nothing prepared ahead: the render prepares for itself.
    pub fn none() -> Preparing {
        Preparing(Pending::none())
    }

    /// The preparation of `chart`'s templates, and the work that makes it,
    /// to run on another thread. The sources are shared with the chart,
    /// not copied. If the work never runs, the render prepares for itself.
    pub fn plan(chart: &Chart) -> (Preparing, impl FnOnce() + Send + 'static) {
        let (done, pending) = Pending::channel();
        (Preparing(pending), work(chart, done))
    }

    /// The preparation, once done; None when there was none or it failed
    /// (the render then prepares again from the tree it renders, and so
    /// reports a failure only where that tree has it).
    pub fn finish(self) -> Option<Prepared> {
        self.0.wait().and_then(|r| r.ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::Files;

    fn chart(name: &str, templates: &[(&str, &'static str)]) -> Chart {
        let mut files = Files::new();
        files.insert(
            "Chart.yaml".into(),
            format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
                .into_bytes()
                .into(),
        );
        for (n, src) in templates {
            files.insert(
                format!("templates/{n}"),
                bytes::Bytes::from_static(src.as_bytes()),
            );
        }
        Chart::from_files(files, "test").unwrap()
    }

    /// The templates of `c`, prepared on this thread.
    fn prepared(c: &Chart) -> Result<Prepared> {
        let (entries, sources) = templates_of(c);
        Prepared::new(&entries, sources)
    }

    #[test]
    fn prepares_partials() {
        let c = chart(
            "a",
            &[
                ("_h.tpl", "{% macro x() %}1{% endmacro %}"),
                ("g.yaml", "{% if Values.on %}k: v{% endif %}"),
                ("n.yaml", "k: v"),
            ],
        );
        let p = prepared(&c).unwrap();
        assert_eq!(p.partials, vec!["a/templates/_h.tpl"]);
        // adopted for the same tree, nothing is dropped
        let same = p.sources.clone();
        let r = p.adopt(&same);
        assert_eq!(r.partials, vec!["a/templates/_h.tpl"]);
    }

    #[test]
    fn adopting_drops_what_the_rendered_tree_lacks_or_changed() {
        let c = chart(
            "a",
            &[
                ("_h.tpl", "{% macro x() %}1{% endmacro %}"),
                ("_gone.tpl", "{% macro y() %}2{% endmacro %}"),
                ("g.yaml", "{% if Values.on %}k: v{% endif %}"),
            ],
        );
        let p = prepared(&c).unwrap();
        let mut now: HashMap<String, Text> = HashMap::new();
        now.insert(
            "a/templates/_h.tpl".into(),
            Text::from("{% macro x() %}changed{% endmacro %}"),
        );
        now.insert(
            "a/templates/g.yaml".into(),
            Text::from("{% if Values.on %}k: v{% endif %}"),
        );
        let r = p.adopt(&Arc::new(now));
        assert!(r.partials.is_empty(), "{:?}", r.partials);
        // the changed partial is compiled again from the new source, and
        // the dropped one cannot be loaded any more
        let t = r.env.get_template("a/templates/_h.tpl").unwrap();
        assert!(t.source().contains("changed"));
        assert!(r.env.get_template("a/templates/_gone.tpl").is_err());
    }

    #[test]
    fn an_engine_panic_is_an_error_inline_and_nothing_ahead() {
        let c = chart("a", &[("_h.tpl", "{% import \"x\" as - h %}")]);
        let e = prepared(&c).err().unwrap().to_string();
        assert!(e.contains("a/templates/_h.tpl"), "{e}");
        let (preparing, work) = Preparing::plan(&c);
        work();
        assert!(preparing.finish().is_none());
    }
}
