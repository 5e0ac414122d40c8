//! JSON output as Go's encoding/json writes it (what Helm's `toJson` and
//! `helm template` of `{{ toJson .Values }}` print): sorted keys, `<`, `>`,
//! `&` escaped, float64 formatting by Go's rules.

use super::gofmt::go_float_json;
use super::model::Value;

pub fn write_string(out: &mut String, s: &str, escape_html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if escape_html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write(out: &mut String, v: &Value, escape_html: bool) -> Result<(), String> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => {
            if !f.is_finite() {
                return Err(format!(
                    "json: unsupported value: {}",
                    super::gofmt::go_float_g(*f)
                ));
            }
            out.push_str(&go_float_json(*f))
        }
        Value::String(s) => write_string(out, s, escape_html),
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(out, x, escape_html)?;
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k, escape_html);
                out.push(':');
                write(out, x, escape_html)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// Compact JSON, HTML-escaped like Go's json.Marshal.
pub fn to_json(v: &Value) -> Result<String, String> {
    let mut s = String::new();
    write(&mut s, v, true)?;
    Ok(s)
}

/// Indented JSON (two spaces), for human-facing `--output json`.
pub fn to_json_pretty(v: &Value) -> Result<String, String> {
    fn go(out: &mut String, v: &Value, ind: usize) -> Result<(), String> {
        match v {
            Value::List(l) if !l.is_empty() => {
                out.push_str("[\n");
                for (i, x) in l.iter().enumerate() {
                    out.push_str(&"  ".repeat(ind + 1));
                    go(out, x, ind + 1)?;
                    if i + 1 < l.len() {
                        out.push(',');
                    }
                    out.push('\n');
                }
                out.push_str(&"  ".repeat(ind));
                out.push(']');
            }
            Value::Map(m) if !m.is_empty() => {
                out.push_str("{\n");
                for (i, (k, x)) in m.iter().enumerate() {
                    out.push_str(&"  ".repeat(ind + 1));
                    write_string(out, k, false);
                    out.push_str(": ");
                    go(out, x, ind + 1)?;
                    if i + 1 < m.len() {
                        out.push(',');
                    }
                    out.push('\n');
                }
                out.push_str(&"  ".repeat(ind));
                out.push('}');
            }
            other => write(out, other, false)?,
        }
        Ok(())
    }
    let mut s = String::new();
    go(&mut s, v, 0)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::yaml::parse_values;

    #[test]
    fn go_json() {
        let m = parse_values("b: 1000000\na: '<x>'\nc: [1.5, null, true]\n", None).unwrap();
        assert_eq!(
            to_json(&Value::Map(m)).unwrap(),
            r#"{"a":"\u003cx\u003e","b":1000000,"c":[1.5,null,true]}"#
        );
    }
}
