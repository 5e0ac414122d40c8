//! Panics inside the template engine, turned into errors.

use crate::error::{Error, Kind, Result};

thread_local! {
    /// Set while [`engine_guard`] runs: a panic then becomes an error, and
    /// the panic hook stays quiet about it.
    static GUARDED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs template engine work, turning a panic inside the engine into an
/// error. minijinja 2.24 panics on a few malformed templates instead of
/// refusing them (`{% import "x" as - h %}` reaches an `unreachable!`);
/// a chart must get a message naming the template, not a crash.
pub(super) fn engine_guard<T>(template: &str, work: impl FnOnce() -> Result<T>) -> Result<T> {
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.with(|g| g.get()) {
                default(info);
            }
        }));
    });
    let was = GUARDED.with(|g| g.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
    GUARDED.with(|g| g.set(was));
    result.unwrap_or_else(|payload| {
        let why = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown failure".into());
        Err(Error::new(
            Kind::Render,
            format!("parse error at ({template}): the template engine failed on this template ({why})"),
        )
        .with_file(template.to_string())
        .with_hint("the template is malformed in a way the engine does not report; check its tags (an engine bug: please report it)"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_naming_the_template() {
        let e = engine_guard("c/templates/x.yaml", || -> Result<()> {
            panic!("internal error: entered unreachable code")
        })
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("c/templates/x.yaml") && e.contains("unreachable"),
            "{e}"
        );
        assert_eq!(engine_guard("t", || Ok(7)).unwrap(), 7);
        // The flag is restored: a later panic outside a guard is not hidden.
        assert!(!GUARDED.with(|g| g.get()));
    }
}
