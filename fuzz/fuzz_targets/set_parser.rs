//! Every `--set` flavour on arbitrary text: an error or a value, never a
//! panic, hang or blow-up.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tracecat_chart::values::{set, Map};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let mut m = Map::new();
    let _ = set::parse_set(s, &mut m);
    let _ = set::parse_set_string(s, &mut Map::new());
    let _ = set::parse_set_json(s, &mut Map::new());
    let _ = set::parse_set_literal(s, &mut Map::new());
});
