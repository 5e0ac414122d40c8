//! File contents read once and shared: a file's text is the same buffer as
//! its bytes (the binary's own for the embedded chart), and `.Files`, the
//! template loader and every subchart copy hold references to it.

use bytes::Bytes;
use bytestring::ByteString;
use std::fmt;
use std::ops::Deref;

/// Text known to be UTF-8, cheap to clone.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Text(ByteString);

impl Text {
    /// The text of `bytes`, without copying them; None when they are not
    /// UTF-8.
    pub fn new(bytes: Bytes) -> Option<Text> {
        ByteString::try_from(bytes).ok().map(Text)
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
        Text(ByteString::from_static(s))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(ByteString::from(s))
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
