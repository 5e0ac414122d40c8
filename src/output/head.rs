//! The head of a rendered document (kind, name, Helm hook annotations),
//! read without building the document, for documents written in the block
//! YAML that charts render: block mappings and sequences, one-line plain and
//! quoted scalars, block scalars, `[]` and `{}`.
//!
//! Re-reading every rendered document is a quarter of a render, nearly all
//! of it inside a general YAML parser. This reader answers only where it can
//! prove the document well-formed in that subset, and then reads the head as
//! the full parser would. Anything else (anchors, tags, flow collections,
//! multi-line plain or quoted scalars, tabs, non-ASCII text, odd
//! indentation) gets None, and the full parser decides, errors and all.

use super::yaml_line::{
    after_scalar, block_lines, flow_sequence, is_seq_entry, mapping_entry, next_content, plain,
    quoted_cow, sequence_entry, Nesting,
};
use crate::values::{yaml, Value};

/// What sorting and hook handling need from a document: the values at
/// `kind`, `metadata.name`, and the `helm.sh/hook` and `helm.sh/hook-weight`
/// annotations, where present.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Head {
    pub kind: Option<Value>,
    pub name: Option<Value>,
    pub hook: Option<Value>,
    pub hook_weight: Option<Value>,
}

impl Head {
    /// The head of a document already parsed into a tree.
    pub fn from_tree(doc: &Value) -> Head {
        let at = |path: &[&str]| {
            let mut cur = doc;
            for p in path {
                cur = cur.as_map()?.get(*p)?;
            }
            Some(cur.clone())
        };
        Head {
            kind: at(&["kind"]),
            name: at(&["metadata", "name"]),
            hook: at(&["metadata", "annotations", "helm.sh/hook"]),
            hook_weight: at(&["metadata", "annotations", "helm.sh/hook-weight"]),
        }
    }
}

/// The head of `doc`, or None when `doc` is outside the subset this reader
/// decides (not necessarily invalid).
pub fn read(doc: &str) -> Option<Head> {
    let mut r = Reader {
        lines: block_lines(doc)?,
        head: Head::default(),
        depth: 0,
    };
    let first = r.next_content(0);
    if first == r.lines.len() {
        return Some(r.head); // comments only: a null document
    }
    let (indent, text) = r.lines[first];
    if indent != 0 || is_seq_entry(text) {
        return None;
    }
    let end = r.mapping(first, 0, Slot::Root)?;
    (r.next_content(end) == r.lines.len()).then_some(r.head)
}

/// Where a value sits, as far as the head is concerned.
#[derive(Clone, Copy, PartialEq)]
enum Slot {
    Root,
    /// `apiVersion`: not read, but Helm refuses a collection there.
    ApiVersion,
    Meta,
    Annotations,
    Kind,
    Name,
    Hook,
    HookWeight,
    /// Any other annotation: Helm refuses a collection there.
    Annotation,
    Other,
}

impl Slot {
    /// The slot of `key` inside a mapping in this slot.
    fn child(self, key: &str) -> Slot {
        match (self, key) {
            (Slot::Root, "apiVersion") => Slot::ApiVersion,
            (Slot::Root, "kind") => Slot::Kind,
            (Slot::Root, "metadata") => Slot::Meta,
            (Slot::Meta, "name") => Slot::Name,
            (Slot::Meta, "annotations") => Slot::Annotations,
            (Slot::Annotations, "helm.sh/hook") => Slot::Hook,
            (Slot::Annotations, "helm.sh/hook-weight") => Slot::HookWeight,
            (Slot::Annotations, _) => Slot::Annotation,
            _ => Slot::Other,
        }
    }
    /// A head field: only one-line scalars are read there.
    fn is_field(self) -> bool {
        matches!(
            self,
            Slot::Kind | Slot::Name | Slot::Hook | Slot::HookWeight
        )
    }
    /// Where a collection is left to the full parser (to read or refuse).
    fn scalar_only(self) -> bool {
        self.is_field() || matches!(self, Slot::Annotation | Slot::ApiVersion)
    }
    /// Where anything but a mapping or null is left to the full parser
    /// (which refuses it).
    fn mapping_only(self) -> bool {
        matches!(self, Slot::Meta | Slot::Annotations)
    }
}

struct Reader<'a> {
    /// Each line as (indent in spaces, the rest).
    lines: Vec<(usize, &'a str)>,
    head: Head,
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

    /// A new value starts in `slot`: a repeated `metadata` or `annotations`
    /// key replaces what the earlier one held, as the last duplicate wins.
    fn reset(&mut self, slot: Slot) {
        match slot {
            Slot::Meta => {
                self.head.name = None;
                self.head.hook = None;
                self.head.hook_weight = None;
            }
            Slot::Annotations => {
                self.head.hook = None;
                self.head.hook_weight = None;
            }
            _ => {}
        }
    }

    fn set(&mut self, slot: Slot, v: Value) {
        match slot {
            Slot::Kind => self.head.kind = Some(v),
            Slot::Name => self.head.name = Some(v),
            Slot::Hook => self.head.hook = Some(v),
            Slot::HookWeight => self.head.hook_weight = Some(v),
            _ => {}
        }
    }

    /// A block mapping whose keys sit at column `n`, from line `i`; the
    /// index of the first line after it.
    fn mapping(&mut self, i: usize, n: usize, slot: Slot) -> Option<usize> {
        self.nested(|r| r.mapping_entries(i, n, slot))
    }

    fn mapping_entries(&mut self, mut i: usize, n: usize, slot: Slot) -> Option<usize> {
        loop {
            i = self.next_content(i);
            let Some((key, rest)) = mapping_entry(&self.lines, i, n)? else {
                return Some(i);
            };
            i = self.value(i, n, rest, slot.child(&key), true)?;
        }
    }

    /// A block sequence whose dashes sit at column `n`.
    fn sequence(&mut self, i: usize, n: usize) -> Option<usize> {
        self.nested(|r| r.sequence_entries(i, n))
    }

    fn sequence_entries(&mut self, mut i: usize, n: usize) -> Option<usize> {
        loop {
            i = self.next_content(i);
            let Some(item) = sequence_entry(&self.lines, i, n)? else {
                return Some(i);
            };
            if item.opens_mapping {
                // `- key: value`: a mapping at the key's column.
                self.lines[i] = (item.col, item.text);
                i = self.mapping(i, item.col, Slot::Other)?;
            } else {
                i = self.value(i, n, item.text, Slot::Other, false)?;
            }
        }
    }

    /// The value of an entry on line `i` (a key or a dash at column `n`),
    /// `rest` being what follows the `:` or `-` on that line.
    fn value(
        &mut self,
        i: usize,
        n: usize,
        rest: &str,
        slot: Slot,
        compact_seq: bool,
    ) -> Option<usize> {
        self.reset(slot);
        let rest = if rest.starts_with('#') { "" } else { rest };
        if rest.is_empty() {
            let j = self.next_content(i + 1);
            if let Some(&(m, text)) = self.lines.get(j) {
                // `{}` or `[]` alone on the next line (toYaml of an empty
                // collection, indented).
                let empty = text.strip_prefix("{}").or_else(|| text.strip_prefix("[]"));
                if empty.is_some_and(|a| m > n && after_scalar(a)) {
                    if slot.scalar_only() || (slot.mapping_only() && text.starts_with('[')) {
                        return None;
                    }
                    let k = self.next_content(j + 1);
                    if self.lines.get(k).is_some_and(|&(m2, _)| m2 > n) {
                        return None;
                    }
                    return Some(j + 1);
                }
                let seq = is_seq_entry(text);
                if m > n || (m == n && seq && compact_seq) {
                    if slot.scalar_only() || (slot.mapping_only() && seq) {
                        return None;
                    }
                    return if seq {
                        self.sequence(j, m)
                    } else {
                        let inner = match slot {
                            Slot::Meta | Slot::Annotations => slot,
                            _ => Slot::Other,
                        };
                        self.mapping(j, m, inner)
                    };
                }
            }
            self.set(slot, Value::Null);
            return Some(i + 1);
        }
        let first = rest.as_bytes()[0];
        if slot.mapping_only() && !rest.starts_with("{}") {
            return None; // a scalar or a sequence where a mapping goes
        }
        if first == b'|' || first == b'>' {
            if slot.is_field() || !block_header(&rest[1..]) {
                return None;
            }
            return self.block_scalar(i + 1, n);
        }
        let v = if first == b'"' || first == b'\'' {
            let (s, after) = quoted_cow(rest)?;
            if !after_scalar(after) {
                return None;
            }
            // Only a head field keeps its value.
            if slot.is_field() {
                Value::String(s.into_owned())
            } else {
                Value::Null
            }
        } else if let Some(after) = rest.strip_prefix("{}") {
            if slot.scalar_only() || !after_scalar(after) {
                return None;
            }
            Value::Null // an empty collection: nothing the head reads
        } else if first == b'[' {
            if slot.scalar_only() || !after_scalar(flow_sequence(rest)?.1) {
                return None;
            }
            Value::Null
        } else {
            let text = plain(rest)?;
            if slot.is_field() {
                yaml::plain_value(text)?
            } else {
                // Only whether the full parser would take it: numbers that
                // overflow to infinity, `.nan` and `.inf` are refused.
                if !yaml::plain_is_string(text) {
                    yaml::plain_value(text)?;
                }
                Value::Null
            }
        };
        // Nothing may continue the scalar on a deeper line.
        let j = self.next_content(i + 1);
        if self.lines.get(j).is_some_and(|&(m, _)| m > n) {
            return None;
        }
        self.set(slot, v);
        Some(i + 1)
    }

    /// The lines of a block scalar whose parent sits at column `n`.
    fn block_scalar(&mut self, mut i: usize, n: usize) -> Option<usize> {
        let mut content: Option<usize> = None;
        let mut leading_blank = 0;
        while let Some(&(m, text)) = self.lines.get(i) {
            if text.is_empty() {
                if content.is_none() {
                    leading_blank = leading_blank.max(m);
                }
                i += 1;
                continue;
            }
            match content {
                None if m <= n => break,
                None if leading_blank > m => return None,
                None => content = Some(m),
                Some(c) if m < c => {
                    if m <= n {
                        break;
                    }
                    return None;
                }
                Some(_) => {}
            }
            i += 1;
        }
        Some(i)
    }
}

/// After `|` or `>`: an optional chomping indicator, then nothing or a
/// comment. (Explicit indentation indicators are left to the full parser.)
fn block_header(h: &str) -> bool {
    let h = h.strip_prefix(['-', '+']).unwrap_or(h);
    let t = h.trim_start_matches(' ');
    t.is_empty() || (t.starts_with('#') && t.len() < h.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(doc: &str) -> Option<Head> {
        let v = yaml::parse_one(doc).ok()?;
        let ok = matches!(v, Value::Map(_) | Value::Null)
            && super::super::head_shape_error(&v).is_none();
        ok.then(|| Head::from_tree(&v))
    }

    /// Wherever the fast reader answers, the full parser accepts the
    /// document and reads the same head. (Where the full parser's value is a
    /// collection the head only needs to know it is not a scalar.)
    fn agrees(doc: &str) -> bool {
        match read(doc) {
            None => true,
            Some(h) => match full(doc) {
                None => false,
                Some(f) => {
                    let same = |a: &Option<Value>, b: &Option<Value>| match (a, b) {
                        (Some(Value::Null), Some(Value::Map(m))) => m.is_empty(),
                        (Some(Value::Null), Some(Value::List(l))) => l.is_empty(),
                        _ => a == b,
                    };
                    same(&h.kind, &f.kind)
                        && same(&h.name, &f.name)
                        && same(&h.hook, &f.hook)
                        && same(&h.hook_weight, &f.hook_weight)
                }
            },
        }
    }

    #[test]
    fn deep_nesting_goes_to_the_full_parser() {
        let mut doc = String::from("kind: X\n");
        for d in 0..1_000 {
            doc.push_str(&" ".repeat(d));
            doc.push_str("k:\n");
        }
        assert_eq!(read(&doc), None);
        assert!(read("kind: X\na:\n b:\n  c: 1\n").is_some());
    }

    #[test]
    fn reads_the_usual_shapes() {
        let doc = "# c\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: \"x-migrations\"\n  labels:\n    a: b\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n    'helm.sh/hook-weight': \"-1\"\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        args:\n          - --flag\n        env:\n          - name: X\n            value: |\n              line one\n\n              line two\n      volumes: []\ndata:\n  k: >-\n    folded\n";
        let h = read(doc).expect("in the subset");
        assert_eq!(h.kind, Some(Value::String("Job".into())));
        assert_eq!(h.name, Some(Value::String("x-migrations".into())));
        assert_eq!(
            h.hook,
            Some(Value::String("pre-install,pre-upgrade".into()))
        );
        assert_eq!(h.hook_weight, Some(Value::String("-1".into())));
        assert!(agrees(doc));
        // Duplicates: the last `metadata` wins whole.
        let h = read("kind: A\nmetadata:\n  name: one\nmetadata:\n  labels: {}\n").unwrap();
        assert_eq!(h.name, None);
        assert_eq!(read("# only a comment\n").unwrap(), Head::default());
    }

    #[test]
    fn leaves_the_rest_to_the_full_parser() {
        for doc in [
            "- a\n",
            "kind: &a X\n",
            "kind: !!str X\n",
            "kind: [a]\n",
            "kind: a\n  b\n",
            "kind: \"a\n  b\"\n",
            "kind:\tX\n",
            "kind: X\r\n",
            "kind: é\n",
            "kind: a: b\n",
            "kind: .inf\n",
            "~: x\n",
            "<<: {}\n",
            "a:\n    b: 1\n  c: 2\n",
            "a: |2\n   x\n",
            "a: |\n    x\n  y\n",
            "  kind: X\n",
            "a: 1\n- b\n",
            "kind: \"\\x41\"\n",
            "metadata:\n  labels:\n... x: y\n",
            "data: |\n  a\n---\n",
            &format!("{}: x\n", "k".repeat(1100)),
            "a: [x, .nan]\n",
            "apiVersion:\n  a: 1\n",
            "apiVersion: [v1]\n",
            "metadata: x\n",
            "metadata: null\n",
            "metadata:\n- a\n",
            "metadata:\n  []\n",
            "metadata: |\n  x\n",
            "metadata:\n  annotations: \"x\"\n",
            "metadata:\n  annotations:\n  - a\n",
        ] {
            assert!(read(doc).is_none(), "{doc:?}");
        }
    }

    /// The rendered documents of every example, each with many small
    /// mutations (lines dropped, doubled, shifted; characters inserted):
    /// the fast reader never accepts what the full parser rejects, and
    /// reads the same head.
    #[test]
    fn never_disagrees_with_the_full_parser() {
        let chart = crate::chart::embedded().unwrap();
        let mut docs = Vec::new();
        for ex in [
            "quickstart",
            "aws-eks",
            "istio",
            "autoscaling",
            "temporal-cloud",
        ] {
            let path = format!("{}/values/examples/{ex}.yaml", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(path).unwrap();
            let user = crate::values::parse_values_text(&text, ex).unwrap();
            let mut c = chart.clone();
            let mut w = crate::values::merge::Warnings::default();
            let vals = crate::chart::dependencies::compute_values(&mut c, user, &mut w).unwrap();
            let r = crate::render::render(&c, &vals, &Default::default()).unwrap();
            for f in r.files {
                docs.extend(crate::output::split_documents(&f.content));
            }
        }
        assert!(docs.len() > 50);
        let fast = docs.iter().filter(|d| read(d).is_some()).count();
        assert!(
            fast * 10 >= docs.len() * 9,
            "only {fast} of {} on the fast path",
            docs.len()
        );
        let inserts = [
            ": ", " #", "-", "\"", "'", "|", "  ", "[", "]", ", ", "{}", ":", "&a ", "\n",
        ];
        let mut seed = 0x9e3779b97f4a7c15u64;
        let mut rnd = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut checked = 0;
        for d in &docs {
            assert!(agrees(d), "{d}");
            let lines: Vec<&str> = d.split('\n').collect();
            for _ in 0..60 {
                let mut ls: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
                let k = rnd(ls.len());
                match rnd(5) {
                    0 => {
                        ls.remove(k);
                    }
                    1 => {
                        let l = ls[k].clone();
                        ls.insert(k, l);
                    }
                    2 => ls[k] = format!(" {}", ls[k]),
                    3 => {
                        let trimmed = ls[k].strip_prefix(' ').map(str::to_string);
                        if let Some(t) = trimmed {
                            ls[k] = t;
                        }
                    }
                    _ => {
                        let l = &ls[k];
                        let at = rnd(l.len() + 1);
                        let at = (0..=at).rev().find(|i| l.is_char_boundary(*i)).unwrap_or(0);
                        ls[k] = format!("{}{}{}", &l[..at], inserts[rnd(inserts.len())], &l[at..]);
                    }
                }
                let m = ls.join("\n");
                assert!(agrees(&m), "fast reader disagrees on:\n{m}");
                checked += 1;
            }
        }
        assert!(checked > 2000);
    }
}
