//! Each kept fast path against its full implementation, as one function
//! per fast path taking arbitrary bytes. A check panics when the two
//! disagree, and says whether it compared anything (the fast path
//! answered). Shared by `tests/equivalence.rs` (a time-bounded run in every
//! test run) and the cargo-fuzz targets in `fuzz/` (longer runs, nightly).

use tracecat_chart::chart::{self, dependencies};
use tracecat_chart::output::{head, head_shape_error};
use tracecat_chart::render::{gate, new_environment};
use tracecat_chart::values::{self, json_doc, merge::Warnings, schema, schema_fast, yaml, Value};

/// The head reader against the full YAML parser: whenever the reader
/// answers, the full parser accepts the document (a mapping or empty, with
/// a head Helm reads) and finds the same kind, name and hook annotations.
pub fn manifest_head(data: &[u8]) -> bool {
    let Ok(doc) = std::str::from_utf8(data) else {
        return false;
    };
    let Some(h) = head::read(doc) else {
        return false;
    };
    let v = yaml::parse_one(doc).expect("the full parser accepts what the head reader accepts");
    assert!(
        matches!(v, Value::Map(_) | Value::Null),
        "not a mapping: {v:?}"
    );
    assert_eq!(head_shape_error(&v), None, "a head Helm refuses");
    let f = head::Head::from_tree(&v);
    // An empty collection reads as null in the head (the head never needs more).
    let same = |a: &Option<Value>, b: &Option<Value>| match (a, b) {
        (Some(Value::Null), Some(Value::Map(m))) => m.is_empty(),
        (Some(Value::Null), Some(Value::List(l))) => l.is_empty(),
        _ => a == b,
    };
    for (field, fast, full) in [
        ("kind", &h.kind, &f.kind),
        ("name", &h.name, &f.name),
        ("hook", &h.hook, &f.hook),
        ("weight", &h.hook_weight, &f.hook_weight),
    ] {
        assert!(same(fast, full), "{field}: {fast:?} against {full:?}");
    }
    true
}

/// The schema's fast check against the full validator: values (merged
/// into the embedded chart's defaults, as `-f` would) that the fast check
/// accepts have no violation under the full validator.
pub fn schema_fast(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(user) = values::parse_values_text(text, "fuzz.yaml") else {
        return false;
    };
    let mut c = chart::embedded().expect("embedded chart");
    let Ok(vals) = dependencies::compute_values(&mut c, user, &mut Warnings::default()) else {
        return false;
    };
    let Some(schema_text) = c.schema.clone() else {
        return false;
    };
    let parsed = json_doc::parse(&schema_text).expect("schema JSON");
    if !schema_fast::surely_valid(parsed.view(&schema_text), &vals) {
        return false;
    }
    let errs = schema::validate_fully(&schema_text, &vals).expect("schema compiles");
    assert!(
        errs.is_empty(),
        "fast check accepted invalid values: {errs:?}"
    );
    true
}

/// Whole-file gates against the engine: when the scanner finds a gate and
/// the gate is off, rendering the whole template writes nothing but
/// whitespace (or fails, which sends the real render down the usual path
/// anyway). Evaluating a gate never panics. The engine's own panics on
/// malformed templates are not findings here (the render guards them):
/// `in_engine` is set while the engine runs, for a panic hook to tell.
pub fn template_gate(data: &[u8], in_engine: &dyn Fn(bool)) -> bool {
    use minijinja::context;
    let Ok(src) = std::str::from_utf8(data) else {
        return false;
    };
    let Some(g) = gate::find(src) else {
        return false;
    };
    let env = new_environment();
    let ctx = context! {
        Values => context! { a => true, b => false, n => 0, s => "x", l => Vec::<i32>::new() },
        Release => context! { Name => "r" },
    };
    if !g.is_off(&env, &ctx) {
        return false;
    }
    in_engine(true);
    let rendered =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| env.render_str(src, ctx)));
    in_engine(false);
    if let Ok(Ok(out)) = rendered {
        assert!(
            out.trim().is_empty(),
            "gate off, yet the template wrote {out:?}"
        );
    }
    true
}
