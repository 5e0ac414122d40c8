//! One-line lexing for the head reader ([`super::head`]): the pieces of a
//! block-YAML line, each answering None where the full parser must decide.

use crate::values::{yaml, Value};

// These run on every line, mostly over a short key: a plain loop, which
// costs less there than setting up a vector search.

/// Where the first `: ` starts.
pub(crate) fn colon_space(s: &str) -> Option<usize> {
    s.as_bytes().windows(2).position(|w| w == b": ")
}

/// Where the first ` #` (a comment after a space) starts.
pub(crate) fn comment_start(s: &str) -> Option<usize> {
    s.as_bytes().windows(2).position(|w| w == b" #")
}

/// Printable ASCII and newlines only: no tabs, CRs, or characters YAML
/// treats specially (BOM, NEL, line and paragraph separators). Checked in
/// blocks without an early exit inside each, which the compiler vectorises.
pub(crate) fn plain_text(s: &str) -> bool {
    s.as_bytes().chunks(64).all(|c| {
        c.iter().fold(true, |ok, &b| {
            ok & (b == b'\n' || (0x20..0x7f).contains(&b))
        })
    })
}

/// The document's lines as (indent in spaces, the rest), or None when it is
/// not plain text or holds a document marker: `---` or `...` at the start of
/// any line (even inside what looks like a scalar) is left to the full
/// parser.
pub(crate) fn block_lines(text: &str) -> Option<Vec<(usize, &str)>> {
    if !plain_text(text) {
        return None;
    }
    // Sized once: a rendered manifest has thousands of short lines.
    let b = text.as_bytes();
    let mut lines = Vec::with_capacity(memchr::memchr_iter(b'\n', b).count() + 1);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', b).chain(std::iter::once(b.len())) {
        let line = &b[start..end];
        let indent = line.iter().position(|&c| c != b' ').unwrap_or(line.len());
        let rest = &line[indent..];
        if indent == 0 && (rest.starts_with(b"---") || rest.starts_with(b"...")) {
            return None;
        }
        // Splits at ASCII bytes (newline, space) of UTF-8 text.
        lines.push((indent, &text[start + indent..end]));
        start = end + 1;
    }
    Some(lines)
}

/// The first line at or after `i` that is neither blank nor a comment.
pub(crate) fn next_content(lines: &[(usize, &str)], mut i: usize) -> usize {
    while i < lines.len() {
        let t = lines[i].1;
        if !(t.is_empty() || t.starts_with('#')) {
            break;
        }
        i += 1;
    }
    i
}

/// Is this line (without its indentation) a block sequence entry?
pub(crate) fn is_seq_entry(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// Characters a plain scalar may not start with (`-` is handled apart).
pub(crate) const INDICATORS: &[u8] = b"?:,[]{}#&*!|>'\"%@`";

/// What may follow a one-line scalar: nothing, or a comment after a space.
pub(crate) fn after_scalar(after: &str) -> bool {
    let t = after.trim_start_matches(' ');
    t.is_empty() || (t.starts_with('#') && t.len() < after.len())
}

/// A one-line plain scalar: its text without a trailing comment, or None
/// where it could be something else (an indicator, `: ` inside, a
/// trailing `:`).
pub(crate) fn plain(rest: &str) -> Option<&str> {
    let b = rest.as_bytes();
    if INDICATORS.contains(&b[0]) || (b[0] == b'-' && b.get(1).is_none_or(|c| *c == b' ')) {
        return None;
    }
    let text = match comment_start(rest) {
        Some(p) => &rest[..p],
        None => rest,
    };
    let text = text.trim_end_matches(' ');
    if colon_space(text).is_some() || text.ends_with(':') {
        return None;
    }
    Some(text)
}

/// [`quoted`], borrowing the value when it has no escapes (the usual case:
/// no copy, no walk over its characters).
pub(crate) fn quoted_cow(s: &str) -> Option<(std::borrow::Cow<'_, str>, &str)> {
    let q = s.as_bytes()[0];
    let body = &s[1..];
    let b = body.as_bytes();
    let close = memchr::memchr(q, b)?;
    let plain = if q == b'"' {
        memchr::memchr(b'\\', &b[..close]).is_none()
    } else {
        b.get(close + 1) != Some(&b'\'')
    };
    if plain {
        return Some((body[..close].into(), &body[close + 1..]));
    }
    let (v, rest) = quoted(s)?;
    Some((v.into(), rest))
}

/// A one-line quoted scalar at the start of `s`: its value and what follows
/// the closing quote. Only the simplest escapes are read.
pub(crate) fn quoted(s: &str) -> Option<(String, &str)> {
    let q = s.as_bytes()[0];
    let mut out = String::new();
    let mut chars = s[1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' if q == b'"' => return Some((out, &s[i + 2..])),
            '\'' if q == b'\'' => {
                if s[i + 2..].starts_with('\'') {
                    out.push('\'');
                    chars.next();
                } else {
                    return Some((out, &s[i + 2..]));
                }
            }
            '\\' if q == b'"' => match chars.next()?.1 {
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                '/' => out.push('/'),
                'n' => out.push('\n'),
                't' => out.push('\t'),
                _ => return None,
            },
            c => out.push(c),
        }
    }
    None // not closed on this line
}

/// A mapping entry's key (as the full parser names it) and the rest of the
/// line after `: `.
pub(crate) fn split_key(text: &str) -> Option<(std::borrow::Cow<'_, str>, &str)> {
    let first = text.as_bytes()[0];
    let (key, after) = if first == b'"' || first == b'\'' {
        let (k, after) = quoted_cow(text)?;
        if text.len() - after.len() > 1000 {
            return None;
        }
        (k, after.strip_prefix(':')?)
    } else {
        if INDICATORS.contains(&first) || first == b'-' {
            return None;
        }
        let p = match colon_space(text) {
            Some(p) => p,
            None if text.ends_with(':') => text.len() - 1,
            None => return None,
        };
        let k = &text[..p];
        // YAML limits implicit keys to 1024 characters; stay well inside.
        if p > 1000 || comment_start(k).is_some() || k.ends_with(' ') || k == "<<" {
            return None;
        }
        let key = if yaml::plain_is_string(k) {
            k.into()
        } else {
            yaml::plain_key(k)?.into()
        };
        (key, &text[p + 1..])
    };
    if !(after.is_empty() || after.starts_with(' ')) {
        return None;
    }
    Some((key, after.trim_start_matches(' ')))
}

/// A one-line flow sequence of quoted or simple plain scalars (`[]`,
/// `["sh", "-c"]`, `[a, b]`): its items, and what follows its closing
/// bracket.
pub(crate) fn flow_sequence(s: &str) -> Option<(Vec<Value>, &str)> {
    let mut items = Vec::new();
    let mut rest = s.strip_prefix('[')?.trim_start_matches(' ');
    if let Some(after) = rest.strip_prefix(']') {
        return Some((items, after));
    }
    loop {
        let first = *rest.as_bytes().first()?;
        rest = if first == b'"' || first == b'\'' {
            let (item, after) = quoted_cow(rest)?;
            items.push(Value::String(item.into_owned()));
            after
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || "_./=+".contains(c) || c == '-'))
                .unwrap_or(rest.len());
            if end == 0 || &rest[..end] == "-" {
                return None;
            }
            // Resolved as the full parser would: `.nan` and `.inf` are refused.
            items.push(yaml::plain_value(&rest[..end])?);
            &rest[end..]
        };
        rest = rest.trim_start_matches(' ');
        if let Some(after) = rest.strip_prefix(']') {
            return Some((items, after));
        }
        rest = rest.strip_prefix(',')?.trim_start_matches(' ');
        if rest.starts_with(']') {
            return None; // a trailing comma: left to the full parser
        }
    }
}

/// Nesting the fast paths read; deeper documents go to the full parser,
/// which has its own limits (and no recursion on this thread's stack).
pub(crate) const MAX_DEPTH: usize = 128;

/// The depth guard of a recursive block reader.
pub(crate) trait Nesting: Sized {
    /// Collections open around the current line.
    fn depth(&mut self) -> &mut usize;

    /// Runs `read` one collection deeper, refusing documents nested past
    /// [`MAX_DEPTH`] (a hostile document could otherwise exhaust the stack).
    fn nested(&mut self, read: impl FnOnce(&mut Self) -> Option<usize>) -> Option<usize> {
        if *self.depth() >= MAX_DEPTH {
            return None;
        }
        *self.depth() += 1;
        let r = read(self);
        *self.depth() -= 1;
        r
    }
}

/// Line `i` of a block mapping whose keys sit at column `n`: `Some(None)`
/// where the mapping ends, the entry's key and the rest of its line, or
/// None outside the subset.
#[inline]
pub(crate) fn mapping_entry<'a>(
    lines: &[(usize, &'a str)],
    i: usize,
    n: usize,
) -> Option<Option<(std::borrow::Cow<'a, str>, &'a str)>> {
    let Some(&(m, text)) = lines.get(i) else {
        return Some(None);
    };
    if m < n {
        return Some(None);
    }
    if m > n || is_seq_entry(text) {
        return None;
    }
    split_key(text).map(Some)
}

/// An item of a block sequence: the text after its dash, the column that
/// text starts at, and whether it opens a mapping there (`- key: value`).
pub(crate) struct SeqItem<'a> {
    pub text: &'a str,
    pub col: usize,
    pub opens_mapping: bool,
}

/// Line `i` of a block sequence whose dashes sit at column `n`: `Some(None)`
/// where the sequence ends, the item, or None outside the subset.
#[inline]
pub(crate) fn sequence_entry<'a>(
    lines: &[(usize, &'a str)],
    i: usize,
    n: usize,
) -> Option<Option<SeqItem<'a>>> {
    let Some(&(m, text)) = lines.get(i) else {
        return Some(None);
    };
    if m < n || (m == n && !is_seq_entry(text)) {
        return Some(None);
    }
    if m > n {
        return None;
    }
    let item = text[1..].trim_start_matches(' ');
    if is_seq_entry(item) {
        return None; // `- - x`
    }
    Some(Some(SeqItem {
        text: item,
        col: n + (text.len() - item.len()),
        opens_mapping: !item.is_empty() && !item.starts_with('#') && split_key(item).is_some(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_cow_reads_as_quoted() {
        for s in [
            r#""""#,
            "''",
            r#""a" x"#,
            "'a' x",
            r#""a\"b""#,
            "'it''s'",
            "''''",
            r#""a\nb""#,
            r#""open"#,
            "'open",
            r#""a\""#,
            "'a''",
            r#""\q""#,
        ] {
            let slow = quoted(s);
            let fast = quoted_cow(s).map(|(v, r)| (v.into_owned(), r));
            assert_eq!(fast, slow, "{s:?}");
        }
    }

    #[test]
    fn plain_text_is_printable_ascii_and_newlines() {
        let long = "a: b\n".repeat(40);
        assert!(plain_text(&long));
        assert!(plain_text(""));
        for bad in ["\t", "\r", "\u{7f}", "\u{85}", "\u{feff}", "\u{0}"] {
            assert!(!plain_text(&format!("{long}{bad}{long}")), "{bad:?}");
        }
    }

    #[test]
    fn byte_searches_match_the_substring_searches() {
        for s in [
            "",
            ":",
            ": ",
            "a: b",
            "a:b: c",
            "#",
            " #",
            "a #b",
            "a# b #c",
            "x:",
            "k: v # c: d",
        ] {
            assert_eq!(colon_space(s), s.find(": "), "{s:?}");
            assert_eq!(comment_start(s), s.find(" #"), "{s:?}");
        }
    }
}
