//! Pure operations on the value types (no keyspace access).

pub mod list;
pub mod string;
