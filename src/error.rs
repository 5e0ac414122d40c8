//! One error type for the whole tool: what went wrong, where (file, line,
//! values path, template), and a hint for the fix.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bad command-line usage.
    Usage,
    /// A file could not be read or written.
    Io,
    /// A values file or chart file is malformed.
    Parse,
    /// Values are well-formed but not acceptable (schema, required settings).
    Values,
    /// A template failed to render (including `fail`/`required`).
    Render,
    /// A registry or network problem.
    Registry,
    /// Anything else.
    Other,
}

/// Boxed so `Result<T, Error>` stays small on the happy path.
#[derive(Debug, Clone)]
pub struct Error(Box<Details>);

#[derive(Debug, Clone)]
pub struct Details {
    pub kind: Kind,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub col: Option<usize>,
    pub values_path: Option<String>,
    pub hint: Option<String>,
    /// Extra detail shown only with --debug (e.g. the partial render).
    pub debug: Option<String>,
    /// Warnings found before the failure (unknown keys: often its cause),
    /// printed ahead of the error.
    pub warnings: Vec<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl std::ops::Deref for Error {
    type Target = Details;
    fn deref(&self) -> &Details {
        &self.0
    }
}

impl std::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut Details {
        &mut self.0
    }
}

impl Error {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error(Box::new(Details {
            kind,
            message: message.into(),
            file: None,
            line: None,
            col: None,
            values_path: None,
            hint: None,
            debug: None,
            warnings: Vec::new(),
        }))
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }
    pub fn io(path: &str, e: &std::io::Error) -> Self {
        let what = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        Self::new(Kind::Io, format!("open {path}: {what}")).with_file(path)
    }
    /// A failed write to standard output (a full disk, a closed terminal).
    pub fn stdout(e: &std::io::Error) -> Self {
        Self::new(Kind::Io, format!("write <stdout>: {e}"))
            .with_hint("the output was cut short; check where standard output goes")
    }
    pub fn with_file(mut self, f: impl Into<String>) -> Self {
        self.file = Some(f.into());
        self
    }
    pub fn at(mut self, line: Option<usize>, col: Option<usize>) -> Self {
        self.line = line;
        self.col = col;
        self
    }
    pub fn with_path(mut self, p: impl Into<String>) -> Self {
        self.values_path = Some(p.into());
        self
    }
    pub fn with_hint(mut self, h: impl Into<String>) -> Self {
        self.hint = Some(h.into());
        self
    }
    pub fn with_debug(mut self, d: impl Into<String>) -> Self {
        self.debug = Some(d.into());
        self
    }
    /// Exit status for this kind of error.
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            Kind::Usage => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error: {}", self.message)?;
        let mut loc = String::new();
        if let Some(file) = &self.file {
            if !self.message.contains(file.as_str()) || self.line.is_some() {
                loc.push_str(file);
                if let Some(l) = self.line {
                    loc.push_str(&format!(":{l}"));
                    if let Some(c) = self.col {
                        loc.push_str(&format!(":{c}"));
                    }
                }
            }
        }
        if !loc.is_empty() {
            write!(f, "\n  at: {loc}")?;
        }
        if let Some(p) = &self.values_path {
            write!(f, "\n  values path: {p}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_path_and_hint() {
        let e = Error::new(Kind::Parse, "mapping values are not allowed")
            .with_file("v.yaml")
            .at(Some(3), Some(7))
            .with_path("api.replicas")
            .with_hint("indent with spaces");
        let s = e.to_string();
        assert!(s.starts_with("Error: mapping values"));
        assert!(s.contains("v.yaml:3:7"));
        assert!(s.contains("values path: api.replicas"));
        assert!(s.contains("hint: indent"));
    }
}
