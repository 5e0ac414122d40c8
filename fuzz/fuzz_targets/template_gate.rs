//! Whole-file gates against the engine (see the check). Panics inside the
//! engine on malformed templates are not findings: the hook passes them
//! by while the check says the engine runs.
#![no_main]
// Each target runs one of the shared checks.
#[allow(dead_code)]
#[path = "../../tests/equivalence/checks.rs"]
mod checks;
use std::cell::Cell;

thread_local! {
    static IN_ENGINE: Cell<bool> = const { Cell::new(false) };
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_ENGINE.with(|e| e.get()) {
                fuzzer_hook(info);
            }
        }));
    });
    let _ = checks::template_gate(data, &|on| IN_ENGINE.with(|e| e.set(on)));
});
