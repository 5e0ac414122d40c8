//! Helm/sprig-style filters and functions with Helm's semantics. Each is
//! registered as a filter (subject first: `x | toYaml | nindent(4)`) and as a
//! function (`toYaml(x)`), so templates read naturally either way.

use super::convert::{from_jinja, go_print, go_str, to_jinja};
use crate::values::gofmt::go_quote;
use crate::values::{json, yamlout, Map, Value};
use base64::Engine;
use minijinja::value::{Rest, Value as JValue, ValueKind};
use minijinja::{Environment, Error as JError, ErrorKind, State};
use sha2::Digest;

fn err(msg: impl Into<String>) -> JError {
    JError::new(ErrorKind::InvalidOperation, msg.into())
}

/// Sprig's `strval`: strings as they are, everything else as Go's `%v`.
fn strval(v: &JValue) -> String {
    go_print(v)
}

/// An argument Sprig declares as a string: Go's template engine refuses
/// anything else before the function runs.
fn go_string(v: &JValue) -> Result<String, JError> {
    match v.kind() {
        ValueKind::String => Ok(v.as_str().unwrap_or_default().to_string()),
        ValueKind::Undefined | ValueKind::None => Err(err("invalid value; expected string")),
        _ => Err(err(format!(
            "wrong type for value; expected string; got {}",
            go_type(&from_jinja(v))
        ))),
    }
}

/// Sprig's `empty`.
pub fn is_empty(v: &JValue) -> bool {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => true,
        ValueKind::Bool => !v.is_true(),
        ValueKind::Number => f64::try_from(v.clone()).map(|f| f == 0.0).unwrap_or(false),
        ValueKind::String => v.as_str().map(str::is_empty).unwrap_or(true),
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => {
            v.len().map(|l| l == 0).unwrap_or(false)
        }
        _ => false,
    }
}

/// Helm's `toYaml` goes through JSON, which has no infinities or NaN: a
/// value holding one gives the empty string, as its `toJson` does.
fn to_yaml(v: JValue) -> String {
    let v = from_jinja(&v);
    let mut stack = vec![&v];
    while let Some(x) = stack.pop() {
        match x {
            Value::Float(f) if !f.is_finite() => return String::new(),
            Value::List(items) => stack.extend(items),
            Value::Map(m) => stack.extend(m.values()),
            _ => {}
        }
    }
    yamlout::to_yaml(&v)
}

fn to_json(v: JValue) -> String {
    json::to_json(&from_jinja(&v)).unwrap_or_default()
}

fn to_pretty_json(v: JValue) -> String {
    json::to_json_pretty(&from_jinja(&v)).unwrap_or_default()
}

fn from_yaml(s: String) -> JValue {
    match crate::values::yaml::parse_one(&s) {
        Ok(v) => to_jinja(&v),
        Err(e) => {
            let mut m = Map::new();
            m.insert("Error".into(), Value::String(e.to_string()));
            to_jinja(&Value::Map(m))
        }
    }
}

fn from_json(s: String) -> JValue {
    match serde_json::from_str::<serde_json::Value>(&s) {
        Ok(v) => to_jinja(&crate::values::set::from_json(v)),
        Err(e) => {
            let mut m = Map::new();
            m.insert("Error".into(), Value::String(e.to_string()));
            to_jinja(&Value::Map(m))
        }
    }
}

/// Helm's `indent`: every line, blank ones included, gets the padding.
/// Bound on `until`, `indent` and friends, as minijinja bounds `range`: a
/// hostile template cannot allocate without limit through them.
const MAX_ITEMS: usize = 100_000;

/// The longest string one function call may make (indent, repeat, printf):
/// far past any manifest, and well short of exhausting memory.
const MAX_STRING_BYTES: usize = 64 << 20;

fn too_many(what: &str, n: impl std::fmt::Display) -> JError {
    JError::new(
        ErrorKind::InvalidOperation,
        format!("{what}: {n} is more than the {MAX_ITEMS} allowed"),
    )
}

fn too_long(what: &str, n: usize) -> JError {
    JError::new(
        ErrorKind::InvalidOperation,
        format!("{what}: a string of {n} bytes is more than the {MAX_STRING_BYTES} allowed"),
    )
}

fn indent(s: JValue, n: usize) -> Result<String, JError> {
    indented(&go_string(&s)?, n, false)
}

/// `text` with `n` spaces before each line (one pass, one allocation),
/// after a newline when `newline` is set.
fn indented(text: &str, n: usize, newline: bool) -> Result<String, JError> {
    if n > MAX_ITEMS {
        return Err(too_many("indent", n));
    }
    let lines = memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1;
    let total = lines.saturating_mul(n).saturating_add(text.len());
    if total > MAX_STRING_BYTES {
        return Err(too_long("indent", total));
    }
    let mut out = String::with_capacity(total + 1);
    if newline {
        out.push('\n');
    }
    // Lines found with memchr and padding copied in slices: this runs on
    // most of a render's output, a character at a time was a visible cost.
    const SPACES: &str = "                                                                ";
    let b = text.as_bytes();
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', b).chain(std::iter::once(b.len())) {
        if start > 0 {
            out.push('\n');
        }
        let mut pad = n;
        while pad > 0 {
            let k = pad.min(SPACES.len());
            out.push_str(&SPACES[..k]);
            pad -= k;
        }
        out.push_str(&text[start..end]);
        start = end + 1;
    }
    Ok(out)
}

/// `block(n)`: the text trimmed, then on new lines indented by `n`; nothing
/// at all when the text is blank. For placing helper output whose leading
/// and trailing blank lines should not matter.
fn block(s: JValue, n: usize) -> Result<String, JError> {
    let text = go_str(&s);
    let t = text.trim_matches(|c: char| c == '\n' || c == ' ' || c == '\r');
    if t.is_empty() {
        Ok(String::new())
    } else {
        indented(t, n, true)
    }
}

fn nindent(s: JValue, n: usize) -> Result<String, JError> {
    indented(&go_string(&s)?, n, true)
}

fn quote(v: JValue, rest: Rest<JValue>) -> String {
    std::iter::once(v)
        .chain(rest.0)
        .filter(|x| !x.is_none() && !x.is_undefined())
        .map(|x| go_quote(&strval(&x)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn squote(v: JValue, rest: Rest<JValue>) -> String {
    std::iter::once(v)
        .chain(rest.0)
        .filter(|x| !x.is_none() && !x.is_undefined())
        .map(|x| format!("'{}'", strval(&x)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `value | default(fallback)`: the fallback when the value is empty.
fn default(v: JValue, fallback: Option<JValue>) -> JValue {
    if is_empty(&v) {
        fallback.unwrap_or_default()
    } else {
        v
    }
}

fn required(msg: String, v: Option<JValue>) -> Result<JValue, JError> {
    match v {
        None => Err(err(msg)),
        Some(v) if v.is_none() || v.is_undefined() => Err(err(msg)),
        Some(v) if v.as_str() == Some("") => Err(err(msg)),
        Some(v) => Ok(v),
    }
}

fn fail(msg: String) -> Result<JValue, JError> {
    Err(err(msg))
}

fn b64enc(s: JValue) -> Result<String, JError> {
    Ok(base64::engine::general_purpose::STANDARD.encode(go_string(&s)?))
}

fn b64dec(s: String) -> String {
    match base64::engine::general_purpose::STANDARD.decode(s.as_bytes()) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => e.to_string(),
    }
}

fn sha256sum(s: JValue) -> Result<String, JError> {
    let d = sha2::Sha256::digest(go_string(&s)?.as_bytes());
    Ok(d.iter().map(|b| format!("{b:02x}")).collect())
}

fn trunc(s: JValue, n: i64) -> Result<String, JError> {
    let s = go_string(&s)?;
    let len = s.len() as i64;
    if n < 0 && len + n > 0 {
        // Byte offsets like Go; step forward to a char boundary.
        let mut i = (len + n) as usize;
        while !s.is_char_boundary(i) {
            i += 1;
        }
        Ok(s[i..].to_string())
    } else if n >= 0 && len > n {
        // Byte offsets like Go; step back to a char boundary.
        let mut i = n as usize;
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        Ok(s[..i].to_string())
    } else {
        Ok(s)
    }
}

fn trim_suffix(s: JValue, suffix: String) -> Result<String, JError> {
    let s = go_string(&s)?;
    Ok(s.strip_suffix(suffix.as_str())
        .map(str::to_string)
        .unwrap_or(s))
}

fn trim_prefix(s: JValue, prefix: String) -> Result<String, JError> {
    let s = go_string(&s)?;
    Ok(s.strip_prefix(prefix.as_str())
        .map(str::to_string)
        .unwrap_or(s))
}

fn trim_all(s: JValue, cutset: String) -> Result<String, JError> {
    Ok(go_string(&s)?
        .trim_matches(|c| cutset.contains(c))
        .to_string())
}

fn title(s: JValue) -> Result<String, JError> {
    let mut out = String::new();
    let mut prev_letter = false;
    for c in go_string(&s)?.chars() {
        if !prev_letter && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_letter = c.is_alphanumeric() || c == '_' || c == '\'';
    }
    Ok(out)
}

fn contains(s: JValue, sub: JValue) -> Result<bool, JError> {
    Ok(go_string(&s)?.contains(&go_string(&sub)?))
}

fn has_prefix(s: JValue, p: JValue) -> Result<bool, JError> {
    Ok(go_string(&s)?.starts_with(&go_string(&p)?))
}

fn has_suffix(s: JValue, p: JValue) -> Result<bool, JError> {
    Ok(go_string(&s)?.ends_with(&go_string(&p)?))
}

/// Go's refusal of a `got` where a function takes a table.
fn not_a_map(got: &str) -> JError {
    err(format!(
        "wrong type for value; expected map[string]interface {{}}; got {got}"
    ))
}

/// Sprig's `hasKey`: nil is an empty table; anything else that is not a
/// table is refused, as Go refuses the argument.
fn has_key(m: JValue, key: String) -> Result<bool, JError> {
    match m.kind() {
        ValueKind::Map => Ok(m
            .get_item(&JValue::from(key.as_str()))
            .map(|v| !v.is_undefined())
            .unwrap_or(false)),
        ValueKind::Undefined | ValueKind::None => Ok(false),
        _ => Err(not_a_map(go_type(&from_jinja(&m)))),
    }
}

/// Sprig's `merge` (mergo without overwrite): keys already in `dst` win, maps
/// merge deeply.
fn merge_into(dst: &mut Map, src: &Map, overwrite: bool) {
    for (k, v) in src {
        // mergo passes a nil over, unless it overwrites: then it is set.
        if matches!(v, Value::Null) {
            if overwrite {
                dst.insert(k.clone(), Value::Null);
            }
            continue;
        }
        match (dst.get_mut(k), v) {
            (Some(Value::Map(d)), Value::Map(s)) => merge_into(d, s, overwrite),
            (Some(existing), _) => {
                // mergo: without overwrite, an empty value still gives way.
                if overwrite || !existing.truthy() {
                    *existing = v.clone();
                }
            }
            (None, _) => {
                dst.insert(k.clone(), v.clone());
            }
        }
    }
}

/// A `merge` argument as a table: Go refuses anything else. A nil that
/// comes through a variable or a pipeline is an empty table; one read
/// straight from a field is refused, which templates say with
/// [`map_field`].
fn merge_arg(v: &JValue) -> Result<Map, JError> {
    match from_jinja(v) {
        Value::Map(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        other => Err(not_a_map(go_type(&other))),
    }
}

/// `x | map_field`: a map read straight from a field (`.Values.a.b`) as the
/// argument of a function that takes a map. Go hands such a field over as
/// an empty interface and refuses it when it is nil or missing.
fn map_field(v: JValue) -> Result<JValue, JError> {
    match v.kind() {
        ValueKind::Map => Ok(v),
        ValueKind::Undefined | ValueKind::None => Err(not_a_map("interface {}")),
        _ => Err(not_a_map(go_type(&from_jinja(&v)))),
    }
}

/// `item | go_fields("name")`: a value whose fields a Go template reads
/// (`.name`), typically an item of a user's list. Go refuses to read a
/// field of nil or of anything that is not a map; minijinja would read
/// nothing and go on.
fn go_fields(v: JValue, field: String) -> Result<JValue, JError> {
    match v.kind() {
        ValueKind::Map => Ok(v),
        ValueKind::Undefined | ValueKind::None => Err(err(format!(
            "nil pointer evaluating interface {{}}.{field}"
        ))),
        _ => Err(err(format!(
            "can't evaluate field {field} in type interface {{}}"
        ))),
    }
}

/// What Go's `range` visits in a value that is not a list: a map's
/// (key, value) pairs in key order (the engine's maps keep their keys
/// sorted, as Go visits them), nothing for nil or missing; a scalar is
/// refused.
fn map_entries(v: &JValue) -> Result<Vec<(JValue, JValue)>, JError> {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => Ok(Vec::new()),
        ValueKind::Map => v
            .try_iter()?
            .map(|k| Ok((k.clone(), v.get_item(&k)?)))
            .collect(),
        _ => Err(err(format!(
            "range can't iterate over {}",
            super::convert::go_str(v)
        ))),
    }
}

/// `x | go_each`: what Go's one-variable `range` visits: a list's items or
/// a map's values.
fn go_each(v: JValue) -> Result<JValue, JError> {
    if v.kind() == ValueKind::Seq {
        return Ok(v);
    }
    let values: Vec<JValue> = map_entries(&v)?.into_iter().map(|(_, val)| val).collect();
    Ok(JValue::from(values))
}

/// `x | go_range`: what Go's two-variable `range` visits, as (key, value)
/// pairs: a list's items with their indexes, or a map's entries.
fn go_range(v: JValue) -> Result<JValue, JError> {
    let pairs: Vec<JValue> = if v.kind() == ValueKind::Seq {
        v.try_iter()?
            .enumerate()
            .map(|(i, item)| JValue::from(vec![JValue::from(i), item]))
            .collect()
    } else {
        map_entries(&v)?
            .into_iter()
            .map(|(k, val)| JValue::from(vec![k, val]))
            .collect()
    };
    Ok(JValue::from(pairs))
}

/// `names | go_named("x")`: the name of the macro a value's template
/// includes as "x".
fn go_named(names: JValue, name: String) -> Result<JValue, JError> {
    match names.get_item(&JValue::from(name.as_str())) {
        Ok(m) if !m.is_undefined() && !m.is_none() => Ok(m),
        _ => Err(err(format!(
            "template: no template {name:?} associated with template \"gotpl\""
        ))),
    }
}

/// Go's name for the type a value decodes to.
fn go_type(v: &Value) -> &'static str {
    crate::values::set::go_type(v)
}

fn merge_all(dst: JValue, rest: Rest<JValue>, overwrite: bool) -> Result<JValue, JError> {
    let mut d = merge_arg(&dst)?;
    for s in rest.0 {
        merge_into(&mut d, &merge_arg(&s)?, overwrite);
    }
    Ok(to_jinja(&Value::Map(d)))
}

fn merge(dst: JValue, rest: Rest<JValue>) -> Result<JValue, JError> {
    merge_all(dst, rest, false)
}

fn merge_overwrite(dst: JValue, rest: Rest<JValue>) -> Result<JValue, JError> {
    merge_all(dst, rest, true)
}

fn semver_compare(constraint: String, version: JValue) -> Result<bool, JError> {
    crate::version::semver_compare(&constraint, &strval(&version)).map_err(err)
}

/// Go's RE2 syntax in Rust's: the Perl classes `\d \s \w` (and their
/// negations and `\b \B`) are ASCII-only in Go but Unicode-aware in Rust,
/// so they are spelled out. A nested class works inside `[...]` as well.
fn go_regex_syntax(pat: &str) -> std::borrow::Cow<'_, str> {
    if !pat.contains('\\') {
        return pat.into();
    }
    let mut out = String::with_capacity(pat.len() + 16);
    let mut chars = pat.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('d') => out.push_str("[0-9]"),
            Some('D') => out.push_str("[^0-9]"),
            Some('s') => out.push_str(r"[\t\n\x0C\r ]"),
            Some('S') => out.push_str(r"[^\t\n\x0C\r ]"),
            Some('w') => out.push_str("[0-9A-Za-z_]"),
            Some('W') => out.push_str("[^0-9A-Za-z_]"),
            Some('b') => out.push_str(r"(?-u:\b)"),
            Some('B') => out.push_str(r"(?-u:\B)"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out.into()
}

thread_local! {
    /// Compiled patterns: a helper called in a loop compiles its pattern once.
    static REGEXES: std::cell::RefCell<std::collections::HashMap<String, regex::Regex>> =
        Default::default();
}

fn regex(pat: &str) -> Result<regex::Regex, JError> {
    if let Some(re) = REGEXES.with(|c| c.borrow().get(pat).cloned()) {
        return Ok(re);
    }
    let re = regex::Regex::new(&go_regex_syntax(pat))
        .map_err(|e| err(format!("invalid regular expression {pat:?}: {e}")))?;
    REGEXES.with(|c| {
        let mut cache = c.borrow_mut();
        // Bounded: a template building a new pattern per item must not
        // grow memory without limit.
        if cache.len() >= 256 {
            cache.clear();
        }
        cache.insert(pat.to_string(), re.clone());
    });
    Ok(re)
}

fn regex_match(pat: String, s: JValue) -> Result<bool, JError> {
    Ok(regex(&pat)?.is_match(&go_string(&s)?))
}

/// Go's regexp expands `$1`/`${name}` like Rust's regex, so the replacement
/// string is passed through.
fn regex_replace_all(pat: String, s: JValue, repl: String) -> Result<String, JError> {
    Ok(regex(&pat)?
        .replace_all(&go_string(&s)?, repl.as_str())
        .into_owned())
}

fn regex_find(pat: String, s: JValue) -> Result<String, JError> {
    Ok(regex(&pat)?
        .find(&go_string(&s)?)
        .map(|m| m.as_str().to_string())
        .unwrap_or_default())
}

/// Sprig's `int`/`int64`: numbers truncate, strings parse (0 on failure).
fn to_int(v: JValue) -> i64 {
    match v.kind() {
        ValueKind::Number => {
            if v.is_integer() {
                i64::try_from(v).unwrap_or(0)
            } else {
                f64::try_from(v).map(|f| f as i64).unwrap_or(0)
            }
        }
        ValueKind::Bool => v.is_true() as i64,
        ValueKind::String => {
            let s = v.as_str().unwrap_or_default().trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| s.parse::<f64>().ok().map(|f| f as i64))
                .unwrap_or(0)
        }
        _ => 0,
    }
}

fn to_float(v: JValue) -> f64 {
    match v.kind() {
        ValueKind::Number => f64::try_from(v).unwrap_or(0.0),
        ValueKind::Bool => v.is_true() as i64 as f64,
        ValueKind::String => v.as_str().unwrap_or_default().trim().parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

fn to_string(v: JValue) -> String {
    strval(&v)
}

fn kind_of(v: JValue) -> String {
    match from_jinja(&v) {
        Value::Null => "invalid".into(),
        Value::Bool(_) => "bool".into(),
        Value::Int(_) => "int64".into(),
        Value::Float(_) => "float64".into(),
        Value::String(_) => "string".into(),
        Value::List(_) => "slice".into(),
        Value::Map(_) => "map".into(),
    }
}

fn kind_is(kind: String, v: JValue) -> bool {
    kind_of(v) == kind
}

fn type_of(v: JValue) -> String {
    match from_jinja(&v) {
        Value::Null => "<nil>".into(),
        Value::Bool(_) => "bool".into(),
        Value::Int(_) => "int64".into(),
        Value::Float(_) => "float64".into(),
        Value::String(_) => "string".into(),
        Value::List(_) => "[]interface {}".into(),
        Value::Map(_) => "map[string]interface {}".into(),
    }
}

fn coalesce(args: Rest<JValue>) -> JValue {
    args.0
        .into_iter()
        .find(|v| !is_empty(v))
        .unwrap_or_default()
}

fn ternary(v: JValue, if_true: JValue, if_false: JValue) -> JValue {
    if v.is_true() {
        if_true
    } else {
        if_false
    }
}

fn keys(m: JValue) -> JValue {
    match from_jinja(&m) {
        Value::Map(m) => JValue::from(
            m.keys()
                .map(|k| JValue::from(k.as_str()))
                .collect::<Vec<_>>(),
        ),
        _ => JValue::from(Vec::<JValue>::new()),
    }
}

fn pick(m: JValue, rest: Rest<String>) -> JValue {
    let mut out = Map::new();
    if let Value::Map(src) = from_jinja(&m) {
        for k in rest.0 {
            if let Some(v) = src.get(&k) {
                out.insert(k, v.clone());
            }
        }
    }
    to_jinja(&Value::Map(out))
}

fn omit(m: JValue, rest: Rest<String>) -> JValue {
    let mut src = from_jinja(&m).as_map().cloned().unwrap_or_default();
    for k in rest.0 {
        src.remove(&k);
    }
    to_jinja(&Value::Map(src))
}

fn split_list(s: JValue, sep: String) -> Result<JValue, JError> {
    Ok(JValue::from(
        go_string(&s)?
            .split(sep.as_str())
            .map(|p| JValue::from(p.to_string()))
            .collect::<Vec<_>>(),
    ))
}

fn uniq(l: JValue) -> JValue {
    let mut out: Vec<Value> = Vec::new();
    if let Value::List(items) = from_jinja(&l) {
        for it in items {
            if !out.contains(&it) {
                out.push(it);
            }
        }
    }
    to_jinja(&Value::List(out))
}

fn compact(l: JValue) -> JValue {
    let items: Vec<JValue> = l
        .try_iter()
        .map(|it| it.filter(|v| !is_empty(v)).collect())
        .unwrap_or_default();
    JValue::from(items)
}

fn sort_alpha(l: JValue) -> JValue {
    let mut items: Vec<String> = l
        .try_iter()
        .map(|it| it.map(|v| strval(&v)).collect())
        .unwrap_or_default();
    items.sort();
    JValue::from(items.into_iter().map(JValue::from).collect::<Vec<_>>())
}

fn to_strings(l: JValue) -> JValue {
    JValue::from(
        l.try_iter()
            .map(|it| it.map(|v| JValue::from(strval(&v))).collect::<Vec<_>>())
            .unwrap_or_default(),
    )
}

fn join_list(l: JValue, sep: String) -> String {
    match l.kind() {
        ValueKind::Seq | ValueKind::Iterable => l
            .try_iter()
            .map(|it| it.map(|v| strval(&v)).collect::<Vec<_>>().join(&sep))
            .unwrap_or_default(),
        _ => strval(&l),
    }
}

/// Sprig's `repeat COUNT S` (here `S | repeat(COUNT)`).
fn repeat(s: JValue, count: i64) -> Result<String, JError> {
    let s = go_string(&s)?;
    if count < 0 {
        return Err(err("strings: negative Repeat count"));
    }
    let total = s.len().saturating_mul(count as usize);
    if total > MAX_STRING_BYTES {
        return Err(too_long("repeat", total));
    }
    Ok(s.repeat(count as usize))
}

/// Sprig's `substr START END S` (here `S | substr(START, END)`): byte
/// offsets as Go slices them; a negative start is 0, an end past the
/// string or negative is its end, a start past the end fails as Go does.
fn substr(s: JValue, start: i64, end: i64) -> Result<String, JError> {
    let s = go_string(&s)?;
    let len = s.len() as i64;
    let (from, to) = if start < 0 {
        (0, end)
    } else if end < 0 || end > len {
        (start, len)
    } else {
        (start, end)
    };
    if to < 0 || to > len || from > to {
        return Err(err(format!(
            "runtime error: slice bounds out of range [{from}:{to}]"
        )));
    }
    // Go slices bytes; a cut inside a character keeps the whole character.
    let (mut from, mut to) = (from as usize, to as usize);
    while !s.is_char_boundary(from) {
        from -= 1;
    }
    while !s.is_char_boundary(to) {
        to += 1;
    }
    Ok(s[from..to].to_string())
}

/// Sprig's `cat`: its arguments as `%v` prints them, nil left out,
/// separated by spaces.
fn cat(args: Rest<JValue>) -> String {
    args.0
        .iter()
        .filter(|v| !v.is_none() && !v.is_undefined())
        .map(strval)
        .collect::<Vec<_>>()
        .join(" ")
}

fn add1(v: JValue) -> i64 {
    to_int(v).wrapping_add(1)
}

fn modulo(a: JValue, b: JValue) -> Result<i64, JError> {
    match to_int(b) {
        0 => Err(err("runtime error: integer divide by zero")),
        b => Ok(to_int(a).wrapping_rem(b)),
    }
}

/// Go's strconv.Atoi, 0 where it fails.
fn atoi(s: JValue) -> Result<i64, JError> {
    Ok(go_string(&s)?.parse().unwrap_or(0))
}

fn nospace(s: JValue) -> Result<String, JError> {
    Ok(go_string(&s)?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect())
}

fn until(n: i64) -> Result<JValue, JError> {
    if n > MAX_ITEMS as i64 {
        return Err(too_many("until", n));
    }
    Ok(JValue::from(
        (0..n.max(0)).map(JValue::from).collect::<Vec<_>>(),
    ))
}

/// A subset of Go's fmt verbs: %s %v %d %q %f %t %x %%.
pub fn printf(format: String, args: Rest<JValue>) -> Result<String, JError> {
    let mut out = String::new();
    let mut it = args.0.into_iter();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        // flags/width/precision
        let mut spec = String::new();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_digit() || n == '.' || n == '-' || n == '+' || n == '#' || n == ' ' {
                spec.push(n);
                chars.next();
            } else {
                break;
            }
        }
        // Go gives up on a width or precision past a million: the rest of
        // the format is dropped (and no huge padding is made).
        let too_large = |d: &str| {
            d.len() > 1
                && (d.len() > 8 || d[..d.len() - 1].parse::<u32>().is_ok_and(|n| n > 1_000_000))
        };
        if spec.split(|c: char| !c.is_ascii_digit()).any(too_large) {
            out.push_str("%!(NOVERB)");
            break;
        }
        if out.len() > MAX_STRING_BYTES {
            return Err(too_long("printf", out.len()));
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = it.next() else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        let s = match verb {
            's' => go_s(&arg),
            'v' => strval(&arg),
            'q' => go_quote(&strval(&arg)),
            'd' => go_d(&arg),
            't' => arg.is_true().to_string(),
            'x' => strval(&arg).bytes().map(|b| format!("{b:02x}")).collect(),
            'f' | 'g' | 'e' => {
                let f = to_float(arg);
                let prec = spec.split('.').nth(1).and_then(|p| p.parse::<usize>().ok());
                match verb {
                    'f' => format!("{:.*}", prec.unwrap_or(6), f),
                    _ => crate::values::gofmt::go_float_g(f),
                }
            }
            other => format!("%!{other}({})", strval(&arg)),
        };
        let width: usize = spec
            .trim_start_matches('-')
            .split('.')
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or(0);
        if s.chars().count() < width {
            let pad = " ".repeat(width - s.chars().count());
            if spec.starts_with('-') {
                out.push_str(&s);
                out.push_str(&pad);
            } else {
                out.push_str(&pad);
                out.push_str(&s);
            }
        } else {
            out.push_str(&s);
        }
    }
    let extra: Vec<String> = it
        .map(|a| match from_jinja(&a) {
            Value::Null => "<nil>".to_string(),
            v => format!("{}={}", go_type(&v), strval(&a)),
        })
        .collect();
    if !extra.is_empty() {
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    Ok(out)
}

fn print(args: Rest<JValue>) -> String {
    // Go's fmt.Sprint adds spaces between operands when neither is a string.
    let mut out = String::new();
    let mut prev_string = true;
    for (i, a) in args.0.iter().enumerate() {
        let is_string = a.kind() == ValueKind::String;
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        out.push_str(&strval(a));
        prev_string = is_string;
    }
    out
}

/// How deeply `tpl` and `include_file` may nest. Each starts a fresh render,
/// which the engine's own recursion limit does not see, so a value that
/// renders itself would otherwise run the thread out of stack.
const MAX_NESTED_RENDERS: u32 = 24;

thread_local! {
    static NESTED_RENDERS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Runs a nested render, refused past [`MAX_NESTED_RENDERS`].
fn nested<T>(
    what: &str,
    state: &State,
    run: impl FnOnce() -> Result<T, JError>,
) -> Result<T, JError> {
    let depth = NESTED_RENDERS.with(|d| d.get());
    if depth >= MAX_NESTED_RENDERS {
        return Err(JError::new(
            minijinja::ErrorKind::InvalidOperation,
            format!(
                "{what} nested more than {MAX_NESTED_RENDERS} deep in {} (a value or template that renders itself?)",
                state.name()
            ),
        ));
    }
    NESTED_RENDERS.with(|d| d.set(depth + 1));
    let out = run();
    NESTED_RENDERS.with(|d| d.set(depth));
    out
}

/// Go's `%d`: an integer's digits; anything else in Go's bad-verb form,
/// `%!d(float64=3)` (numbers from values files are Go floats).
fn go_d(v: &JValue) -> String {
    let value = crate::render::convert::from_jinja(v);
    match value {
        Value::Int(i) => i.to_string(),
        Value::Null => "%!d(<nil>)".to_string(),
        _ => format!("%!d({}={})", crate::values::set::go_type(&value), strval(v)),
    }
}

/// Go's `%s`: strings and collections as `%v` prints them; a number, a
/// bool or nil in Go's bad-verb form, `%!s(float64=3)`.
fn go_s(v: &JValue) -> String {
    match v.kind() {
        ValueKind::Number | ValueKind::Bool => {
            let value = crate::render::convert::from_jinja(v);
            format!("%!s({}={})", crate::values::set::go_type(&value), strval(v))
        }
        ValueKind::None | ValueKind::Undefined => "%!s(<nil>)".to_string(),
        _ => strval(v),
    }
}

/// `tpl(text, ctx[, helpers])`: renders a string written in Go's template
/// syntax (a setting from values, as Helm's `tpl` takes it) with `ctx` as
/// `.`. With `helpers` (`{"from": partial, "names": {go name: macro}}`,
/// the partial named as the calling template imports it), its `include`
/// and `template` call the partial's macros by their Go names.
fn tpl(
    state: &State,
    text: String,
    ctx: JValue,
    helpers: Option<JValue>,
) -> Result<String, JError> {
    let name = state.name().to_string();
    let t = super::gotpl::translate(&text)
        .map_err(|e| err(format!("template: gotpl: {e} (in a value passed to tpl)")))?;
    let empty = || JValue::from(std::collections::BTreeMap::<String, JValue>::new());
    let field = |k: &str| {
        helpers
            .as_ref()
            .and_then(|h| h.get_item(&JValue::from(k)).ok())
            .filter(|v| !v.is_undefined() && !v.is_none())
    };
    let mut source = t.source;
    if t.includes {
        if let Some(from) = field("from").and_then(|f| f.as_str().map(str::to_string)) {
            let from = super::gotpl::string_literal(&from);
            source = format!("{{% import {from} as __h %}}{source}");
        }
    }
    let scope = minijinja::context! {
        __dot => ctx.clone(),
        __root => ctx,
        __names => field("names").unwrap_or_else(empty),
        __h => empty(),
    };
    nested("tpl", state, || {
        let t = state.env().template_from_named_str(&name, &source)?;
        super::bounded_string(|out| t.render_captured_to(scope, out).map(drop))
    })
    .map(without_no_value)
}

/// What Go's templates print for nil or a missing key.
const NO_VALUE: &str = "<no value>";

/// A template's output as Helm keeps it: every `<no value>` removed. Helm
/// does this to each template's and each `tpl`'s output, but not to what
/// `include` returns (a checksum of an included file sees them).
pub fn without_no_value(text: String) -> String {
    if text.contains(NO_VALUE) {
        text.replace(NO_VALUE, "")
    } else {
        text
    }
}

/// `x | go_value`: a value printed as Go's templates print it, nil and
/// missing as `<no value>` (which [`without_no_value`] later removes).
/// For the places a ported template prints a setting that may be nil into
/// text that is also included and hashed.
fn go_value(v: JValue) -> String {
    if v.is_undefined() || v.is_none() {
        NO_VALUE.to_string()
    } else {
        super::convert::go_str(&v).into_owned()
    }
}

/// `include_file(path, ctx)`: renders another template of the chart tree to
/// a string (Helm's `include (print $.Template.BasePath "/x.yaml") .`).
fn include_file(state: &State, path: String, ctx: JValue) -> Result<String, JError> {
    nested("include_file", state, || {
        let t = state.env().get_template(&path)?;
        super::bounded_string(|out| t.render_captured_to(ctx, out).map(drop))
    })
}

/// `lookup` has no cluster to ask in template mode: an empty map, as Helm.
fn lookup(_a: Rest<JValue>) -> JValue {
    JValue::from(std::collections::BTreeMap::<String, JValue>::new())
}

fn dict(args: Rest<JValue>) -> Result<JValue, JError> {
    let mut m = std::collections::BTreeMap::new();
    let mut it = args.0.into_iter();
    while let Some(k) = it.next() {
        let v = it.next().unwrap_or_default();
        m.insert(strval(&k), v);
    }
    Ok(JValue::from(m))
}

fn list(args: Rest<JValue>) -> JValue {
    JValue::from(args.0)
}

fn get(m: JValue, key: String) -> JValue {
    m.get_item(&JValue::from(key.as_str()))
        .ok()
        .filter(|v| !v.is_undefined())
        .unwrap_or_else(|| JValue::from(""))
}

/// Go's `index COLLECTION KEY...`: a list's item by position (out of range
/// is an error, not nothing), a map's value by key (missing is nil).
fn go_index(coll: JValue, keys: Rest<JValue>) -> Result<JValue, JError> {
    let mut here = coll;
    for key in keys.0 {
        here = match here.kind() {
            ValueKind::Undefined | ValueKind::None => {
                return Err(err("error calling index: index of untyped nil"))
            }
            ValueKind::Seq => {
                let len = here.len().unwrap_or(0);
                let i = match key.as_i64() {
                    Some(i) if key.is_integer() => i,
                    _ => {
                        return Err(err(format!(
                            "error calling index: cannot index slice/array with type {}",
                            go_type(&from_jinja(&key))
                        )))
                    }
                };
                match usize::try_from(i).ok().filter(|i| *i < len) {
                    Some(i) => here.get_item(&JValue::from(i))?,
                    None => {
                        return Err(err(format!("error calling index: index out of range: {i}")))
                    }
                }
            }
            ValueKind::Map if key.kind() == ValueKind::String => {
                let v = here.get_item(&key)?;
                if v.is_undefined() {
                    JValue::from(())
                } else {
                    v
                }
            }
            _ => {
                // Lets a stand-in for a wrong-shaped value record the read
                // (see `render::shape`).
                let _ = here.get_item(&key);
                return Err(err(format!(
                    "error calling index: can't index item of type {}",
                    go_type(&from_jinja(&here))
                )));
            }
        };
    }
    Ok(here)
}

/// Sprig's `dig KEY... DEFAULT MAP`: the value at the key path, or the
/// default where a key is missing; a step that is not a map is an error.
fn dig(args: Rest<JValue>) -> Result<JValue, JError> {
    let mut args = args.0;
    if args.len() < 3 {
        return Err(err("dig needs at least one key, a default and a map"));
    }
    let mut here = args.pop().unwrap_or_default();
    let fallback = args.pop().unwrap_or_default();
    for key in &args {
        if here.kind() != ValueKind::Map {
            return Err(err(format!(
                "dig: interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                go_type(&from_jinja(&here))
            )));
        }
        match here.get_item(key).ok() {
            Some(v) if !v.is_undefined() => here = v,
            _ => return Ok(fallback),
        }
    }
    Ok(here)
}

/// Sprig's `urlJoin` of a map with scheme, host, path, query, fragment and
/// userinfo.
fn url_join(parts: JValue) -> String {
    let part = |k: &str| {
        parts
            .get_item(&JValue::from(k))
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_none())
            .map(|v| strval(&v))
            .unwrap_or_default()
    };
    let mut out = String::new();
    let scheme = part("scheme");
    if !scheme.is_empty() {
        out.push_str(&scheme);
        out.push(':');
    }
    let (user, host) = (part("userinfo"), part("host"));
    if !scheme.is_empty() || !host.is_empty() || !user.is_empty() {
        out.push_str("//");
        if !user.is_empty() {
            out.push_str(&user);
            out.push('@');
        }
        out.push_str(&host);
    }
    let path = part("path");
    if !path.is_empty() && !path.starts_with('/') && !host.is_empty() {
        out.push('/');
    }
    out.push_str(&path);
    let query = part("query");
    if !query.is_empty() {
        out.push('?');
        out.push_str(&query);
    }
    let fragment = part("fragment");
    if !fragment.is_empty() {
        out.push('#');
        out.push_str(&fragment);
    }
    out
}

// Sprig's integer arithmetic: every operand becomes an int64 (a float is
// truncated), and results wrap around as Go's int64 does.
fn add(a: JValue, rest: Rest<JValue>) -> i64 {
    rest.0
        .into_iter()
        .fold(to_int(a), |s, x| s.wrapping_add(to_int(x)))
}

fn mul(a: JValue, rest: Rest<JValue>) -> i64 {
    rest.0
        .into_iter()
        .fold(to_int(a), |s, x| s.wrapping_mul(to_int(x)))
}

fn sub(a: JValue, b: JValue) -> i64 {
    to_int(a).wrapping_sub(to_int(b))
}

fn div(a: JValue, b: JValue) -> Result<i64, JError> {
    let d = to_int(b);
    if d == 0 {
        return Err(err("integer divide by zero"));
    }
    Ok(to_int(a).wrapping_div(d))
}

fn max_of(a: JValue, rest: Rest<JValue>) -> i64 {
    rest.0.into_iter().fold(to_int(a), |m, x| m.max(to_int(x)))
}

fn min_of(a: JValue, rest: Rest<JValue>) -> i64 {
    rest.0.into_iter().fold(to_int(a), |m, x| m.min(to_int(x)))
}

fn first(l: JValue) -> JValue {
    l.try_iter()
        .ok()
        .and_then(|mut it| it.next())
        .unwrap_or_default()
}

fn last(l: JValue) -> JValue {
    l.try_iter()
        .ok()
        .and_then(|it| it.last())
        .unwrap_or_default()
}

fn is_empty_fn(v: JValue) -> bool {
    is_empty(&v)
}

fn lower(s: JValue) -> Result<String, JError> {
    Ok(go_string(&s)?.to_lowercase())
}

fn upper(s: JValue) -> Result<String, JError> {
    Ok(go_string(&s)?.to_uppercase())
}

fn trim(s: JValue) -> Result<String, JError> {
    Ok(go_string(&s)?.trim().to_string())
}

fn replace(s: JValue, old: String, new: String) -> Result<String, JError> {
    Ok(go_string(&s)?.replace(&old, &new))
}

/// Registers everything on an environment.
pub fn register(env: &mut Environment<'static>) {
    macro_rules! both {
        ($name:expr, $f:expr) => {
            env.add_filter($name, $f);
            env.add_function($name, $f);
        };
    }
    both!("toYaml", to_yaml);
    both!("toJson", to_json);
    both!("toPrettyJson", to_pretty_json);
    both!("fromYaml", from_yaml);
    both!("fromJson", from_json);
    both!("indent", indent);
    both!("nindent", nindent);
    both!("block", block);
    both!("quote", quote);
    both!("squote", squote);
    both!("default", default);
    both!("b64enc", b64enc);
    both!("b64dec", b64dec);
    both!("sha256sum", sha256sum);
    env.add_filter("go_value", go_value);
    env.add_filter("map_field", map_field);
    env.add_filter("go_fields", go_fields);
    env.add_filter("go_range", go_range);
    env.add_filter("go_each", go_each);
    env.add_filter("go_named", go_named);
    both!("trunc", trunc);
    both!("repeat", repeat);
    both!("substr", substr);
    env.add_function("cat", cat);
    both!("add1", add1);
    env.add_function("mod", modulo);
    both!("atoi", atoi);
    both!("trimSuffix", trim_suffix);
    both!("trimPrefix", trim_prefix);
    both!("trimAll", trim_all);
    both!("trim", trim);
    both!("lower", lower);
    both!("upper", upper);
    both!("title", title);
    both!("replace", replace);
    both!("contains", contains);
    both!("hasPrefix", has_prefix);
    both!("hasSuffix", has_suffix);
    both!("hasKey", has_key);
    both!("merge", merge);
    both!("mergeOverwrite", merge_overwrite);
    both!("int", to_int);
    both!("int64", to_int);
    both!("float64", to_float);
    both!("toString", to_string);
    // Jinja's `string` prints floats as 7233.0; Helm prints 7233.
    both!("string", to_string);
    both!("kindOf", kind_of);
    both!("typeOf", type_of);
    both!("keys", keys);
    both!("pick", pick);
    both!("omit", omit);
    both!("splitList", split_list);
    both!("uniq", uniq);
    both!("compact", compact);
    both!("sortAlpha", sort_alpha);
    both!("toStrings", to_strings);
    both!("join", join_list);
    both!("nospace", nospace);
    both!("first", first);
    both!("last", last);
    both!("empty", is_empty_fn);
    both!("get", get);
    env.add_function("required", required);
    env.add_function("fail", fail);
    env.add_function("semverCompare", semver_compare);
    env.add_function("regexMatch", regex_match);
    env.add_function("regexReplaceAll", regex_replace_all);
    env.add_function("regexFind", regex_find);
    env.add_function("kindIs", kind_is);
    env.add_function("coalesce", coalesce);
    env.add_function("ternary", ternary);
    env.add_function("printf", printf);
    env.add_function("print", print);
    env.add_function("tpl", tpl);
    env.add_function("include_file", include_file);
    env.add_function("lookup", lookup);
    env.add_function("dict", dict);
    env.add_function("list", list);
    env.add_function("until", until);
    env.add_function("dig", dig);
    env.add_function("index", go_index);
    env.add_function("urlJoin", url_join);
    env.add_function("add", add);
    env.add_function("sub", sub);
    env.add_function("mul", mul);
    env.add_function("div", div);
    env.add_function("max", max_of);
    env.add_function("min", min_of);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_passes_nils_over_unless_it_overwrites() {
        let src = "{'a': none, 'b': {'c': none, 'd': 1}}";
        assert_eq!(
            render(&format!(
                "{{{{ merge({{'b': {{'e': 2}}}}, {src}) | toJson }}}}"
            )),
            r#"{"b":{"d":1,"e":2}}"#
        );
        assert_eq!(
            render(&format!(
                "{{{{ mergeOverwrite({{'a': 1, 'b': {{'c': 3}}}}, {src}) | toJson }}}}"
            )),
            r#"{"a":null,"b":{"c":null,"d":1}}"#
        );
    }

    #[test]
    fn to_yaml_and_to_json_give_nothing_for_infinities_and_nan() {
        for expr in [
            "1e308 * 10",
            "{'k': [1e308 * -10]}",
            "(1e308 * 10) - (1e308 * 10)",
        ] {
            assert_eq!(
                render(&format!("[{{{{ toYaml({expr}) }}}}]")),
                "[]",
                "{expr}"
            );
            assert_eq!(
                render(&format!("[{{{{ toJson({expr}) }}}}]")),
                "[]",
                "{expr}"
            );
        }
        assert_eq!(render("{{ toYaml({'k': 1.5}) }}"), "k: 1.5");
    }

    #[test]
    fn index_refuses_what_go_refuses() {
        assert_eq!(render("{{ index(['a', 'b'], 1) }}"), "b");
        assert_eq!(render("{{ index({'a': {'b': 'c'}}, 'a', 'b') }}"), "c");
        for bad in [
            "index([], 0)",
            "index(['a'], -1)",
            "index(none, 0)",
            "index(true, 0)",
        ] {
            let mut env = Environment::new();
            register(&mut env);
            let out = env.render_str(&format!("{{{{ {bad} }}}}"), ());
            assert!(out.is_err(), "{bad} rendered {out:?}");
        }
    }

    fn render(src: &str) -> String {
        let mut env = Environment::new();
        register(&mut env);
        env.set_formatter(|out, _state, v| {
            out.write_str(&go_print(v))
                .map_err(|_| JError::new(ErrorKind::WriteFailure, "write"))
        });
        env.render_str(src, ()).unwrap()
    }

    /// Go's %s of a number, a bool or nil is its bad-verb form, as Helm's
    /// printf prints it; %v prints the value.
    #[test]
    fn printf_s_of_non_strings_is_gos_bad_verb() {
        assert_eq!(
            render("{{ printf('%s|%s|%s|%s|%v|%s', 3, 2.5, true, none, 3, 'x') }}"),
            "%!s(int64=3)|%!s(float64=2.5)|%!s(bool=true)|%!s(<nil>)|3|x"
        );
    }

    #[test]
    fn printf_gives_up_on_huge_widths_and_reports_extra_arguments_as_go_does() {
        let p = |f: &str, args: Vec<JValue>| printf(f.to_string(), Rest(args)).unwrap();
        assert_eq!(
            p("%99999999999999d|", vec![JValue::from(1)]),
            "%!(NOVERB)%!(EXTRA int64=1)"
        );
        assert_eq!(
            p("%.99999999999f", vec![JValue::from(1.5)]),
            "%!(NOVERB)%!(EXTRA float64=1.5)"
        );
        assert_eq!(p("%10000009d", vec![JValue::from(1)]).len(), 10_000_009);
        assert_eq!(
            p("a", vec![JValue::from("x"), JValue::from(())]),
            "a%!(EXTRA string=x, <nil>)"
        );
    }

    /// Sprig's indent: every line, the empty ones and the one after a final
    /// newline included, gets the padding.
    #[test]
    fn indents_every_line_by_any_width() {
        for text in ["", "a", "a\nb", "\n", "a\n", "\na\n\nb\n\n", "x y\n  z"] {
            for n in [0, 1, 2, 63, 64, 65, 130] {
                let pad = " ".repeat(n);
                let want: Vec<String> = text.split('\n').map(|l| format!("{pad}{l}")).collect();
                assert_eq!(indented(text, n, false).unwrap(), want.join("\n"));
                assert_eq!(
                    indented(text, n, true).unwrap(),
                    format!("\n{}", want.join("\n"))
                );
            }
        }
    }

    #[test]
    fn helm_semantics() {
        assert_eq!(render("{{ 'a\nb' | indent(2) }}"), "  a\n  b");
        assert_eq!(render("{{ 'x' | nindent(2) }}"), "\n  x");
        assert_eq!(render("{{ '' | indent(2) }}"), "  ");
        assert_eq!(render("{{ 'a\n' | indent(1) }}"), " a\n ");
        assert_eq!(render("{% for k, v in none | go_range %}x{% endfor %}"), "");
        // Go's one-variable range: a list's items, a map's values by key.
        assert_eq!(
            render("{% for x in ['p', 'q'] | go_each %}{{ x }}{% endfor %}"),
            "pq"
        );
        assert_eq!(
            render("{% for x in {'b': 1, 'a': 2} | go_each %}{{ x }}{% endfor %}"),
            "21"
        );
        assert_eq!(
            render("{% for k, v in ['p'] | go_range %}{{ k }}={{ v }}{% endfor %}"),
            "0=p"
        );
        assert_eq!(render("{{ none | go_value }}"), "<no value>");
        assert_eq!(without_no_value("a: <no value>\n".into()), "a: \n");
        // Sprig's string parameters refuse what is not a string, as Go does.
        for (src, says) in [
            ("{{ 3 | nindent(0) }}", "expected string; got int64"),
            ("{{ none | trunc(63) }}", "invalid value; expected string"),
            ("{{ true | upper }}", "expected string; got bool"),
            ("{{ 3 | go_fields('hosts') }}", "can't evaluate field hosts"),
            ("{{ none | map_field }}", "got interface {}"),
            ("{{ 3 | go_range }}", "range can't iterate over 3"),
            ("{{ 'ab' | go_each }}", "range can't iterate over ab"),
        ] {
            let mut env = Environment::new();
            register(&mut env);
            let e = env.render_str(src, ()).unwrap_err();
            assert!(e.to_string().contains(says), "{src}: {e}");
        }
        assert_eq!(render("{{ '\n a\nb\n\n' | block(2) }}"), "\n  a\n  b");
        assert_eq!(render("{{ '\n  \n' | block(2) }}"), "");
        assert_eq!(render("{{ 'a\"b' | quote }}"), "\"a\\\"b\"");
        assert_eq!(render("{{ none | quote }}"), "");
        assert_eq!(render("{{ 0 | default('d') }}"), "d");
        assert_eq!(render("{{ false | default(true) }}"), "true");
        assert_eq!(render("{{ 'abcdef' | trunc(3) }}"), "abc");
        assert_eq!(render("{{ 'x-' | trimSuffix('-') }}"), "x");
        assert_eq!(render("{{ 'hello' | b64enc }}"), "aGVsbG8=");
        assert_eq!(render("{{ semverCompare('>=1.21-0', 'v1.35.0') }}"), "true");
        assert_eq!(
            render("{{ regexReplaceAll('a(x*)b', '-ab-axxb-', '${1}W') }}"),
            "-W-xxW-"
        );
        // Perl classes are ASCII in Go, in and out of brackets.
        assert_eq!(render(r#"{{ regexMatch('^\\w+$', 'héllo') }}"#), "false");
        assert_eq!(render(r#"{{ regexMatch('^\\w+$', 'hello_1') }}"#), "true");
        assert_eq!(render(r#"{{ regexMatch('^[\\d.]+$', '١.٢') }}"#), "false");
        assert_eq!(render(r#"{{ regexMatch('^[\\d.]+$', '1.2') }}"#), "true");
        assert_eq!(render(r#"{{ regexMatch('a\\sb', 'a\u00a0b') }}"#), "false");
        assert_eq!(render(r#"{{ regexMatch('a\\Sb', 'a\u00a0b') }}"#), "true");
        assert_eq!(render(r#"{{ regexMatch('\\bé', 'xé') }}"#), "true");
        assert_eq!(render(r#"{{ regexFind('\\\\d', 'a\\d1') }}"#), "\\d");
        assert_eq!(render(r#"{{ regexFind('\\pL+', 'é1') }}"#), "é");
        assert_eq!(render("{{ printf('%s-%d', 'a', 3) }}"), "a-3");
        assert_eq!(render("{{ {'b': {'c': 1}} | toYaml }}"), "b:\n  c: 1");
        assert_eq!(
            render("{{ merge({'a': 1}, {'a': 2, 'b': 3}) | toJson }}"),
            "{\"a\":1,\"b\":3}"
        );
        assert_eq!(render("{{ 1000000.0 }}"), "1e+06");
        assert_eq!(render("{{ 'hello world' | title }}"), "Hello World");
    }

    #[test]
    fn required_and_fail() {
        let mut env = Environment::new();
        register(&mut env);
        assert!(env
            .render_str("{{ required('need a', none) }}", ())
            .unwrap_err()
            .to_string()
            .contains("need a"));
        assert!(env
            .render_str("{{ fail('boom') }}", ())
            .unwrap_err()
            .to_string()
            .contains("boom"));
    }
}

#[cfg(test)]
mod odd_arguments {
    use super::*;

    /// Every function, with no arguments and with one or two odd ones
    /// (infinities, NaN, int64's ends, empty and wrong types), fails or
    /// answers: none panics, which the engine guard would report as an
    /// engine failure.
    #[test]
    fn no_function_panics() {
        const ARGS: [&str; 20] = [
            "(1e308*10)",
            "(-1e308*10)",
            "((1e308*10)-(1e308*10))",
            "0",
            "-1",
            "9223372036854775807",
            "(-9223372036854775807-1)",
            "1e20",
            "-1e20",
            "0.5",
            "''",
            "'x'",
            "none",
            "[]",
            "{}",
            "[1,2]",
            "{'a':1}",
            "'%d'",
            "true",
            "'1.2.3'",
        ];
        let mut env = Environment::new();
        register(&mut env);
        env.set_fuel(Some(100_000));
        let names: Vec<String> = env.globals().map(|(n, _)| n.to_string()).collect();
        assert!(names.len() > 60, "{names:?}");
        let mut calls = Vec::new();
        for f in &names {
            calls.push(format!("{f}()"));
            for a in ARGS {
                calls.push(format!("{f}({a})"));
                for b in ARGS {
                    calls.push(format!("{f}({a}, {b})"));
                }
            }
        }
        let panics: Vec<&String> = calls
            .iter()
            .filter(|c| {
                let src = format!("{{{{ {c} }}}}");
                let render = std::panic::AssertUnwindSafe(|| env.render_str(&src, ()).map(drop));
                std::panic::catch_unwind(render).is_err()
            })
            .collect();
        assert!(
            panics.is_empty(),
            "{} calls panic: {panics:?}",
            panics.len()
        );
    }
}
