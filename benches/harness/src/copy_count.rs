//! Bytes copied in user space, counted by taking the place of `memcpy` and `memmove` in the
//! `rpc-bench` binary (feature `count-copies`; a module of the binary, not of the library, so
//! that the definitions are always linked in).
//!
//! Every copy the compiler does not inline (payloads, buffers, futures and frames moved by
//! value) goes through these two symbols, and the executable's definitions take precedence
//! over glibc's for all the Rust code in it. The copies are then done by glibc's own
//! implementations through their fortified entry points (`__memcpy_chk`, `__memmove_chk`),
//! which call nothing back here. The kernel's copies (`recv`, `writev`) are not counted: they
//! are the same for every system at a given payload. Counting costs an atomic add and an
//! indirect call per copy, so runs that count are for reading copies, not speed.

/// Whether this binary counts copies.
pub const ENABLED: bool = cfg!(feature = "count-copies");

/// Bytes copied by `memcpy` and `memmove` in this process so far (0 when not counting).
pub fn copied() -> u64 {
    #[cfg(feature = "count-copies")]
    {
        interposed::COPIED.load(std::sync::atomic::Ordering::Relaxed)
    }
    #[cfg(not(feature = "count-copies"))]
    {
        0
    }
}

#[cfg(feature = "count-copies")]
mod interposed {
    use std::ffi::c_void;
    use std::hint::black_box;
    use std::sync::atomic::{AtomicU64, Ordering};

    pub static COPIED: AtomicU64 = AtomicU64::new(0);

    extern "C" {
        fn __memcpy_chk(dest: *mut c_void, src: *const c_void, len: usize, dest_len: usize) -> *mut c_void;
        fn __memmove_chk(dest: *mut c_void, src: *const c_void, len: usize, dest_len: usize) -> *mut c_void;
    }

    /// # Safety
    /// As `memcpy`: `dest` and `src` valid for `len` bytes and not overlapping.
    #[no_mangle]
    pub unsafe extern "C" fn memcpy(dest: *mut c_void, src: *const c_void, len: usize) -> *mut c_void {
        COPIED.fetch_add(len as u64, Ordering::Relaxed);
        // An unknown destination size keeps the optimizer from folding the fortified call
        // back into `memcpy`, which would be this function.
        __memcpy_chk(dest, src, len, black_box(usize::MAX))
    }

    /// # Safety
    /// As `memmove`: `dest` and `src` valid for `len` bytes.
    #[no_mangle]
    pub unsafe extern "C" fn memmove(dest: *mut c_void, src: *const c_void, len: usize) -> *mut c_void {
        COPIED.fetch_add(len as u64, Ordering::Relaxed);
        __memmove_chk(dest, src, len, black_box(usize::MAX))
    }
}
