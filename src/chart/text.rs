//! File contents without copies: the embedded chart's files are borrowed
//! from the binary, a loaded chart's are read once and shared, so `.Files`,
//! the template loader and every subchart copy hold references.

use bytes::Bytes;
use std::fmt;
use std::ops::Deref;

/// Text known to be UTF-8, cheap to clone.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Text(Bytes);

impl Text {
    /// The text of `bytes`, or None when they are not UTF-8.
    pub fn new(bytes: Bytes) -> Option<Text> {
        std::str::from_utf8(&bytes).is_ok().then_some(Text(bytes))
    }

    /// An embedded file's text, which the build found to be UTF-8 (see
    /// `crate::embedded::NOT_UTF8`); None for any other bytes.
    pub fn embedded(bytes: &Bytes) -> Option<Text> {
        let path = super::embedded_path(bytes)?;
        (!crate::embedded::NOT_UTF8.contains(&path)).then(|| Text(bytes.clone()))
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        // SAFETY: every constructor starts from UTF-8 (`new` checks it, the
        // others take `str` or `String`), and Bytes never changes its bytes.
        unsafe { std::str::from_utf8_unchecked(&self.0) }
    }
}

impl From<&'static str> for Text {
    fn from(s: &'static str) -> Text {
        Text(Bytes::from_static(s.as_bytes()))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(Bytes::from(s.into_bytes()))
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

    #[test]
    fn embedded_text_is_taken_unchecked_only_where_the_build_checked_it() {
        for (path, bytes) in crate::embedded::FILES {
            let b = Bytes::from_static(bytes);
            let utf8 = std::str::from_utf8(bytes).is_ok();
            assert_eq!(Text::embedded(&b).is_some(), utf8, "{path}");
            assert_eq!(crate::embedded::NOT_UTF8.contains(path), !utf8, "{path}");
        }
        // a copy of embedded bytes, or other bytes, are not
        let (_, bytes) = crate::embedded::FILES[0];
        assert!(Text::embedded(&Bytes::copy_from_slice(bytes)).is_none());
        assert!(Text::embedded(&Bytes::from_static(b"\xff")).is_none());
    }
}
