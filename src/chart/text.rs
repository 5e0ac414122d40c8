//! File contents read once and shared: each file's text is copied once
//! (from the binary for the embedded chart) and then `.Files`, the template
//! loader and every subchart copy hold references to it.

use bytes::Bytes;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// Text known to be UTF-8, cheap to clone.
#[derive(Clone, PartialEq, Eq)]
pub struct Text(Arc<str>);

impl Default for Text {
    fn default() -> Text {
        Text(Arc::from(""))
    }
}

impl Text {
    /// The text of `bytes`, or None when they are not UTF-8.
    pub fn new(bytes: Bytes) -> Option<Text> {
        std::str::from_utf8(&bytes).ok().map(|s| Text(Arc::from(s)))
    }

    /// An embedded file's text; None when it is not UTF-8.
    pub fn embedded(bytes: &Bytes) -> Option<Text> {
        Text::new(bytes.clone())
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&'static str> for Text {
    fn from(s: &'static str) -> Text {
        Text(Arc::from(s))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(Arc::from(s))
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_utf8_becomes_text() {
        assert_eq!(&*Text::new(Bytes::from_static(b"a: 1")).unwrap(), "a: 1");
        assert!(Text::new(Bytes::from_static(b"\xff")).is_none());
        assert_eq!(&*Text::default(), "");
        let t = Text::from(String::from("x"));
        assert_eq!(
            (t.clone(), format!("{t}")),
            (Text::from("x"), "x".to_string())
        );
    }
}
