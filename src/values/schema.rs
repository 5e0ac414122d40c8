//! `values.schema.json` validation, run on the final merged values of each
//! chart as Helm does, with each violation reported by values path.

use super::model::{Map, Step, Value};
use jsonschema::error::ValidationErrorKind;

#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Dotted values path (`api.replicas`), empty for the root.
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
    /// A finding Helm would render anyway (an unknown key, a value outside
    /// the listed choices): `template` warns, `--strict` and `lint` refuse.
    pub advisory: bool,
    /// A value of the wrong type. Helm renders it, so `template` refuses it
    /// only where the objects it renders are ones the API server rejects.
    pub mismatch: bool,
    /// Where the value is a list or a single value but the schema wants a
    /// section (or a single value where it wants a list): Helm fails only
    /// where a template reads a field of it or ranges over it.
    pub wrong_shape: Option<Vec<Step>>,
}

pub fn to_serde(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Float(f) => {
            // Integral floats validate as "integer", as in Helm.
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                serde_json::Value::from(*f as i64)
            } else {
                serde_json::Number::from_f64(*f)
                    .map(serde_json::Value::Number)
                    .unwrap_or(serde_json::Value::Null)
            }
        }
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::List(l) => serde_json::Value::Array(l.iter().map(to_serde).collect()),
        Value::Map(m) => {
            serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), to_serde(v))).collect())
        }
    }
}

/// JSON pointer (`/a/b/0`) to values path (`a.b[0]`).
pub fn pointer_to_path(ptr: &str) -> String {
    let mut out = String::new();
    for seg in ptr.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) && !out.is_empty() {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

/// Levenshtein distance, for did-you-mean hints.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = if a[i - 1].eq_ignore_ascii_case(&b[j - 1]) {
                0
            } else {
                1
            };
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest candidate to `word`, if any is close enough to be a typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The `properties` of the schema node at a values path, for hints.
fn properties_at<'s>(schema: &'s serde_json::Value, schema_path: &str) -> Vec<&'s str> {
    // schema_path ends in /additionalProperties; its parent holds properties.
    let parent = schema_path.trim_end_matches("/additionalProperties");
    let node = if parent.is_empty() {
        Some(schema)
    } else {
        schema.pointer(parent)
    };
    node.and_then(|n| n.get("properties"))
        .and_then(|p| p.as_object())
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// Validates values against a schema document. Errors in the schema itself
/// come back as Err. Valid values, the usual case, are recognised by the
/// fast check (`schema_fast`) without compiling the schema; anything else
/// goes to the full validator, which also words the errors.
pub fn validate(schema_text: &str, values: &Map) -> Result<Vec<Violation>, String> {
    let doc = super::json_doc::parse(schema_text).map_err(not_json)?;
    if super::schema_fast::surely_valid(doc.view(schema_text), values) {
        return Ok(Vec::new());
    }
    validate_fully(schema_text, values)
}

/// [`validate`] without the fast path: always the full validator.
pub fn validate_fully(schema_text: &str, values: &Map) -> Result<Vec<Violation>, String> {
    violations(&parse_schema(schema_text)?, values)
}

fn not_json(e: serde_json::Error) -> String {
    format!("values.schema.json is not valid JSON: {e}")
}

fn parse_schema(schema_text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(schema_text).map_err(not_json)
}

fn violations(schema: &serde_json::Value, values: &Map) -> Result<Vec<Violation>, String> {
    let validator = jsonschema::validator_for(schema)
        .map_err(|e| format!("values.schema.json is invalid: {e}"))?;
    let instance = serde_json::Value::Object(
        values
            .iter()
            .map(|(k, v)| (k.clone(), to_serde(v)))
            .collect(),
    );
    let mut out = Vec::new();
    // The usual answer is "valid", which is much cheaper to reach than the
    // full list of errors.
    if validator.is_valid(&instance) {
        return Ok(out);
    }
    for err in validator.iter_errors(&instance) {
        let path = pointer_to_path(err.instance_path().as_str());
        match err.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let known = properties_at(schema, err.schema_path().as_str());
                for key in unexpected {
                    let full = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    let hint = did_you_mean(key, known.iter().copied()).map(|s| {
                        let p = if path.is_empty() {
                            s.to_string()
                        } else {
                            format!("{path}.{s}")
                        };
                        format!("did you mean {p}?")
                    });
                    out.push(Violation {
                        path: full,
                        message: "unknown key (not allowed by the chart's schema)".into(),
                        hint,
                        advisory: true,
                        mismatch: false,
                        wrong_shape: None,
                    });
                }
            }
            ValidationErrorKind::Required { property } => {
                let prop = property
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| property.to_string());
                let full = if path.is_empty() {
                    prop.clone()
                } else {
                    format!("{path}.{prop}")
                };
                out.push(Violation {
                    path: full,
                    message: "missing required setting".into(),
                    hint: None,
                    advisory: false,
                    mismatch: false,
                    wrong_shape: None,
                });
            }
            kind => out.push(Violation {
                path,
                message: without_instance(&err.to_string(), err.instance()),
                hint: None,
                advisory: matches!(
                    kind,
                    ValidationErrorKind::Enum { .. } | ValidationErrorKind::Pattern { .. }
                ),
                mismatch: matches!(kind, ValidationErrorKind::Type { .. }),
                wrong_shape: wrong_shape(kind, err.instance(), schema, err.schema_path().as_str())
                    .then(|| steps(err.instance_path())),
            }),
        }
    }
    Ok(out)
}

/// Whether a type error is a value that is not a section where the schema
/// wants one (a list or a single value), or a single value where it wants a
/// list: see [`Violation::wrong_shape`].
fn wrong_shape(
    kind: &ValidationErrorKind,
    instance: &serde_json::Value,
    schema: &serde_json::Value,
    schema_path: &str,
) -> bool {
    if !matches!(kind, ValidationErrorKind::Type { .. }) || instance.is_object() {
        return false;
    }
    let wants = |t: &serde_json::Value, what: &str| match t {
        serde_json::Value::Array(types) => types.iter().any(|t| t.as_str() == Some(what)),
        t => t.as_str() == Some(what),
    };
    match schema.pointer(schema_path) {
        Some(t) if instance.is_array() => wants(t, "object"),
        Some(t) => wants(t, "object") || wants(t, "array"),
        None => false,
    }
}

/// The steps of a validator's instance path.
fn steps(at: &jsonschema::paths::Location) -> Vec<Step> {
    at.iter()
        .map(|seg| match seg {
            jsonschema::paths::LocationSegment::Property(k) => Step::Key(k.into_owned()),
            jsonschema::paths::LocationSegment::Index(i) => Step::Index(i),
        })
        .collect()
}

/// The validator's message with the offending value, which it quotes
/// whole, cut to a short excerpt: a value can be a file's content
/// (`--set-file`) or megabytes long.
fn without_instance(message: &str, instance: &serde_json::Value) -> String {
    let quoted = instance.to_string();
    match message.strip_prefix(quoted.as_str()) {
        Some(rest) => format!("{}{rest}", excerpt(instance)),
        None => message.to_string(),
    }
}

/// How an error shows a value: short scalars as they are, anything longer
/// or on several lines by its kind and size only.
fn excerpt(v: &serde_json::Value) -> String {
    const SHORT: usize = 40;
    match v {
        serde_json::Value::String(s) if s.len() <= SHORT && !s.contains('\n') => v.to_string(),
        serde_json::Value::String(s) => format!("a string of {} bytes", s.len()),
        serde_json::Value::Array(a) => format!("an array of {} items", a.len()),
        serde_json::Value::Object(m) => format!("an object of {} keys", m.len()),
        other => {
            let t = other.to_string();
            if t.len() <= SHORT {
                t
            } else {
                "a number".into()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::yaml::parse_values;

    #[test]
    fn reports_paths_and_typos() {
        let schema = r#"{"type":"object","properties":{"replicas":{"type":"integer","minimum":1},
            "image":{"type":"object","additionalProperties":false,"properties":{"tag":{"type":"string"}}}}}"#;
        let v = parse_values("replicas: 0\nimage: {tga: x}\n", None).unwrap();
        let errs = validate(schema, &v).unwrap();
        assert!(errs.iter().any(|e| e.path == "replicas"));
        let typo = errs.iter().find(|e| e.path == "image.tga").unwrap();
        assert_eq!(typo.hint.as_deref(), Some("did you mean image.tag?"));
    }

    #[test]
    fn integral_floats_are_integers() {
        let schema = r#"{"properties":{"n":{"type":"integer"}}}"#;
        let v = parse_values("n: 3\n", None).unwrap();
        assert!(validate(schema, &v).unwrap().is_empty());
    }

    #[test]
    fn long_values_are_not_quoted() {
        let schema = r#"{"properties":{"n":{"type":"integer"},"m":{"type":"integer"}}}"#;
        let long = "x".repeat(5000);
        let mut v = Map::new();
        v.insert("n".into(), Value::String(long));
        v.insert("m".into(), Value::String("short".into()));
        let errs = validate(schema, &v).unwrap();
        let n = errs.iter().find(|e| e.path == "n").unwrap();
        assert_eq!(
            n.message,
            "a string of 5000 bytes is not of type \"integer\""
        );
        let m = errs.iter().find(|e| e.path == "m").unwrap();
        assert_eq!(m.message, "\"short\" is not of type \"integer\"");
    }

    #[test]
    fn pointer_paths() {
        assert_eq!(pointer_to_path("/a/b/0/c"), "a.b[0].c");
        assert_eq!(pointer_to_path(""), "");
    }
}
