//! The part of a render that needs the chart's templates but not its
//! values: the engine environment with the chart's functions, and the
//! partials (`_*.tpl`) compiled before any template imports them.

use super::guard::engine_guard;
use super::{join_path, new_environment, Entry};
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
    /// Templates written during the render (see `session`).
    pub(super) generated: Arc<Generated>,
}

/// What a render adds to the chart's templates (see `session`): each
/// chart's driver, and the partials its driver imports for all of the
/// chart's templates.
#[derive(Debug, Default)]
pub(super) struct Generated {
    sources: Mutex<HashMap<String, String>>,
    /// Shared partial -> the driver's variable holding its import.
    variables: Mutex<Vec<(String, String)>>,
}

impl Generated {
    /// Adds the template `name` with `source`; returns the name.
    pub(super) fn add(&self, name: String, source: String) -> String {
        if let Ok(mut m) = self.sources.lock() {
            m.insert(name.clone(), source);
        }
        name
    }

    fn source(&self, name: &str) -> Option<String> {
        self.sources.lock().ok()?.get(name).cloned()
    }

    /// The driver variable that holds the import of the partial `path`.
    pub(super) fn variable_for(&self, path: &str) -> String {
        if let Some(v) = self.variable_of(path) {
            return v;
        }
        let Ok(mut vars) = self.variables.lock() else {
            return String::new();
        };
        let v = format!("__tracecat_shared_{}", vars.len());
        vars.push((path.to_string(), v.clone()));
        v
    }

    fn variable_of(&self, path: &str) -> Option<String> {
        let vars = self.variables.lock().ok()?;
        vars.iter().find(|(p, _)| p == path).map(|(_, v)| v.clone())
    }

    /// The source of the template `name` as it is compiled: each prelude
    /// `import "_x.tpl" as h` of a shared partial takes the driver's import
    /// when there is one (in the chart's session), else imports as
    /// written (a nested render by `tpl` or `include_file`, or a driver
    /// whose import failed). All on the tag's line, so line numbers hold.
    fn rewrite(&self, name: &str, src: &str) -> Option<String> {
        if name.rsplit('/').next().is_some_and(|b| b.starts_with('_')) {
            return None;
        }
        let mut out = String::new();
        let mut at = 0;
        for (range, target, alias) in super::gate::prelude_imports(src) {
            let Some(var) = self.variable_of(&join_path(target, name)) else {
                continue;
            };
            out.push_str(&src[at..range.start]);
            out.push_str(&format!(
                "if {var} is defined %}}{{% set {alias} = {var} %}}{{% else %}}{{% {} %}}{{% endif",
                &src[range.clone()]
            ));
            at = range.end;
        }
        if at == 0 {
            return None;
        }
        out.push_str(&src[at..]);
        Some(out)
    }
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
        let generated = Arc::new(Generated::default());
        set_loader(&mut env, &sources, &generated);
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
        Ok(Prepared {
            env,
            partials,
            generated,
        })
    }
}

/// Templates compile on first use, so a template gated off is never
/// compiled.
fn set_loader(env: &mut Environment<'static>, sources: &Sources, generated: &Arc<Generated>) {
    let sources = sources.clone();
    let g = generated.clone();
    env.set_loader(move |name| {
        Ok(match sources.get(name) {
            Some(s) => Some(g.rewrite(name, s).unwrap_or_else(|| s.to_string())),
            None => g.source(name),
        })
    });
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
