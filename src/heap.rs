//! The binary's memory allocator and heap settings.
//!
//! A command runs once and exits; its threads allocate and free hundreds of
//! thousands of small blocks (the template engine's syntax trees, values,
//! strings), and in a render glibc's `malloc` and `free` were about a fifth
//! of all instructions: bins, coalescing of neighbours, consolidation.
//! [`Allocator`] serves small blocks from per-thread lists by size class,
//! with no headers and no coalescing; larger blocks, and over-aligned ones,
//! go to the system allocator. Only the binary installs it.
//!
//! glibc grows a thread's heap only as far as each allocation needs: the
//! render's second thread then asks the kernel for more memory (an
//! `mprotect` each time) about sixty times in a quickstart render. Asking
//! for a megabyte more than needed each time makes that a handful. Memory
//! is only resident once touched, so peak memory does not change.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ptr;

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

/// Blocks up to this size come from the size classes; larger ones from the
/// system. Kept small so the end of a chunk too short for the next block
/// wastes little.
const SMALL_MAX: usize = 1024;

/// Every class block is aligned to this (all class sizes are multiples).
const ALIGN: usize = 16;

/// What a thread takes from the system at once to cut class blocks from.
const CHUNK: usize = 64 * 1024;

/// Size classes: 16 to 256 bytes in steps of 16, then four steps per
/// doubling up to [`SMALL_MAX`] (at most a quarter of a block unused).
const CLASSES: usize = 24;

/// The class of a block of `size` bytes (1 to [`SMALL_MAX`]).
#[inline]
fn class_of(size: usize) -> usize {
    if size <= 256 {
        return size.max(1).div_ceil(16) - 1;
    }
    let s = size - 1;
    let log = (usize::BITS - 1 - s.leading_zeros()) as usize;
    16 + (log - 8) * 4 + ((s >> (log - 2)) & 3)
}

/// The size of blocks of class `class`.
#[inline]
fn class_size(class: usize) -> usize {
    if class < 16 {
        return (class + 1) * 16;
    }
    let log = 8 + (class - 16) / 4;
    (1 << log) + ((class - 16) % 4 + 1) * (1 << (log - 2))
}

/// A thread's free blocks by class (each holds the address of the next),
/// and the rest of its current chunk.
struct Local {
    free: [Cell<*mut u8>; CLASSES],
    next: Cell<*mut u8>,
    end: Cell<*mut u8>,
}

thread_local! {
    // Constant-initialised and without a destructor: reachable at any
    // point of a thread's life, including while it ends.
    static LOCAL: Local = const {
        Local {
            free: [const { Cell::new(ptr::null_mut()) }; CLASSES],
            next: Cell::new(ptr::null_mut()),
            end: Cell::new(ptr::null_mut()),
        }
    };
}

/// Small blocks by size class from per-thread free lists; the rest from
/// [`System`]. A block freed on another thread than the one that made it
/// joins the freeing thread's list. Memory of small blocks is kept for
/// reuse, never returned: for a process that runs one command and exits.
pub struct Allocator;

/// Whether blocks of `layout` come from the size classes.
#[inline]
fn is_small(layout: &Layout) -> bool {
    layout.size() <= SMALL_MAX && layout.align() <= ALIGN
}

impl Local {
    #[inline]
    fn alloc(&self, class: usize) -> *mut u8 {
        let head = self.free[class].get();
        if !head.is_null() {
            // SAFETY: a free block's first word holds the next free block.
            self.free[class].set(unsafe { head.cast::<*mut u8>().read() });
            return head;
        }
        let size = class_size(class);
        let next = self.next.get();
        if (self.end.get() as usize) - (next as usize) >= size {
            // SAFETY: within the current chunk, which has `size` bytes left.
            self.next.set(unsafe { next.add(size) });
            return next;
        }
        self.refill(size)
    }

    #[cold]
    fn refill(&self, size: usize) -> *mut u8 {
        // SAFETY: CHUNK and ALIGN make a valid, non-zero layout.
        let chunk = unsafe { System.alloc(Layout::from_size_align_unchecked(CHUNK, ALIGN)) };
        if chunk.is_null() {
            return chunk;
        }
        // SAFETY: `size` <= SMALL_MAX < CHUNK.
        unsafe {
            self.next.set(chunk.add(size));
            self.end.set(chunk.add(CHUNK));
        }
        chunk
    }

    #[inline]
    fn free(&self, block: *mut u8, class: usize) {
        // SAFETY: the block is at least 16 bytes, aligned, and no longer used.
        unsafe { block.cast::<*mut u8>().write(self.free[class].get()) };
        self.free[class].set(block);
    }
}

/// A block of class `class` from the system, when this thread's lists
/// cannot be reached; it may later join a list, so it has the class size.
fn class_block_from_system(class: usize) -> *mut u8 {
    // SAFETY: class sizes are non-zero multiples of ALIGN.
    unsafe { System.alloc(Layout::from_size_align_unchecked(class_size(class), ALIGN)) }
}

// Not inlined: at every allocation site of the program, the copies made
// the binary's code 1 MiB larger, and a run maps more of it (0.5 MiB more
// resident memory).
// SAFETY: small blocks are `class_size(class_of(size))` >= size bytes,
// aligned to 16 >= the layout's alignment, handed out once until freed;
// everything else is the system allocator's, and each block returns to the
// allocator that made it, which the layout decides alike both ways.
unsafe impl GlobalAlloc for Allocator {
    #[inline(never)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !is_small(&layout) {
            return System.alloc(layout);
        }
        let class = class_of(layout.size());
        LOCAL
            .try_with(|l| l.alloc(class))
            .unwrap_or_else(|_| class_block_from_system(class))
    }

    #[inline(never)]
    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        if !is_small(&layout) {
            return System.dealloc(block, layout);
        }
        let class = class_of(layout.size());
        // Unreachable lists (never, with a constant thread-local) leak it.
        let _ = LOCAL.try_with(|l| l.free(block, class));
    }

    #[inline(never)]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !is_small(&layout) {
            return System.alloc_zeroed(layout);
        }
        let block = self.alloc(layout);
        if !block.is_null() {
            block.write_bytes(0, layout.size());
        }
        block
    }

    #[inline(never)]
    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        match (is_small(&layout), is_small(&new_layout)) {
            (false, false) => return System.realloc(block, layout, new_size),
            (true, true) if class_of(layout.size()) == class_of(new_size) => return block,
            _ => {}
        }
        let moved = self.alloc(new_layout);
        if !moved.is_null() {
            ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
            self.dealloc(block, layout);
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_cover_every_small_size_tightly() {
        let mut last = 0;
        for size in 1..=SMALL_MAX {
            let c = class_of(size);
            assert!(c < CLASSES, "{size}");
            let s = class_size(c);
            assert!(s >= size, "{size} in class {c} of {s}");
            assert_eq!(s % ALIGN, 0);
            // the next smaller class would not hold it
            if c > 0 {
                assert!(class_size(c - 1) < size, "{size}");
            }
            // at most a quarter unused past 256 bytes
            if size > 256 {
                assert!(s - size < s / 4 + 1, "{size} -> {s}");
            }
            assert!(c >= last);
            last = c;
        }
        assert_eq!(class_size(CLASSES - 1), SMALL_MAX);
    }

    #[test]
    fn blocks_are_reused_by_class_and_do_not_overlap() {
        let a = Allocator;
        unsafe {
            let l = Layout::from_size_align(40, 8).unwrap();
            let p = a.alloc(l);
            let q = a.alloc(l);
            assert!(!p.is_null() && !q.is_null());
            assert!((q as usize).abs_diff(p as usize) >= 48);
            assert_eq!(p as usize % ALIGN, 0);
            p.write_bytes(1, 40);
            q.write_bytes(2, 40);
            assert_eq!(*p.add(39), 1);
            a.dealloc(p, l);
            // same class (33..=48 bytes): the freed block comes back
            let r = a.alloc(Layout::from_size_align(48, 16).unwrap());
            assert_eq!(r, p);
            a.dealloc(r, Layout::from_size_align(48, 16).unwrap());
            a.dealloc(q, l);
        }
    }

    #[test]
    fn large_and_over_aligned_blocks_go_to_the_system() {
        let a = Allocator;
        unsafe {
            for l in [
                Layout::from_size_align(SMALL_MAX + 1, 8).unwrap(),
                Layout::from_size_align(64, 64).unwrap(),
                Layout::from_size_align(1 << 20, 16).unwrap(),
            ] {
                let p = a.alloc(l);
                assert!(!p.is_null());
                assert_eq!(p as usize % l.align(), 0);
                p.write_bytes(7, l.size());
                a.dealloc(p, l);
            }
        }
    }

    #[test]
    fn zeroed_blocks_are_zero_even_when_reused() {
        let a = Allocator;
        unsafe {
            let l = Layout::from_size_align(100, 8).unwrap();
            let p = a.alloc(l);
            p.write_bytes(0xff, 100);
            a.dealloc(p, l);
            let z = a.alloc_zeroed(l);
            assert!((0..100).all(|i| *z.add(i) == 0));
            a.dealloc(z, l);
        }
    }

    #[test]
    fn realloc_keeps_contents_across_classes_and_to_the_system() {
        let a = Allocator;
        unsafe {
            let mut l = Layout::from_size_align(10, 1).unwrap();
            let mut p = a.alloc(l);
            for i in 0..10 {
                *p.add(i) = i as u8;
            }
            // within the class: the same block
            let same = a.realloc(p, l, 16);
            assert_eq!(same, p);
            l = Layout::from_size_align(16, 1).unwrap();
            for new_size in [100, 3000, 5000, 70_000, 200, 12] {
                p = a.realloc(p, l, new_size);
                assert!(!p.is_null());
                assert!((0..10).all(|i| *p.add(i) == i as u8), "{new_size}");
                l = Layout::from_size_align(new_size, 1).unwrap();
            }
            a.dealloc(p, l);
        }
    }

    #[test]
    fn chunks_refill_and_blocks_stay_apart() {
        let a = Allocator;
        let l = Layout::from_size_align(SMALL_MAX, 16).unwrap();
        unsafe {
            // several chunks' worth, each block written whole
            let blocks: Vec<*mut u8> = (0..40).map(|_| a.alloc(l)).collect();
            for (i, b) in blocks.iter().enumerate() {
                b.write_bytes(i as u8, SMALL_MAX);
            }
            for (i, b) in blocks.iter().enumerate() {
                assert!(*b.add(SMALL_MAX - 1) == i as u8 && **b == i as u8);
            }
            for b in blocks {
                a.dealloc(b, l);
            }
        }
    }

    #[test]
    fn blocks_freed_on_another_thread_are_reused_there() {
        let a = Allocator;
        let l = Layout::from_size_align(24, 8).unwrap();
        let p = unsafe { a.alloc(l) } as usize;
        std::thread::spawn(move || unsafe {
            let a = Allocator;
            a.dealloc(p as *mut u8, l);
            assert_eq!(a.alloc(l) as usize, p);
        })
        .join()
        .unwrap();
    }
}
