//! The RDB codec against itself (every type and encoding written, then
//! loaded), against byte strings assembled by hand from the format for
//! the encodings Redis no longer writes, and against corrupt input.

use bytes::Bytes;
use proptest::prelude::*;

use super::*;
use crate::shard::types::hash::Hash;
use crate::shard::types::list::{End, List};
use crate::shard::types::set::{self, Elem, Set};
use crate::shard::types::zset::ZSet;
use crate::shard::value::StrValue;

fn enc() -> Encodings {
    Encodings::default()
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn string(s: &[u8]) -> Value {
    Value::Str(StrValue::from_bytes(s))
}

fn list(items: &[&str]) -> Value {
    let mut l = List::new();
    for i in items {
        l.push(End::Right, i.as_bytes());
    }
    Value::List(l)
}

fn set_of(items: &[String]) -> Value {
    let mut s = Set::new_intset();
    for i in items {
        s.add(i.as_bytes(), enc().set_max_intset_entries);
    }
    Value::Set(s)
}

fn hash(pairs: &[(String, String)]) -> Value {
    let mut h = Hash::new();
    for (f, v) in pairs {
        h.set(f.as_bytes(), v.as_bytes(), &enc());
    }
    Value::Hash(h)
}

fn zset(pairs: &[(String, f64)]) -> Value {
    let pairs = pairs.iter().map(|(m, s)| (b(m), *s)).collect();
    Value::ZSet(ZSet::from_pairs(pairs, &enc()))
}

fn strings(n: usize, f: impl Fn(usize) -> String) -> Vec<String> {
    (0..n).map(f).collect()
}

/// One value of every type and encoding tessera keeps, with the
/// encoding each must come back in.
fn samples() -> Vec<(&'static str, Value, &'static str)> {
    let long_list: Vec<String> = strings(3000, |i| format!("element-{i:05}"));
    let long_refs: Vec<&str> = long_list.iter().map(String::as_str).collect();
    vec![
        ("int", string(b"12345"), "int"),
        ("negative int", string(b"-7"), "int"),
        ("big int", string(b"9223372036854775807"), "int"),
        ("embstr", string(b"hello world"), "embstr"),
        ("empty", string(b""), "embstr"),
        ("raw", string(&[b'x'; 100]), "raw"),
        ("not canonical", string(b"0123"), "embstr"),
        ("binary", string(&(0..=255u8).collect::<Vec<u8>>()), "raw"),
        (
            "grown",
            Value::Str(StrValue::new_buf(b"appended value".to_vec())),
            "embstr",
        ),
        ("small list", list(&["a", "1", "-5", "bb"]), "quicklist"),
        ("long list", list(&long_refs), "quicklist"),
        (
            "intset16",
            set_of(&strings(10, |i| i.to_string())),
            "intset",
        ),
        ("intset32", set_of(&["70000".into(), "-1".into()]), "intset"),
        (
            "intset64",
            set_of(&["9000000000".into(), "1".into()]),
            "intset",
        ),
        (
            "set table",
            set_of(&strings(20, |i| format!("m{i}"))),
            "hashtable",
        ),
        (
            "big int set",
            set_of(&strings(600, |i| i.to_string())),
            "hashtable",
        ),
        (
            "hash listpack",
            hash(&[("f".into(), "v".into()), ("n".into(), "42".into())]),
            "listpack",
        ),
        (
            "hash table",
            hash(
                &strings(600, |i| i.to_string())
                    .into_iter()
                    .map(|i| (format!("field{i}"), i))
                    .collect::<Vec<_>>(),
            ),
            "hashtable",
        ),
        (
            "hash long value",
            hash(&[("f".into(), "v".repeat(100))]),
            "hashtable",
        ),
        (
            "zset listpack",
            zset(&[
                ("a".into(), 1.0),
                ("b".into(), 1.5),
                ("c".into(), f64::INFINITY),
                ("d".into(), f64::NEG_INFINITY),
                ("e".into(), -0.25),
                ("f".into(), 1e300),
            ]),
            "listpack",
        ),
        (
            "zset skiplist",
            zset(
                &strings(200, |i| format!("m{i}"))
                    .into_iter()
                    .enumerate()
                    .map(|(i, m)| (m, i as f64 / 3.0))
                    .collect::<Vec<_>>(),
            ),
            "skiplist",
        ),
    ]
}

/// Equal values; strings by their bytes (a grown `raw` buffer comes back
/// as plain bytes, as Redis's raw string comes back as an embstr).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => x.to_bytes() == y.to_bytes(),
        _ => a == b,
    }
}

/// A whole file: header, AUX fields, two databases, end, checksum.
fn file(entries: &[(usize, &[u8], Entry)]) -> Vec<u8> {
    let mut out = Vec::new();
    write_header(&mut out);
    write_aux(&mut out, "redis-ver", b"7.0.15");
    write_aux(&mut out, "redis-bits", b"64");
    let mut current = None;
    for (db, key, entry) in entries {
        if current != Some(*db) {
            write_select_db(&mut out, *db);
            write_resize_db(&mut out, entries.len(), 0);
            current = Some(*db);
        }
        write_entry(&mut out, key, entry, true);
    }
    write_eof(&mut out);
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn load_all(data: &[u8], e: &Encodings) -> Result<Vec<Record>, RdbError> {
    let mut out = Vec::new();
    load(data, e, true, &mut |r| out.push(r))?;
    Ok(out)
}

fn entries(records: Vec<Record>) -> Vec<(usize, Bytes, Entry)> {
    records
        .into_iter()
        .filter_map(|r| match r {
            Record::Entry { db, key, entry } => Some((db, key, entry)),
            _ => None,
        })
        .collect()
}

/// A DUMP payload around a hand-built object part.
fn payload(body: &[u8]) -> Vec<u8> {
    let mut p = body.to_vec();
    p.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

fn restore(body: &[u8]) -> Result<Value, RdbError> {
    restore_payload(&payload(body), &enc())
}

/// The element texts of a value, sorted, for comparisons by content.
fn contents(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    match v {
        Value::Str(s) => out.push(text(&s.to_bytes())),
        Value::List(l) => out.extend(l.iter().map(text)),
        Value::Set(s) => s.for_each(|m| out.push(text(m))),
        Value::Hash(h) => h.for_each(|f, v| out.push(format!("{}={}", text(f), text(v)))),
        Value::ZSet(z) => z.for_each(|m, s| out.push(format!("{}={s}", text(m)))),
    }
    if !matches!(v, Value::List(_)) {
        out.sort();
    }
    out
}

#[test]
fn crc64_check_value() {
    assert_eq!(crc64(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    let mut c = Crc64::new();
    c.update(b"1234");
    c.update(b"56789");
    assert_eq!(c.finish(), 0xe9c6_d914_c4b8_d9ca);
    // finish does not consume: more data may follow.
    c.update(b"0");
    assert_eq!(c.finish(), crc64(b"1234567890"));
}

#[test]
fn header_and_opcodes() {
    let mut out = Vec::new();
    write_header(&mut out);
    assert_eq!(out, b"REDIS0010");
    out.clear();
    write_aux(&mut out, "redis-bits", b"64");
    assert_eq!(out, b"\xfa\x0aredis-bits\xc0\x40");
    out.clear();
    write_aux(&mut out, "ctime", b"1700000000");
    assert_eq!(out, b"\xfa\x05ctime\xc2\x00\xf1\x53\x65");
    out.clear();
    write_select_db(&mut out, 3);
    write_resize_db(&mut out, 100, 2);
    write_eof(&mut out);
    assert_eq!(out, [0xFE, 3, 0xFB, 0x40, 100, 2, 0xFF]);
}

#[test]
fn every_type_round_trips_through_a_file() {
    let samples = samples();
    let mut input = Vec::new();
    for (i, (name, v, _)) in samples.iter().enumerate() {
        let expire_at = if i % 3 == 0 {
            4_000_000_000_000 + i as u64
        } else {
            0
        };
        let entry = Entry {
            value: v.clone(),
            expire_at,
            lru: 0,
        };
        input.push((i % 2 * 5, name.as_bytes(), entry));
    }
    input.sort_by_key(|(db, _, _)| *db);
    let data = file(&input);
    let records = load_all(&data, &enc()).unwrap();
    assert_eq!(
        records[..2],
        [
            Record::Aux {
                key: b("redis-ver"),
                value: b("7.0.15")
            },
            Record::Aux {
                key: b("redis-bits"),
                value: b("64")
            }
        ]
    );
    let got = entries(records);
    assert_eq!(got.len(), input.len());
    let clock = crate::shard::db::lru_clock(crate::util::clock::now_ms());
    for ((db, key, entry), (want_db, want_key, want)) in got.iter().zip(&input) {
        let (_, _, encoding) = samples
            .iter()
            .find(|(n, _, _)| n.as_bytes() == *want_key)
            .unwrap();
        assert_eq!((db, key.as_ref()), (want_db, *want_key));
        assert!(
            same(&entry.value, &want.value),
            "{}",
            String::from_utf8_lossy(key)
        );
        assert_eq!(entry.value.encoding(), *encoding, "{key:?}");
        assert_eq!(contents(&entry.value), contents(&want.value));
        assert_eq!(entry.expire_at, want.expire_at);
        assert!(entry.lru.abs_diff(clock) <= 2);
    }
}

#[test]
fn every_type_round_trips_through_dump() {
    for (name, v, encoding) in samples() {
        let p = dump_payload(&v);
        let back = restore_payload(&p, &enc()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(same(&back, &v), "{name}");
        assert_eq!(back.encoding(), encoding, "{name}");
        assert_eq!(contents(&back), contents(&v), "{name}");
        // The footer: version 10, then the CRC64 of everything before it.
        let n = p.len();
        assert_eq!(&p[n - 10..n - 8], &[10, 0]);
        assert_eq!(&p[n - 8..], &crc64(&p[..n - 8]).to_le_bytes());
    }
}

#[test]
fn dump_bytes_are_redis_bytes() {
    // Payloads of redis-server 7.0 for the same values (small values are
    // never compressed, so the bytes are fully determined).
    let body = |v: &Value| {
        let p = dump_payload(v);
        p[..p.len() - 10].to_vec()
    };
    assert_eq!(body(&string(b"1")), b"\x00\xc0\x01");
    assert_eq!(body(&string(b"hello")), b"\x00\x05hello");
    assert_eq!(
        body(&set_of(&["1".into(), "2".into()])),
        b"\x0b\x0c\x02\x00\x00\x00\x02\x00\x00\x00\x01\x00\x02\x00"
    );
    assert_eq!(
        body(&list(&["a"])),
        b"\x12\x01\x02\x0a\x0a\x00\x00\x00\x01\x00\x81a\x02\xff"
    );
    // Whole payloads, footer and CRC64 included, as redis-server 7.0 DUMPs.
    assert_eq!(
        dump_payload(&string(b"1")),
        b"\x00\xc0\x01\n\x00&x\xe7\xb6\xd1\x01\x11\xfc"
    );
    assert_eq!(
        dump_payload(&zset(&[
            ("a".into(), 1.0),
            ("b".into(), 1.5),
            ("c".into(), f64::INFINITY)
        ])),
        b"\x11\x1c\x1c\x00\x00\x00\x06\x00\x81a\x02\x01\x01\x81b\x02\x831.5\x04\x81c\x02\x83inf\x04\xff\n\x00%e\xdf\xfd\xaa\xdc\x15b"
    );
    assert_eq!(
        dump_payload(&hash(&[("f".into(), "v".into()), ("n".into(), "42".into())])),
        b"\x10\x12\x12\x00\x00\x00\x04\x00\x81f\x02\x81v\x02\x81n\x02*\x01\xff\n\x00\xff0\xe8\x7frb\xd9\x91"
    );
    // One node holds as much as `list-max-listpack-size -2` lets it.
    let long: Vec<String> = strings(1000, |i| format!("{i:010}x"));
    let refs: Vec<&str> = long.iter().map(String::as_str).collect();
    let p = body(&list(&refs));
    assert_eq!(&p[..2], &[0x12, 2]);
}

#[test]
fn quicklist_nodes_split_at_8k() {
    let items: Vec<String> = strings(2000, |i| format!("{i:020}"));
    let refs: Vec<&str> = items.iter().map(String::as_str).collect();
    let v = list(&refs);
    let mut out = Vec::new();
    encode::write_value(&mut out, &v, false);
    let mut r = decode::Reader::new(&out);
    let nodes = r.len().unwrap();
    let mut total = 0;
    for _ in 0..nodes {
        assert_eq!(r.len().unwrap(), CONTAINER_PACKED);
        let blob = r.bytes().unwrap();
        assert!(blob.len() <= 8192, "node of {} bytes", blob.len());
        total += listpack::decode(&blob).unwrap().len();
    }
    assert_eq!(total, 2000);
    assert!(nodes >= 5, "{nodes} nodes");
}

#[test]
fn old_string_encodings() {
    assert_eq!(restore(b"\x00\xc0\x85").unwrap(), string(b"-123"));
    assert_eq!(restore(b"\x00\xc1\x39\x30").unwrap(), string(b"12345"));
    assert_eq!(
        restore(b"\x00\xc2\x00\x00\x00\x80").unwrap(),
        string(b"-2147483648")
    );
    // LZF by hand: a literal "a", then a back-reference copying 24 bytes
    // from one back (111 00000, length 24 - 9 = 15, offset 0).
    let v = restore(b"\x00\xc3\x05\x19\x00a\xe0\x0f\x00").unwrap();
    assert_eq!(v, string(&[b'a'; 25]));
    // A claimed length the compressed bytes cannot hold.
    assert!(restore(b"\x00\xc3\x05\x7f\xff\xff\xff\xff\x00a\xe0\x0f\x00").is_err());
    assert!(restore(b"\x00\xc3\x05\x1a\x00a\xe0\x0f\x00").is_err());
    assert!(restore(b"\x00\xc4").is_err());
}

#[test]
fn plain_collection_types() {
    // Type 1: a plain list of strings.
    let v = restore(b"\x01\x03\x01a\xc0\x07\x02bc").unwrap();
    assert_eq!(contents(&v), ["a", "7", "bc"]);
    // Type 2: a plain set; integers only give an intset.
    let v = restore(b"\x02\x02\xc0\x01\xc0\x02").unwrap();
    assert_eq!(v.encoding(), "intset");
    let v = restore(b"\x02\x02\x01x\xc0\x02").unwrap();
    assert_eq!(
        (v.encoding(), contents(&v)),
        ("hashtable", vec!["2".into(), "x".into()])
    );
    assert!(restore(b"\x02\x02\x01x\x01x").is_err(), "duplicate member");
    // Type 4: a plain hash; a value over hash-max-listpack-value converts.
    let v = restore(b"\x04\x01\x01f\x01v").unwrap();
    assert_eq!(v.encoding(), "listpack");
    let long = [b"\x04\x01\x01f\x40\x64".as_slice(), &[b'v'; 100]].concat();
    assert_eq!(restore(&long).unwrap().encoding(), "hashtable");
    assert!(
        restore(b"\x04\x02\x01f\x01v\x01f\x01w").is_err(),
        "duplicate field"
    );
    // Type 3: textual scores, with the special lengths for infinities.
    let v = restore(b"\x03\x03\x01a\x031.5\x01b\xfe\x01c\xff").unwrap();
    assert_eq!(v.encoding(), "listpack");
    assert_eq!(contents(&v), ["a=1.5", "b=inf", "c=-inf"]);
    assert!(restore(b"\x03\x01\x01a\xfd").is_err(), "NaN score");
    assert!(restore(b"\x03\x01\x01a\x03abc").is_err(), "not a number");
    // Type 5: binary scores.
    let mut z = b"\x05\x01\x01a".to_vec();
    z.extend_from_slice(&2.5f64.to_le_bytes());
    assert_eq!(contents(&restore(&z).unwrap()), ["a=2.5"]);
    z.truncate(4);
    z.extend_from_slice(&f64::NAN.to_le_bytes());
    assert!(restore(&z).is_err(), "NaN score");
    // Empty collections are refused by RESTORE.
    assert!(restore(b"\x01\x00").is_err());
    assert!(restore(b"\x02\x00").is_err());
}

fn blob_object(ty: u8, blob: &[u8]) -> Vec<u8> {
    let mut body = vec![ty];
    write_string(&mut body, blob, false);
    body
}

#[test]
fn ziplist_types() {
    use super::ziplist::tests::assemble;
    // Type 10: a list as one ziplist.
    let zl = assemble(&[b"\x01a", b"\xf3", b"\x03xyz"]);
    let v = restore(&blob_object(TYPE_LIST_ZIPLIST, &zl)).unwrap();
    assert_eq!(contents(&v), ["a", "2", "xyz"]);
    // Type 12: member, score pairs; scores as integers or text.
    let zl = assemble(&[b"\x01a", b"\xf4", b"\x01b", b"\x032.5"]);
    let v = restore(&blob_object(TYPE_ZSET_ZIPLIST, &zl)).unwrap();
    assert_eq!(
        (v.encoding(), contents(&v)),
        ("listpack", vec!["a=3".into(), "b=2.5".into()])
    );
    // Type 13: field, value pairs.
    let zl = assemble(&[b"\x01f", b"\x01v", b"\x01n", b"\xfe\x80"]);
    let v = restore(&blob_object(TYPE_HASH_ZIPLIST, &zl)).unwrap();
    assert_eq!(
        (v.encoding(), contents(&v)),
        ("listpack", vec!["f=v".into(), "n=-128".into()])
    );
    // An odd element count is corrupt.
    let zl = assemble(&[b"\x01f", b"\x01v", b"\x01n"]);
    assert!(restore(&blob_object(TYPE_HASH_ZIPLIST, &zl)).is_err());
    // Type 14: quicklist of ziplist nodes.
    let n1 = assemble(&[b"\x01a", b"\x01b"]);
    let n2 = assemble(&[b"\xc0\x10\x27"]);
    let mut body = vec![TYPE_LIST_QUICKLIST, 2];
    write_string(&mut body, &n1, false);
    write_string(&mut body, &n2, false);
    let v = restore(&body).unwrap();
    assert_eq!(contents(&v), ["a", "b", "10000"]);
}

#[test]
fn zipmap_and_quicklist2_plain() {
    let zm = b"\x02\x03foo\x03\x00bar\x05hello\x05\x01worldx\xff";
    let v = restore(&blob_object(TYPE_HASH_ZIPMAP, zm)).unwrap();
    assert_eq!(
        (v.encoding(), contents(&v)),
        ("listpack", vec!["foo=bar".into(), "hello=world".into()])
    );
    let dup = b"\x02\x01a\x01\x00b\x01a\x01\x00c\xff";
    assert!(restore(&blob_object(TYPE_HASH_ZIPMAP, dup)).is_err());
    // Type 18 with a PLAIN node (one element) and a PACKED one.
    let mut lp = listpack::Builder::new();
    lp.push(b"packed");
    let mut body = vec![TYPE_LIST_QUICKLIST_2, 2, CONTAINER_PLAIN as u8];
    write_string(&mut body, b"plain element", false);
    body.push(CONTAINER_PACKED as u8);
    write_string(&mut body, &lp.finish(), false);
    assert_eq!(
        contents(&restore(&body).unwrap()),
        ["plain element", "packed"]
    );
    let bad = [TYPE_LIST_QUICKLIST_2, 1, 3, 1, b'x'];
    assert!(restore(&bad).is_err());
}

#[test]
fn load_keeps_redis_7_encoding_choices() {
    let small = Encodings {
        hash_max_listpack_entries: 2,
        hash_max_listpack_value: 4,
        set_max_intset_entries: 2,
        zset_max_listpack_entries: 2,
        zset_max_listpack_value: 4,
    };
    let load = |v: &Value| restore_payload(&dump_payload(v), &small).unwrap();
    // Counts past the limits convert.
    let three = strings(3, |i| i.to_string());
    assert_eq!(load(&set_of(&three)).encoding(), "hashtable");
    let h = hash(
        &three
            .iter()
            .map(|i| (i.clone(), i.clone()))
            .collect::<Vec<_>>(),
    );
    assert_eq!(load(&h).encoding(), "hashtable");
    let z = zset(&three.iter().map(|i| (i.clone(), 1.0)).collect::<Vec<_>>());
    assert_eq!(load(&z).encoding(), "skiplist");
    // A listpack blob keeps its encoding whatever its elements' length
    // (Redis 7.0 checks only the count of a listpack it loads)…
    let long = hash(&[("field".into(), "value".into())]);
    assert_eq!(load(&long).encoding(), "listpack");
    let z = zset(&[("member".into(), 1.0)]);
    assert_eq!(load(&z).encoding(), "listpack");
    // …while a skiplist zset converts back by count and member length.
    let skiplist = |members: &[&str]| {
        let pairs = members.iter().map(|m| (b(m), 1.0)).collect();
        let none = Encodings {
            zset_max_listpack_entries: 0,
            ..enc()
        };
        Value::ZSet(ZSet::from_pairs(pairs, &none))
    };
    assert_eq!(load(&skiplist(&["a", "b"])).encoding(), "listpack");
    assert_eq!(load(&skiplist(&["member", "b"])).encoding(), "skiplist");
    assert_eq!(load(&skiplist(&["a", "b", "c"])).encoding(), "skiplist");
}

#[test]
fn file_opcodes_by_hand() {
    let now = crate::util::clock::now_ms();
    let mut data = b"REDIS0009".to_vec();
    data.extend_from_slice(b"\xfa\x03aux\xc0\x05"); // AUX aux = 5
    data.extend_from_slice(b"\xfe\x02"); // SELECTDB 2
    data.extend_from_slice(b"\xfb\x02\x01"); // RESIZEDB 2 1
    data.extend_from_slice(b"\xfd\x00\x00\x00\x80"); // EXPIRETIME (s), i32::MIN
    data.extend_from_slice(b"\x00\x01a\x01x");
    data.extend_from_slice(b"\xfd\x00\x5e\xd0\xb2"); // 3000000000 s as i32: negative
    data.extend_from_slice(b"\xf8\x40\x64"); // IDLE 100
    data.extend_from_slice(b"\xf9\x07"); // FREQ 7
    data.extend_from_slice(b"\x00\x01b\x01y");
    data.extend_from_slice(b"\xfd\x00\xca\x9a\x3b"); // 1000000000 s
    data.extend_from_slice(b"\x00\x01c\x01z");
    data.extend_from_slice(b"\x01\x01e\x00"); // an empty list: skipped
    data.push(0xff);
    data.extend_from_slice(&[0; 8]); // checksum disabled
    let records = load_all(&data, &enc()).unwrap();
    assert_eq!(
        records[0],
        Record::Aux {
            key: b("aux"),
            value: b("5")
        }
    );
    assert_eq!(
        records[1],
        Record::ResizeDb {
            db: 2,
            keys: 2,
            expires: 1
        }
    );
    let got = entries(records);
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|(db, _, _)| *db == 2));
    assert_eq!(got[0].2.expire_at, 1, "a past deadline stays a deadline");
    assert_eq!(got[1].2.expire_at, 1);
    assert_eq!(got[2].2.expire_at, 1_000_000_000_000);
    let clock = crate::shard::db::lru_clock(now);
    assert!((clock.wrapping_sub(got[1].2.lru) as i64 - 100).abs() <= 2);
    assert!(got[0].2.lru.abs_diff(clock) <= 2);
    // Version 4 and older have no checksum.
    let mut old = b"REDIS0004".to_vec();
    old.extend_from_slice(b"\x00\x01k\x01v\xff");
    assert_eq!(entries(load_all(&old, &enc()).unwrap()).len(), 1);
}

#[test]
fn lru_wraps_like_redis() {
    let now = 5_000_000; // clock 5000
    assert_eq!(lru_with_idle(now, 0), 5000);
    assert_eq!(lru_with_idle(now, 1000), 4000);
    assert_eq!(lru_with_idle(now, 6000), 0xFF_FFFF - 1000);
    assert!(lru_with_idle(now, u64::MAX) <= 0xFF_FFFF);
}

#[test]
fn refused_and_corrupt_files() {
    let err = |data: &[u8]| load_all(data, &enc()).unwrap_err();
    assert_eq!(err(b"REDIX0010\xff").offset, 0);
    assert_eq!(err(b"REDIS0011\xff").offset, 5);
    assert_eq!(err(b"REDIS0000\xff").offset, 5);
    assert_eq!(err(b"REDIS00a0\xff").offset, 5);
    assert_eq!(err(b"REDIS").offset, 0);
    let e = err(b"REDIS0010\x06\x01k");
    assert_eq!(e.offset, 9);
    assert!(e.msg.contains("module"), "{e}");
    let e = err(b"REDIS0010\xfe\x00\x0f\x01k");
    assert_eq!(e.offset, 11);
    assert!(e.to_string().contains("streams") && e.to_string().ends_with("at offset 11"));
    assert!(err(b"REDIS0010\x13\x01k").msg.contains("stream"));
    assert!(err(b"REDIS0010\xf5").msg.contains("functions"));
    assert!(err(b"REDIS0010\xf6").msg.contains("functions"));
    assert!(err(b"REDIS0010\xf7").msg.contains("module"));
    assert!(err(b"REDIS0010\x08")
        .msg
        .contains("unknown RDB object type 8"));
    // Checksum: wrong is an error at its offset; zero or unverified is not.
    let good = file(&[(
        0,
        b"k",
        Entry {
            value: string(b"v"),
            expire_at: 0,
            lru: 0,
        },
    )]);
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 1] ^= 1;
    let e = err(&bad);
    assert_eq!(e.offset, n - 8);
    assert!(e.msg.contains("CRC64"));
    assert!(load(&bad, &enc(), false, &mut |_| {}).is_ok());
    bad[n - 8..].fill(0);
    assert!(load_all(&bad, &enc()).is_ok());
    // A missing checksum is a truncation.
    assert_eq!(err(&good[..n - 3]).offset, n - 8);
}

#[test]
fn refused_and_corrupt_payloads() {
    let p = dump_payload(&string(b"value"));
    assert!(restore_payload(&p, &enc()).is_ok());
    for cut in 0..p.len() {
        assert!(restore_payload(&p[..cut], &enc()).is_err());
    }
    let mut newer = p[..p.len() - 10].to_vec();
    newer.extend_from_slice(&11u16.to_le_bytes());
    let crc = crc64(&newer);
    newer.extend_from_slice(&crc.to_le_bytes());
    assert!(verify_payload(&newer).unwrap_err().msg.contains("version"));
    // An older version is fine.
    let mut older = p[..p.len() - 10].to_vec();
    older.extend_from_slice(&9u16.to_le_bytes());
    let crc = crc64(&older);
    older.extend_from_slice(&crc.to_le_bytes());
    assert!(restore_payload(&older, &enc()).is_ok());
    let mut flipped = p.clone();
    flipped[2] ^= 0x20;
    assert!(verify_payload(&flipped).unwrap_err().msg.contains("CRC64"));
    // Verified but malformed bodies: decode errors.
    for body in [
        &b""[..],
        b"\x00",
        b"\x00\x05abc",
        b"\x0e\x01\x00",
        b"\x06\x00",
        b"\x0f\x00",
    ] {
        let e = restore(body).unwrap_err();
        assert!(verify_payload(&payload(body)).is_ok(), "{e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any truncation or mutation of a valid file loads or fails with an
    /// error, never a panic; and the same for a payload.
    #[test]
    fn mutated_input_never_panics(
        cut in 0usize..4096,
        edits in proptest::collection::vec((0usize..4096, any::<u8>()), 0..8),
        verify in any::<bool>(),
    ) {
        let samples = samples();
        let input: Vec<(usize, &[u8], Entry)> = samples
            .iter()
            .filter(|(n, _, _)| *n != "long list" && *n != "hash table" && *n != "big int set")
            .map(|(n, v, _)| (0, n.as_bytes(), Entry { value: v.clone(), expire_at: 7, lru: 0 }))
            .collect();
        let mut data = file(&input);
        for (at, v) in &edits {
            let n = data.len();
            data[at % n] = *v;
        }
        data.truncate(cut.max(1) * data.len() / 4096 + cut % 7);
        let _ = load(&data, &enc(), verify, &mut |_| {});
        let skip = data.len().min(20);
        let _ = restore_payload(&payload(&data[skip..]), &enc());
        let _ = decode_payload(&data[skip..], &enc());
    }
}

#[test]
fn sets_built_from_loads_match_set_build() {
    // A loaded intset is the set `set::build` makes of the same members.
    let members: Vec<Elem> = (0..5).map(Elem::Int).collect();
    let built = set::build(members, 512);
    let back = restore_payload(&dump_payload(&Value::Set(built.clone())), &enc()).unwrap();
    assert_eq!(back, Value::Set(built));
}
