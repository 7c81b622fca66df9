//! Pure operations on the value types (no keyspace access).

pub mod string;
