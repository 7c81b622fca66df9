//! Micro-benchmarks of the RESP codec hot paths: decoding a pipeline of
//! `SET key value` commands (what every write pays) and encoding the common
//! replies (+OK, bulk, integer, array). Pure CPU, no sockets.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tessera::protocol::{encode, Limits, Reply, RequestDecoder, RespVersion};

fn set_pipeline(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let key = format!("key:{i:012}");
        out.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n$3\r\nxxx\r\n",
                key.len()
            )
            .as_bytes(),
        );
    }
    out
}

fn decode(c: &mut Criterion) {
    let wire = set_pipeline(16);
    let limits = Limits::default();
    let mut g = c.benchmark_group("resp_decode");
    g.throughput(Throughput::Elements(16));
    g.bench_function("set_pipeline_16", |b| {
        b.iter(|| {
            let mut buf = BytesMut::from(&wire[..]);
            let mut dec = RequestDecoder::new();
            let mut n = 0;
            while let Ok(Some(argv)) = dec.decode(&mut buf, &limits) {
                n += argv.len();
            }
            black_box(n)
        })
    });
    g.finish();
}

fn encode_replies(c: &mut Criterion) {
    let bulk = Reply::Bulk(Bytes::from_static(b"xxxxxxxxxxxxxxxxxxxx"));
    let array = Reply::Array((0..10).map(|i| Reply::Integer(i * 1000)).collect());
    let mut g = c.benchmark_group("resp_encode");
    for (name, reply) in [
        ("ok", Reply::ok()),
        ("bulk", bulk),
        ("int", Reply::Integer(123456)),
        ("array10", array),
    ] {
        g.bench_function(name, |b| {
            let mut out = BytesMut::with_capacity(4096);
            b.iter(|| {
                out.clear();
                encode(black_box(&reply), RespVersion::Resp2, &mut out);
                black_box(out.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, decode, encode_replies);
criterion_main!(benches);
