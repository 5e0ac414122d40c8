//! The fast head reader against the full YAML parser: whenever the reader
//! answers, the full parser must accept the document (a mapping or empty)
//! and find the same kind, name and hook annotations.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tracecat_chart::output::head;
use tracecat_chart::values::{yaml, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = std::str::from_utf8(data) else { return };
    let Some(h) = head::read(doc) else { return };
    let v = yaml::parse_one(doc).expect("the full parser accepts what the head reader accepts");
    assert!(matches!(v, Value::Map(_) | Value::Null), "not a mapping: {v:?}");
    let f = head::Head::from_tree(&v);
    // An empty collection reads as null in the head (the head never needs more).
    let same = |a: &Option<Value>, b: &Option<Value>| match (a, b) {
        (Some(Value::Null), Some(Value::Map(m))) => m.is_empty(),
        (Some(Value::Null), Some(Value::List(l))) => l.is_empty(),
        _ => a == b,
    };
    assert!(same(&h.kind, &f.kind), "kind");
    assert!(same(&h.name, &f.name), "name");
    assert!(same(&h.hook, &f.hook), "hook");
    assert!(same(&h.hook_weight, &f.hook_weight), "weight");
});
