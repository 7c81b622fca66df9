//! Small, generic helpers: clock, glob matching, Redis-compatible number
//! parsing and formatting.

pub mod clock;
pub mod glob;
pub mod inline;
pub mod notify;
pub mod num;
pub mod repr;
pub mod rng;
