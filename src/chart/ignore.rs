//! `.helmignore` rules: Go `filepath.Match` globs, `!` negation, a leading
//! `/` anchoring at the chart root, a trailing `/` for directories only, and
//! patterns without `/` matched against base names. `templates/.?*` is
//! always ignored.

#[derive(Debug, Clone)]
struct Rule {
    pattern: String,
    negate: bool,
    dir_only: bool,
    anchored: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
}

/// Go's `filepath.Match`: `*` and `?` do not cross `/`; `[...]` classes.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    // Most patterns are literal names; most names are ASCII. Only the rest
    // pay for decoding into chars.
    if !pattern.contains(['*', '?', '[', '\\']) {
        return pattern == name;
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        if !suffix.contains(['*', '?', '[', '\\']) {
            // `*.ext`, the usual shape: a suffix after no separator.
            return name.ends_with(suffix) && !name[..name.len() - suffix.len()].contains('/');
        }
    }
    if pattern.is_ascii() && name.is_ascii() {
        return go(pattern.as_bytes(), name.as_bytes());
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

/// The matcher over bytes (ASCII) or chars.
fn go<T: Copy + Ord + From<u8>>(p: &[T], n: &[T]) -> bool {
    let (star, question, open, close, slash, backslash, caret, bang, dash) = (
        T::from(b'*'),
        T::from(b'?'),
        T::from(b'['),
        T::from(b']'),
        T::from(b'/'),
        T::from(b'\\'),
        T::from(b'^'),
        T::from(b'!'),
        T::from(b'-'),
    );
    let Some(&first) = p.first() else {
        return n.is_empty();
    };
    if first == star {
        let rest = &p[1..];
        let mut i = 0;
        loop {
            if go(rest, &n[i..]) {
                return true;
            }
            if i >= n.len() || n[i] == slash {
                return false;
            }
            i += 1;
        }
    } else if first == question {
        !n.is_empty() && n[0] != slash && go(&p[1..], &n[1..])
    } else if first == open {
        if n.is_empty() || n[0] == slash {
            return false;
        }
        let c = n[0];
        let mut i = 1;
        let negate = i < p.len() && (p[i] == caret || p[i] == bang);
        if negate {
            i += 1;
        }
        let mut matched = false;
        let mut first = true;
        while i < p.len() && (p[i] != close || first) {
            first = false;
            let mut lo = p[i];
            if lo == backslash && i + 1 < p.len() {
                i += 1;
                lo = p[i];
            }
            let mut hi = lo;
            if i + 2 < p.len() && p[i + 1] == dash && p[i + 2] != close {
                hi = p[i + 2];
                i += 2;
            }
            if lo <= c && c <= hi {
                matched = true;
            }
            i += 1;
        }
        if i >= p.len() {
            return false; // malformed class
        }
        matched != negate && go(&p[i + 1..], &n[1..])
    } else if first == backslash && p.len() > 1 {
        !n.is_empty() && n[0] == p[1] && go(&p[2..], &n[1..])
    } else {
        !n.is_empty() && n[0] == first && go(&p[1..], &n[1..])
    }
}

impl Rules {
    pub fn parse(text: &str) -> Result<Rules, String> {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.contains("**") {
                return Err("double-star (**) syntax is not supported".into());
            }
            let mut p = line.to_string();
            let negate = p.starts_with('!') && p.len() > 1;
            if negate {
                p.remove(0);
            }
            let dir_only = p.ends_with('/');
            if dir_only {
                p.pop();
            }
            let anchored = p.starts_with('/');
            if anchored {
                p.remove(0);
            }
            rules.push(Rule {
                pattern: p,
                negate,
                dir_only,
                anchored,
            });
        }
        Ok(Rules { rules })
    }

    /// Is this chart-relative path (using `/`) ignored?
    pub fn ignored(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." {
            return false;
        }
        // Built-in: hidden files directly under templates/.
        if let Some(rest) = path.strip_prefix("templates/") {
            if rest.starts_with('.') && rest.len() > 1 && !rest.contains('/') {
                return true;
            }
        }
        let base = path.rsplit('/').next().unwrap_or(path);
        let mut ignored = false;
        for r in &self.rules {
            if r.dir_only && !is_dir {
                continue;
            }
            let hit = if r.anchored || r.pattern.contains('/') {
                glob_match(&r.pattern, path)
            } else {
                glob_match(&r.pattern, base)
            };
            if hit {
                ignored = !r.negate;
            }
        }
        ignored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("templates/*.yaml", "templates/a.yaml"));
        // The suffix shortcut agrees with the general matcher.
        for (p, n) in [
            ("*.swp", "a.swp"),
            ("*.swp", ".swp"),
            ("*.swp", "a/b.swp"),
            ("*.swp", "a.swpx"),
            ("*~", "notes~"),
            ("*", ""),
            ("*", "a/b"),
            ("*é", "café"),
            ("*.bak", "é.bak"),
        ] {
            let general = if p.is_ascii() && n.is_ascii() {
                go(p.as_bytes(), n.as_bytes())
            } else {
                let (pc, nc): (Vec<char>, Vec<char>) = (p.chars().collect(), n.chars().collect());
                go(&pc, &nc)
            };
            assert_eq!(glob_match(p, n), general, "{p} {n}");
        }
        assert!(!glob_match("templates/*.yaml", "templates/sub/a.yaml"));
        assert!(glob_match("*.ba[kx]", "x.bak"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "a/c"));
        assert!(glob_match("[!x]*", "yes"));
        assert!(!glob_match("[^y]*", "yes"));
        assert!(glob_match("[a-c]", "b"));
        assert!(!glob_match("[a-c", "b"));
        assert!(glob_match("a\\*", "a*"));
        assert!(!glob_match("a\\*", "ab"));
        assert!(glob_match("literal.txt", "literal.txt"));
        assert!(!glob_match("literal.txt", "literal.txt2"));
        // Non-ASCII names: `?` and classes take whole characters.
        assert!(glob_match("?.yaml", "é.yaml"));
        assert!(glob_match("[à-ü]*", "ête"));
        assert!(glob_match("*é", "café"));
    }

    #[test]
    fn rules() {
        let r = Rules::parse("# c\n*.bak\nignored-dir/\n/top.txt\n!keep.bak\n").unwrap();
        assert!(r.ignored("x/y.bak", false));
        assert!(!r.ignored("keep.bak", false));
        assert!(r.ignored("ignored-dir", true));
        assert!(!r.ignored("ignored-dir", false));
        assert!(r.ignored("top.txt", false));
        assert!(r.ignored("templates/.hidden", false));
        assert!(Rules::parse("a/**/b").is_err());
    }
}
