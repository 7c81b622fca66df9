#!/bin/bash
# Instructions per command (user space, busiest thread) of tessera or
# redis-server under pipelined redis-benchmark load, measured with callgrind
# (repeatable on a noisy machine; the VM has no hardware counters).
#
#   benches/callgrind/ir_per_command.sh tessera|redis [tests]   (default: set get incr lpush)
#
# Needs valgrind, gcc, redis-server, redis-benchmark; tessera from
# `cargo build --release` (or BIN=...). Env: N (requests, 100000), P (-P, 16).
# Keys are created first (one SET run) so SET replaces and GET hits.
# Profiles stay in $OUT (default /tmp/tessera-callgrind) for
# callgrind_annotate or your own per-function sums.
set -u
WHO=$1; shift; TESTS=${*:-"set get incr lpush"}
N=${N:-100000}; P=${P:-16}; OUT=${OUT:-/tmp/tessera-callgrind}
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=$((20000 + RANDOM % 20000))
mkdir -p "$OUT"; rm -f "$OUT"/cg.*
if [ "$WHO" = tessera ]; then
  gcc -O2 -shared -fPIC -o "$OUT/nowait.so" "$HERE/nowait.c" || exit 1
  BIN=${BIN:-$HERE/../../target/release/tessera}
  LD_PRELOAD="$OUT/nowait.so" valgrind --tool=callgrind --fair-sched=yes --separate-threads=yes \
    --callgrind-out-file="$OUT/cg.%p" "$BIN" --shards 1 --port $PORT --save "" --appendonly no \
    > "$OUT/server.log" 2>&1 &
else
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$OUT/cg.%p" \
    redis-server --port $PORT --save "" --appendonly no > "$OUT/server.log" 2>&1 &
fi
VPID=$!
trap 'kill -9 $VPID 2>/dev/null' EXIT
for _ in $(seq 120); do
  timeout 2 redis-cli -p $PORT ping 2>/dev/null | grep -q PONG && break
  sleep 1
done
redis-benchmark -p $PORT -t set -n "$N" -P "$P" -c 50 -r 100000 -q > /dev/null 2>&1
for t in $TESTS; do
  callgrind_control -z $VPID > /dev/null
  redis-benchmark -p $PORT -t "$t" -n "$N" -P "$P" -c 50 -r 100000 -q > /dev/null 2>&1
  callgrind_control --dump="$t" $VPID > /dev/null
  sleep 1
  best=0
  for f in $(grep -l "Trigger: dump $t\$" "$OUT"/cg.$VPID*); do
    s=$(awk '/^summary/ {print $2}' "$f")
    if [ -n "$s" ] && [ "$s" -gt "$best" ]; then best=$s; cp "$f" "$OUT/$WHO.$t.out"; fi
  done
  echo "$WHO $t -P $P: $((best / N)) instructions per command"
done
