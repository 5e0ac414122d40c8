//! Finding a template's whole-file gate in its source (see the parent
//! module). Plain string scanning, with no dependency on the rest of the
//! crate.

use std::borrow::Cow;

/// What decides a gated template: `{% set NAME = EXPR %}` lines before the
/// `if`, in order, then the condition. `imports` names the templates the
/// prelude imports: a gate is only trusted when they exist, as skipping the
/// file would otherwise hide a "template not found".
#[derive(Debug, Clone, PartialEq)]
pub struct Gate<'s> {
    pub imports: Cow<'s, [&'s str]>,
    pub sets: Cow<'s, [(&'s str, &'s str)]>,
    pub cond: &'s str,
}

impl Gate<'_> {}

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
    /// The inside of a `{{ ... }}` expression, whitespace-control marks
    /// included.
    Var(&'s str),
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
            return Some(Piece::Var(&src[start..end]));
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

/// Whether `src`, imported, only defines macros: at its top level nothing
/// but macros, imports of other partials in its folder (`_*`), comments
/// and whitespace; nowhere the word `Template`, the one part of `.` that
/// differs between the templates of a chart; and `ctx` read only by macros
/// that take it as a parameter (one that does not would see the importer's
/// `.`). Importing such a partial gives every template of the chart the
/// same macros, so one import can serve them all.
pub fn only_macros(src: &str) -> bool {
    if src.contains("Template") {
        return false;
    }
    let mut it = Pieces::new(src);
    let mut depth = 0usize;
    // Whether the outermost macro being read takes `ctx`.
    let mut takes_ctx = false;
    // The name `ctx`, not an attribute of that name (`x.ctx`); inside a
    // string it counts too, which only errs towards not sharing.
    let reads_ctx = |expr: &str| {
        let b = expr.as_bytes();
        let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        memchr::memmem::find_iter(b, b"ctx").any(|i| {
            (i == 0 || !(word(b[i - 1]) || b[i - 1] == b'.'))
                && b.get(i + 3).is_none_or(|&c| !word(c))
        })
    };
    for p in it.by_ref() {
        match p {
            Piece::Tag(t) => match keyword(t) {
                ("macro", signature) => {
                    if depth == 0 {
                        takes_ctx = reads_ctx(signature);
                    } else if !takes_ctx && reads_ctx(signature) {
                        return false;
                    }
                    depth += 1;
                }
                ("endmacro", _) if depth > 0 => depth -= 1,
                _ if depth > 0 => {
                    if !takes_ctx && reads_ctx(t) {
                        return false;
                    }
                }
                ("import" | "from", rest) => {
                    let target = rest.split([' ', '\t']).next().and_then(literal);
                    if !target.is_some_and(|n| n.starts_with('_') && !n.contains('/')) {
                        return false;
                    }
                }
                _ => return false,
            },
            Piece::Comment => {}
            Piece::Text(t) if depth == 0 && !t.trim().is_empty() => return false,
            Piece::Var(_) if depth == 0 => return false,
            Piece::Var(expr) if !takes_ctx && reads_ctx(expr) => return false,
            Piece::Text(_) | Piece::Var(_) => {}
        }
    }
    depth == 0 && !it.unmodelled
}

/// The `import "NAME" as ALIAS` tags of a template's prelude (what comes
/// before its first output or other statement): for each, where the tag's
/// inside lies in `src`, NAME and ALIAS.
pub fn prelude_imports(src: &str) -> Vec<(std::ops::Range<usize>, &str, &str)> {
    let mut found = Vec::new();
    for p in Pieces::new(src) {
        match p {
            Piece::Comment => {}
            Piece::Text(t) if t.trim().is_empty() => {}
            Piece::Tag(t) => match keyword(t) {
                ("import", rest) => {
                    let Some((target, alias)) = rest.split_once(" as ") else {
                        break;
                    };
                    let alias = alias.trim();
                    let (Some(name), true) = (
                        literal(target),
                        identifiers(alias).eq(std::iter::once(alias)),
                    ) else {
                        break;
                    };
                    let at = t.as_ptr() as usize - src.as_ptr() as usize;
                    found.push((at..at + t.len(), name, alias));
                }
                ("from", _) => {}
                _ => break,
            },
            _ => break,
        }
    }
    found
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
            Piece::Var(_) => return None,
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
        imports: Cow::Owned(imports),
        sets: Cow::Owned(sets),
        cond,
    })
}
