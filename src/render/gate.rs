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

/// What decides a gated template: `{% set NAME = EXPR %}` lines before the
/// `if`, in order, then the condition. `imports` names the templates the
/// prelude imports: a gate is only trusted when they exist, as skipping the
/// file would otherwise hide a "template not found".
#[derive(Debug, Clone, PartialEq)]
pub struct Gate<'s> {
    pub imports: Vec<&'s str>,
    pub sets: Vec<(&'s str, &'s str)>,
    pub cond: &'s str,
}

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
        for (name, expr) in &self.sets {
            match eval(expr, &scope) {
                Some(v) => scope.insert(name.to_string(), v),
                None => return false,
            };
        }
        eval(self.cond, &scope).is_some_and(|v| !v.is_true())
    }
}

/// The text of a string literal without escapes, alone in `s`.
fn literal(s: &str) -> Option<&str> {
    let s = s.trim();
    let q = s.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let inner = s.strip_prefix(q)?.strip_suffix(q)?;
    (!inner.contains([q, '\\'])).then_some(inner)
}

/// A piece of template source, as the engine's lexer would split it.
#[derive(Debug, PartialEq)]
enum Piece<'s> {
    Text(&'s str),
    Comment,
    /// A `{{ ... }}` expression.
    Var,
    /// The inside of a `{% ... %}` tag, whitespace-control marks removed.
    Tag(&'s str),
}

/// The pieces of `src`, in order, found as they are asked for: most
/// templates show they have no gate within their first few pieces, and
/// are not scanned further. Anything this scanner does not model (an
/// unterminated tag, a raw block) ends the pieces and sets `unmodelled`.
struct Pieces<'s> {
    src: &'s str,
    at: usize,
    unmodelled: bool,
}

impl<'s> Pieces<'s> {
    fn new(src: &'s str) -> Pieces<'s> {
        Pieces {
            src,
            at: 0,
            unmodelled: false,
        }
    }

    fn stop(&mut self) -> Option<Piece<'s>> {
        self.unmodelled = true;
        self.at = self.src.len();
        None
    }
}

impl<'s> Iterator for Pieces<'s> {
    type Item = Piece<'s>;

    fn next(&mut self) -> Option<Piece<'s>> {
        let (src, i) = (self.src, self.at);
        let b = src.as_bytes();
        if i >= b.len() {
            return None;
        }
        let Some(off) = memchr::memchr(b'{', &b[i..]) else {
            self.at = b.len();
            return Some(Piece::Text(&src[i..]));
        };
        let at = i + off;
        let kind = match b.get(at + 1) {
            Some(&k @ (b'{' | b'%' | b'#')) => k,
            _ => {
                // A lone `{` is text; the scan goes on after it.
                self.at = at + 1;
                return Some(Piece::Text(&src[i..at + 1]));
            }
        };
        if at > i {
            self.at = at;
            return Some(Piece::Text(&src[i..at]));
        }
        let start = at + 2;
        if kind == b'#' {
            let Some(end) = memchr::memmem::find(&b[start..], b"#}") else {
                return self.stop();
            };
            self.at = start + end + 2;
            return Some(Piece::Comment);
        }
        let close = if kind == b'{' { b'}' } else { b'%' };
        let Some(end) = tag_end(b, start, close) else {
            return self.stop();
        };
        self.at = end + 2;
        if close == b'}' {
            return Some(Piece::Var);
        }
        let inner = src[start..end].trim_start_matches(['-', '+']);
        let inner = inner.trim_end_matches(['-', '+']).trim();
        if inner == "raw" || inner.starts_with("raw ") {
            return self.stop();
        }
        Some(Piece::Tag(inner))
    }
}

/// Past the string literal opening at `b[i]` (with backslash escapes).
fn skip_quoted(b: &[u8], mut i: usize) -> usize {
    let q = b[i];
    i += 1;
    while i < b.len() {
        match memchr::memchr2(q, b'\\', &b[i..]) {
            Some(off) if b[i + off] == q => return i + off + 1,
            Some(off) => i += off + 2,
            None => break,
        }
    }
    b.len() + 1
}

/// Where the tag opened before `from` closes (`%}` or `}}`), skipping
/// quoted strings, whose text may hold the closing pair.
fn tag_end(b: &[u8], from: usize, close: u8) -> Option<usize> {
    let mut i = from;
    while i + 1 < b.len() {
        i += memchr::memchr3(close, b'"', b'\'', &b[i..])?;
        match b[i] {
            b'"' | b'\'' => i = skip_quoted(b, i),
            _ if b.get(i + 1) == Some(&b'}') => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// The first word of a tag and the rest.
fn keyword(tag: &str) -> (&str, &str) {
    let end = tag
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(tag.len());
    (&tag[..end], tag[end..].trim_start())
}

/// Identifiers in an expression, outside string literals (attribute names
/// included: this only decides what a gate must not depend on, and more
/// names only means fewer gates).
fn identifiers(expr: &str) -> impl Iterator<Item = &str> {
    let b = expr.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' | b'\'' => i = skip_quoted(b, i),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let s = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                spans.push(&expr[s..i]);
            }
            _ => i += 1,
        }
    }
    spans.into_iter()
}

/// The template's whole-file gate, if it has one.
pub fn find(src: &str) -> Option<Gate<'_>> {
    let mut it = Pieces::new(src);
    // Names the prelude binds that an expression cannot see without
    // running the template: imported modules and macros.
    let mut hidden: Vec<&str> = Vec::new();
    let mut sets = Vec::new();
    let mut imports = Vec::new();
    let cond = loop {
        match it.next()? {
            Piece::Text(t) if t.trim().is_empty() => {}
            Piece::Comment => {}
            Piece::Var => return None,
            Piece::Text(_) => return None,
            Piece::Tag(tag) => match keyword(tag) {
                ("import", rest) => {
                    // `import "x" as h`, maybe followed by `with context`.
                    let (target, alias) = rest.split_once(" as ")?;
                    imports.push(literal(target)?);
                    hidden.extend(identifiers(alias));
                }
                ("from", rest) => {
                    let (target, names) = rest.split_once(" import ")?;
                    imports.push(literal(target)?);
                    hidden.extend(identifiers(names).filter(|n| *n != "as"));
                }
                ("macro", rest) => {
                    hidden.push(keyword(rest).0);
                    // A macro's body is not run where it is defined.
                    loop {
                        match it.next()? {
                            Piece::Tag(t) if keyword(t).0 == "endmacro" => break,
                            Piece::Tag(t) if keyword(t).0 == "macro" => return None,
                            _ => {}
                        }
                    }
                }
                ("set", rest) => {
                    let (name, expr) = rest.split_once('=')?;
                    let name = name.trim();
                    if name.is_empty() || identifiers(name).ne(std::iter::once(name)) {
                        // `set a, b = ...`, `set ns.attr = ...`, block sets.
                        return None;
                    }
                    sets.push((name, expr.trim()));
                }
                ("if", cond) => break cond,
                _ => return None,
            },
        }
    };
    // The matching `endif` must end the file, with no `else` on the gate.
    let mut depth = 1;
    for p in it.by_ref() {
        if let Piece::Tag(t) = p {
            match keyword(t).0 {
                "if" => depth += 1,
                "elif" | "else" if depth == 1 => return None,
                "endif" => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    if depth != 0 {
        return None;
    }
    for p in it.by_ref() {
        match p {
            Piece::Comment => {}
            Piece::Text(t) if t.trim().is_empty() => {}
            _ => return None,
        }
    }
    // Pieces ended early: the file holds what this scanner does not model.
    if it.unmodelled {
        return None;
    }
    // minijinja's standalone expression lexer ends at `}}` and then panics
    // (2.24: "empty lexer stack"), where the template's block lexer would
    // have reported a syntax error: such a gate is left to the template.
    let unusable = |e: &str| e.contains("}}") || identifiers(e).any(|n| hidden.contains(&n));
    if unusable(cond) || sets.iter().any(|(_, e)| unusable(e)) {
        return None;
    }
    Some(Gate {
        imports,
        sets,
        cond,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(src: &str) -> Option<(Vec<(&str, &str)>, &str)> {
        find(src).map(|g| (g.sets, g.cond))
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
