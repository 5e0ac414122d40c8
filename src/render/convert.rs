//! Conversions between the value model and the template engine's values.

use crate::values::{Map, Value};
use minijinja::value::{Value as JValue, ValueKind};
use std::collections::BTreeMap;

pub fn to_jinja(v: &Value) -> JValue {
    match v {
        Value::Null => JValue::from(()),
        Value::Bool(b) => JValue::from(*b),
        Value::Int(i) => JValue::from(*i),
        Value::Float(f) => JValue::from(*f),
        Value::String(s) => JValue::from(s.as_str()),
        Value::List(l) => JValue::from(l.iter().map(to_jinja).collect::<Vec<_>>()),
        Value::Map(m) => JValue::from(
            m.iter()
                .map(|(k, v)| (k.clone(), to_jinja(v)))
                .collect::<BTreeMap<String, JValue>>(),
        ),
    }
}

pub fn map_to_jinja(m: &Map) -> JValue {
    JValue::from(
        m.iter()
            .map(|(k, v)| (k.clone(), to_jinja(v)))
            .collect::<BTreeMap<String, JValue>>(),
    )
}

/// Back to the model; objects (like `.Files`) become null, as Go would
/// fail to serialise them anyway.
pub fn from_jinja(v: &JValue) -> Value {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None | ValueKind::Invalid => Value::Null,
        ValueKind::Bool => Value::Bool(v.is_true()),
        ValueKind::Number => {
            if v.is_integer() {
                match i64::try_from(v.clone()) {
                    Ok(i) => Value::Int(i),
                    Err(_) => Value::Float(f64::try_from(v.clone()).unwrap_or(f64::NAN)),
                }
            } else {
                Value::Float(f64::try_from(v.clone()).unwrap_or(f64::NAN))
            }
        }
        ValueKind::String => Value::String(v.as_str().unwrap_or_default().to_string()),
        ValueKind::Bytes => {
            Value::String(String::from_utf8_lossy(v.as_bytes().unwrap_or_default()).into_owned())
        }
        ValueKind::Seq | ValueKind::Iterable => Value::List(
            v.try_iter()
                .map(|it| it.map(|x| from_jinja(&x)).collect())
                .unwrap_or_default(),
        ),
        ValueKind::Map => {
            let mut m = Map::new();
            if let Ok(keys) = v.try_iter() {
                for k in keys {
                    let val = v.get_item(&k).unwrap_or_default();
                    let key = match k.as_str() {
                        Some(s) => s.to_string(),
                        None => k.to_string(),
                    };
                    m.insert(key, from_jinja(&val));
                }
            }
            Value::Map(m)
        }
        ValueKind::Plain => match v.downcast_object_ref::<super::shape::Probe>() {
            Some(p) => p.value().clone(),
            None => Value::String(v.to_string()),
        },
        _ => Value::Null,
    }
}

/// Go's `%v` of a template value (what `{{ x }}` prints in Helm).
/// [`go_print`] without copying strings, for the hot paths (every `{{ }}`
/// and most string functions).
pub fn go_str(v: &JValue) -> std::borrow::Cow<'_, str> {
    match v.as_str() {
        Some(s) if v.kind() == ValueKind::String => s.into(),
        _ => go_print(v).into(),
    }
}

pub fn go_print(v: &JValue) -> String {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => String::new(),
        ValueKind::String => v.as_str().unwrap_or_default().to_string(),
        ValueKind::Plain => v.to_string(),
        _ => from_jinja(v).to_string(),
    }
}
