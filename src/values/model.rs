//! The value model: exactly the types Helm's `.Values` can hold after it has
//! read YAML (through JSON) or parsed `--set` flags.

use std::collections::BTreeMap;
use std::fmt;

/// Maps are ordered by key: Helm holds values in Go maps, and every Go
/// consumer (templates' `range`, `toYaml`, `toJson`) sees them sorted.
pub type Map = BTreeMap<String, Value>;

/// One step of a values path: a map key or a list index.
#[derive(Debug, Clone, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// A key spelt as a number is the same step as that index: a JSON pointer
/// (where the schema check's paths come from) cannot tell them apart.
impl PartialEq for Step {
    fn eq(&self, other: &Step) -> bool {
        match (self, other) {
            (Step::Key(a), Step::Key(b)) => a == b,
            (Step::Index(a), Step::Index(b)) => a == b,
            (Step::Key(k), Step::Index(i)) | (Step::Index(i), Step::Key(k)) => *k == i.to_string(),
        }
    }
}

/// [`Value::path`] from a map, without wrapping (and copying) it into a
/// `Value` first. An empty path finds nothing.
pub fn map_path<'a>(m: &'a Map, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.').filter(|p| !p.is_empty());
    let mut cur = m.get(parts.next()?)?;
    for part in parts {
        cur = cur.as_map()?.get(part)?;
    }
    Some(cur)
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// From `--set` (Go int64).
    Int(i64),
    /// From YAML and JSON (Go float64).
    Float(f64),
    String(String),
    List(Vec<Value>),
    Map(Map),
}

impl Value {
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_map_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    pub fn is_map(&self) -> bool {
        matches!(self, Value::Map(_))
    }
    /// Go's `kindOf`-style type name, used in messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int64",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
        }
    }
    /// Walks a dotted path (`a.b.c`) through nested maps.
    pub fn path(&self, path: &str) -> Option<&Value> {
        let mut cur = self;
        for part in path.split('.').filter(|p| !p.is_empty()) {
            cur = cur.as_map()?.get(part)?;
        }
        Some(cur)
    }
    /// Go template truthiness (`if`): false, 0, "", nil, empty list or map are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
        }
    }
}

impl fmt::Display for Value {
    /// Go's `%v` formatting, which is what `{{ .Values.x }}` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("<nil>"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&crate::values::gofmt::go_float_g(*x)),
            Value::String(s) => f.write_str(s),
            Value::List(l) => {
                f.write_str("[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("map[")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{k}:{v}")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Map(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_matches_go_percent_v() {
        assert_eq!(Value::Float(2.0).to_string(), "2");
        assert_eq!(Value::Float(1048576.0).to_string(), "1.048576e+06");
        assert_eq!(Value::Int(1048576).to_string(), "1048576");
        let l = Value::List(vec![Value::from("a"), Value::Float(1.5)]);
        assert_eq!(l.to_string(), "[a 1.5]");
        let mut m = Map::new();
        m.insert("c".into(), Value::Float(1.0));
        assert_eq!(Value::Map(m).to_string(), "map[c:1]");
    }

    #[test]
    fn truthiness_follows_go_templates() {
        assert!(!Value::Float(0.0).truthy());
        assert!(!Value::String(String::new()).truthy());
        assert!(!Value::Map(Map::new()).truthy());
        assert!(Value::from("x").truthy());
    }
}
