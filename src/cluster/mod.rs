//! Redis Cluster building blocks. For now only the key → slot function, which
//! standalone mode uses too (slots decide which shard owns a key).
//! Pure code, no executor of its own.

pub mod slot;
