#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each on a copy of its committed
# seed corpus. Any crash, leak, sanitizer report or uncaught exception fails; the input that
# caused it is kept in WORK/crashes/ (fix the code, then add the input to corpus/).
# Default (CTest): a fixed seed and a fixed number of runs per target (~30 s each on a 2-core
# machine), so a result is reproducible and CI does not depend on luck. `explore` instead
# fuzzes with a random seed for SECONDS per target, to find new crashes.
# Usage: run_fuzzers.sh WORK [SECONDS] [explore]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$1"
seconds="${2:-30}"
mode="${3:-fixed}"
# Runs per target that take ~30 s on the reference machine (2 cores).
declare -A fixed_runs=([tokenizer_json]=200000 [tokenizer_encode]=170000 [data_readers]=17000
                       [config_yaml]=8000 [safetensors]=90000 [gguf]=35000)
command -v clang++ >/dev/null || { echo "run_fuzzers: clang++ missing; run packaging/install-deps.sh" >&2; exit 1; }
cmake -S "$here" -B "$work/build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$work.configure.log" 2>&1 ||
  { cat "$work.configure.log"; exit 1; }
cmake --build "$work/build" >"$work.build.log" 2>&1 || { tail -50 "$work.build.log"; exit 1; }
mkdir -p "$work/crashes"
status=0
targets=(tokenizer_json tokenizer_encode data_readers config_yaml safetensors gguf)
for target in "${targets[@]}"; do
  corpus="$work/corpus/$target"
  mkdir -p "$corpus"
  cp -n "$here/corpus/$target/"* "$corpus/" 2>/dev/null || true
  log="$work/$target.log"
  if [[ "$mode" == explore ]]; then
    limits=(-max_total_time="$seconds")
  else
    limits=(-seed=1 -runs="${fixed_runs[$target]}" -max_total_time=$((seconds * 4)))
  fi
  if "$work/build/fuzz_$target" "${limits[@]}" -rss_limit_mb=2048 -timeout=20 \
       -max_len=65536 -artifact_prefix="$work/crashes/$target-" -print_final_stats=1 \
       "$corpus" >"$log" 2>&1; then
    echo "fuzz_$target ($mode): $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs, corpus $(ls "$corpus" | wc -l) inputs, no crash"
  else
    echo "fuzz_$target FAILED; the input is in $work/crashes/:" >&2
    grep -E "ERROR|SUMMARY|terminate|what\(\)|#[0-9]+ 0x" "$log" | head -30 >&2
    status=1
  fi
done
exit $status
