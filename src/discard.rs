//! Letting go of large trees without freeing them, in a process about to
//! exit.
//!
//! A command-line run ends right after it writes its output. Freeing a
//! template engine or a parsed schema node by node then only adds to the
//! run time (about 0.1 ms each here). The binary declares it exits soon;
//! a library caller, whose process goes on, gets ordinary drops.

use std::sync::atomic::{AtomicBool, Ordering};

static EXITING_SOON: AtomicBool = AtomicBool::new(false);

/// Declares that this process ends once its command is done, so what is
/// [`discard`]ed need not be freed. Only the binary's entry point says so.
pub fn process_exits_soon() {
    EXITING_SOON.store(true, Ordering::Relaxed);
}

/// Drops `value`, or, in a process about to exit, leaves its memory to the
/// exit. For values made once per command, never per item of a stream, so
/// what is left is bounded.
pub fn discard<T>(value: T) {
    if EXITING_SOON.load(Ordering::Relaxed) {
        std::mem::forget(value);
    } else {
        drop(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct Counted;
    impl Drop for Counted {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::Relaxed);
        }
    }

    // One test only: the switch is process-wide and only turns on.
    #[test]
    fn drops_until_the_process_says_it_exits_soon() {
        discard(Counted);
        assert_eq!(DROPS.load(Ordering::Relaxed), 1);
        process_exits_soon();
        discard(Counted);
        assert_eq!(DROPS.load(Ordering::Relaxed), 1);
    }
}
