//! Small, generic helpers: clock, glob matching, Redis-compatible number
//! parsing and formatting, a cache prefetch hint.

pub mod clock;
pub mod glob;
pub mod inline;
pub mod notify;
pub mod num;
pub mod repr;
pub mod rng;

/// A hint to load the cache line at `p` (no effect where unsupported).
#[inline(always)]
pub fn prefetch_line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and reads nothing into the program;
    // any address is allowed.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
