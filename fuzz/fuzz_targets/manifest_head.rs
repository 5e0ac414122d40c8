//! The head reader against the full YAML parser (see the check).
#![no_main]
// Each target runs one of the shared checks.
#[allow(dead_code)]
#[path = "../../tests/equivalence/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::manifest_head(data);
});
