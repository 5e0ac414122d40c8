//! The embedded chart rendered with arbitrary values, with the schema check
//! and without it (the first byte chooses), as `template -f` does.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tracecat_chart::release::{self, Loaded, Request};
use tracecat_chart::values::{self, merge::Warnings, Origins};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let Ok(user) = values::parse_values_text(text, "fuzz.yaml") else { return };
    let mut chart = tracecat_chart::chart::embedded().expect("embedded chart");
    let mut warn = Warnings::default();
    let Ok(vals) = tracecat_chart::chart::dependencies::compute_values(&mut chart, user, &mut warn) else { return };
    let req = Request {
        skip_schema_validation: mode & 1 == 1,
        ..Default::default()
    };
    let loaded = Loaded {
        chart,
        values: vals,
        warnings: warn.0,
        origins: Origins::new(),
    };
    let _ = release::render_loaded(&req, loaded);
});
