//! Hash slots: `key_hash_slot` exactly as Redis Cluster computes it
//! (`keyHashSlot` in Redis's `cluster.c`): CRC16-XMODEM of the key, or of the
//! first non-empty `{hash tag}`, modulo 16384. Pure; used on every shard.

/// Number of hash slots in Redis Cluster.
pub const SLOTS: usize = 16384;

/// A hash slot, 0..16384.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot(pub u16);

impl Slot {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The part of `key` that is hashed: the bytes between the first `{` and the
/// first `}` after it, when that is non-empty; otherwise the whole key.
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = memchr::memchr(b'{', key) {
        if let Some(len) = memchr::memchr(b'}', &key[open + 1..]) {
            if len > 0 {
                return &key[open + 1..open + 1 + len];
            }
        }
    }
    key
}

/// Matches Redis's `keyHashSlot`.
///
/// Every command asks this at least once (routing, the shard's per-slot
/// table), so it calls the crate's `update` and `get` straight from the
/// zero state: CRC-16/XMODEM starts at 0, and `State::calculate` would
/// first recompute that start value bit by bit on each call, which costs
/// more than hashing a short key.
pub fn key_hash_slot(key: &[u8]) -> Slot {
    use crc16::CrcType;
    let crc = crc16::XMODEM::get(crc16::XMODEM::update(0, hash_tag(key)));
    Slot(crc & (SLOTS as u16 - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_values() {
        assert_eq!(key_hash_slot(b"123456789"), Slot(12739));
        assert_eq!(key_hash_slot(b"foo"), Slot(12182));
        assert_eq!(key_hash_slot(b"bar"), Slot(5061));
        assert_eq!(key_hash_slot(b""), Slot(0));
    }

    #[test]
    fn hash_tags() {
        assert_eq!(
            key_hash_slot(b"{user1000}.following"),
            key_hash_slot(b"user1000")
        );
        assert_eq!(
            key_hash_slot(b"{user1000}.followers"),
            key_hash_slot(b"user1000")
        );
        // An empty tag means the whole key is hashed.
        assert_eq!(key_hash_slot(b"foo{}{bar}"), key_hash_slot(b"foo{}{bar}"));
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        // Only the first tag counts.
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
        assert_eq!(hash_tag(b"{unclosed"), b"{unclosed");
    }

    #[test]
    fn same_as_the_crates_whole_calculation() {
        use crc16::CrcType;
        assert_eq!(crc16::XMODEM::init(), 0);
        let keys = (0..3000)
            .map(|i| format!("key:{i:012}{}", "x".repeat(i % 70)))
            .chain(["", "{", "}", "{}", "a{b}c"].map(String::from));
        for k in keys {
            let whole = crc16::State::<crc16::XMODEM>::calculate(hash_tag(k.as_bytes()));
            assert_eq!(key_hash_slot(k.as_bytes()), Slot(whole & 0x3fff), "{k}");
        }
    }
}
