//! Whole-file gates: a template whose every output is inside one top-level
//! `{% if COND %} ... {% endif %}` renders nothing when COND is false.
//!
//! Most optional components are written that way (`litellm.enabled`,
//! `serviceAccount.create`, ...), and a quickstart render leaves about a
//! quarter of the chart's template text switched off. Evaluating COND as an
//! expression costs a few thousand instructions; compiling and running the
//! template costs hundreds of thousands. So each template's source is
//! scanned once for this shape, and COND is evaluated first.
//!
//! The scan is conservative: anything it does not understand (raw blocks,
//! `else`/`elif` on the gate, output outside it, a name the gate would
//! need from an import or a macro) means "no gate", and the template is
//! rendered as usual. A gate that fails to evaluate is also rendered as
//! usual, so errors are reported exactly as before.

use minijinja::{Environment, Value};
use std::collections::BTreeMap;

mod scan;
pub use scan::{find, only_macros, prelude_imports, Gate};

impl Gate<'_> {
    /// True when the gate is false, so the template renders nothing. An
    /// expression that fails means "render it", which reports the failure
    /// as rendering always does. `ctx` is what the template would see.
    pub fn is_off(&self, env: &Environment<'_>, ctx: &Value) -> bool {
        let mut scope = BTreeMap::<String, Value>::new();
        let eval = |expr: &str, scope: &BTreeMap<String, Value>| {
            let ctx = if scope.is_empty() {
                ctx.clone()
            } else {
                minijinja::value::merge_maps([Value::from(scope.clone()), ctx.clone()])
            };
            env.compile_expression_owned(expr.to_string())
                .and_then(|e| e.eval(ctx))
                .ok()
        };
        for (name, expr) in self.sets.iter() {
            match eval(expr, &scope) {
                Some(v) => scope.insert(name.to_string(), v),
                None => return false,
            };
        }
        eval(self.cond, &scope).is_some_and(|v| !v.is_true())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(src: &str) -> Option<(Vec<(&str, &str)>, &str)> {
        find(src).map(|g| (g.sets.into_owned(), g.cond))
    }

    #[test]
    fn imports_are_listed() {
        let src = "{% import \"_a.tpl\" as a %}{% from '_b.tpl' import x, y as z %}{% if on %}1{% endif %}";
        assert_eq!(find(src).unwrap().imports, vec!["_a.tpl", "_b.tpl"]);
        // only literal names
        assert_eq!(find("{% import name as a %}{% if on %}1{% endif %}"), None);
    }

    /// The embedded chart's optional parts are written with a whole-file
    /// gate, so a render that leaves them off skips them unread: a rewrite
    /// that loses the shape would silently cost every render.
    #[test]
    fn the_embedded_optional_templates_have_gates() {
        let gated = [
            "templates/hpa.yaml",
            "templates/keda-scaledobjects.yaml",
            "templates/litellm-deployment.yaml",
            "templates/mcp-deployment.yaml",
            "templates/secret-templates.yaml",
            "templates/virtualservice.yaml",
        ];
        for path in gated {
            let (_, bytes) = crate::embedded::FILES
                .iter()
                .find(|(p, _)| *p == path)
                .unwrap_or_else(|| panic!("{path} is not embedded"));
            let src = std::str::from_utf8(bytes).unwrap();
            assert!(find(src).is_some(), "{path} has no whole-file gate");
        }
    }

    #[test]
    fn partials_that_only_define_macros() {
        assert!(only_macros("{#- c -#}\n{%- from \"_n.tpl\" import a -%}\n{%- macro m(x) -%}{% if x %}{{ x }}{% endif %}{%- endmacro -%}\n"));
        assert!(!only_macros(
            "{%- set v = Values.a -%}{%- macro m() -%}{{ v }}{%- endmacro -%}"
        ));
        assert!(!only_macros(
            "{%- macro m(ctx) -%}{{ ctx.Template.Name }}{%- endmacro -%}"
        ));
        assert!(!only_macros("text {%- macro m() -%}{%- endmacro -%}"));
        assert!(!only_macros("{%- import \"other/_x.tpl\" as x -%}"));
        assert!(!only_macros("{%- macro m() -%}"));
        assert!(!only_macros("{% raw %}{% endraw %}"));
        // `ctx` read by a macro that does not take it: the importer's `.`.
        assert!(!only_macros(
            "{%- macro m() -%}{{ ctx.Values.a }}{%- endmacro -%}"
        ));
        assert!(!only_macros(
            "{%- macro m() -%}{% if ctx %}{% endif %}{%- endmacro -%}"
        ));
        assert!(only_macros("{%- macro m(ctx, n=1) -%}{{ ctx.Values.a }}{% macro i() %}{{ ctx }}{% endmacro %}{%- endmacro -%}"));
    }

    #[test]
    fn prelude_imports_are_found_with_their_place() {
        let src = "{#- c -#}\n{%- import \"_h.tpl\" as h -%}\n{% from '_n.tpl' import a %}{% import \"_m.tpl\" as m %}x{% import \"_z.tpl\" as z %}";
        let found = prelude_imports(src);
        let names: Vec<_> = found
            .iter()
            .map(|(r, n, a)| (&src[r.clone()], *n, *a))
            .collect();
        assert_eq!(
            names,
            vec![
                ("import \"_h.tpl\" as h", "_h.tpl", "h"),
                ("import \"_m.tpl\" as m", "_m.tpl", "m")
            ]
        );
        assert!(prelude_imports("{% import name as h %}").is_empty());
        assert!(prelude_imports("{% import \"_h.tpl\" as h with context %}").is_empty());
    }

    /// The embedded chart's partials are shared by its templates (see
    /// `render::session`): a partial that loses the shape would silently
    /// cost every render one import per template.
    #[test]
    fn the_embedded_partials_only_define_macros() {
        let partials: Vec<_> = crate::embedded::FILES
            .iter()
            .filter(|(p, _)| {
                p.rsplit('/')
                    .next()
                    .is_some_and(|b| b.starts_with('_') && b.ends_with(".tpl"))
            })
            .collect();
        assert!(partials.len() >= 5, "{}", partials.len());
        for (path, bytes) in partials {
            let src = std::str::from_utf8(bytes).unwrap();
            assert!(only_macros(src), "{path} does more than define macros");
        }
    }

    #[test]
    fn a_plain_gate_is_found() {
        let src = "{%- import \"_names.tpl\" as h -%}\n{#- a comment -#}\n{%- if Values.a.enabled -%}\nkind: X\nname: {{ h.name(ctx) }}\n{% endif -%}\n";
        assert_eq!(gate(src), Some((vec![], "Values.a.enabled")));
    }

    #[test]
    fn sets_and_macros_before_the_gate_are_kept_or_skipped() {
        let src = "{%- set sa = Values.x.serviceAccount -%}\n{%- macro m(a) -%}{{ a }}{% if a %}{% endif %}{%- endmacro -%}\n{%- if Values.x.enabled and sa.create -%}\n{{ m(1) }}\n{%- endif -%}";
        assert_eq!(
            gate(src),
            Some((
                vec![("sa", "Values.x.serviceAccount")],
                "Values.x.enabled and sa.create"
            ))
        );
    }

    #[test]
    fn nested_ifs_inside_the_gate_are_fine() {
        let src = "{% if a %}{% if b %}x{% else %}y{% endif %}{% endif %}\n";
        assert_eq!(gate(src), Some((vec![], "a")));
    }

    #[test]
    fn strings_may_hold_closing_marks() {
        let src = "{% set s = \"%} {{ \\\" \" %}{% if s == '%}' %}{{ \"}}\" }}{% endif %}";
        assert_eq!(
            gate(src),
            Some((vec![("s", "\"%} {{ \\\" \"")], "s == '%}'"))
        );
    }

    #[test]
    fn shapes_without_a_whole_file_gate() {
        for src in [
            // output before or after the gate
            "kind: X\n{% if a %}y{% endif %}",
            "{% if a %}y{% endif %}\nkind: X",
            "{{ x }}{% if a %}y{% endif %}",
            // else / elif on the gate itself
            "{% if a %}y{% else %}z{% endif %}",
            "{% if a %}y{% elif b %}z{% endif %}",
            // two gates, or none
            "{% if a %}y{% endif %}{% if b %}z{% endif %}",
            "kind: X\n",
            // the gate or a set needs an import or a macro
            "{% import 'h' as h %}{% if h.on(ctx) %}y{% endif %}",
            "{% import 'h' as h with context %}{% if h.on %}y{% endif %}",
            "{% import 'h' as  h  without context %}{% if h %}y{% endif %}",
            "{% from 'h' import on %}{% if on %}y{% endif %}",
            "{% macro on() %}1{% endmacro %}{% if on() %}y{% endif %}",
            "{% import 'h' as h %}{% set x = h.v %}{% if x %}y{% endif %}",
            // what the expression lexer cannot take
            "{% if a }} b %}y{% endif %}",
            "{% set x = '}}' %}{% if x %}y{% endif %}",
            // statements it does not model
            "{% set ns.a = 1 %}{% if a %}y{% endif %}",
            "{% set a, b = 1, 2 %}{% if a %}y{% endif %}",
            "{% for i in x %}{% endfor %}{% if a %}y{% endif %}",
            "{% if a %}{% raw %}{% endif %}{% endraw %}{% endif %}",
            // unterminated
            "{% if a %}y",
            "{% if a %}y{% endif",
            "{# never closed",
        ] {
            assert_eq!(find(src), None, "{src}");
        }
    }

    #[test]
    fn lone_braces_are_text() {
        assert_eq!(gate("{% if a %}{ x }{% endif %} \n"), Some((vec![], "a")));
        assert_eq!(find("{ x }{% if a %}y{% endif %}"), None);
    }
}
