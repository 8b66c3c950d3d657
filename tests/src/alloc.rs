//! A counting global allocator for the allocation suites (`ops_zero_alloc`,
//! `ops_attr_alloc`): each suite installs it with
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: pkcs11_tests::alloc::Counting = pkcs11_tests::alloc::Counting;
//! ```
//!
//! and compares [`allocations_so_far`] before and after the calls it measures. The count
//! is per thread, so other test threads do not disturb it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts allocations (and reallocations) made by the current thread, forwarding every
/// call to the system allocator.
pub struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with`: the allocator also runs while thread-locals are torn down.
    let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
}

// SAFETY: every call is forwarded to the system allocator unchanged; counting touches
// only a const-initialized thread-local `Cell` (no allocation, no reentrancy).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations (and reallocations) this thread has made so far, when [`Counting`] is
/// the global allocator (0 otherwise).
pub fn allocations_so_far() -> u64 {
    ALLOCATIONS.with(Cell::get)
}
