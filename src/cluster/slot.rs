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
    if let Some(open) = key.iter().position(|&b| b == b'{') {
        if let Some(len) = key[open + 1..].iter().position(|&b| b == b'}') {
            if len > 0 {
                return &key[open + 1..open + 1 + len];
            }
        }
    }
    key
}

/// Matches Redis's `keyHashSlot`.
pub fn key_hash_slot(key: &[u8]) -> Slot {
    let crc = crc16::State::<crc16::XMODEM>::calculate(hash_tag(key));
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
}
