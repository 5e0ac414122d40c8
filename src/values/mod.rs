//! Everything that builds `.Values`: reading values files, the `--set`
//! family, merging onto chart defaults, and schema validation.

pub mod gofmt;
pub mod json;
pub mod json_doc;
pub mod merge;
pub mod model;
pub mod schema;
pub mod schema_fast;
pub mod set;
pub mod yaml;
pub mod yamlout;

pub use model::{map_path, Map, Step, Value};

use crate::error::{Error, Kind, Result};

/// The user's value sources, as given on the command line.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// `-f/--values` files in order; `-` reads stdin.
    pub files: Vec<String>,
    pub set: Vec<String>,
    pub set_string: Vec<String>,
    pub set_json: Vec<String>,
    pub set_file: Vec<String>,
    pub set_literal: Vec<String>,
    /// Reads a file given as a URL; without it, every name is a local path.
    pub fetch: Option<Fetch>,
}

/// The caller's reader for values files given as URLs (`-f https://...`),
/// so that this module never opens a connection itself. It gets the URL
/// and the most bytes to read, and returns the body.
#[derive(Clone)]
pub struct Fetch {
    /// Whether a name is a URL this reader takes.
    pub takes: fn(&str) -> bool,
    /// The name as it may be shown (a password in a URL hidden).
    pub shown: fn(&str) -> String,
    pub read: fn(&str, u64) -> Result<Vec<u8>>,
}

impl std::fmt::Debug for Fetch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fetch")
    }
}

impl Sources {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
            && self.set.is_empty()
            && self.set_string.is_empty()
            && self.set_json.is_empty()
            && self.set_file.is_empty()
            && self.set_literal.is_empty()
    }
}

/// Upper bound on one values file (raise with TRACECAT_CHART_MAX_VALUES_BYTES).
fn max_file_bytes() -> u64 {
    std::env::var("TRACECAT_CHART_MAX_VALUES_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64 << 20)
}

/// Whether `path` names standard input (Helm allows spaces around `-`).
fn is_stdin(path: &str) -> bool {
    path.trim() == "-"
}

/// The name `path` is shown with in messages.
fn shown(path: &str, fetch: Option<&Fetch>) -> String {
    match fetch {
        _ if is_stdin(path) => "<stdin>".into(),
        Some(f) if (f.takes)(path) => (f.shown)(path),
        _ => path.to_string(),
    }
}

/// The text of a values file: stdin for `-`, a URL through `fetch`, else a
/// local file.
fn read_source(path: &str, fetch: Option<&Fetch>) -> Result<String> {
    use std::io::Read;
    let limit = max_file_bytes();
    let mut buf = Vec::new();
    let name = shown(path, fetch);
    if is_stdin(path) {
        std::io::stdin()
            .take(limit + 1)
            .read_to_end(&mut buf)
            .map_err(|e| Error::io("<stdin>", &e))?;
    } else if let Some(f) = fetch.filter(|f| (f.takes)(path)) {
        buf = (f.read)(path, limit)?;
    } else {
        let f = std::fs::File::open(path).map_err(|e| {
            Error::io(path, &e).with_hint("check the path given to -f/--values or --set-file")
        })?;
        let meta = f.metadata().ok();
        if meta.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(Error::new(Kind::Io, format!("read {path}: is a directory"))
                .with_file(path)
                .with_hint(
                    "-f/--values and --set-file take a file; a chart folder goes where CHART does",
                ));
        }
        // `take` hides the file's size from read_to_end, which would then
        // read 32 bytes, 32, 64, ...: size the buffer from the metadata.
        let size = meta.map(|m| m.len()).unwrap_or(0);
        buf.reserve(size.min(limit) as usize + 1);
        f.take(limit + 1)
            .read_to_end(&mut buf)
            .map_err(|e| Error::io(path, &e))?;
    }
    let path = name.as_str();
    if buf.len() as u64 > limit {
        return Err(Error::new(
            Kind::Parse,
            format!("{path}: file is larger than {limit} bytes"),
        )
        .with_hint("raise TRACECAT_CHART_MAX_VALUES_BYTES if this is intended"));
    }
    String::from_utf8(buf).map_err(|e| {
        Error::new(
            Kind::Parse,
            format!(
                "{path}: not valid UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
        .with_file(path)
        .with_hint("values files must be UTF-8 text")
    })
}

/// Parses a values document, mapping YAML errors to located errors.
pub fn parse_values_text(text: &str, name: &str) -> Result<Map> {
    yaml::parse_values(text, None).map_err(|e| {
        Error::new(
            Kind::Parse,
            format!("failed to parse {name}: {}", e.message),
        )
        .with_file(name)
        .at(e.line, e.col)
        .with_hint("check the YAML syntax (indentation with spaces, quoting of special characters)")
    })
}

/// Where a values path was last set: file, line, column.
pub type Origins = std::collections::HashMap<String, (String, usize, usize)>;

/// The user-supplied values, and the texts `--set-file` read into them
/// (which the caller must never print: a file may hold a key).
#[derive(Debug, Default)]
pub struct UserValues {
    pub values: Map,
    pub file_texts: Vec<String>,
}

/// Builds the user-supplied values map, in Helm's fixed order: `-f` files,
/// then `--set-json`, `--set`, `--set-string`, `--set-file`, `--set-literal`,
/// recording where each path in the files was set.
pub fn user_values(src: &Sources, origins: &mut Origins) -> Result<UserValues> {
    let mut base = Map::new();
    let mut file_texts = Vec::new();
    for f in &src.files {
        let text = read_source(f, src.fetch.as_ref())?;
        let name = &shown(f, src.fetch.as_ref());
        let mut pos = yaml::Positions::new();
        let m = yaml::parse_values(&text, Some(&mut pos)).map_err(|e| {
            Error::new(
                Kind::Parse,
                format!("failed to parse {name}: {}", e.message),
            )
            .with_file(name)
            .at(e.line, e.col)
            .with_hint(
                "check the YAML syntax (indentation with spaces, quoting of special characters)",
            )
        })?;
        for (p, (l, c)) in pos {
            origins.insert(p, (name.to_string(), l, c));
        }
        base = merge::merge_maps(base, m);
    }
    for s in &src.set_json {
        let t = s.trim();
        if t.starts_with('{') {
            let v: serde_json::Value = serde_json::from_str(t).map_err(|e| {
                Error::new(
                    Kind::Parse,
                    format!("failed parsing --set-json data JSON: {s}: {e}"),
                )
                .with_hint("--set-json takes key=<json> or a whole JSON object")
            })?;
            match set::from_json(v) {
                Value::Map(m) => base = merge::merge_maps(base, m),
                _ => {
                    return Err(Error::new(
                        Kind::Parse,
                        format!("failed parsing --set-json data JSON: {s}"),
                    ))
                }
            }
        } else {
            set::parse_set_json(s, &mut base).map_err(|e| {
                Error::new(
                    Kind::Parse,
                    format!("failed parsing --set-json data {s}: {e}"),
                )
                .with_hint("the value after '=' must be valid JSON, e.g. --set-json 'a=[1,2]'")
            })?;
        }
    }
    for s in &src.set {
        set::parse_set(s, &mut base).map_err(|e| set_err("--set", s, e))?;
    }
    for s in &src.set_string {
        set::parse_set_string(s, &mut base).map_err(|e| set_err("--set-string", s, e))?;
    }
    for s in &src.set_file {
        // A file that cannot be read is reported as -f reports one, not as a
        // malformed flag.
        let mut unreadable = None;
        let mut reader = |p: &str| -> std::result::Result<Value, String> {
            read_source(p, src.fetch.as_ref())
                .inspect(|text| file_texts.push(text.clone()))
                .map(Value::String)
                .map_err(|e| {
                    let m = e.message.clone();
                    unreadable = Some(e);
                    m
                })
        };
        let parsed = set::parse_set_file(s, &mut base, &mut reader);
        if let Some(e) = unreadable {
            return Err(e);
        }
        parsed.map_err(|e| set_err("--set-file", s, e))?;
    }
    for s in &src.set_literal {
        set::parse_set_literal(s, &mut base).map_err(|e| set_err("--set-literal", s, e))?;
    }
    Ok(UserValues {
        values: base,
        file_texts,
    })
}

fn set_err(flag: &str, _arg: &str, e: String) -> Error {
    let name = flag.trim_start_matches('-');
    Error::new(Kind::Usage, format!("failed parsing {flag} data: {e}")).with_hint(format!(
        "{name} takes key=value pairs separated by commas, e.g. {flag} 'a.b=1,list[0]=x'"
    ))
}
