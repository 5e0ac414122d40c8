//! Whole-file gates against the engine: whenever the scanner finds a gate
//! and the gate is off, rendering the whole template must write nothing
//! but whitespace (or fail, which sends the real render down the usual
//! path anyway). Evaluating a gate must never panic. The engine's own
//! panics on malformed templates are not findings here: the render guards
//! them (see `engine_guard`), so this target skips those inputs.
#![no_main]
use libfuzzer_sys::fuzz_target;
use minijinja::{context, Value};
use std::cell::Cell;
use tracecat_chart::render::{gate, new_environment};

thread_local! {
    static IN_ENGINE: Cell<bool> = const { Cell::new(false) };
}

fuzz_target!(|data: &[u8]| {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_ENGINE.with(|e| e.get()) {
                fuzzer_hook(info);
            }
        }));
    });
    let Ok(src) = std::str::from_utf8(data) else { return };
    let Some(g) = gate::find(src) else { return };
    let env = new_environment();
    let ctx = context! {
        Values => context! { a => true, b => false, n => 0, s => "x", l => Vec::<i32>::new() },
        Release => context! { Name => "r" },
    };
    if !g.is_off(&env, &Value::from(ctx.clone())) {
        return;
    }
    IN_ENGINE.with(|e| e.set(true));
    let rendered =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| env.render_str(src, ctx)));
    IN_ENGINE.with(|e| e.set(false));
    if let Ok(Ok(out)) = rendered {
        assert!(out.trim().is_empty(), "gate off, yet the template wrote {out:?}");
    }
});
