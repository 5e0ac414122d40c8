//! The fast values reader against the full YAML parser: whenever the reader
//! answers, the full parser must accept the file and give the same values
//! and the same key positions.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tracecat_chart::values::{yaml, yaml_fast};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut fast_pos = yaml::Positions::new();
    let Some(fast) = yaml_fast::parse(text, Some(&mut fast_pos)) else { return };
    let mut full_pos = yaml::Positions::new();
    let full = yaml::parse_values_full(text, Some(&mut full_pos))
        .expect("the full parser accepts what the fast reader accepts");
    assert_eq!(fast, full, "values");
    assert_eq!(fast_pos, full_pos, "positions");
});
