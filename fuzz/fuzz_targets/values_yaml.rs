//! Values YAML on arbitrary bytes, then merged into the embedded chart's
//! defaults as `-f` would be.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tracecat_chart::chart::{self, dependencies};
use tracecat_chart::values::{self, merge::Warnings};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(user) = values::parse_values_text(text, "fuzz.yaml") else { return };
    let mut c = chart::embedded().expect("embedded chart");
    let _ = dependencies::compute_values(&mut c, user, &mut Warnings::default());
});
