//! The part of a render that needs the chart's templates but not its
//! values: the engine environment with the chart's functions, and the
//! partials (`_*.tpl`) compiled before any template imports them.

use super::guard::engine_guard;
use super::{new_environment, Entry};
use crate::chart::Text;
use crate::error::Result;
use minijinja::Environment;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Messages of `notice(msg)` calls, in the order they were made.
pub(super) type Notices = Arc<Mutex<Vec<String>>>;

/// Template sources by full name (`tracecat/templates/x.yaml`).
pub(super) type Sources = Arc<HashMap<String, Text>>;

/// An environment ready to render a chart tree.
pub struct Prepared {
    pub env: Environment<'static>,
    /// Partials that compiled cleanly (and are in the environment's cache).
    pub partials: Vec<String>,
}

impl Prepared {
    /// Prepares the templates `entries` (with their `sources`); `notice`
    /// calls go to `notices`. Fails only when the engine
    /// itself failed on a partial (see `engine_guard`).
    pub(super) fn new(entries: &[Entry], sources: Sources, notices: Notices) -> Result<Prepared> {
        let mut env = new_environment();
        let sink = notices;
        env.add_function("notice", move |msg: String| -> String {
            if let Ok(mut v) = sink.lock() {
                v.push(msg);
            }
            String::new()
        });
        set_loader(&mut env, &sources);
        let mut partials = Vec::new();
        for e in entries {
            let base = e.name.rsplit('/').next().unwrap_or(&e.name);
            if !e.renderable && base.starts_with('_') {
                // Compiled here, a partial is not compiled again by the
                // render's syntax sweep; a syntax error is left to that
                // sweep, which reports errors in chart order.
                if engine_guard(&e.name, || Ok(env.get_template(&e.name).is_ok()))? {
                    partials.push(e.name.clone());
                }
            }
        }
        Ok(Prepared { env, partials })
    }
}

/// Templates compile on first use, so a template gated off is never
/// compiled.
fn set_loader(env: &mut Environment<'static>, sources: &Sources) {
    let sources = sources.clone();
    env.set_loader(move |name| Ok(sources.get(name).map(|s| s.to_string())));
}

#[cfg(test)]
mod tests {
    use super::super::templates_of;
    use super::*;
    use crate::chart::{Chart, Files};

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

    /// The templates of `c`, prepared.
    fn prepared(c: &Chart) -> Result<Prepared> {
        let (entries, sources) = templates_of(c);
        Prepared::new(&entries, sources, Notices::default())
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
        assert!(p.env.get_template("a/templates/n.yaml").is_ok());
    }

    #[test]
    fn an_engine_panic_is_an_error() {
        let c = chart("a", &[("_h.tpl", "{% import \"x\" as - h %}")]);
        let e = prepared(&c).err().unwrap().to_string();
        assert!(e.contains("a/templates/_h.tpl"), "{e}");
    }
}
