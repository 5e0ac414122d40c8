//! Kubernetes name rules (DNS-1123 subdomains, DNS-1035 labels, label
//! values), shared by release-name checks and lint. Checked by hand: the
//! release name is checked on every render, and compiling a regex costs
//! more than the check itself.

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, each label of a subdomain.
fn dns_label_chars(l: &str) -> bool {
    !l.is_empty()
        && !l.starts_with('-')
        && !l.ends_with('-')
        && l.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Dot-separated DNS labels, without a length bound (Helm's release-name
/// regex; the callers bound the length).
pub fn dns1123_subdomain_syntax(s: &str) -> bool {
    s.split('.').all(dns_label_chars)
}

/// A DNS-1123 subdomain: at most 253 characters.
pub fn dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && dns1123_subdomain_syntax(s)
}

/// A DNS-1035 label (Service names): starts with a letter, at most 63.
pub fn dns1035_label(s: &str) -> bool {
    s.len() <= 63 && s.starts_with(|c: char| c.is_ascii_lowercase()) && dns_label_chars(s)
}

/// A label value: empty, or alphanumerics with `-`, `_`, `.` inside, at most 63.
pub fn label_value(s: &str) -> bool {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    s.len() <= 63
        && (s.is_empty()
            || (s.starts_with(alnum)
                && s.ends_with(alnum)
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Same answers as the regexes Kubernetes and Helm write these rules as,
    /// on every string over a small alphabet up to length 4 plus some longer.
    #[test]
    fn agree_with_the_regexes() {
        let sub =
            regex::Regex::new(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
                .unwrap();
        let l1035 = regex::Regex::new(r"^[a-z]([-a-z0-9]*[a-z0-9])?$").unwrap();
        let lv = regex::Regex::new(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$").unwrap();
        let alphabet = ['a', 'Z', '0', '-', '.', '_', 'é', '\n'];
        let mut words = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..4 {
            let mut next = Vec::new();
            for w in &frontier {
                for c in alphabet {
                    next.push(format!("{w}{c}"));
                }
            }
            words.extend(next.iter().cloned());
            frontier = next;
        }
        words.extend([
            "a".repeat(63),
            "a".repeat(64),
            format!("{}.b", "a".repeat(60)),
        ]);
        for w in &words {
            assert_eq!(dns1123_subdomain_syntax(w), sub.is_match(w), "{w:?}");
            assert_eq!(
                dns1035_label(w),
                w.len() <= 63 && l1035.is_match(w),
                "{w:?}"
            );
            assert_eq!(label_value(w), w.len() <= 63 && lv.is_match(w), "{w:?}");
        }
    }
}
