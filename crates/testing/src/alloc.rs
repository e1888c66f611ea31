//! [`LargestAllocation`]: a global allocator for tests that must show that code refuses a
//! size before allocating it, or allocates no more than its input justifies.
//!
//! A test binary installs it (one binary per such test, so nothing else allocates while it
//! counts) and measures a closure with [`largest_allocation`]:
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: neurite_testing::alloc::LargestAllocation = neurite_testing::alloc::LargestAllocation;
//!
//! let (v, largest) = neurite_testing::alloc::largest_allocation(|| vec![0u8; 1000]);
//! assert!(largest >= 1000);
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static ARMED: AtomicBool = AtomicBool::new(false);
static LARGEST: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, recording the largest single allocation (or reallocation) made while
/// [`largest_allocation`] runs.
pub struct LargestAllocation;

// SAFETY: every call is forwarded unchanged to the system allocator; the counting touches
// only atomics and never allocates.
unsafe impl GlobalAlloc for LargestAllocation {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ARMED.load(Ordering::Relaxed) {
            LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        }
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ARMED.load(Ordering::Relaxed) {
            LARGEST.fetch_max(new_size, Ordering::Relaxed);
        }
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` and returns its result with the largest single allocation it made (0 unless
/// [`LargestAllocation`] is the binary's global allocator).
pub fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.store(0, Ordering::Relaxed);
    ARMED.store(true, Ordering::Relaxed);
    let out = f();
    ARMED.store(false, Ordering::Relaxed);
    (out, LARGEST.load(Ordering::Relaxed))
}
