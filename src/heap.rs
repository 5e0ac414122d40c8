//! Heap settings for the command-line process.
//!
//! glibc grows a thread's heap only as far as each allocation needs: the
//! render's second thread then asks the kernel for more memory (an
//! `mprotect` each time) about sixty times in a quickstart render. Asking
//! for a megabyte more than needed each time makes that a handful. Memory
//! is only resident once touched, so peak memory does not change.

/// How much more than it needs the heap grows by each time.
const GROWTH_PAD: usize = 1 << 20;

/// Grows the heap in large steps. For the binary only: it changes a
/// process-wide allocator setting.
pub fn grow_in_large_steps() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of the allocator; it is called
    // at the start of main, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_TOP_PAD, GROWTH_PAD as libc::c_int);
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = GROWTH_PAD;
}
