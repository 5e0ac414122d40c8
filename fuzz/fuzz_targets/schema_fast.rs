//! The schema's fast check against the full validator (see the check).
#![no_main]
// Each target runs one of the shared checks.
#[allow(dead_code)]
#[path = "../../tests/equivalence/checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    checks::schema_fast(data);
});
