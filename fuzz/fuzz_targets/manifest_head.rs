//! The head reader against the full YAML parser (see the check).
#![no_main]
#[path = "../../tests/equivalence/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::manifest_head(data);
});
