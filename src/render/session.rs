//! One engine state per chart, shared by its templates, so the chart's
//! partials are imported once per render instead of once in every
//! template that imports them (an import runs every macro definition of
//! the file, and of the files it imports in turn).
//!
//! Each chart gets a driver template: it imports the chart's partials and
//! holds one block that includes the template named by the context. The
//! context is [`Current`], which answers for the template being rendered
//! (its `.`, `Template` included). A rendered template's own
//! `import "_helpers.tpl" as h` is compiled (see `prepare`) to take the
//! driver's import when it runs in the session, and to import as written
//! anywhere else.
//!
//! Only partials that define macros and nothing else are shared (see
//! [`gate::only_macros`]), and only when every partial of the chart is of
//! that kind: beyond their arguments, their macros read each other and the
//! chart's `.` without `Template`, which are the same for every template of
//! the chart, so one import serves them all alike. Anything else renders
//! as before, each import run where it stands.

use super::context::Dot;
use super::gate;
use super::prepare::Generated;
use minijinja::value::{Enumerator, Object, Value as JValue};
use minijinja::{Captured, Environment, Error as JError};
use std::sync::{Arc, Mutex};

/// The context variable naming the template to include (the current
/// `.`'s `Template.Name`).
const TEMPLATE_VAR: &str = "__tracecat_template";
/// The driver's block that includes it.
const BLOCK: &str = "render";
/// The drivers' names, after the chart's `templates/`: names no chart file
/// can clash with in practice (a partial's `_` and a character charts do
/// not use).
const DRIVER: &str = "_@session";
const SHARED_DRIVER: &str = "_@session-shared";

/// The driver's context: the `.` of the template being rendered.
#[derive(Debug, Default)]
struct Current(Mutex<Option<Arc<Dot>>>);

impl Current {
    fn dot(&self) -> Option<Arc<Dot>> {
        self.0.lock().ok()?.clone()
    }
    fn set(&self, dot: Arc<Dot>) {
        if let Ok(mut d) = self.0.lock() {
            *d = Some(dot);
        }
    }
}

impl Object for Current {
    fn get_value(self: &Arc<Self>, key: &JValue) -> Option<JValue> {
        let dot = self.dot()?;
        if key.as_str()? == TEMPLATE_VAR {
            // `Template.Name`, from the top of the tree, not relative to
            // the driver.
            let name = dot
                .get_value(&JValue::from("Template"))?
                .get_attr("Name")
                .ok()?;
            return Some(JValue::from(format!("/{name}")));
        }
        dot.get_value(key)
    }
    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match self.dot() {
            Some(d) => d.enumerate(),
            None => Enumerator::Empty,
        }
    }
}

/// The engine state of each chart of one render, made when the chart's
/// first template renders.
pub(super) struct Sessions<'env> {
    env: &'env Environment<'static>,
    /// Chart path, its driver importing its partials (None when they are
    /// not shared), and its driver that imports nothing.
    drivers: Vec<(String, Option<String>, String)>,
    states: Vec<Option<(Captured<'env>, Arc<Current>)>>,
}

impl<'env> Sessions<'env> {
    /// Sessions for `charts` (chart paths), whose partials are `partials`
    /// (full names, each with its source).
    pub(super) fn new(
        env: &'env Environment<'static>,
        generated: &Generated,
        charts: &[String],
        partials: &[(String, &str)],
    ) -> Sessions<'env> {
        let mut drivers = Vec::new();
        for chart in charts {
            let dir = format!("{chart}/templates/");
            let own: Vec<&(String, &str)> = partials
                .iter()
                .filter(|(n, _)| n.strip_prefix(&dir).is_some_and(|b| !b.contains('/')))
                .collect();
            let shared = !own.is_empty() && own.iter().all(|(_, src)| gate::only_macros(src));
            let plain = generated.add(format!("{dir}{DRIVER}"), driver_source(&[]));
            let with_imports = shared.then(|| {
                let modules: Vec<(String, String)> = own
                    .iter()
                    .map(|(n, _)| (n.clone(), generated.variable_for(n)))
                    .collect();
                generated.add(format!("{dir}{SHARED_DRIVER}"), driver_source(&modules))
            });
            drivers.push((chart.clone(), with_imports, plain));
        }
        Sessions {
            env,
            states: drivers.iter().map(|_| None).collect(),
            drivers,
        }
    }

    /// Renders the template `name` of the chart `chart` (whose `.` is
    /// `chart_dot`) with `dot`, its `.` with `Template` set, into `out`.
    pub(super) fn render(
        &mut self,
        chart: &str,
        chart_dot: &Arc<Dot>,
        dot: Arc<Dot>,
        name: &str,
        out: &mut impl std::io::Write,
    ) -> Result<(), JError> {
        let Some(i) = self.drivers.iter().position(|(c, ..)| c == chart) else {
            return Err(JError::new(
                minijinja::ErrorKind::InvalidOperation,
                format!("no chart {chart} for {name}"),
            ));
        };
        let (state, current) = match &mut self.states[i] {
            Some(session) => session,
            slot => slot.insert(Self::start(self.env, &self.drivers[i], chart_dot)?),
        };
        current.set(dot);
        state.with_state_mut(|s| s.render_block_to_write(BLOCK, out))
    }

    /// Runs a chart's driver: its partials imported once, with the chart's
    /// `.` (no `Template`). When an import fails, the chart renders with
    /// the driver that imports nothing, and each template meets the
    /// failure where it imports.
    fn start(
        env: &'env Environment<'static>,
        (_, with_imports, plain): &(String, Option<String>, String),
        chart_dot: &Arc<Dot>,
    ) -> Result<(Captured<'env>, Arc<Current>), JError> {
        let current = Arc::new(Current::default());
        current.set(chart_dot.clone());
        let ctx = JValue::from_dyn_object(current.clone());
        if let Some(name) = with_imports {
            if let Ok(captured) = env
                .get_template(name)
                .and_then(|t| t.render_captured(ctx.clone()))
            {
                return Ok((captured, current));
            }
        }
        let captured = env.get_template(plain)?.render_captured(ctx)?;
        Ok((captured, current))
    }
}

/// The error a template's render failed with, without the driver's
/// "error in" around it: reported as if the template had been rendered on
/// its own.
pub(super) fn unwrapped(e: &JError) -> &JError {
    let driver = e
        .name()
        .is_some_and(|n| n.ends_with(DRIVER) || n.ends_with(SHARED_DRIVER));
    match std::error::Error::source(e).and_then(|s| s.downcast_ref::<JError>()) {
        Some(inner) if driver && e.kind() == minijinja::ErrorKind::BadInclude => inner,
        _ => e,
    }
}

/// The source of a driver importing `modules` (path, variable).
fn driver_source(modules: &[(String, String)]) -> String {
    let mut src = String::new();
    for (path, var) in modules {
        src.push_str(&format!(
            "{{%- import {:?} as {var} -%}}",
            format!("/{path}")
        ));
    }
    // The block runs only when called; `with` gives each template a scope
    // of its own, so what one sets is not seen by the next.
    src.push_str(&format!(
        "{{%- if false -%}}{{%- block {BLOCK} -%}}{{%- with -%}}{{%- include {TEMPLATE_VAR} -%}}{{%- endwith -%}}{{%- endblock -%}}{{%- endif -%}}"
    ));
    src
}

#[cfg(test)]
mod tests {
    use super::super::tests::chart;
    use crate::render::{render, RenderOptions};
    use crate::values::Map;

    fn rendered(templates: &[(&str, &str)]) -> Vec<(String, String)> {
        let r = render(&chart(templates), &Map::new(), &RenderOptions::default()).unwrap();
        r.files.into_iter().map(|f| (f.path, f.content)).collect()
    }

    const HELPERS: &str =
        "{%- macro who(ctx) -%}{{ ctx.Chart.Name }}/{{ ctx.Template.Name }}{%- endmacro -%}";

    #[test]
    fn shared_partials_give_each_template_its_own_dot() {
        let out = rendered(&[
            ("_h.tpl", HELPERS),
            (
                "a.yaml",
                "{%- import \"_h.tpl\" as h -%}\na: {{ h.who(ctx) }} {{ Template.Name }}\n",
            ),
            (
                "b.yaml",
                "{%- import \"_h.tpl\" as h -%}\nb: {{ h.who(ctx) }}\n",
            ),
        ]);
        assert_eq!(
            out,
            vec![
                (
                    "c/templates/a.yaml".into(),
                    "a: c/c/templates/a.yaml c/templates/a.yaml\n".into()
                ),
                (
                    "c/templates/b.yaml".into(),
                    "b: c/c/templates/b.yaml\n".into()
                ),
            ]
        );
    }

    #[test]
    fn what_a_template_sets_is_its_own() {
        let out = rendered(&[
            ("a.yaml", "{% set x = 1 %}a: {{ x }} {{ y is defined }}\n"),
            ("b.yaml", "{% set y = 2 %}b: {{ y }} {{ x is defined }}\n"),
        ]);
        assert_eq!(out[0].1, "a: 1 false\n");
        assert_eq!(out[1].1, "b: 2 false\n");
    }

    #[test]
    fn a_partial_with_top_level_code_is_imported_where_it_stands() {
        // Its `set` runs in each template with that template's `.`.
        let out = rendered(&[
            (
                "_h.tpl",
                "{%- set here = Template.Name -%}{%- macro m() -%}{{ here }}{%- endmacro -%}",
            ),
            ("a.yaml", "{%- import \"_h.tpl\" as h -%}\na: {{ h.m() }}\n"),
            ("b.yaml", "{%- import \"_h.tpl\" as h -%}\nb: {{ h.m() }}\n"),
        ]);
        assert_eq!(out[0].1, "a: c/templates/a.yaml\n");
        assert_eq!(out[1].1, "b: c/templates/b.yaml\n");
    }

    #[test]
    fn a_nested_render_imports_for_itself_and_lines_hold() {
        let out = rendered(&[
            ("_h.tpl", HELPERS),
            ("a.yaml", "{%- import \"_h.tpl\" as h -%}\na: {{ include_file(\"c/templates/b.yaml\", ctx) | trim }}\n"),
            ("b.yaml", "{%- import \"_h.tpl\" as h -%}\nb: {{ h.who(ctx) }}\n"),
        ]);
        assert_eq!(out[0].1, "a: b: c/c/templates/a.yaml\n");
        let e = render(
            &chart(&[
                ("_h.tpl", HELPERS),
                (
                    "a.yaml",
                    "{%- import \"_h.tpl\" as h -%}\n\n{{ fail(\"no\") }}\n",
                ),
            ]),
            &Map::new(),
            &RenderOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("(c/templates/a.yaml:3)") && e.contains("no"),
            "{e}"
        );
    }
}
