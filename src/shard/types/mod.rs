//! Pure operations on the value types (no keyspace access).

pub mod chunked;
pub mod hash;
pub mod list;
pub mod packed;
pub mod scan;
pub mod set;
pub mod string;
pub mod zset;

/// One level of a hashtable member's lookup, for prefetching a pipeline's
/// members a level at a time across all its keys (`Db::prefetch`): the
/// index probe gives a position, the position an entry (a `Bytes` handle),
/// the entry its bytes — three dependent loads, each a likely cache miss
/// in a big set or hash, after the table itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberStep {
    /// Fetch the table itself (boxed apart from the key's node).
    Table,
    /// Probe the index (its lines were fetched before) and fetch the
    /// entries of the candidate positions.
    Entries,
    /// Probe again and fetch the bytes of the candidate entries.
    Bytes,
}

/// One `MemberStep` of a hashtable encoding's lookup, for sets and hashes
/// alike: `table` is the boxed table, `index` maps the member's `hash` to
/// positions in `entries`, and `bytes` picks the member out of an entry.
/// The probe's comparison only prefetches and answers no, so nothing it
/// finds is read before its pass.
fn prefetch_probe<T>(
    table: *const u8,
    index: &hashbrown::HashTable<usize>,
    hash: u64,
    entries: &[T],
    step: MemberStep,
    bytes: impl Fn(&T) -> &bytes::Bytes,
) {
    if step == MemberStep::Table {
        crate::util::prefetch_line(table);
        return;
    }
    let _ = index.find(hash, |&i| {
        if let Some(e) = entries.get(i) {
            let line = match step {
                MemberStep::Bytes => bytes(e).as_ptr(),
                _ => std::ptr::from_ref(e).cast(),
            };
            crate::util::prefetch_line(line);
        }
        false
    });
}

/// The size limits under which collections keep Redis's compact encodings
/// (listpack / intset), from the config directives of the same names. A
/// copy travels with every keyed command (`KeyCtx::enc`), so CONFIG SET
/// takes effect on the next command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encodings {
    /// `hash-max-listpack-entries`.
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value` (bytes of a field or a value).
    pub hash_max_listpack_value: usize,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: usize,
    /// `zset-max-listpack-entries`.
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value` (bytes of a member).
    pub zset_max_listpack_value: usize,
}

impl Default for Encodings {
    /// Redis 7.0's defaults.
    fn default() -> Encodings {
        Encodings {
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
        }
    }
}

impl Encodings {
    pub fn of(cfg: &crate::config::Config) -> Encodings {
        let get = |name: &str, default: usize| {
            cfg.int(name)
                .map(|v| usize::try_from(v).unwrap_or(0))
                .unwrap_or(default)
        };
        let d = Encodings::default();
        Encodings {
            hash_max_listpack_entries: get(
                "hash-max-listpack-entries",
                d.hash_max_listpack_entries,
            ),
            hash_max_listpack_value: get("hash-max-listpack-value", d.hash_max_listpack_value),
            set_max_intset_entries: get("set-max-intset-entries", d.set_max_intset_entries),
            zset_max_listpack_entries: get(
                "zset-max-listpack-entries",
                d.zset_max_listpack_entries,
            ),
            zset_max_listpack_value: get("zset-max-listpack-value", d.zset_max_listpack_value),
        }
    }
}
