//! YAML output exactly as Helm's `toYaml` writes it: go-yaml v2's emitter
//! after a trip through JSON. Keys in go-yaml's order, strings quoted only
//! when YAML 1.1 would read them as something else, long lines folded at 80
//! columns, block literals for multi-line strings.

use super::gofmt::{go_float_g, go_float_json};
use super::model::Value;
use super::yaml::{is_timestamp_str, resolve_plain, Scalar};

const BEST_WIDTH: usize = 80;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

struct Analysis {
    multiline: bool,
    block_plain: bool,
    single_ok: bool,
    block_ok: bool,
}

fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blankz(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => c == ' ' || c == '\t' || is_break(c) || c == '\0',
    }
}

fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            multiline: false,
            block_plain: true,
            single_ok: true,
            block_ok: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let (mut block_ind, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut prev_space, mut prev_break, mut line_breaks) =
        (false, false, false, false, false);
    if s.starts_with("---") || s.starts_with("...") {
        block_ind = true;
    }
    let mut preceded_ws = true;
    let n = chars.len();
    for i in 0..n {
        let c = chars[i];
        let followed_ws = is_blankz(chars.get(i + 1).copied());
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_ind = true,
                '?' | ':' if followed_ws => block_ind = true,
                '-' if followed_ws => block_ind = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_ws => block_ind = true,
                '#' if preceded_ws => block_ind = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i == n - 1 {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i == n - 1 {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_ws = is_blankz(Some(c));
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain: true,
        single_ok: true,
        block_ok: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain = false;
    }
    if trailing_space {
        a.block_ok = false;
    }
    if break_space {
        a.block_plain = false;
        a.single_ok = false;
    }
    if space_break || special {
        a.block_plain = false;
        a.single_ok = false;
        a.block_ok = false;
    }
    if line_breaks {
        a.block_plain = false;
    }
    if block_ind {
        a.block_plain = false;
    }
    a
}

fn is_base60_float(s: &str) -> bool {
    // ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    if i >= b.len() || !b[i].is_ascii_digit() {
        return false;
    }
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while i < b.len() && b[i] == b':' {
        i += 1;
        let st = i;
        while i < b.len() && b[i].is_ascii_digit() && i - st < 2 {
            i += 1;
        }
        let g = &b[st..i];
        let ok = match g.len() {
            1 => true,
            2 => g[0] <= b'5',
            _ => false,
        };
        if !ok {
            return false;
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// Would go-yaml write this string unquoted? (It must read back as a string.)
pub fn plain_resolves_to_string(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    matches!(resolve_plain(s), Scalar::Str(_)) && !is_timestamp_str(s) && !is_base60_float(s)
}

fn select_style(s: &str, simple_key: bool) -> (Style, Analysis) {
    let a = analyze(s);
    let mut style = if s.contains('\n') {
        Style::Literal
    } else if plain_resolves_to_string(s) {
        Style::Plain
    } else {
        Style::Double
    };
    if simple_key && a.multiline {
        style = Style::Double;
    }
    if style == Style::Plain {
        if !a.block_plain {
            style = Style::Single;
        }
        if s.is_empty() && simple_key {
            style = Style::Single;
        }
    }
    if style == Style::Single && !a.single_ok {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block_ok || simple_key) {
        style = Style::Double;
    }
    (style, a)
}

struct Emitter {
    out: String,
    column: usize,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        if c == '\n' {
            self.column = 0;
        } else {
            self.column += 1;
        }
    }
    fn puts(&mut self, s: &str) {
        match memchr::memrchr(b'\n', s.as_bytes()) {
            None => {
                self.out.push_str(s);
                self.column += s.chars().count();
            }
            Some(last) => {
                self.out.push_str(s);
                self.column = s[last + 1..].chars().count();
            }
        }
    }
    fn newline_indent(&mut self, indent: usize) {
        // After a block literal the cursor is already at a line start.
        if !self.out.ends_with('\n') {
            self.put('\n');
        }
        for _ in 0..indent {
            self.put(' ');
        }
    }

    /// Writes a string scalar; `indent` is where continuation lines go.
    fn string(&mut self, s: &str, indent: usize, simple_key: bool) {
        let (style, _) = select_style(s, simple_key);
        let allow_breaks = !simple_key;
        match style {
            // Without a space there is nowhere to fold the line.
            Style::Plain if memchr::memchr(b' ', s.as_bytes()).is_none() => self.puts(s),
            Style::Plain => {
                let chars: Vec<char> = s.chars().collect();
                let mut spaces = false;
                for (i, &c) in chars.iter().enumerate() {
                    if c == ' ' {
                        if allow_breaks
                            && !spaces
                            && self.column > BEST_WIDTH
                            && chars.get(i + 1) != Some(&' ')
                        {
                            self.newline_indent(indent);
                        } else {
                            self.put(c);
                        }
                        spaces = true;
                    } else {
                        self.put(c);
                        spaces = false;
                    }
                }
            }
            Style::Single => {
                self.put('\'');
                let chars: Vec<char> = s.chars().collect();
                let n = chars.len();
                let mut spaces = false;
                for (i, &c) in chars.iter().enumerate() {
                    if c == ' ' {
                        if allow_breaks
                            && !spaces
                            && self.column > BEST_WIDTH
                            && i > 0
                            && i < n - 1
                            && chars.get(i + 1) != Some(&' ')
                        {
                            self.newline_indent(indent);
                        } else {
                            self.put(c);
                        }
                        spaces = true;
                    } else {
                        if c == '\'' {
                            self.put('\'');
                        }
                        self.put(c);
                        spaces = false;
                    }
                }
                self.put('\'');
            }
            Style::Double => {
                self.put('"');
                let chars: Vec<char> = s.chars().collect();
                let n = chars.len();
                let mut spaces = false;
                for (i, &c) in chars.iter().enumerate() {
                    if !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\' {
                        self.put('\\');
                        let u = c as u32;
                        match u {
                            0x00 => self.put('0'),
                            0x07 => self.put('a'),
                            0x08 => self.put('b'),
                            0x09 => self.put('t'),
                            0x0A => self.put('n'),
                            0x0B => self.put('v'),
                            0x0C => self.put('f'),
                            0x0D => self.put('r'),
                            0x1B => self.put('e'),
                            0x22 => self.put('"'),
                            0x5C => self.put('\\'),
                            0x85 => self.put('N'),
                            0xA0 => self.put('_'),
                            0x2028 => self.put('L'),
                            0x2029 => self.put('P'),
                            _ => {
                                let s = if u <= 0xFF {
                                    format!("x{u:02X}")
                                } else if u <= 0xFFFF {
                                    format!("u{u:04X}")
                                } else {
                                    format!("U{u:08X}")
                                };
                                self.puts(&s);
                            }
                        }
                        spaces = false;
                    } else if c == ' ' {
                        if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && i < n - 1
                        {
                            self.newline_indent(indent);
                            if chars.get(i + 1) == Some(&' ') {
                                self.put('\\');
                            }
                        } else {
                            self.put(c);
                        }
                        spaces = true;
                    } else {
                        self.put(c);
                        spaces = false;
                    }
                }
                self.put('"');
            }
            Style::Literal => {
                self.put('|');
                let first = s.chars().next();
                if first == Some(' ') || first.is_some_and(is_break) {
                    self.put('2');
                }
                let chars: Vec<char> = s.chars().collect();
                let last = chars.last().copied();
                if !last.is_some_and(is_break) {
                    self.put('-');
                } else if chars.len() == 1
                    || chars.get(chars.len() - 2).copied().is_some_and(is_break)
                {
                    self.put('+');
                }
                self.put('\n');
                let mut breaks = true;
                for &c in &chars {
                    if is_break(c) {
                        self.put('\n');
                        breaks = true;
                    } else {
                        if breaks {
                            for _ in 0..indent {
                                self.put(' ');
                            }
                        }
                        self.put(c);
                        breaks = false;
                    }
                }
            }
        }
    }

    fn scalar(&mut self, v: &Value, indent: usize, simple_key: bool) {
        match v {
            Value::Null => self.puts("null"),
            Value::Bool(b) => self.puts(if *b { "true" } else { "false" }),
            Value::Int(i) => self.puts(&i.to_string()),
            Value::Float(f) => self.puts(&yaml_float(*f)),
            Value::String(s) => self.string(s, indent, simple_key),
            Value::List(_) => self.puts("[]"),
            Value::Map(_) => self.puts("{}"),
        }
    }

    /// A block mapping whose keys sit at `indent`. `inline_first` means the
    /// cursor is already there (after "- ").
    fn map(&mut self, m: &[(&String, &Value)], indent: usize, inline_first: bool) {
        for (i, (k, v)) in m.iter().enumerate() {
            if !(self.out.is_empty() || i == 0 && inline_first) {
                self.newline_indent(indent);
            }
            self.string(k, indent + 2, true);
            self.put(':');
            self.value_after_key(v, indent);
        }
    }

    fn value_after_key(&mut self, v: &Value, indent: usize) {
        match v {
            Value::Map(m) if !m.is_empty() => {
                let entries = sorted_entries(m);
                self.newline_indent(indent + 2);
                self.map(&entries, indent + 2, true);
            }
            Value::List(l) if !l.is_empty() => {
                // go-yaml writes sequences in mappings without extra indentation.
                self.newline_indent(indent);
                self.seq(l, indent, true);
            }
            other => {
                self.put(' ');
                self.scalar(other, indent + 2, false);
            }
        }
    }

    fn seq(&mut self, l: &[Value], indent: usize, inline_first: bool) {
        for (i, v) in l.iter().enumerate() {
            if !(self.out.is_empty() || i == 0 && inline_first) {
                self.newline_indent(indent);
            }
            self.put('-');
            match v {
                Value::Map(m) if !m.is_empty() => {
                    self.put(' ');
                    let entries = sorted_entries(m);
                    self.map(&entries, indent + 2, true);
                }
                Value::List(inner) if !inner.is_empty() => {
                    self.put(' ');
                    self.seq(inner, indent + 2, true);
                }
                other => {
                    self.put(' ');
                    self.scalar(other, indent + 2, false);
                }
            }
        }
    }
}

/// A float64 after Helm's JSON round trip: integral values print as integers.
fn yaml_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let j = go_float_json(f);
    if j.parse::<i64>().is_ok() || j.parse::<u64>().is_ok() {
        j
    } else {
        go_float_g(f)
    }
}

/// go-yaml v2's key order: numbers inside keys compare numerically, and
/// non-letters sort before letters.
pub fn key_less(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    let ar: Vec<char> = a.chars().collect();
    let br: Vec<char> = b.chars().collect();
    let n = ar.len().min(br.len());
    for i in 0..n {
        if ar[i] == br[i] {
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl { Less } else { Greater };
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 {
                j -= 1;
                if !ar[j].is_ascii_digit() {
                    break;
                }
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an.wrapping_mul(10).wrapping_add(ar[ai] as i64 - '0' as i64);
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn.wrapping_mul(10).wrapping_add(br[bi] as i64 - '0' as i64);
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

fn sorted_entries(m: &super::model::Map) -> Vec<(&String, &Value)> {
    let mut e: Vec<(&String, &Value)> = m.iter().collect();
    e.sort_by(|a, b| key_less(a.0, b.0));
    e
}

/// Helm's `toYaml` (without the trailing newline, which Helm trims).
pub fn to_yaml(v: &Value) -> String {
    let mut e = Emitter {
        out: String::new(),
        column: 0,
    };
    match v {
        Value::Map(m) if !m.is_empty() => {
            let entries = sorted_entries(m);
            e.map(&entries, 0, true);
        }
        Value::List(l) if !l.is_empty() => e.seq(l, 0, true),
        other => e.scalar(other, 0, false),
    }
    e.out
}

/// A full YAML document (with the trailing newline), for `values` output.
pub fn to_yaml_document(v: &Value) -> String {
    let mut s = to_yaml(v);
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::yaml::parse_values;

    fn y(s: &str) -> String {
        to_yaml(&Value::Map(parse_values(s, None).unwrap()))
    }

    #[test]
    fn layout() {
        assert_eq!(
            y("b: {c: [1, {d: x, e: yy}]}\na: []\n"),
            "a: []\nb:\n  c:\n  - 1\n  - d: x\n    e: yy"
        );
    }

    #[test]
    fn quoting() {
        assert_eq!(y("a: 'true'\nb: '123'\nc: ''\nd: '*.x'\ne: 'a: b'\nf: 'x\ty'\ng: '2001-12-14'\nh: plain text\n"),
            "a: \"true\"\nb: \"123\"\nc: \"\"\nd: '*.x'\ne: 'a: b'\nf: \"x\\ty\"\ng: \"2001-12-14\"\nh: plain text");
    }

    #[test]
    fn literal_blocks() {
        assert_eq!(
            y("a: \"x\\ny\\n\"\nb: \"x\\ny\"\n"),
            "a: |\n  x\n  y\nb: |-\n  x\n  y"
        );
    }

    #[test]
    fn numbers_after_json() {
        assert_eq!(
            y("a: 1000000\nb: 0.000001\nc: 1.5\n"),
            "a: 1000000\nb: 1e-06\nc: 1.5"
        );
    }

    #[test]
    fn folding_long_plain() {
        let long = "word ".repeat(30);
        let out = y(&format!("k: {}\n", long.trim()));
        assert!(out.contains("\n  word"), "{out}");
    }

    #[test]
    fn key_order() {
        assert_eq!(key_less("a_b", "ab"), std::cmp::Ordering::Less);
        assert_eq!(key_less("key9", "key10"), std::cmp::Ordering::Less);
        assert_eq!(
            key_less("app", "app.kubernetes.io/name"),
            std::cmp::Ordering::Less
        );
    }
}
