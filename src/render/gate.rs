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
pub use scan::{find, Gate};

impl Gate<'_> {
    /// True when the gate is false, so the template renders nothing. An
    /// expression that fails means "render it", which reports the failure
    /// as rendering always does. `ctx` is what the template would see.
    pub fn is_off(&self, env: &Environment<'_>, ctx: &Value) -> bool {
        if let Some(off) = self.quick_off(ctx) {
            return off;
        }
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

    /// [`Gate::is_off`] without the engine, for gates whose `set`s are plain
    /// attribute paths and whose condition is such paths joined by `and`,
    /// `or`, `not` and parentheses (all of the embedded chart's): compiling
    /// an expression costs far more than looking a path up. None for
    /// anything else, which the engine then evaluates.
    fn quick_off(&self, ctx: &Value) -> Option<bool> {
        let mut scope: Vec<(&str, Value)> = Vec::with_capacity(self.sets.len());
        for (name, expr) in self.sets.iter() {
            let value = quick_read(expr, &|n| quick_lookup(n, &scope, ctx), |p| p.path())?;
            scope.push((name, value));
        }
        let truth = quick_read(self.cond, &|n| quick_lookup(n, &scope, ctx), |p| p.or())?;
        Some(!truth)
    }
}

/// `expr` read whole by `read` (a rule of [`Quick`]), names looked up with
/// `lookup`; None if it holds anything else or anything after.
fn quick_read<T>(
    expr: &str,
    lookup: &dyn Fn(&str) -> Option<Value>,
    read: impl FnOnce(&mut Quick) -> Option<T>,
) -> Option<T> {
    let toks = quick_tokens(expr)?;
    let mut p = Quick {
        toks: &toks,
        at: 0,
        lookup,
    };
    let v = read(&mut p)?;
    (p.at == toks.len()).then_some(v)
}

/// A name as the gate's expression sees it: a `set` of the prelude (the
/// latest), else a field of the template's `.`. None where the two would
/// both answer, left to the engine.
fn quick_lookup(name: &str, scope: &[(&str, Value)], ctx: &Value) -> Option<Value> {
    let field = ctx.get_attr(name).ok().filter(|v| !v.is_undefined());
    match scope.iter().rev().find(|(n, _)| *n == name) {
        Some(_) if field.is_some() => None,
        Some((_, v)) => Some(v.clone()),
        None => Some(field.unwrap_or(Value::UNDEFINED)),
    }
}

#[derive(Debug, PartialEq)]
enum QuickTok<'s> {
    Name(&'s str),
    Dot,
    Open,
    Close,
}

/// The tokens of a gate expression, or None when it holds anything but
/// names, dots and parentheses (literals, operators, filters, tests).
fn quick_tokens(expr: &str) -> Option<Vec<QuickTok<'_>>> {
    let b = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' => i += 1,
            b'.' => (out.push(QuickTok::Dot), i += 1).1,
            b'(' => (out.push(QuickTok::Open), i += 1).1,
            b')' => (out.push(QuickTok::Close), i += 1).1,
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                out.push(QuickTok::Name(&expr[start..i]));
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Words that are not names to look up (literals and operators the quick
/// path does not model).
const QUICK_RESERVED: &[&str] = &[
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
    "in",
    "is",
    "if",
    "else",
    "recursive",
    "loop",
    "self",
];

/// A recursive-descent reading of a gate expression, evaluated as it goes.
struct Quick<'t, 's, 'l> {
    toks: &'t [QuickTok<'s>],
    at: usize,
    lookup: &'l dyn Fn(&str) -> Option<Value>,
}

impl Quick<'_, '_, '_> {
    fn word(&mut self, w: &str) -> bool {
        let found = self.toks.get(self.at) == Some(&QuickTok::Name(w));
        self.at += found as usize;
        found
    }

    fn or(&mut self) -> Option<bool> {
        let mut v = self.and()?;
        while self.word("or") {
            v |= self.and()?;
        }
        Some(v)
    }

    fn and(&mut self) -> Option<bool> {
        let mut v = self.not()?;
        while self.word("and") {
            v &= self.not()?;
        }
        Some(v)
    }

    fn not(&mut self) -> Option<bool> {
        if self.word("not") {
            return Some(!self.not()?);
        }
        if self.toks.get(self.at) == Some(&QuickTok::Open) {
            self.at += 1;
            let v = self.or()?;
            (self.toks.get(self.at) == Some(&QuickTok::Close)).then_some(())?;
            self.at += 1;
            return Some(v);
        }
        Some(self.path()?.is_true())
    }

    /// `name(.attr)*`: each step but the last must be a map (an attribute
    /// of anything else is left to the engine).
    fn path(&mut self) -> Option<Value> {
        let name = match self.toks.get(self.at)? {
            QuickTok::Name(n) if !matches!(*n, "and" | "or" | "not") => *n,
            _ => return None,
        };
        if QUICK_RESERVED.contains(&name) {
            return None;
        }
        self.at += 1;
        let mut v = (self.lookup)(name)?;
        while self.toks.get(self.at) == Some(&QuickTok::Dot) {
            let Some(QuickTok::Name(attr)) = self.toks.get(self.at + 1) else {
                return None;
            };
            if v.kind() != minijinja::value::ValueKind::Map {
                return None;
            }
            v = v.get_attr(attr).ok()?;
            self.at += 2;
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick path answers as the engine does wherever it answers, and
    /// answers for every gate of the embedded chart.
    #[test]
    fn quick_gates_agree_with_the_engine() {
        let env = crate::render::new_environment();
        let ctxs = [
            minijinja::context! { Values => minijinja::context! {
                a => true, b => false, s => "", t => "x", n => 0, one => 1, e => Vec::<i32>::new(),
                m => minijinja::context! { on => true, off => false, z => () },
                em => minijinja::context! {}, nul => (),
            }},
            minijinja::context! { Values => minijinja::context! { a => false, m => "str" } },
            minijinja::context! { Values => () },
        ];
        let exprs = [
            "Values.a",
            "Values.b",
            "Values.s",
            "Values.t",
            "Values.n",
            "Values.one",
            "Values.e",
            "Values.m",
            "Values.em",
            "Values.nul",
            "Values.missing",
            "Values.m.on",
            "Values.m.off",
            "Values.m.z",
            "Values.m.missing",
            "Values.a and Values.m.on",
            "Values.b or Values.t",
            "not Values.a",
            "not not Values.b",
            "Values.a and (Values.b or Values.m.on)",
            "(Values.a)",
            "x.y",
            "Release",
            "Values.missing.deeper",
            "Values.a.x",
            "Values.t.x",
            "Values.nul.x",
            "Values",
            "and",
            "Values.",
            "(Values.a",
            "Values.a or",
            "true",
            "Values.a == 1",
            "Values['a']",
        ];
        let mut answered = 0;
        for ctx in &ctxs {
            let ctx = ctx.clone();
            for cond in exprs {
                for sets in [
                    vec![],
                    vec![("x", "Values.m")],
                    vec![("x", "Values.missing")],
                ] {
                    let g = Gate {
                        imports: Vec::new().into(),
                        sets: sets.clone().into(),
                        cond,
                    };
                    let Some(quick) = g.quick_off(&ctx) else {
                        continue;
                    };
                    answered += 1;
                    let engine = {
                        let mut scope = BTreeMap::<String, Value>::new();
                        let mut ok = true;
                        for (n, e) in sets.iter() {
                            let c = minijinja::value::merge_maps([
                                Value::from(scope.clone()),
                                ctx.clone(),
                            ]);
                            match env.compile_expression(e).and_then(|x| x.eval(c)) {
                                Ok(v) => {
                                    scope.insert(n.to_string(), v);
                                }
                                Err(_) => ok = false,
                            }
                        }
                        let c = minijinja::value::merge_maps([Value::from(scope), ctx.clone()]);
                        ok && env
                            .compile_expression(cond)
                            .and_then(|x| x.eval(c))
                            .is_ok_and(|v| !v.is_true())
                    };
                    assert_eq!(quick, engine, "{cond} with {sets:?} in {ctx:?}");
                }
            }
        }
        assert!(answered > 50, "{answered}");
        // every embedded gate takes the quick path, with the chart's defaults
        let chart = crate::chart::embedded().unwrap();
        let dot = |c: &crate::chart::Chart| {
            minijinja::context! { Values => crate::render::convert::map_to_jinja(&c.values) }
        };
        let temporal = chart
            .dependencies
            .iter()
            .find(|d| d.name() == "temporal")
            .unwrap();
        for (path, bytes) in crate::embedded::FILES {
            if !path.contains("templates/") {
                continue;
            }
            if let Some(g) = find(std::str::from_utf8(bytes).unwrap()) {
                let ctx = if path.starts_with("charts/temporal/") {
                    dot(temporal)
                } else {
                    dot(&chart)
                };
                assert!(g.quick_off(&ctx).is_some(), "{path}: {}", g.cond);
            }
        }
    }

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
