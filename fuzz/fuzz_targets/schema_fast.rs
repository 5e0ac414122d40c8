//! The schema fast path against the full validator: arbitrary values
//! (merged into the embedded chart's defaults, as `-f` would) that the fast
//! check accepts must have no violation under the full validator.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tracecat_chart::chart::{self, dependencies};
use tracecat_chart::values::{self, json_doc, merge::Warnings, schema, schema_fast};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(user) = values::parse_values_text(text, "fuzz.yaml") else { return };
    let mut c = chart::embedded().expect("embedded chart");
    let Ok(vals) = dependencies::compute_values(&mut c, user, &mut Warnings::default()) else {
        return;
    };
    let Some(schema_text) = c.schema.clone() else { return };
    let parsed = json_doc::parse(&schema_text).expect("schema JSON");
    if schema_fast::surely_valid(parsed.view(&schema_text), &vals) {
        let errs = schema::validate_fully(&schema_text, &vals).expect("schema compiles");
        assert!(errs.is_empty(), "fast path accepted invalid values: {errs:?}");
    }
});
