//! The cursor of HSCAN / SSCAN / ZSCAN over a collection in its big
//! encoding. Pure; used on every shard.
//!
//! Redis walks its dict buckets with a reverse-binary cursor. Our tables
//! reorder on resize, so the cursor here is a position in a fixed order
//! instead: every element has a 64-bit hash under a fixed seed, and a call
//! returns the elements whose hash is at least the cursor, lowest first. An
//! element present for the whole scan is therefore returned exactly once,
//! whatever is added or removed meanwhile (Redis promises "at least once").
//! A call costs O(n) in the collection's size, O(count) in Redis.

use std::hash::{BuildHasher, Hasher};

/// The cursor order of one element: its fixed-seed hash, never 0 (0 is the
/// cursor that starts and ends a scan).
pub fn element_order(element: &[u8]) -> u64 {
    let mut h = ahash::RandomState::with_seeds(0x5ca9, 0xc0e5, 0x0a11, 0x7e55).build_hasher();
    h.write(element);
    h.finish().max(1)
}

/// One step of a scan: up to `count` items (more only when several share the
/// last hash) whose `element_order(name(item))` is at least `cursor`, lowest
/// first, and the cursor of the next call (0 when this one reached the end).
pub fn scan_step<T>(
    items: impl Iterator<Item = T>,
    name: impl Fn(&T) -> &[u8],
    cursor: u64,
    count: usize,
) -> (Vec<T>, u64) {
    let count = count.max(1);
    let mut found: Vec<(u64, T)> = items
        .filter_map(|it| {
            let order = element_order(name(&it));
            (order >= cursor).then_some((order, it))
        })
        .collect();
    if found.len() <= count {
        return (found.into_iter().map(|(_, it)| it).collect(), 0);
    }
    found.select_nth_unstable_by_key(count - 1, |(o, _)| *o);
    let last = found[count - 1].0;
    let mut taken = Vec::with_capacity(count);
    let mut next = u64::MAX;
    for (order, it) in found {
        if order <= last {
            taken.push(it);
        } else {
            next = next.min(order);
        }
    }
    // `found` had more than `count` items and at most `count` of them are
    // below `last`, so something is above it unless all share `last`.
    let next = if next == u64::MAX && last == u64::MAX {
        0
    } else {
        next
    };
    (taken, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_element_exactly_once_while_others_change() {
        let stable: Vec<Vec<u8>> = (0..500).map(|i| format!("s{i}").into_bytes()).collect();
        let mut churn: Vec<Vec<u8>> = Vec::new();
        let mut seen = std::collections::HashMap::new();
        let mut cursor = 0;
        let mut round = 0;
        loop {
            let all: Vec<&Vec<u8>> = stable.iter().chain(churn.iter()).collect();
            let (got, next) = scan_step(all.into_iter(), |v| v.as_slice(), cursor, 7);
            for g in got {
                *seen.entry(g.clone()).or_insert(0) += 1;
            }
            // Elements come and go between calls.
            churn.push(format!("c{round}").into_bytes());
            if round % 3 == 0 {
                churn.remove(0);
            }
            round += 1;
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        for s in &stable {
            assert_eq!(seen.get(s), Some(&1), "{}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn small_collections_end_in_one_call() {
        let items = ["a", "b", "c"];
        let (got, next) = scan_step(items.iter(), |s| s.as_bytes(), 0, 10);
        assert_eq!((got.len(), next), (3, 0));
    }
}
