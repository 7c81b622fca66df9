//! Micro-benchmarks of the per-shard keyspace: `key_hash_slot` (paid by every
//! keyed command for routing), and `Db` insert / get hit / get miss on a table
//! of 100 000 keys (the lookup path of GET and SET, including lazy expiry).

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use tessera::cluster::slot::key_hash_slot;
use tessera::shard::db::Db;
use tessera::shard::value::{StrValue, Value};

fn keys(n: usize) -> Vec<Bytes> {
    (0..n)
        .map(|i| Bytes::from(format!("key:{i:012}")))
        .collect()
}

fn slot(c: &mut Criterion) {
    c.bench_function("key_hash_slot_16b", |b| {
        b.iter(|| key_hash_slot(black_box(b"key:000000012345")))
    });
    c.bench_function("key_hash_slot_tagged", |b| {
        b.iter(|| key_hash_slot(black_box(b"{user1000}.following")))
    });
}

fn db_ops(c: &mut Criterion) {
    let ks = keys(100_000);
    let mut db = Db::new();
    for k in &ks {
        db.insert(k, Value::Str(StrValue::Int(1)), 0, 1);
    }
    let mut i = 0usize;
    c.bench_function("db_get_hit", |b| {
        b.iter(|| {
            i = (i + 7919) % ks.len();
            black_box(db.get(&ks[i], 1).is_some())
        })
    });
    c.bench_function("db_get_miss", |b| {
        b.iter(|| black_box(db.get(b"nope:key", 1).is_some()))
    });
    c.bench_function("db_insert_overwrite", |b| {
        b.iter(|| {
            i = (i + 7919) % ks.len();
            db.insert(&ks[i], Value::Str(StrValue::Int(2)), 0, 1);
        })
    });
}

criterion_group!(benches, slot, db_ops);
criterion_main!(benches);
