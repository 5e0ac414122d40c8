//! A fast "these values are valid" answer for schemas written with the
//! common JSON Schema keywords, without compiling the schema.
//!
//! Compiling a schema costs more than rendering a chart, and nearly every
//! render has valid values. This check only ever answers "surely valid";
//! anything it cannot decide exactly as the full validator would (an
//! unknown keyword, a malformed schema, a number too large to compare, a
//! regex on non-ASCII text) sends the values to the full validator, which
//! also writes the error messages.

use super::json_doc::J;
use super::model::{Map, Value};

/// True only when `schema` is in the supported subset and `v` satisfies it.
pub fn surely_valid(schema: J, v: &Map) -> bool {
    Checker::new(schema).surely_valid(schema, v)
}

/// What the check learns from the schema alone: whether it is in the
/// supported subset, and its patterns, compiled once.
pub struct Checker(Option<Patterns>);

impl Checker {
    pub fn new(schema: J) -> Checker {
        let patterns = Patterns::default();
        Checker(supported_root(schema, &patterns).then_some(patterns))
    }

    /// Whether the schema is in the supported subset (else every check
    /// defers to the full validator).
    pub fn is_supported(&self) -> bool {
        self.0.is_some()
    }

    /// [`surely_valid`] for the schema this checker was made from.
    pub fn surely_valid(&self, schema: J, v: &Map) -> bool {
        self.0.as_ref().is_some_and(|p| check_map(schema, v, p))
    }
}

/// The schema's `pattern`s, each compiled once: ahead, by the walk that
/// checks the schema is in the subset, or when first matched (None: not
/// usable here). Only ASCII text is ever matched, so the patterns compile
/// without Unicode classes (the same answers on ASCII, for a fraction of
/// the compile time).
#[derive(Default)]
pub struct Patterns(
    std::sync::Mutex<std::collections::HashMap<String, Option<regex::bytes::Regex>>>,
);

fn compile(p: &str) -> Option<regex::bytes::Regex> {
    regex::bytes::RegexBuilder::new(p)
        .unicode(false)
        .build()
        .ok()
}

impl Patterns {
    /// The compiled pattern, compiled now if it was not yet.
    fn with<R>(&self, p: &str, f: impl FnOnce(Option<&regex::bytes::Regex>) -> R) -> R {
        let Ok(mut all) = self.0.lock() else {
            return f(None);
        };
        f(all
            .entry(p.to_string())
            .or_insert_with(|| compile(p).filter(|_| safe_pattern(p)))
            .as_ref())
    }
    fn add(&self, p: &str) -> bool {
        self.with(p, |re| re.is_some())
    }
    fn is_match(&self, p: &str, s: &str) -> bool {
        self.with(p, |re| re.is_some_and(|re| re.is_match(s.as_bytes())))
    }
}

fn check(schema: J, v: &Value, pats: &Patterns) -> bool {
    match v {
        Value::Map(m) => check_map(schema, m, pats),
        other => check_value(schema, other, pats),
    }
}

const DRAFTS: [&str; 6] = [
    "http://json-schema.org/draft-07/schema#",
    "http://json-schema.org/draft-07/schema",
    "https://json-schema.org/draft-07/schema#",
    "https://json-schema.org/draft-07/schema",
    "https://json-schema.org/draft/2019-09/schema",
    "https://json-schema.org/draft/2020-12/schema",
];

const TYPES: [&str; 7] = [
    "array", "boolean", "integer", "null", "number", "object", "string",
];

fn supported_root(schema: J, pats: &Patterns) -> bool {
    if let Some(s) = schema.get("$schema") {
        if !s.as_str().is_some_and(|s| DRAFTS.contains(&s)) {
            return false;
        }
    }
    supported(schema, pats)
}

/// A schema (a boolean or an object).
fn is_schema(s: J) -> bool {
    s.as_bool().is_some() || s.is_object()
}

/// Items that are all `ok` and pairwise different scalars.
fn distinct_scalars<'a>(s: J<'a>, ok: impl Fn(J<'a>) -> bool) -> Option<bool> {
    let items: Vec<J<'a>> = s.items()?.collect();
    Some(
        items
            .iter()
            .enumerate()
            .all(|(i, x)| ok(*x) && !items[..i].iter().any(|y| y.same_scalar(*x))),
    )
}

/// The whole schema, every branch (not only the ones these values reach),
/// uses only keywords this module decides, each well-formed: a schema the
/// full validator would reject as invalid is never accepted here. A key
/// given twice is checked in both places, though only the last counts.
fn supported(schema: J, pats: &Patterns) -> bool {
    if schema.as_bool().is_some() {
        return true;
    }
    let Some(mut entries) = schema.entries() else {
        return false;
    };
    entries.all(|(k, s)| match k {
        Some("$schema" | "title" | "description" | "$comment") => s.is_string(),
        Some("default") => true,
        Some("type") => match s.as_str() {
            Some(t) => TYPES.contains(&t),
            None => {
                s.items().is_some_and(|ts| ts.len() > 0)
                    && distinct_scalars(s, |t| t.as_str().is_some_and(|t| TYPES.contains(&t)))
                        == Some(true)
            }
        },
        Some("properties") => s
            .entries()
            .is_some_and(|mut p| p.all(|(name, x)| name.is_some() && supported(x, pats))),
        Some("additionalProperties" | "items") => is_schema(s) && supported(s, pats),
        Some("required") => distinct_scalars(s, |x| x.is_string()) == Some(true),
        Some("enum") => {
            s.items().is_some_and(|e| e.len() > 0)
                && distinct_scalars(s, |x| x.is_string() || x.as_bool().is_some() || x.is_null())
                    == Some(true)
        }
        Some("minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum") => {
            s.as_f64().is_some_and(f64::is_finite)
        }
        Some("pattern") => s.as_str().is_some_and(|p| safe_pattern(p) && pats.add(p)),
        _ => false,
    })
}

/// Patterns whose meaning is the same in ECMA-262 (what JSON Schema
/// specifies) and in the `regex` crate, for ASCII text: no `.` (ECMA's
/// excludes `\r`), no look-around or back-references, no class set
/// operations (`&&`, `--`, `~~`, `[:alpha:]` are literal in ECMA), no
/// `{,n}` (literal in ECMA), and only the escapes below.
fn safe_pattern(p: &str) -> bool {
    if p.contains("--") || p.contains("{,") {
        return false;
    }
    let b = p.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                if !b
                    .get(i + 1)
                    .is_some_and(|c| b"sSdDwW.\\/^$|()[]{}*+?".contains(c))
                {
                    return false;
                }
                i += 2;
                continue;
            }
            b'.' => return false,
            b'(' if b.get(i + 1) == Some(&b'?') => return false,
            c if c.is_ascii_alphanumeric() || b"^$()|*+?{},-_ []@#=!<>'\"%`".contains(&c) => {}
            _ => return false,
        }
        i += 1;
    }
    true
}

/// JSON Schema's type names for a value, as the full validator sees it
/// after `schema::to_serde` (integral floats are integers). None: not sure.
fn type_matches(t: &str, v: &Value) -> Option<bool> {
    Some(match (t, v) {
        ("null", Value::Null) | ("boolean", Value::Bool(_)) => true,
        ("string", Value::String(_)) | ("array", Value::List(_)) | ("object", Value::Map(_)) => {
            true
        }
        ("integer" | "number", Value::Int(_)) => true,
        (_, Value::Float(f)) if !f.is_finite() => return None,
        ("number", Value::Float(_)) => true,
        ("integer", Value::Float(f)) => {
            if f.fract() != 0.0 {
                false
            } else if f.abs() < 9.0e15 {
                true
            } else {
                return None;
            }
        }
        _ => false,
    })
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) if i.unsigned_abs() <= 1 << 53 => Some(*i as f64),
        Value::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    }
}

fn is_number(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Float(_))
}

/// Keywords that apply to any instance; `rest` handles the typed ones.
fn check_common(obj: J, v: &Value, pats: &Patterns) -> bool {
    if let Some(t) = obj.get("type") {
        let ok = match (t.as_str(), t.items()) {
            (Some(t), _) => type_matches(t, v),
            (None, Some(ts)) => {
                let mut any = Some(false);
                for t in ts.filter_map(J::as_str) {
                    match type_matches(t, v) {
                        Some(true) => {
                            any = Some(true);
                            break;
                        }
                        Some(false) => {}
                        None => any = None,
                    }
                }
                any
            }
            _ => None,
        };
        if ok != Some(true) {
            return false;
        }
    }
    if let Some(mut e) = obj.get("enum").and_then(J::items) {
        let hit = e.any(|x| match v {
            Value::String(b) => x.as_str() == Some(b.as_str()),
            Value::Bool(b) => x.as_bool() == Some(*b),
            Value::Null => x.is_null(),
            _ => false,
        });
        if !hit {
            return false;
        }
    }
    if is_number(v) {
        let bounds = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];
        if bounds.iter().any(|b| obj.get(b).is_some()) {
            let Some(n) = as_f64(v) else {
                return false;
            };
            for b in bounds {
                if let Some(lim) = obj.get(b).and_then(J::as_f64) {
                    let ok = match b {
                        "minimum" => n >= lim,
                        "maximum" => n <= lim,
                        "exclusiveMinimum" => n > lim,
                        _ => n < lim,
                    };
                    if !ok {
                        return false;
                    }
                }
            }
        }
    }
    if let (Some(p), Value::String(s)) = (obj.get("pattern").and_then(J::as_str), v) {
        if !s.is_ascii() || !pats.is_match(p, s) {
            return false;
        }
    }
    true
}

fn check_value(schema: J, v: &Value, pats: &Patterns) -> bool {
    if let Some(b) = schema.as_bool() {
        return b;
    }
    if !schema.is_object() || !check_common(schema, v, pats) {
        return false;
    }
    match (schema.get("items"), v) {
        (Some(items), Value::List(l)) => l.iter().all(|x| check(items, x, pats)),
        _ => true,
    }
}

fn check_map(schema: J, m: &Map, pats: &Patterns) -> bool {
    if let Some(b) = schema.as_bool() {
        return b;
    }
    if !schema.is_object() {
        return false;
    }
    // Type, enum and bounds on a map: only `type` can match or fail here.
    if let Some(t) = schema.get("type") {
        let ok = match (t.as_str(), t.items()) {
            (Some(t), _) => t == "object",
            (None, Some(mut ts)) => ts.any(|t| t.as_str() == Some("object")),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    if schema.get("enum").is_some() {
        return false;
    }
    if let Some(mut req) = schema.get("required").and_then(J::items) {
        if !req.all(|k| k.as_str().is_none_or(|k| m.contains_key(k))) {
            return false;
        }
    }
    let props = schema.get("properties");
    let extra = schema.get("additionalProperties");
    m.iter().all(|(k, v)| match props.and_then(|p| p.get(k)) {
        Some(s) => check(s, v, pats),
        None => extra.is_none_or(|s| check(s, v, pats)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::yaml::parse_values;

    /// The fast check of `schema` (JSON text) on `v`.
    fn fast(schema: &str, v: &Map) -> bool {
        let doc = crate::values::json_doc::parse(schema).unwrap();
        surely_valid(doc.view(schema), v)
    }
    fn m(s: &str) -> Map {
        parse_values(s, None).unwrap()
    }

    #[test]
    fn accepts_what_it_can_decide() {
        let s = r#"{"type":"object","additionalProperties":false,"properties":{
            "num":{"type":"integer","minimum":1},
            "mode":{"type":"string","enum":["a","b"]},
            "list":{"type":"array","items":{"type":"string"}},
            "auth":{"type":"string","pattern":"^\\s*(basic|oidc)(\\s*,\\s*(basic|oidc))*\\s*$"},
            "free":{"type":["string","number"]}}}"#;
        assert!(fast(
            s,
            &m("num: 2\nmode: a\nlist: [x]\nauth: basic, oidc\nfree: 3.5\n")
        ));
        for bad in [
            "num: 0\n",
            "num: 1.5\n",
            "mode: c\n",
            "list: [1]\n",
            "auth: ldap\n",
            "typo: 1\n",
            "free: true\n",
        ] {
            assert!(!fast(s, &m(bad)), "{bad}");
        }
    }

    #[test]
    fn unsure_means_not_accepted() {
        let v = m("a: x\n");
        // Unknown keywords, malformed schemas and a draft it does not know,
        // even on branches these values never reach.
        for s in [
            r#"{"properties":{"b":{"format":"email"}}}"#,
            r#"{"properties":{"b":{"type":"strin"}}}"#,
            r#"{"properties":{"b":{"type":["string","string"]}}}"#,
            r#"{"properties":{"b":{"description":5}}}"#,
            r#"{"$schema":"http://json-schema.org/draft-04/schema#"}"#,
            r#"{"properties":{"a":{"pattern":"^.+$"}}}"#,
            r#"{"properties":{"a":{"pattern":"^(?=x)"}}}"#,
            r#"{"properties":{"a":{"pattern":"^[a&&b]$"}}}"#,
            r#"{"properties":{"a":{"pattern":"^x{,2}$"}}}"#,
            r#"{"properties":{"a":{"pattern":"("}}}"#,
        ] {
            assert!(!fast(s, &v), "{s}");
        }
        // Huge integral floats and non-ASCII text under a pattern.
        let s = r#"{"properties":{"num":{"type":"integer"},"p":{"pattern":"^\\s*x$"}}}"#;
        assert!(!fast(s, &m("num: 1e16\n")));
        assert!(!fast(s, &m("p: \"\u{a0}x\"\n")));
    }

    fn set_path(m: &mut Map, path: &str, v: Value) {
        match path.split_once('.') {
            None => {
                m.insert(path.to_string(), v);
            }
            Some((head, rest)) => {
                if let Some(Value::Map(inner)) = m.get_mut(head) {
                    set_path(inner, rest, v);
                }
            }
        }
    }

    /// Whenever the fast check accepts, the full validator agrees: the
    /// embedded chart's schema against its defaults and many variations.
    #[test]
    fn agrees_with_the_full_validator() {
        let schema_text = include_str!("../../values/values.schema.json");
        let doc = crate::values::json_doc::parse(schema_text).unwrap();
        let schema = doc.view(schema_text);
        let defaults = m(include_str!("../../values/values.yaml"));
        assert!(
            supported_root(schema, &Patterns::default()),
            "the embedded schema must take the fast path"
        );
        assert!(surely_valid(schema, &defaults));
        let mut variants = Vec::new();
        fn leaves(v: &Map, prefix: &str, out: &mut Vec<String>) {
            for (k, x) in v {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match x {
                    Value::Map(m) if !m.is_empty() => leaves(m, &p, out),
                    _ => out.push(p),
                }
            }
        }
        let mut paths = Vec::new();
        leaves(&defaults, "", &mut paths);
        let replacements = [
            Value::Null,
            Value::Bool(true),
            Value::Int(0),
            Value::Int(-3),
            Value::Float(2.0),
            Value::Float(0.5),
            Value::String("basic, oidc".into()),
            Value::String("x".into()),
            Value::List(vec![Value::String("a".into())]),
            Value::Map(Map::new()),
        ];
        for p in &paths {
            for r in &replacements {
                let mut v = defaults.clone();
                set_path(&mut v, p, r.clone());
                variants.push(v);
            }
        }
        let mut accepted = 0;
        // (Among the variants, the auth types are "x", which the schema's
        // pattern refuses, and "basic, oidc", which it accepts.)
        for v in &variants {
            if surely_valid(schema, v) {
                accepted += 1;
                let errs = crate::values::schema::validate_fully(schema_text, v).unwrap();
                assert!(
                    errs.is_empty(),
                    "fast check accepted values the schema rejects: {errs:?}"
                );
            }
        }
        assert!(
            accepted > variants.len() / 10,
            "{accepted} of {}",
            variants.len()
        );
    }
}
