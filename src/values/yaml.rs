//! Reading YAML the way Helm does.
//!
//! Helm reads values with sigs.k8s.io/yaml: go-yaml v2 resolves scalars by
//! YAML 1.1 rules (`yes`/`on`/`y` are booleans, `0777` is octal), the result is
//! converted to JSON and decoded again, so every number ends up a float64 and
//! every map key a string. yaml-rust2 gives us the event stream; the
//! resolution rules below are Helm's, not the parser's.

use super::model::{Map, Value};
use base64::Engine;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Aliases may expand to at most this many nodes in one document ("billion
/// laughs" protection: refused before the copies are made, so within a few
/// MiB). Raise with TRACECAT_CHART_MAX_YAML_NODES.
const DEFAULT_MAX_NODES: usize = 50_000;
/// Maximum nesting of collections.
pub const MAX_DEPTH: usize = 512;

#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub message: String,
    /// 1-based line and column where known.
    pub line: Option<usize>,
    pub col: Option<usize>,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.col) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: {}", self.message),
            (Some(l), None) => write!(f, "line {l}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for YamlError {}

fn err_at(mark: &Marker, message: impl Into<String>) -> YamlError {
    YamlError {
        message: message.into(),
        line: Some(mark.line()),
        col: Some(mark.col() + 1),
    }
}

/// A node as parsed, before conversion to Helm's model.
#[derive(Clone, Debug)]
enum Node {
    Scalar {
        text: String,
        style: TScalarStyle,
        tag: Option<Tag>,
        mark: Marker,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>, Marker),
}

/// Where each values path was defined, for error messages.
pub type Positions = std::collections::HashMap<String, (usize, usize)>;

struct Builder<'a> {
    parser: Parser<std::str::Chars<'a>>,
    anchors: std::collections::HashMap<usize, Node>,
    nodes: usize,
    max_nodes: usize,
}

fn max_nodes() -> usize {
    std::env::var("TRACECAT_CHART_MAX_YAML_NODES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_MAX_NODES)
}

fn count_nodes(n: &Node) -> usize {
    match n {
        Node::Scalar { .. } => 1,
        Node::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Node::Map(pairs, _) => {
            1 + pairs
                .iter()
                .map(|(k, v)| count_nodes(k) + count_nodes(v))
                .sum::<usize>()
        }
    }
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event, Marker), YamlError> {
        self.parser.next_token().map_err(|e| {
            let m = e.marker();
            YamlError {
                message: e.info().to_string(),
                line: Some(m.line()),
                col: Some(m.col() + 1),
            }
        })
    }

    /// Counts nodes that aliases add.
    fn bump(&mut self, n: usize, mark: &Marker) -> Result<(), YamlError> {
        self.nodes += n;
        if self.nodes > self.max_nodes {
            return Err(err_at(
                mark,
                format!(
                    "document expands to more than {} nodes (alias bomb?); raise TRACECAT_CHART_MAX_YAML_NODES if this is intended",
                    self.max_nodes
                ),
            ));
        }
        Ok(())
    }

    /// Reads one node whose first event has already been taken.
    fn node(&mut self, ev: Event, mark: Marker, depth: usize) -> Result<Node, YamlError> {
        if depth > MAX_DEPTH {
            return Err(err_at(
                &mark,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            ));
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                // Go's scanner never starts a plain scalar with a block
                // scalar's indicator, which this parser allows in a flow
                // collection (`[|]`).
                if matches!(style, TScalarStyle::Plain) && text.starts_with(['|', '>']) {
                    return Err(err_at(&mark, "found character that cannot start any token"));
                }
                let n = Node::Scalar {
                    text,
                    style,
                    tag,
                    mark,
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, n.clone());
                }
                Ok(n)
            }
            Event::Alias(id) => match self.anchors.get(&id).map(count_nodes) {
                Some(count) => {
                    // Counted before it is copied.
                    self.bump(count, &mark)?;
                    Ok(self.anchors[&id].clone())
                }
                None => Err(err_at(&mark, "unknown anchor referenced by alias")),
            },
            Event::SequenceStart(anchor, _tag) => {
                let mut items = Vec::new();
                loop {
                    let (ev, m) = self.next()?;
                    if ev == Event::SequenceEnd {
                        break;
                    }
                    items.push(self.node(ev, m, depth + 1)?);
                }
                let n = Node::Seq(items);
                if anchor > 0 {
                    self.anchors.insert(anchor, n.clone());
                }
                Ok(n)
            }
            Event::MappingStart(anchor, _tag) => {
                let mut pairs = Vec::new();
                loop {
                    let (ev, m) = self.next()?;
                    if ev == Event::MappingEnd {
                        break;
                    }
                    let k = self.node(ev, m, depth + 1)?;
                    let (ev, m) = self.next()?;
                    let v = self.node(ev, m, depth + 1)?;
                    pairs.push((k, v));
                }
                let n = Node::Map(pairs, mark);
                if anchor > 0 {
                    self.anchors.insert(anchor, n.clone());
                }
                Ok(n)
            }
            other => Err(err_at(&mark, format!("unexpected YAML event {other:?}"))),
        }
    }

    /// All documents of the stream (or only the first); `None` for an
    /// empty document.
    fn documents(&mut self, first_only: bool) -> Result<Vec<Option<Node>>, YamlError> {
        let mut docs = Vec::new();
        while !first_only || docs.is_empty() {
            let (ev, mark) = self.next()?;
            match ev {
                Event::StreamStart | Event::Nothing => continue,
                Event::StreamEnd => break,
                Event::DocumentStart => {
                    self.anchors.clear();
                    let (ev, mark) = self.next()?;
                    if ev == Event::DocumentEnd {
                        docs.push(None);
                        continue;
                    }
                    let n = self.node(ev, mark, 0)?;
                    // DocumentEnd
                    let (ev, mark) = self.next()?;
                    if ev != Event::DocumentEnd {
                        return Err(err_at(&mark, "expected end of document"));
                    }
                    docs.push(Some(n));
                }
                other => return Err(err_at(&mark, format!("unexpected YAML event {other:?}"))),
            }
        }
        Ok(docs)
    }
}

/// What a YAML 1.1 scalar resolves to, before the trip through JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
}

fn resolve_map(s: &str) -> Option<Scalar> {
    // Every word below is at most five bytes and starts with one of these:
    // most keys and values are ruled out without comparing them to each.
    if s.len() > 5
        || !matches!(
            s.as_bytes().first(),
            None | Some(b'y' | b'Y' | b'n' | b'N' | b'o' | b'O' | b't' | b'T' | b'f' | b'F')
                | Some(b'~' | b'.' | b'+' | b'-')
        )
    {
        return None;
    }
    Some(match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            Scalar::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            Scalar::Bool(false)
        }
        "" | "~" | "null" | "Null" | "NULL" => Scalar::Null,
        ".nan" | ".NaN" | ".NAN" => Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Scalar::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Scalar::Float(f64::NEG_INFINITY),
        _ => return None,
    })
}

/// Go's strconv.ParseInt/ParseUint with base 0 (0x, 0o, 0b prefixes and a
/// leading 0 for octal), as an i128 so both fit.
fn go_parse_int_base0(s: &str) -> Option<i128> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let (radix, digits) =
        if let Some(r) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, r)
        } else if let Some(r) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (8, r)
        } else if let Some(r) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, r)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u128::from_str_radix(digits, radix).ok()?;
    let v = v as i128;
    let v = if neg { -v } else { v };
    // int64 range, or uint64 range for non-negative values
    if v < i64::MIN as i128 || v > u64::MAX as i128 || (neg && v > 0) {
        return None;
    }
    Some(v)
}

fn is_yaml_style_float(s: &str) -> bool {
    // ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Looks like a YAML timestamp (go-yaml keeps these as the original string).
pub fn is_timestamp_str(s: &str) -> bool {
    !s.is_empty() && is_timestamp(s)
}

fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-' && {
        // 2006-1-2 and variants with a time part
        let date_end = s[5..]
            .find(|c: char| !(c.is_ascii_digit() || c == '-'))
            .map(|p| p + 5)
            .unwrap_or(s.len());
        let date = &s[..date_end];
        let parts: Vec<&str> = date.split('-').collect();
        parts.len() == 3
            && parts[1].len() <= 2
            && !parts[1].is_empty()
            && parts[2].len() <= 2
            && !parts[2].is_empty()
            && (date_end == s.len() || matches!(b[date_end], b'T' | b't' | b' '))
    }
}

/// go-yaml v2's `resolve` for a plain (untagged) scalar.
pub fn resolve_plain(s: &str) -> Scalar {
    resolve_non_string(s).unwrap_or_else(|| Scalar::Str(s.to_string()))
}

/// [`resolve_plain`] for an owned scalar: a string keeps its allocation.
fn resolve_plain_owned(s: String) -> Scalar {
    resolve_non_string(&s).unwrap_or(Scalar::Str(s))
}

/// What a plain scalar resolves to when it is not a string.
fn resolve_non_string(s: &str) -> Option<Scalar> {
    if let Some(v) = resolve_map(s) {
        return Some(v);
    }
    let first = s.as_bytes()[0];
    match first {
        // Go's ParseFloat fails on a number past float64's range (the
        // scalar then stays a string); Rust's parse gives infinity.
        b'.' if is_yaml_style_float(s) => {
            if let Some(f) = s.parse::<f64>().ok().filter(|f| f.is_finite()) {
                return Some(Scalar::Float(f));
            }
        }
        b'0'..=b'9' | b'+' | b'-' => {
            if is_timestamp(s) {
                return None;
            }
            let plain = s.replace('_', "");
            if let Some(i) = go_parse_int_base0(&plain) {
                return Some(Scalar::Int(i));
            }
            if is_yaml_style_float(&plain) {
                if let Some(f) = plain.parse::<f64>().ok().filter(|f| f.is_finite()) {
                    return Some(Scalar::Float(f));
                }
            }
            if let Some(rest) = plain.strip_prefix("-0b") {
                if let Ok(v) = i64::from_str_radix(rest, 2) {
                    return Some(Scalar::Int(-(v as i128)));
                }
            }
        }
        _ => {}
    }
    None
}

fn tag_name(tag: &Tag) -> String {
    if tag.handle == "!!" {
        format!("tag:yaml.org,2002:{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

fn scalar_of(
    text: String,
    style: &TScalarStyle,
    tag: &Option<Tag>,
    mark: &Marker,
) -> Result<Scalar, YamlError> {
    if let Some(t) = tag {
        let name = tag_name(t);
        return match name.as_str() {
            "tag:yaml.org,2002:str" => Ok(Scalar::Str(text)),
            "tag:yaml.org,2002:binary" => {
                let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(clean)
                    .map_err(|e| err_at(mark, format!("!!binary value is not base64: {e}")))?;
                Ok(Scalar::Str(String::from_utf8_lossy(&bytes).into_owned()))
            }
            "tag:yaml.org,2002:null" => Ok(Scalar::Null),
            "tag:yaml.org,2002:bool" => match resolve_map(&text) {
                Some(b @ Scalar::Bool(_)) => Ok(b),
                _ => Err(err_at(
                    mark,
                    format!("cannot decode !!str `{text}` as a !!bool"),
                )),
            },
            "tag:yaml.org,2002:int" => match resolve_plain(&text) {
                i @ Scalar::Int(_) => Ok(i),
                _ => Err(err_at(
                    mark,
                    format!("cannot decode !!str `{text}` as a !!int"),
                )),
            },
            "tag:yaml.org,2002:float" => match resolve_plain(&text) {
                Scalar::Int(i) => Ok(Scalar::Float(i as f64)),
                f @ Scalar::Float(_) => Ok(f),
                _ => Err(err_at(
                    mark,
                    format!("cannot decode !!str `{text}` as a !!float"),
                )),
            },
            "tag:yaml.org,2002:timestamp" => Ok(Scalar::Str(text)),
            // Unknown and local tags: the value is taken as written.
            _ => Ok(if matches!(style, TScalarStyle::Plain) {
                resolve_plain_owned(text)
            } else {
                Scalar::Str(text)
            }),
        };
    }
    if matches!(style, TScalarStyle::Plain) {
        Ok(resolve_plain_owned(text))
    } else {
        Ok(Scalar::Str(text))
    }
}

/// A scalar after the JSON round trip: numbers become float64, and infinities
/// and NaN are refused as encoding/json refuses them.
fn scalar_to_value(s: Scalar, mark: &Marker) -> Result<Value, YamlError> {
    json_value(s).map_err(|m| err_at(mark, m))
}

fn json_value(s: Scalar) -> Result<Value, String> {
    Ok(match s {
        Scalar::Null => Value::Null,
        Scalar::Bool(b) => Value::Bool(b),
        Scalar::Int(i) => Value::Float(i as f64),
        Scalar::Float(f) if f.is_nan() => {
            return Err("error converting YAML to JSON: json: unsupported value: NaN".into())
        }
        Scalar::Float(f) if f.is_infinite() => {
            let s = if f > 0.0 { "+Inf" } else { "-Inf" };
            return Err(format!(
                "error converting YAML to JSON: json: unsupported value: {s}"
            ));
        }
        Scalar::Float(f) => Value::Float(f),
        Scalar::Str(s) => Value::String(s),
    })
}

/// A plain (untagged) scalar as the full parser turns it into a value; None
/// where the full parser reports an error (infinities, NaN).
pub(crate) fn plain_value(s: &str) -> Option<Value> {
    json_value(resolve_plain(s)).ok()
}

/// Does this plain scalar stay a string (not a bool, null or number)?
/// Cheap for the usual keys and words: nothing is allocated for them.
pub(crate) fn plain_is_string(s: &str) -> bool {
    !s.is_empty() && resolve_non_string(s).is_none()
}

/// A plain mapping key as the full parser turns it into a string; None
/// where the full parser reports an error (null keys).
pub(crate) fn plain_key(s: &str) -> Option<String> {
    match resolve_plain(s) {
        Scalar::Null => None,
        Scalar::Int(i) if is_uint64(i) => None,
        other => Some(json_key(other)),
    }
}

/// An integer go-yaml decodes as uint64: past int64, within uint64 (the
/// resolver gives nothing larger).
fn is_uint64(i: i128) -> bool {
    i > i64::MAX as i128
}

/// How sigs.k8s.io/yaml turns a non-string key into a string. It has no
/// rule for a null key or an integer past int64 (go-yaml's uint64), and
/// names the key and its value (`value`) as Go's `%#v` prints them.
fn key_string(s: Scalar, mark: &Marker, value: &Node) -> Result<String, YamlError> {
    let (kind, key) = match s {
        Scalar::Null => ("<nil>", "<nil>".to_string()),
        Scalar::Int(i) if is_uint64(i) => ("uint64", format!("{i:#x}")),
        other => return Ok(json_key(other)),
    };
    let mut value = go_sharp_v(value, 0);
    if let Some((cut, _)) = value.char_indices().nth(SHOWN_VALUE_CHARS) {
        value.truncate(cut);
        value.push_str("...");
    }
    Err(err_at(
        mark,
        format!(
            "error converting YAML to JSON: unsupported map key of type: {kind}, key: {key}, value: {value}"
        ),
    ))
}

/// How much of a value an error message shows.
const SHOWN_VALUE_CHARS: usize = 120;

/// Go's `%#v` of a node as go-yaml decodes it (for messages only; nesting
/// past a few levels is elided).
fn go_sharp_v(n: &Node, depth: usize) -> String {
    if depth > 4 {
        return "...".into();
    }
    match n {
        Node::Scalar {
            text,
            style,
            tag,
            mark,
        } => match scalar_of(text.clone(), style, tag, mark) {
            Ok(Scalar::Null) => "<nil>".into(),
            Ok(Scalar::Bool(b)) => b.to_string(),
            Ok(Scalar::Int(i)) if is_uint64(i) => format!("{i:#x}"),
            Ok(Scalar::Int(i)) => i.to_string(),
            Ok(Scalar::Float(f)) => super::gofmt::go_float_g(f),
            Ok(Scalar::Str(s)) => super::gofmt::go_quote(&s),
            Err(_) => super::gofmt::go_quote(text),
        },
        Node::Seq(items) => {
            let items: Vec<String> = items.iter().map(|i| go_sharp_v(i, depth + 1)).collect();
            format!("[]interface {{}}{{{}}}", items.join(", "))
        }
        Node::Map(pairs, _) => {
            let mut pairs: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{}:{}", go_sharp_v(k, depth + 1), go_sharp_v(v, depth + 1)))
                .collect();
            pairs.sort();
            format!("map[interface {{}}]interface {{}}{{{}}}", pairs.join(", "))
        }
    }
}

fn json_key(s: Scalar) -> String {
    match s {
        Scalar::Str(s) => s,
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        // Written at float32's precision, where 1e39 is already infinite.
        Scalar::Float(f) => match f as f32 {
            f if f.is_nan() => ".nan".into(),
            f if f.is_infinite() && f > 0.0 => ".inf".into(),
            f if f.is_infinite() => "-.inf".into(),
            f => crate::values::gofmt::go_float32_g(f),
        },
        Scalar::Null => "null".into(),
    }
}

struct Converter<'p> {
    positions: Option<&'p mut Positions>,
}

/// A values path, built only when positions are being recorded.
pub(crate) fn child_path(
    path: &Option<String>,
    key: impl std::fmt::Display,
    index: bool,
) -> Option<String> {
    path.as_ref().map(|p| match (p.is_empty(), index) {
        (_, true) => format!("{p}[{key}]"),
        (true, false) => key.to_string(),
        (false, false) => format!("{p}.{key}"),
    })
}

impl Converter<'_> {
    /// Converts a node, consuming it so strings move rather than copy.
    /// `path` is `None` unless positions are recorded.
    fn value(&mut self, n: Node, path: &Option<String>) -> Result<Value, YamlError> {
        match n {
            Node::Scalar {
                text,
                style,
                tag,
                mark,
            } => scalar_to_value(scalar_of(text, &style, &tag, &mark)?, &mark),
            Node::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, it) in items.into_iter().enumerate() {
                    out.push(self.value(it, &child_path(path, i, true))?);
                }
                Ok(Value::List(out))
            }
            Node::Map(pairs, _) => {
                let mut out = Map::new();
                self.fill_map(pairs, path, &mut out)?;
                Ok(Value::Map(out))
            }
        }
    }

    fn fill_map(
        &mut self,
        pairs: Vec<(Node, Node)>,
        path: &Option<String>,
        out: &mut Map,
    ) -> Result<(), YamlError> {
        for (k, v) in pairs {
            match k {
                Node::Scalar {
                    text,
                    style,
                    tag,
                    mark,
                } => {
                    if text == "<<" && matches!(style, TScalarStyle::Plain) && tag.is_none() {
                        // Merge key: a mapping or a list of mappings, applied in place.
                        match v {
                            Node::Map(p, _) => self.fill_map(p, path, out)?,
                            // Earlier mappings win: applied last to first.
                            Node::Seq(items) => {
                                for it in items.into_iter().rev() {
                                    match it {
                                        Node::Map(p, _) => self.fill_map(p, path, out)?,
                                        _ => return Err(err_at(&mark, "map merge requires map or sequence of maps as the value")),
                                    }
                                }
                            }
                            _ => {
                                return Err(err_at(
                                    &mark,
                                    "map merge requires map or sequence of maps as the value",
                                ))
                            }
                        }
                        continue;
                    }
                    let key = key_string(scalar_of(text, &style, &tag, &mark)?, &mark, &v)?;
                    let child = child_path(path, &key, false);
                    if let (Some(p), Some(c)) = (self.positions.as_deref_mut(), &child) {
                        p.insert(c.clone(), (mark.line(), mark.col() + 1));
                    }
                    let val = self.value(v, &child)?;
                    out.insert(key, val);
                }
                Node::Map(_, mark) => {
                    return Err(err_at(&mark, "unsupported map key of type: map"))
                }
                Node::Seq(_) => {
                    return Err(YamlError {
                        message: "unsupported map key of type: list".into(),
                        line: None,
                        col: None,
                    })
                }
            }
        }
        Ok(())
    }
}

/// Parses every document of a YAML stream into Helm's value model.
/// Empty documents come back as `Value::Null`.
pub fn parse_documents(
    text: &str,
    positions: Option<&mut Positions>,
) -> Result<Vec<Value>, YamlError> {
    parse_documents_with(text, positions, false)
}

/// [`parse_documents`], stopping after the first document when
/// `first_only` (what follows it is not read, errors and all).
fn parse_documents_with(
    text: &str,
    mut positions: Option<&mut Positions>,
    first_only: bool,
) -> Result<Vec<Value>, YamlError> {
    // Go's reader turns NEL (U+0085) into a line break wherever it stands,
    // as YAML 1.1 has it (in a comment it ends the comment; in a quoted
    // scalar it folds to a space); this parser keeps it as a character.
    let mut text = match text.contains(NEL) {
        true => std::borrow::Cow::Owned(text.replace(NEL, "\n")),
        false => std::borrow::Cow::Borrowed(text),
    };
    let mut repairs = 0;
    loop {
        let parsed = parse_documents_as_written(&text, positions.as_deref_mut(), first_only);
        let fixed = match &parsed {
            Err(e) if repairs < MAX_REPAIRS && e.message == QUOTED_INDENT => {
                reindent_quoted(&text, e)
            }
            Err(e) if repairs < MAX_REPAIRS && e.message == QUOTED_TAB => untab_line(&text, e),
            Err(e) if repairs < MAX_REPAIRS && e.message == COLON_TAB => {
                untab_after_colon(&text, e)
            }
            _ => None,
        };
        match fixed {
            Some(f) => text = f.into(),
            None if parsed.is_ok() && text.contains('\t') => {
                return tab_after_indicator(&text).and(parsed)
            }
            None => return parsed,
        }
        repairs += 1;
    }
}

/// Go's scanner fails on a tab after a block sequence's `-` or an explicit
/// key's `?` (it skips only spaces there, and a tab cannot start a token);
/// this parser skips the tab. Only texts holding a tab are scanned again.
fn tab_after_indicator(text: &str) -> Result<(), YamlError> {
    use yaml_rust2::scanner::{Scanner, Token, TokenType};
    let lines: Vec<&str> = text.split('\n').collect();
    let mut flow = 0usize;
    for Token(mark, token) in Scanner::new(text.chars()) {
        let indicator = match token {
            TokenType::FlowSequenceStart | TokenType::FlowMappingStart => {
                flow += 1;
                continue;
            }
            TokenType::FlowSequenceEnd | TokenType::FlowMappingEnd => {
                flow = flow.saturating_sub(1);
                continue;
            }
            TokenType::BlockEntry if flow == 0 => '-',
            TokenType::Key if flow == 0 => '?',
            _ => continue,
        };
        // The token's mark is past the indicator, the blanks after it and
        // any comment, on the indicator's line; only indicators and blanks
        // can come before it there.
        let Some(line) = mark.line().checked_sub(1).and_then(|l| lines.get(l)) else {
            continue;
        };
        let before: String = line.chars().take(mark.col()).collect();
        let before = before.split('#').next().unwrap_or_default();
        let upto = before.trim_end_matches([' ', '\t']);
        if !upto.ends_with(indicator) {
            continue;
        }
        if let Some(at) = before[upto.len()..].find('\t') {
            return Err(YamlError {
                message: "found character that cannot start any token".into(),
                line: Some(mark.line()),
                col: Some(upto.chars().count() + at + 1),
            });
        }
    }
    Ok(())
}

/// The scanner's refusals of a quoted scalar whose continuation lines sit
/// left of the block they belong to, or start with a tab. Go's YAML reader
/// takes both (a quoted scalar's line indentation never reaches its value),
/// and so does Helm: such a scalar is re-indented and the text parsed again.
const QUOTED_INDENT: &str = "invalid indentation in quoted scalar";
const QUOTED_TAB: &str = "tab cannot be used as indentation";

/// The scanner's refusal of a tab after a mapping's `:`, which Go's reader
/// takes as the separating blank (`key:<TAB>value`); the tab becomes a space.
const COLON_TAB: &str = "':' must be followed by a valid YAML whitespace";

/// `text` with the tab after the last `:` before the error's column (on its
/// line) turned into a space; the columns stay where they were.
fn untab_after_colon(text: &str, e: &YamlError) -> Option<String> {
    let start = line_start(text, e.line?)?;
    let line = &text[start..];
    let line = &line[..line.find('\n').unwrap_or(line.len())];
    let upto = line
        .char_indices()
        .nth(e.col?)
        .map_or(line.len(), |(i, _)| i);
    let at = start + line[..upto].rfind(":\t")? + 1;
    Some(format!("{} {}", &text[..at], &text[at + 1..]))
}

const NEL: char = '\u{85}';

/// Repairs per document stream: enough for any real file, and a bound on
/// the parses a hostile one can cost.
const MAX_REPAIRS: usize = 64;

/// `text` with the leading blanks of the error's line turned into spaces
/// (the scanner reports a tab there only inside a quoted scalar).
fn untab_line(text: &str, e: &YamlError) -> Option<String> {
    let start = line_start(text, e.line?)?;
    let blanks = text[start..].len() - text[start..].trim_start_matches([' ', '\t']).len();
    let lead = &text[start..start + blanks];
    lead.contains('\t').then(|| {
        format!(
            "{}{}{}",
            &text[..start],
            lead.replace('\t', " "),
            &text[start + blanks..]
        )
    })
}

/// `text` with the continuation lines of the quoted scalar that starts at
/// the error's position indented one column right of its opening quote, so
/// that the scanner takes it; None where no quoted scalar starts there.
fn reindent_quoted(text: &str, e: &YamlError) -> Option<String> {
    let (line, col) = (e.line?, e.col?);
    let line_start = line_start(text, line)?;
    let start = line_start
        + text[line_start..]
            .char_indices()
            .nth(col - 1)
            .map(|(i, _)| i)?;
    let quote = text[start..]
        .chars()
        .next()
        .filter(|c| *c == '"' || *c == '\'')?;
    let indent = " ".repeat(col);
    let mut out = String::with_capacity(text.len() + 64);
    out.push_str(&text[..=start]);
    let mut rest = text[start + 1..].char_indices().peekable();
    let mut end = None;
    let mut at_line_start = false;
    while let Some((i, c)) = rest.next() {
        if at_line_start && (c == ' ' || c == '\t') {
            continue;
        }
        if at_line_start && c != '\n' && c != '\r' {
            out.push_str(&indent);
        }
        at_line_start = c == '\n';
        out.push(c);
        match (quote, c) {
            ('"', '\\') => {
                if let Some((_, next)) = rest.next() {
                    at_line_start = next == '\n';
                    out.push(next);
                }
            }
            ('\'', '\'') if rest.peek().is_some_and(|(_, n)| *n == '\'') => {
                rest.next();
                out.push('\'');
            }
            (q, c) if q == c => {
                end = Some(start + 1 + i + c.len_utf8());
                break;
            }
            _ => {}
        }
    }
    // A scalar that never closes is the scanner's to refuse.
    out.push_str(&text[end?..]);
    Some(out)
}

/// Where 1-based `line` starts in `text`.
fn line_start(text: &str, line: usize) -> Option<usize> {
    match line {
        0 | 1 => Some(0),
        _ => Some(text.match_indices('\n').nth(line - 2)?.0 + 1),
    }
}

fn parse_documents_as_written(
    text: &str,
    positions: Option<&mut Positions>,
    first_only: bool,
) -> Result<Vec<Value>, YamlError> {
    let mut b = Builder {
        parser: Parser::new_from_str(text),
        anchors: Default::default(),
        nodes: 0,
        max_nodes: max_nodes(),
    };
    let docs = b.documents(first_only)?;
    let root = positions.as_ref().map(|_| String::new());
    let mut conv = Converter { positions };
    docs.into_iter()
        .map(|d| match d {
            None => Ok(Value::Null),
            Some(n) => conv.value(n, &root),
        })
        .collect()
}

/// Parses one YAML document (the first, if several).
pub fn parse_one(text: &str) -> Result<Value, YamlError> {
    Ok(parse_documents(text, None)?
        .into_iter()
        .next()
        .unwrap_or(Value::Null))
}

/// Reads a values file as Helm 4 does: split into documents by
/// [`documents_of`], each read as one YAML document (anything after its
/// first is ignored), each a mapping or empty; the documents are
/// deep-merged in order. Messages carry Helm's prefixes.
pub fn parse_values(text: &str, mut positions: Option<&mut Positions>) -> Result<Map, YamlError> {
    let mut out = Map::new();
    for (first_line, doc) in documents_of(text)? {
        let mut pos = positions.as_ref().map(|_| Positions::new());
        let shift = |mut e: YamlError| {
            e.line = e.line.map(|l| l + first_line - 1);
            e.message = format!("cannot unmarshal yaml document: {}", e.message);
            e
        };
        // Go's reader skips a byte order mark at the start of each document.
        let doc = doc.strip_prefix('\u{feff}').unwrap_or(doc);
        if let Some(line) = starts_with_document_end(doc) {
            return Err(shift(YamlError {
                message: "did not find expected node content".into(),
                line: Some(line),
                col: Some(1),
            }));
        }
        let value = parse_documents_with(doc, pos.as_mut(), true)
            .map_err(shift)?
            .into_iter()
            .next()
            .unwrap_or(Value::Null);
        if let (Some(all), Some(pos)) = (positions.as_deref_mut(), pos) {
            all.extend(
                pos.into_iter()
                    .map(|(k, (l, c))| (k, (l + first_line - 1, c))),
            );
        }
        match value {
            Value::Null => {}
            Value::Map(m) => out = super::merge::merge_maps(out, m),
            other => {
                return Err(shift(YamlError {
                    message: format!(
                        "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                        go_json_kind(&other)
                    ),
                    line: None,
                    col: None,
                }))
            }
        }
    }
    Ok(out)
}

/// The documents of a values file as Kubernetes' YAML reader (which Helm 4
/// uses) splits them, each with its first line's number: a line starting
/// with `---` ends a document, and only blanks or a comment may follow the
/// dashes on that line.
fn documents_of(text: &str) -> Result<Vec<(usize, &str)>, YamlError> {
    let mut docs = Vec::new();
    let (mut start, mut start_line) = (0, 1);
    let mut at = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let end = at + line.len();
        if let Some(rest) = line.strip_prefix("---") {
            let rest = rest.trim();
            if !rest.is_empty() && !rest.starts_with('#') {
                return Err(YamlError {
                    message: format!(
                        "error reading yaml document: invalid Yaml document separator: {rest}"
                    ),
                    line: Some(i + 1),
                    col: Some(4),
                });
            }
            // With nothing read yet, the reader keeps the separator line as
            // the start of the next document (Go's parser then reads it as
            // an explicit start: `---` followed by `...` is an empty
            // document, where `...` alone is an error).
            if at > start {
                docs.push((start_line, &text[start..at]));
                (start, start_line) = (end, i + 2);
            }
        }
        at = end;
    }
    if text.len() > start {
        docs.push((start_line, &text[start..]));
    }
    Ok(docs)
}

/// The line of a document-end marker (`...`) that comes before anything
/// else in `doc` but blank and comment lines. Go's parser takes it as a node
/// that is missing and fails; this one reads an empty document.
fn starts_with_document_end(doc: &str) -> Option<usize> {
    for (i, line) in doc.lines().enumerate() {
        let content = line.trim_start_matches([' ', '\t']);
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let marker = line
            .strip_prefix("...")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']));
        return marker.then_some(i + 1);
    }
    None
}

fn go_json_kind(v: &Value) -> &'static str {
    match v {
        Value::List(_) => "array",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Float(_) => "number",
        _ => "value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick rejection in `resolve_map` lets every YAML 1.1 word through.
    #[test]
    fn every_yaml_1_1_word_still_resolves() {
        let words = [
            "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE", "n", "N",
            "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE", "", "~", "null",
            "Null", "NULL", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf",
            "+.INF", "-.inf", "-.Inf", "-.INF",
        ];
        for w in words {
            assert!(resolve_map(w).is_some(), "{w:?}");
        }
        for w in ["yess", "nulls", "metadata", "o", "t", "TRUE!", "-.inff"] {
            assert!(resolve_map(w).is_none(), "{w:?}");
        }
    }

    fn v(text: &str) -> Map {
        parse_values(text, None).unwrap()
    }

    #[test]
    fn yaml11_booleans_and_keys() {
        let m = v("a: yes\nb: Off\nc: yEs\ny: 1\n");
        assert_eq!(m["a"], Value::Bool(true));
        assert_eq!(m["b"], Value::Bool(false));
        assert_eq!(m["c"], Value::from("yEs"));
        assert_eq!(m["true"], Value::Float(1.0));
    }

    #[test]
    fn numbers_are_float64() {
        let m = v("a: 0777\nb: 08080\nc: 1e3\nd: 0x1F\ne: 1_000\nf: \"5\"\ng: 2001-12-14\n");
        assert_eq!(m["a"], Value::Float(511.0));
        assert_eq!(m["b"], Value::Float(8080.0));
        assert_eq!(m["c"], Value::Float(1000.0));
        assert_eq!(m["d"], Value::Float(31.0));
        assert_eq!(m["e"], Value::Float(1000.0));
        assert_eq!(m["f"], Value::from("5"));
        assert_eq!(m["g"], Value::from("2001-12-14"));
        // Past float64's range a number is a string, as for Go's ParseFloat.
        let m = v("a: 1e400\n-1e400: b\nc: .5e999\n");
        assert_eq!(m["a"], Value::from("1e400"));
        assert_eq!(m["-1e400"], Value::from("b"));
        assert_eq!(m["c"], Value::from(".5e999"));
    }

    #[test]
    fn infinity_is_refused() {
        assert!(parse_values("a: .inf\n", None)
            .unwrap_err()
            .message
            .contains("unsupported value: +Inf"));
    }

    #[test]
    fn merge_keys_and_anchors() {
        let m = v("base: &b {p: 1, q: 2}\nd:\n  <<: *b\n  q: 3\n");
        let d = m["d"].as_map().unwrap();
        assert_eq!(d["p"], Value::Float(1.0));
        assert_eq!(d["q"], Value::Float(3.0));
        // In a list of merged mappings, earlier ones win.
        let m = v("d:\n  <<: [{x: 1, y: 1}, {x: 2, z: 2}]\n  y: 3\n");
        let d = m["d"].as_map().unwrap();
        assert_eq!((&d["x"], &d["z"]), (&Value::Float(1.0), &Value::Float(2.0)));
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut s = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            s.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let e = parse_values(&s, None).unwrap_err();
        assert!(e.message.contains("more than"), "{e}");
    }

    #[test]
    fn multi_document_merge_and_positions() {
        let mut pos = Positions::new();
        let m = parse_values("a: 1\nm:\n  x: 1\n---\nm:\n  z: 2\n", Some(&mut pos)).unwrap();
        assert_eq!(m["m"].as_map().unwrap().len(), 2);
        assert_eq!(pos["m.x"].0, 3);
        assert_eq!(pos["m.z"].0, 6);
    }

    /// Documents split as Kubernetes' YAML reader splits them: only at a
    /// `---` that starts a line and has nothing but blanks or a comment
    /// after it; each piece is one document (what follows its first is not
    /// read), with a byte order mark at its start skipped.
    #[test]
    fn documents_split_as_helm_reads_them() {
        assert_eq!(
            documents_of("---\na: 1\n--- # c\n\n---\t\r\nb: 2").unwrap(),
            vec![(1, "---\na: 1\n"), (4, "\n"), (6, "b: 2")]
        );
        for bad in ["---a: 1\n", "a: 1\n--- {b: 2}\n"] {
            let e = parse_values(bad, None).unwrap_err();
            assert!(
                e.message
                    .starts_with("error reading yaml document: invalid Yaml document separator"),
                "{e}"
            );
        }
        let m = v("a: 1\n...\nb: [\n---\n\u{feff}c: 2\n");
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "c"]);
        // A directive needs a `---` after it, which the split took away.
        assert!(parse_values("%YAML 1.1\n---\na: 1\n", None).is_err());
        let e = parse_values("a: 1\n---\n\nb: [\n", None).unwrap_err();
        assert_eq!(e.line, Some(5), "{e}"); // the end of the text, in the file's lines
        assert!(
            e.message.starts_with("cannot unmarshal yaml document: "),
            "{e}"
        );
    }

    #[test]
    fn nel_breaks_the_line_as_in_go() {
        // A comment ends at it; in quotes and flow collections it folds.
        let m = v("# docs\u{85}a: 1\nb: \"x\u{85}y\"\nc: ['x\u{85}y']\nd: |\n  x\u{85}  y\n");
        assert_eq!(m["a"], Value::Float(1.0));
        assert_eq!(m["b"], Value::from("x y"));
        assert_eq!(m["c"], Value::List(vec![Value::from("x y")]));
        assert_eq!(m["d"], Value::from("x\ny\n"));
        assert!(parse_values("a: x\u{85}y\n", None).is_err());
    }

    #[test]
    fn a_document_end_marker_cannot_come_first() {
        for bad in ["...\n", "# c\n\n... # d\n", "a: 1\n---\n...\n"] {
            let e = parse_values(bad, None).unwrap_err();
            assert!(
                e.message.ends_with("did not find expected node content"),
                "{e}"
            );
        }
        // After an explicit start it ends an empty document.
        assert!(v("---\n...\n").is_empty());
        assert_eq!(v("a: 1\n...\n...\n")["a"], Value::Float(1.0));
        assert!(v("...x: 1\n").contains_key("...x"));
    }

    #[test]
    fn keys_are_written_as_sigs_yaml_writes_them() {
        let m =
            v("0.1: a\n3.141592653589793: b\n123456789.0: c\n1e39: d\n9223372036854775807: e\n");
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                ".inf",
                "0.1",
                "1.2345679e+08",
                "3.1415927",
                "9223372036854775807"
            ]
        );
        let e = parse_values("m:\n  12345678901234567890: {x: [1, \"y\"]}\n", None).unwrap_err();
        assert!(
            e.message.ends_with(
                "unsupported map key of type: uint64, key: 0xab54a98ceb1f0ad2, value: map[interface {}]interface {}{\"x\":[]interface {}{1, \"y\"}}"
            ),
            "{e}"
        );
        assert_eq!(e.line, Some(2));
        assert!(plain_key("0xffffffffffffffff").is_none());
    }

    #[test]
    fn block_scalar_indicators_cannot_start_a_flow_scalar() {
        for bad in ["a: [|]\n", "a: {b: >x}\n"] {
            let e = parse_values(bad, None).unwrap_err();
            assert!(
                e.message
                    .ends_with("found character that cannot start any token"),
                "{e}"
            );
        }
        assert_eq!(v("a: [x|y]\n")["a"], Value::List(vec![Value::from("x|y")]));
    }

    #[test]
    fn a_tab_cannot_follow_a_block_indicator() {
        for (bad, col) in [
            ("l:\n-\tx\n", 2),
            ("l:\n-  \tx\n", 4),
            ("l:\n- -\tx\n", 4),
            ("l:\n-\t# c\n  x\n", 2),
        ] {
            let e = parse_values(bad, None).unwrap_err();
            assert!(
                e.message
                    .ends_with("found character that cannot start any token"),
                "{bad:?}: {e}"
            );
            assert_eq!((e.line, e.col), (Some(2), Some(col)), "{bad:?}");
        }
        // In a flow collection and inside scalars it is a blank.
        let m = v("a: [\t-1, {\t? x: 1}]\nb: |\n  -\tx\nc: \"x\n  -\ty\"\n");
        assert_eq!(m["b"], Value::from("-\tx\n"));
        assert_eq!(m["c"], Value::from("x -\ty"));
    }

    /// Go's reader takes a tab after a mapping's colon as the blank there.
    #[test]
    fn a_tab_may_follow_a_colon() {
        let m = v("a:\t1\nb:\t\tx # c\nc: {d:\t2}\ne: \"k:\\tv\"\n");
        assert_eq!(m["a"], Value::Float(1.0));
        assert_eq!(m["b"], Value::from("x"));
        assert_eq!(m["e"], Value::from("k:\tv"));
        assert_eq!(m["c"].as_map().unwrap()["d"], Value::Float(2.0));
    }

    #[test]
    fn quoted_scalars_may_continue_left_of_their_block() {
        // Go's reader (and so Helm) takes these; the value is the same
        // however the continuation lines are indented.
        for text in [
            "image:\n  tag: \"1.0\nbeta\"\n",
            "image:\n  tag: '1.0\n beta'\n",
            "image:\n  tag: \"1.0\n  beta\"\n",
            "image:\n  tag: \"1.0 \\\n\tbeta\"\n",
        ] {
            let m = v(text);
            let tag = m["image"].as_map().unwrap()["tag"].clone();
            assert!(
                matches!(&tag, Value::String(s) if s == "1.0 beta"),
                "{text:?} gave {tag:?}"
            );
        }
        let m = v("a:\n  b: 'it''s\n x'\n  c: \"q\\\"\n y\"\n  d: 1\n");
        let a = m["a"].as_map().unwrap();
        assert!(matches!(&a["b"], Value::String(s) if s == "it's x"));
        assert!(matches!(&a["c"], Value::String(s) if s == "q\" y"));
        assert!(matches!(&a["d"], Value::Float(f) if *f == 1.0));
        // A scalar that never closes is still refused.
        assert!(parse_values("a:\n  b: \"x\ny\n", None).is_err());
    }

    #[test]
    fn errors_have_lines() {
        let e = parse_values("a: 1\nb: [\n", None).unwrap_err();
        assert!(e.line.is_some());
    }
}
