#!/usr/bin/env bash
# bench_core.sh — the WebSocket core without I/O (bench/bench_core.c):
# frame parse+unmask MB/s for 32 B, 1 KiB and 64 KiB masked frames (binary,
# and text with UTF-8 validation) and Sec-WebSocket-Accept computations per
# second, each next to memcpy of the same bytes in the same run.
# BENCH_CORE_ROUND: seconds of CPU per timed round (default 0.2).
set -eu
bin=${PW_BENCH_BIN:-build/rel/bench}/bench_core
[ -x "$bin" ] || { echo "bench_core: $bin is missing: run 'make bench'" >&2; exit 1; }
timeout 120 "$bin" "${BENCH_CORE_ROUND:-0.2}"
