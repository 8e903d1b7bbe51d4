#!/usr/bin/env bash
# bench_text.sh — the text-protocol core without I/O (bench/bench_text.c):
# JSON parse and string write, HTTP/1.1 request head parse and SSE parse, in
# MB/s of input, each next to memcpy of the same bytes in the same run.
# BENCH_TEXT_ROUND: seconds of CPU per timed round (default 0.2).
set -eu
bin=${PW_BENCH_BIN:-build/rel/bench}/bench_text
[ -x "$bin" ] || { echo "bench_text: $bin is missing: run 'make bench'" >&2; exit 1; }
timeout 120 "$bin" "${BENCH_TEXT_ROUND:-0.2}"
