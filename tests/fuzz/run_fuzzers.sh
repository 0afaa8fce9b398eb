#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for SECONDS on a copy of its
# committed seed corpus. Any crash, leak, sanitizer report or uncaught exception fails; the
# input that caused it is kept in WORK/crashes/ (add it to corpus/ and fix the code).
# Usage: run_fuzzers.sh WORK [SECONDS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$1"
seconds="${2:-30}"
command -v clang++ >/dev/null || { echo "run_fuzzers: clang++ missing; run packaging/install-deps.sh" >&2; exit 1; }
cmake -S "$here" -B "$work/build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$work.configure.log" 2>&1 ||
  { cat "$work.configure.log"; exit 1; }
cmake --build "$work/build" >"$work.build.log" 2>&1 || { tail -50 "$work.build.log"; exit 1; }
mkdir -p "$work/crashes"
status=0
for target in tokenizer_json tokenizer_encode data_readers config_yaml; do
  corpus="$work/corpus/$target"
  mkdir -p "$corpus"
  cp -n "$here/corpus/$target/"* "$corpus/" 2>/dev/null || true
  log="$work/$target.log"
  if "$work/build/fuzz_$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 \
       -max_len=65536 -artifact_prefix="$work/crashes/$target-" -print_final_stats=1 \
       "$corpus" >"$log" 2>&1; then
    echo "fuzz_$target: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs in ${seconds} s, corpus $(ls "$corpus" | wc -l) inputs, no crash"
  else
    echo "fuzz_$target FAILED; the input is in $work/crashes/:" >&2
    grep -E "ERROR|SUMMARY|terminate|what\(\)|#[0-9]+ 0x" "$log" | head -30 >&2
    status=1
  fi
done
exit $status
