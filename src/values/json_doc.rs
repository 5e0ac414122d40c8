//! A JSON document read for looking things up, not for editing: strings
//! are spans of the source text unless they hold escapes, objects are
//! lists of entries.
//!
//! A chart's `values.schema.json` is read on every render, nearly always
//! only for the schema fast path (`schema_fast`). Read into
//! `serde_json::Value`, each key was an allocated string hashed into an
//! index map: two thirds of the time the check took. The full validator
//! still reads the text its own way when the fast path declines.

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// A parsed document. Its strings refer to the text it was read from,
/// which every look-up takes again ([`Doc::view`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    pub(crate) root: Node,
    pub(crate) text_len: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Num(f64),
    Str(Str),
    Arr(Cow<'static, [Node]>),
    Obj(Cow<'static, [(Str, Node)]>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Str {
    /// Bytes `start..end` of the source text.
    Span(u32, u32),
    /// Unescaped from a string that held escapes.
    Owned(Cow<'static, str>),
}

/// Reads `text` as one JSON value, with serde_json's syntax, limits and
/// error messages.
pub fn parse(text: &str) -> Result<Doc, serde_json::Error> {
    let base = Base {
        start: text.as_ptr() as usize,
        len: text.len(),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let root = base.deserialize(&mut de)?;
    de.end()?;
    Ok(Doc {
        root,
        text_len: text.len(),
    })
}

impl Doc {
    /// The document's root, with `text`, the source it was parsed from.
    /// Another text of the same length gives wrong strings, never a panic.
    pub fn view<'a>(&'a self, text: &'a str) -> J<'a> {
        debug_assert_eq!(text.len(), self.text_len, "a Doc viewed with another text");
        J {
            text,
            node: &self.root,
        }
    }
}

/// Where the source text lies in memory, to turn the string slices serde
/// lends back into spans.
#[derive(Clone, Copy)]
struct Base {
    start: usize,
    len: usize,
}

impl Base {
    fn str(self, s: &str) -> Str {
        let at = (s.as_ptr() as usize).wrapping_sub(self.start);
        let end = at.checked_add(s.len()).filter(|&e| e <= self.len);
        match (u32::try_from(at), end.map(u32::try_from)) {
            (Ok(a), Some(Ok(b))) => Str::Span(a, b),
            _ => Str::Owned(Cow::Owned(s.into())),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Base {
    type Value = Node;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Base {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Node, E> {
        Ok(Node::Bool(b))
    }
    // As serde_json::Value::as_f64 reads numbers.
    fn visit_i64<E>(self, n: i64) -> Result<Node, E> {
        Ok(Node::Num(n as f64))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Node, E> {
        Ok(Node::Num(n as f64))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Node, E> {
        Ok(Node::Num(n))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Node, E> {
        Ok(Node::Str(self.str(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Node, E> {
        Ok(Node::Str(Str::Owned(Cow::Owned(s.into()))))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(x) = seq.next_element_seed(self)? {
            items.push(x);
        }
        Ok(Node::Arr(Cow::Owned(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(k) = map.next_key_seed(Key(self))? {
            entries.push((k, map.next_value_seed(self)?));
        }
        Ok(Node::Obj(Cow::Owned(entries)))
    }
}

/// An object's key: always a string in JSON.
#[derive(Clone, Copy)]
struct Key(Base);

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Str;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Str, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Str;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Str, E> {
        Ok(self.0.str(s))
    }
    fn visit_str<E>(self, s: &str) -> Result<Str, E> {
        Ok(Str::Owned(Cow::Owned(s.into())))
    }
}

/// A value of a [`Doc`], with the text its strings refer to.
#[derive(Clone, Copy)]
pub struct J<'a> {
    text: &'a str,
    node: &'a Node,
}

impl<'a> J<'a> {
    fn text_of(self, s: &'a Str) -> Option<&'a str> {
        match s {
            Str::Span(a, b) => self.text.get(*a as usize..*b as usize),
            Str::Owned(s) => Some(s.as_ref()),
        }
    }
    fn at(self, node: &'a Node) -> J<'a> {
        J { node, ..self }
    }

    pub fn is_null(self) -> bool {
        matches!(self.node, Node::Null)
    }
    pub fn as_bool(self) -> Option<bool> {
        match self.node {
            Node::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_f64(self) -> Option<f64> {
        match self.node {
            Node::Num(n) => Some(*n),
            _ => None,
        }
    }
    pub fn as_str(self) -> Option<&'a str> {
        match self.node {
            Node::Str(s) => self.text_of(s),
            _ => None,
        }
    }
    pub fn is_string(self) -> bool {
        self.as_str().is_some()
    }
    pub fn is_object(self) -> bool {
        matches!(self.node, Node::Obj(_))
    }
    /// An array's items.
    pub fn items(self) -> Option<impl ExactSizeIterator<Item = J<'a>> + Clone> {
        match self.node {
            Node::Arr(v) => Some(v.iter().map(move |n| self.at(n))),
            _ => None,
        }
    }
    /// An object's entries in document order, repeated keys included.
    pub fn entries(self) -> Option<impl Iterator<Item = (Option<&'a str>, J<'a>)>> {
        match self.node {
            Node::Obj(v) => Some(v.iter().map(move |(k, n)| (self.text_of(k), self.at(n)))),
            _ => None,
        }
    }
    /// The value at `key` of an object; of a repeated key, the last, as in
    /// serde_json (and so in the full validator).
    pub fn get(self, key: &str) -> Option<J<'a>> {
        match self.node {
            Node::Obj(v) => v
                .iter()
                .rev()
                .find(|(k, _)| self.text_of(k) == Some(key))
                .map(|(_, n)| self.at(n)),
            _ => None,
        }
    }
    /// Equal as JSON scalars: strings, booleans and null (numbers and
    /// collections are never equal here; callers compare only scalars).
    pub fn same_scalar(self, other: J<'_>) -> bool {
        match (self.node, other.node) {
            (Node::Null, Node::Null) => true,
            (Node::Bool(a), Node::Bool(b)) => a == b,
            (Node::Str(_), Node::Str(_)) => {
                self.as_str().is_some() && self.as_str() == other.as_str()
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_kind_of_value() {
        let text = r#" {"a": [1, -2, 2.5, 1e3, true, false, null], "b\"q": "x\u00e9", "c": {"d": "plain"}, "c": {"d": "last"}} "#;
        let doc = parse(text).unwrap();
        let j = doc.view(text);
        let nums: Vec<_> = j
            .get("a")
            .unwrap()
            .items()
            .unwrap()
            .map(J::as_f64)
            .collect();
        assert_eq!(nums[..4], [Some(1.0), Some(-2.0), Some(2.5), Some(1000.0)]);
        let rest: Vec<_> = j.get("a").unwrap().items().unwrap().skip(4).collect();
        assert_eq!(rest[0].as_bool(), Some(true));
        assert_eq!(rest[1].as_bool(), Some(false));
        assert!(rest[2].is_null());
        // Escapes are unescaped, in keys and values.
        assert_eq!(j.get("b\"q").unwrap().as_str(), Some("x\u{e9}"));
        // The last of a repeated key wins; iteration shows both.
        assert_eq!(j.get("c").unwrap().get("d").unwrap().as_str(), Some("last"));
        assert_eq!(j.entries().unwrap().count(), 4);
        assert!(j.get("zz").is_none());
        assert!(j.get("a").unwrap().get("x").is_none());
    }

    #[test]
    fn errors_are_serde_jsons() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "1 2", "1e400", "\"\\x\""] {
            let ours = parse(bad).unwrap_err().to_string();
            let theirs = serde_json::from_str::<serde_json::Value>(bad)
                .unwrap_err()
                .to_string();
            assert_eq!(ours, theirs, "{bad:?}");
        }
        // The same depth limit.
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse(&deep).is_err());
        assert!(serde_json::from_str::<serde_json::Value>(&deep).is_err());
    }

    #[test]
    fn scalars_compare_by_value() {
        let text = r#"["a", "a", "\u0061", true, true, null, null, 1, 1]"#;
        let doc = parse(text).unwrap();
        let v: Vec<_> = doc.view(text).items().unwrap().collect();
        assert!(v[0].same_scalar(v[1]) && v[0].same_scalar(v[2]));
        assert!(v[3].same_scalar(v[4]) && v[5].same_scalar(v[6]));
        assert!(!v[0].same_scalar(v[3]) && !v[3].same_scalar(v[5]));
        assert!(!v[7].same_scalar(v[8]), "numbers are not compared");
    }
}
