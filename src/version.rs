//! Semantic versions and constraints with Masterminds/semver's rules (what
//! Helm uses for `semverCompare`, Chart.yaml `kubeVersion` and chart version
//! ranges): loose parsing (`v1.2`, `1`), `-0` suffixes that admit
//! pre-releases, `~`, `^`, `x` wildcards, hyphen ranges, `,` and `||`.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: String,
    pub build: String,
}

fn cmp_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let pa: Vec<&str> = a.split('.').collect();
    let pb: Vec<&str> = b.split('.').collect();
    for (x, y) in pa.iter().zip(pb.iter()) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(i), Ok(j)) => i.cmp(&j),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            _ => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

impl Ord for Version {
    fn cmp(&self, o: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| cmp_pre(&self.pre, &o.pre))
    }
}
impl PartialOrd for Version {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.build.is_empty() {
            write!(f, "+{}", self.build)?;
        }
        Ok(())
    }
}

fn valid_ident(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

impl Version {
    /// Loose parsing, as Masterminds' NewVersion: optional `v`, minor and
    /// patch optional.
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        let s = s.strip_prefix('v').unwrap_or(s);
        let (s, build) = match s.split_once('+') {
            Some((a, b)) => (a, b.to_string()),
            None => (s, String::new()),
        };
        let (core, pre) = match s.split_once('-') {
            Some((a, b)) => (a, b.to_string()),
            None => (s, String::new()),
        };
        if (!pre.is_empty() || s.ends_with('-')) && !valid_ident(&pre) {
            return None;
        }
        if !build.is_empty() && !valid_ident(&build) {
            return None;
        }
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return None;
        }
        let mut nums = [0u64; 3];
        for (i, p) in parts.iter().enumerate() {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            nums[i] = p.parse().ok()?;
        }
        Some(Version {
            major: nums[0],
            minor: nums[1],
            patch: nums[2],
            pre,
            build,
        })
    }

    /// Strict SemVer 2 (three numbers, no `v`), as Helm requires of tags.
    pub fn parse_strict(s: &str) -> Option<Version> {
        let core = s.split(['-', '+']).next()?;
        if core.split('.').count() != 3 || s.starts_with('v') {
            return None;
        }
        if core.split('.').any(|p| p.len() > 1 && p.starts_with('0')) {
            return None;
        }
        Self::parse(s)
    }
}

#[derive(Debug, Clone)]
struct Cmp {
    op: String,
    v: Version,
    /// Which parts were wildcards / missing: 1 = major only given, 2 = major.minor, 3 = full.
    given: u8,
}

#[derive(Debug, Clone)]
pub struct Constraint {
    /// OR of ANDs.
    groups: Vec<Vec<Cmp>>,
    text: String,
}

fn parse_partial(s: &str) -> Option<(Version, u8)> {
    let s = s.trim().strip_prefix('v').unwrap_or(s.trim());
    let (body, pre) = match s.split_once('-') {
        Some((a, b)) => (a, b),
        None => (s, ""),
    };
    let body = body.split('+').next().unwrap_or(body);
    let parts: Vec<&str> = body.split('.').collect();
    let mut nums = [0u64; 3];
    let mut given = 0u8;
    for (i, p) in parts.iter().enumerate().take(3) {
        if matches!(*p, "x" | "X" | "*") {
            break;
        }
        nums[i] = p.parse().ok()?;
        given += 1;
    }
    if parts.len() > 3 {
        return None;
    }
    Some((
        Version {
            major: nums[0],
            minor: nums[1],
            patch: nums[2],
            pre: pre.to_string(),
            build: String::new(),
        },
        given,
    ))
}

impl Constraint {
    pub fn parse(text: &str) -> Result<Constraint, String> {
        let mut groups = Vec::new();
        for or in text.split("||") {
            let mut cmps = Vec::new();
            let or = or.trim();
            // hyphen range "a - b"
            if let Some((a, b)) = or.split_once(" - ") {
                let (va, ga) =
                    parse_partial(a).ok_or_else(|| format!("improper constraint: {text}"))?;
                let (vb, gb) =
                    parse_partial(b).ok_or_else(|| format!("improper constraint: {text}"))?;
                cmps.push(Cmp {
                    op: ">=".into(),
                    v: va,
                    given: ga,
                });
                cmps.push(Cmp {
                    op: "<=".into(),
                    v: vb,
                    given: gb,
                });
                groups.push(cmps);
                continue;
            }
            // Split on commas and spaces between comparisons, keeping ops attached.
            let normalised = or.replace(',', " ");
            let mut toks: Vec<String> = Vec::new();
            for t in normalised.split_whitespace() {
                if let Some(last) = toks.last_mut() {
                    if matches!(
                        last.as_str(),
                        "=" | "!=" | ">" | "<" | ">=" | "<=" | "~" | "^" | "~>" | "=>" | "=<"
                    ) {
                        last.push_str(t);
                        continue;
                    }
                }
                toks.push(t.to_string());
            }
            if toks.is_empty() {
                toks.push("*".into());
            }
            for t in toks {
                let op_len = t
                    .find(|c: char| c.is_ascii_alphanumeric() || c == '*')
                    .unwrap_or(t.len());
                let (op, rest) = t.split_at(op_len);
                let op = match op {
                    "" | "=" => "=",
                    "=>" => ">=",
                    "=<" => "<=",
                    "~>" => "~",
                    o @ ("!=" | ">" | "<" | ">=" | "<=" | "~" | "^") => o,
                    _ => return Err(format!("improper constraint: {text}")),
                };
                let (v, given) =
                    parse_partial(rest).ok_or_else(|| format!("improper constraint: {text}"))?;
                cmps.push(Cmp {
                    op: op.to_string(),
                    v,
                    given,
                });
            }
            groups.push(cmps);
        }
        Ok(Constraint {
            groups,
            text: text.to_string(),
        })
    }

    pub fn matches(&self, v: &Version) -> bool {
        self.groups.iter().any(|g| {
            // A pre-release version only matches when a comparator in the group has a pre-release.
            if !v.pre.is_empty() && !g.iter().any(|c| !c.v.pre.is_empty()) {
                return false;
            }
            g.iter().all(|c| c.check(v))
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

impl Cmp {
    fn upper_for_given(&self) -> Version {
        let mut u = self.v.clone();
        u.pre.clear();
        match self.given {
            0 => Version {
                major: u64::MAX,
                minor: 0,
                patch: 0,
                pre: String::new(),
                build: String::new(),
            },
            1 => Version {
                major: u.major + 1,
                minor: 0,
                patch: 0,
                pre: String::new(),
                build: String::new(),
            },
            2 => Version {
                major: u.major,
                minor: u.minor + 1,
                patch: 0,
                pre: String::new(),
                build: String::new(),
            },
            _ => u,
        }
    }

    fn check(&self, v: &Version) -> bool {
        let base = &self.v;
        // Compare without build metadata; pre-release ordering applies.
        let cmp = |a: &Version, b: &Version| a.cmp(b);
        match self.op.as_str() {
            "=" => {
                if self.given < 3 {
                    cmp(v, base) != Ordering::Less
                        && cmp(v, &self.upper_for_given()) == Ordering::Less
                } else {
                    cmp(v, base) == Ordering::Equal
                }
            }
            "!=" => {
                if self.given < 3 {
                    !(cmp(v, base) != Ordering::Less
                        && cmp(v, &self.upper_for_given()) == Ordering::Less)
                } else {
                    cmp(v, base) != Ordering::Equal
                }
            }
            ">" => {
                if self.given < 3 {
                    cmp(v, &self.upper_for_given()) != Ordering::Less
                } else {
                    cmp(v, base) == Ordering::Greater
                }
            }
            "<" => cmp(v, base) == Ordering::Less,
            ">=" => cmp(v, base) != Ordering::Less,
            "<=" => {
                if self.given < 3 {
                    cmp(v, &self.upper_for_given()) == Ordering::Less
                } else {
                    cmp(v, base) != Ordering::Greater
                }
            }
            "~" => {
                let upper = if self.given <= 1 {
                    Version {
                        major: base.major + 1,
                        minor: 0,
                        patch: 0,
                        pre: String::new(),
                        build: String::new(),
                    }
                } else {
                    Version {
                        major: base.major,
                        minor: base.minor + 1,
                        patch: 0,
                        pre: String::new(),
                        build: String::new(),
                    }
                };
                cmp(v, base) != Ordering::Less && cmp(v, &upper) == Ordering::Less
            }
            "^" => {
                let upper = if base.major > 0 || self.given <= 1 {
                    Version {
                        major: base.major + 1,
                        minor: 0,
                        patch: 0,
                        pre: String::new(),
                        build: String::new(),
                    }
                } else if base.minor > 0 || self.given == 2 {
                    Version {
                        major: 0,
                        minor: base.minor + 1,
                        patch: 0,
                        pre: String::new(),
                        build: String::new(),
                    }
                } else {
                    Version {
                        major: 0,
                        minor: 0,
                        patch: base.patch + 1,
                        pre: String::new(),
                        build: String::new(),
                    }
                };
                cmp(v, base) != Ordering::Less && cmp(v, &upper) == Ordering::Less
            }
            _ => false,
        }
    }
}

/// The numbers of a Kubernetes version as Kubernetes' own generic parser
/// reads it (the one Helm checks `--kube-version` with): optional space and
/// `v`, then at least two dot-separated numbers, the first without a leading
/// zero; whatever follows them is not looked at. Errors are its messages.
pub fn parse_generic(s: &str) -> Result<Vec<u64>, String> {
    let body = s.trim_start();
    let body = body.strip_prefix('v').unwrap_or(body);
    let mut end = 0;
    let bytes = body.as_bytes();
    while end < bytes.len() {
        let digits = bytes[end..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            break;
        }
        end += digits;
        // A dot belongs to the numbers only when digits follow it.
        match bytes.get(end..end + 2) {
            Some([b'.', d]) if d.is_ascii_digit() => end += 1,
            _ => break,
        }
    }
    if end == 0 {
        return Err(format!("could not parse {s:?} as version"));
    }
    let comps: Vec<&str> = body[..end].split('.').collect();
    if comps.len() < 2 {
        return Err(format!("illegal version string {s:?}"));
    }
    comps
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 && c.starts_with('0') && *c != "0" {
                return Err(format!(
                    "illegal zero-prefixed version component {c:?} in {s:?}"
                ));
            }
            c.parse::<u64>().map_err(|_| {
                format!(
                    "illegal non-numeric version component {c:?} in {s:?}: \
                     strconv.ParseUint: parsing {c:?}: value out of range"
                )
            })
        })
        .collect()
}

/// The numbers of a kube version as Helm stores it (`v` and the text given,
/// which [`parse_generic`] accepted).
pub fn kube_numbers(stored: &str) -> Option<Vec<u64>> {
    parse_generic(stored.strip_prefix('v').unwrap_or(stored)).ok()
}

/// `semverCompare CONSTRAINT VERSION`.
pub fn semver_compare(constraint: &str, version: &str) -> Result<bool, String> {
    let c = Constraint::parse(constraint)?;
    let v =
        Version::parse(version).ok_or_else(|| format!("invalid semantic version: {version}"))?;
    Ok(c.matches(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_versions_parse_as_kubernetes_parses_them() {
        assert_eq!(parse_generic("1.29").unwrap(), [1, 29]);
        assert_eq!(parse_generic(" v1.029.01-gke.1").unwrap(), [1, 29, 1]);
        assert_eq!(parse_generic("1.2.3.4").unwrap(), [1, 2, 3, 4]);
        assert_eq!(parse_generic("1.29.x").unwrap(), [1, 29]);
        assert_eq!(parse_generic("1.29.").unwrap(), [1, 29]);
        assert_eq!(
            parse_generic("1").unwrap_err(),
            "illegal version string \"1\""
        );
        assert_eq!(
            parse_generic("1.x").unwrap_err(),
            "illegal version string \"1.x\""
        );
        assert_eq!(
            parse_generic("V1.2").unwrap_err(),
            "could not parse \"V1.2\" as version"
        );
        assert_eq!(
            parse_generic("").unwrap_err(),
            "could not parse \"\" as version"
        );
        assert!(parse_generic("01.29")
            .unwrap_err()
            .contains("zero-prefixed version component \"01\""));
        assert!(parse_generic("99999999999999999999.1")
            .unwrap_err()
            .contains("value out of range"));
    }

    #[test]
    fn constraints() {
        assert!(semver_compare(">=1.20.0-0", "v1.35.0").unwrap());
        assert!(!semver_compare(">=1.36.0-0", "v1.35.0").unwrap());
        assert!(semver_compare("^1.0.0", "1.2.3+build.7").unwrap());
        assert!(!semver_compare("^1.0.0", "2.0.0-rc.1").unwrap());
        assert!(semver_compare(">=2.0.0-0", "2.0.0-rc.1").unwrap());
        assert!(semver_compare("~0.1", "0.1.0").unwrap());
        assert!(semver_compare(">1.0.0 <1.2.1", "1.2.0").unwrap());
        assert!(semver_compare("1.x", "1.2.3").unwrap());
        assert!(semver_compare("*", "1.2.3").unwrap());
        assert!(!semver_compare("*", "1.2.3-rc.1").unwrap());
        assert!(semver_compare("1.0.0 - 2.0.0", "1.5.0").unwrap());
        assert!(semver_compare("<1.0.0 || >=3", "3.1.0").unwrap());
        assert!(Constraint::parse("latest").is_err());
    }

    #[test]
    fn versions() {
        assert!(Version::parse("v1.29.3").is_some());
        assert!(Version::parse("banana").is_none());
        assert!(Version::parse_strict("3.1").is_none());
        assert!(Version::parse_strict("1.2.3+build.7").is_some());
        assert!(Version::parse("1.0.0-rc.1").unwrap() < Version::parse("1.0.0").unwrap());
    }
}
