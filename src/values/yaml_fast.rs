//! Values files in the block YAML people write (block mappings and
//! sequences, one-line plain and quoted scalars, one-line flow sequences of
//! simple scalars, `{}`, comments),
//! read straight into values without the general parser.
//!
//! Reading the chart's own values.yaml was a twentieth of a render, nearly
//! all of it in the general parser, and on the path every render waits for.
//! This reader answers only where it can prove the file well-formed in that
//! subset and then gives exactly what the full parser gives (types resolved
//! by the same Helm rules, positions of keys included). Anything else
//! (anchors, tags, flow mappings with content, block or multi-line
//! scalars, duplicate keys, tabs, non-ASCII text, document markers, odd
//! indentation) gets None, and the full parser decides, errors and all.

use super::yaml::{self, child_path, Positions};
use super::yaml_line::{
    after_scalar, block_lines, flow_sequence, is_seq_entry, mapping_entry, next_content, plain,
    quoted_cow, sequence_entry, Nesting,
};
use super::{Map, Value};

/// A values path, kept only when positions are recorded.
type Path = Option<String>;

/// The values of `text`, or None when it is outside the subset this reader
/// decides (not necessarily invalid). Key positions go to `positions` only
/// when the whole file is read.
pub fn parse(text: &str, positions: Option<&mut Positions>) -> Option<Map> {
    let mut r = Reader {
        lines: block_lines(text)?,
        positions: positions.is_some().then(Positions::new),
        depth: 0,
    };
    // Values paths are built only when positions are recorded, as the
    // full parser does.
    let root = r.positions.as_ref().map(|_| String::new());
    let mut out = Map::new();
    let first = r.next_content(0);
    if first < r.lines.len() {
        let (indent, text) = r.lines[first];
        if indent != 0 || is_seq_entry(text) {
            return None;
        }
        let end = r.mapping(first, 0, &mut out, &root)?;
        if r.next_content(end) != r.lines.len() {
            return None;
        }
    }
    if let (Some(dst), Some(found)) = (positions, r.positions) {
        dst.extend(found);
    }
    Some(out)
}

struct Reader<'a> {
    /// Each line as (indent in spaces, the rest).
    lines: Vec<(usize, &'a str)>,
    /// Where each key sits (values path to line and column, both from 1),
    /// when the caller wants them.
    positions: Option<Positions>,
    /// Collections open around the current line.
    depth: usize,
}

impl Nesting for Reader<'_> {
    fn depth(&mut self) -> &mut usize {
        &mut self.depth
    }
}

impl Reader<'_> {
    fn next_content(&self, i: usize) -> usize {
        next_content(&self.lines, i)
    }

    /// A block mapping whose keys sit at column `n`, from line `i`, into
    /// `out`; the index of the first line after it.
    fn mapping(&mut self, i: usize, n: usize, out: &mut Map, path: &Path) -> Option<usize> {
        self.nested(|r| r.mapping_entries(i, n, out, path))
    }

    fn mapping_entries(
        &mut self,
        mut i: usize,
        n: usize,
        out: &mut Map,
        path: &Path,
    ) -> Option<usize> {
        loop {
            i = self.next_content(i);
            let Some((key, rest)) = mapping_entry(&self.lines, i, n)? else {
                return Some(i);
            };
            if out.contains_key(key.as_ref()) {
                return None; // a duplicate: the full parser's rules apply
            }
            let key = key.into_owned();
            let sub = child_path(path, &key, false);
            if let (Some(pos), Some(p)) = (self.positions.as_mut(), &sub) {
                pos.insert(p.clone(), (i + 1, n + 1));
            }
            let (v, next) = self.value(i, n, rest, true, &sub)?;
            out.insert(key, v);
            i = next;
        }
    }

    /// A block sequence whose dashes sit at column `n`, into `out`.
    fn sequence(&mut self, i: usize, n: usize, out: &mut Vec<Value>, path: &Path) -> Option<usize> {
        self.nested(|r| r.sequence_entries(i, n, out, path))
    }

    fn sequence_entries(
        &mut self,
        mut i: usize,
        n: usize,
        out: &mut Vec<Value>,
        path: &Path,
    ) -> Option<usize> {
        loop {
            i = self.next_content(i);
            let Some(item) = sequence_entry(&self.lines, i, n)? else {
                return Some(i);
            };
            let sub = child_path(path, out.len(), true);
            if item.opens_mapping {
                // `- key: value`: a mapping at the key's column.
                self.lines[i] = (item.col, item.text);
                let mut map = Map::new();
                i = self.mapping(i, item.col, &mut map, &sub)?;
                out.push(Value::Map(map));
            } else {
                let (v, next) = self.value(i, n, item.text, false, &sub)?;
                out.push(v);
                i = next;
            }
        }
    }

    /// The value of an entry on line `i` (a key or a dash at column `n`),
    /// `rest` being what follows the `:` or `-` on that line; the value and
    /// the line after it.
    fn value(
        &mut self,
        i: usize,
        n: usize,
        rest: &str,
        compact_seq: bool,
        path: &Path,
    ) -> Option<(Value, usize)> {
        let rest = if rest.starts_with('#') { "" } else { rest };
        if rest.is_empty() {
            let j = self.next_content(i + 1);
            if let Some(&(m, text)) = self.lines.get(j) {
                let seq = is_seq_entry(text);
                if m > n || (m == n && seq && compact_seq) {
                    return if seq {
                        let mut list = Vec::new();
                        let end = self.sequence(j, m, &mut list, path)?;
                        Some((Value::List(list), end))
                    } else {
                        let mut map = Map::new();
                        let end = self.mapping(j, m, &mut map, path)?;
                        Some((Value::Map(map), end))
                    };
                }
            }
            return Some((Value::Null, i + 1));
        }
        let first = rest.as_bytes()[0];
        let v = if first == b'"' || first == b'\'' {
            let (s, after) = quoted_cow(rest)?;
            if !after_scalar(after) {
                return None;
            }
            Value::String(s.into_owned())
        } else if let Some(after) = rest.strip_prefix("{}") {
            if !after_scalar(after) {
                return None;
            }
            Value::Map(Map::new())
        } else if first == b'[' {
            let (items, after) = flow_sequence(rest)?;
            if !after_scalar(after) {
                return None;
            }
            Value::List(items)
        } else {
            // Block scalars and flow collections start with indicators,
            // which `plain` refuses.
            yaml::plain_value(plain(rest)?)?
        };
        // Nothing may continue the scalar on a deeper line.
        let j = self.next_content(i + 1);
        if self.lines.get(j).is_some_and(|&(m, _)| m > n) {
            return None;
        }
        Some((v, i + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Wherever the fast reader answers, the full parser gives the same
    /// values and the same key positions.
    pub(crate) fn agrees(text: &str) -> bool {
        let mut fast_pos = Positions::new();
        let Some(fast) = parse(text, Some(&mut fast_pos)) else {
            return true;
        };
        let mut full_pos = Positions::new();
        match yaml::parse_values_full(text, Some(&mut full_pos)) {
            Ok(full) => full == fast && full_pos == fast_pos,
            Err(_) => false,
        }
    }

    #[test]
    fn reads_the_charts_values_files() {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut files = vec![
            format!("{root}/values/values.yaml"),
            format!("{root}/chart/charts/temporal/values.yaml"),
        ];
        for d in ["values/examples", "tests/fixtures"] {
            if let Ok(rd) = std::fs::read_dir(format!("{root}/{d}")) {
                for e in rd.flatten() {
                    let p = e.path();
                    if p.extension().is_some_and(|x| x == "yaml") {
                        files.push(p.display().to_string());
                    }
                }
            }
        }
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            assert!(agrees(&text), "{f}");
        }
        // The chart's defaults are in the subset: that is the point.
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(parse(&text, None).is_some());
    }

    #[test]
    fn answers_only_inside_the_subset() {
        let inside = [
            "",
            "# only a comment\n",
            "a: 1\nb: two\nc: \"3\"\nd: '4'\ne:\nf: []\ng: {}\n",
            "a:\n  b:\n  - x\n  - y: 1\n    z: [] # c\n  -\n    k: v\n  - # c\n    q: 1\nc: ~\n",
            "list:\n- 1\n- on\n- 0x1F\n- 1e3\n- .5\n- \"on\"\n",
            "x:\n    deep:\n        deeper: yes\n",
            "'quoted key': 1\n\"k2\": 2\n1: int key\ntrue: bool key\n",
            "a: b # comment\nc: 'it''s'\n",
            "a: [1, on, \"x\", 'y', -c, 0x10, a.b/c]\nb: [ ]\n",
        ];
        for t in inside {
            assert!(parse(t, None).is_some(), "{t:?}");
            assert!(agrees(t), "{t:?}");
        }
        let outside = [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: |\n  text\n",
            "a: >\n  text\n",
            "a: {b: 1}\n",
            "a: [1, 2,]\n",
            "a: [x y]\n",
            "a: [[1]]\n",
            "a: [.nan]\n",
            "a: plain\n  continued\n",
            "a: 1\na: 2\n",
            "---\na: 1\n",
            "a: 1\n---\nb: 2\n",
            "a:\tb\n",
            "a: caf\u{e9}\n",
            "- a\n- b\n",
            "scalar\n",
            "a:\n  b: 1\n c: 2\n",
            "a: \"esc\\u0041\"\n",
            "<<: {a: 1}\n",
            "a: .inf\n",
        ];
        for t in outside {
            assert!(parse(t, None).is_none(), "{t:?}");
        }
    }

    /// Chart.yaml files are read as one document that must be a mapping:
    /// through this reader when it answers, with the same result as the
    /// general parser in every case, the embedded charts' included.
    #[test]
    fn chart_metadata_reads_as_the_full_parser_does() {
        let mut texts: Vec<String> = crate::embedded::FILES
            .iter()
            .filter(|(p, _)| p.ends_with("Chart.yaml"))
            .map(|(_, b)| String::from_utf8(b.to_vec()).unwrap())
            .collect();
        assert!(texts.len() >= 2);
        for t in &texts {
            assert!(parse(t, None).is_some_and(|m| !m.is_empty()), "{t}");
        }
        texts.extend(
            [
                "",
                "# nothing\n",
                "name: a\n---\nname: b\n",
                "---\nname: a\n",
                "- a\n",
                "scalar\n",
                "name: a\nname: b\n",
                "name: &n a\nalias: *n\n",
                "name: [unclosed\n",
            ]
            .map(String::from),
        );
        for t in &texts {
            let (fast, full) = (yaml::parse_one_mapping(t), yaml::parse_one(t));
            match (&fast, &full) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{t:?}"),
                (Err(a), Err(b)) => assert_eq!(a.message, b.message, "{t:?}"),
                _ => panic!("{t:?}: {fast:?} against {full:?}"),
            }
        }
    }

    #[test]
    fn refuses_deep_nesting_instead_of_recursing() {
        let mut t = String::new();
        for d in 0..1_000 {
            t.push_str(&" ".repeat(d));
            t.push_str("k:\n");
        }
        assert!(parse(&t, None).is_none());
        assert!(agrees("a:\n b:\n  c: 1\n"));
    }

    #[test]
    fn positions_are_recorded_only_for_a_whole_read() {
        let mut pos = Positions::new();
        assert!(parse("a: 1\nb: &x 2\n", Some(&mut pos)).is_none());
        assert!(pos.is_empty());
        assert!(parse("a:\n  - b: 1\n", Some(&mut pos)).is_some());
        assert_eq!(pos.get("a[0].b"), Some(&(2, 5)));
    }
}
