//! Transfer progress on stderr, only when stderr is a terminal (scripts and
//! CI logs stay clean): one line, redrawn at most ten times a second, erased
//! when the transfer ends.

use std::io::{IsTerminal, Read, Write};
use std::time::{Duration, Instant};

/// `label  1.2 MiB / 3.4 MiB  35%` (or without the total when unknown).
pub fn line(label: &str, done: u64, total: Option<u64>) -> String {
    match total {
        Some(t) if t > 0 => format!(
            "{label}  {} / {}  {:>3}%",
            size(done),
            size(t),
            done.min(t) * 100 / t
        ),
        _ => format!("{label}  {}", size(done)),
    }
}

fn size(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

pub struct Progress {
    label: String,
    total: Option<u64>,
    done: u64,
    last: Option<Instant>,
}

impl Progress {
    /// None when stderr is not a terminal.
    pub fn on_terminal(label: &str, total: Option<u64>) -> Option<Progress> {
        std::io::stderr().is_terminal().then(|| Progress {
            label: label.to_string(),
            total,
            done: 0,
            last: None,
        })
    }

    pub fn advance(&mut self, n: u64) {
        self.done += n;
        let due = self
            .last
            .is_none_or(|t| t.elapsed() >= Duration::from_millis(100));
        if due {
            self.last = Some(Instant::now());
            let _ = write!(
                std::io::stderr(),
                "\r\x1b[2K{}",
                line(&self.label, self.done, self.total)
            );
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        let _ = write!(std::io::stderr(), "\r\x1b[2K");
    }
}

/// A reader that reports what passes through it.
pub struct Reader<R> {
    pub inner: R,
    pub progress: Option<Progress>,
}

impl<R: Read> Read for Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(p) = &mut self.progress {
            p.advance(n as u64);
        }
        Ok(n)
    }
}

/// A short label for a registry URL: the blob digest it names, if any.
pub fn label_for(url: &str) -> Option<String> {
    let decoded = url.replace("%3A", ":").replace("%3a", ":");
    let at = decoded.find("sha256:")?;
    let hex: String = decoded[at + 7..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .take(12)
        .collect();
    (!hex.is_empty()).then(|| format!("sha256:{hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_labels() {
        assert_eq!(
            line("sha256:abc", 512 * 1024, Some(2 * 1024 * 1024)),
            "sha256:abc  512.0 KiB / 2.0 MiB   25%"
        );
        assert_eq!(line("x", 10, None), "x  10 B");
        let d = "a".repeat(64);
        assert_eq!(
            label_for(&format!("https://r/v2/c/blobs/sha256:{d}")).as_deref(),
            Some("sha256:aaaaaaaaaaaa")
        );
        assert_eq!(
            label_for(&format!("https://r/upload/x?digest=sha256%3A{d}")).as_deref(),
            Some("sha256:aaaaaaaaaaaa")
        );
        assert_eq!(label_for("https://r/v2/c/manifests/1.0"), None);
    }
}
