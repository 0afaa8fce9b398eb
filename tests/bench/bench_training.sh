#!/bin/bash
# Training throughput against the machine's fp32 matmul peak and against PyTorch eager.
#
#   bench_training.sh CLI SOURCE_DIR          the standard models (label bench, ~30 min):
#       Llama-style ~33M (hidden 512, 8 layers, seq 256, batch 8) and ~1.4M (hidden 128,
#       2 layers, seq 64, batch 16), every method; a BERT-style encoder (MLM), every method.
#       tunebench first, every method (tunebench-cli bench --dump); then, per method compared,
#       tunebench again and right after it the same steps in PyTorch eager (eager_reference.py)
#       as Debian's python3-torch runs by default, TB_BENCH_PAIRS times (default 3, the median
#       ratio reported), and once more with the OpenBLAS kernels tunebench selects
#       (OPENBLAS_CORETYPE, see core/util/blas_core.h). Last for the 33M model, LoRA's
#       tokens/s over full's (ours), the median of TB_BENCH_PAIRS runs with the order alternated.
#   bench_training.sh CLI SOURCE_DIR check    the loss check of the default test run: the demo
#       Llama, 20 steps of full, LoRA and Freeze; every loss within 1e-4 of PyTorch eager's.
#
# The benchmark runs on the OpenBLAS kernels chosen for this CPU. An OPENBLAS_CORETYPE inherited
# from the environment (a CI image may pin Haswell everywhere) caps ours, eager and the peak
# alike at those kernels — on the README's AVX-512 VM 191 instead of 320–396 GFLOP/s — so it is
# dropped and said so; TB_BENCH_KEEP_CORETYPE=1 keeps it.
#
# Rows are mail texts from the demo corpus joined until each is longer than the sequence, so
# every row is full (MFU counts the tokens trained on). Reports ratios measured in this run;
# fails only when a run fails or the losses differ.
set -euo pipefail
cli=$(realpath "$1")
source_dir=$(realpath "$2")
mode=${3:-bench}
here="$source_dir/tests/bench"
demo="$source_dir/resources/demo"
python=/usr/bin/python3
"$python" -c "import torch" 2>/dev/null ||
  { echo "bench_training: Debian's python3-torch is missing; run packaging/install-deps.sh" >&2; exit 1; }
if [[ "$mode" != check && -n "${OPENBLAS_CORETYPE:-}" && "${TB_BENCH_KEEP_CORETYPE:-0}" != 1 ]]; then
  echo "bench_training: OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE from the environment dropped" \
    "(TB_BENCH_KEEP_CORETYPE=1 keeps it)"
  unset OPENBLAS_CORETYPE
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TB_DB="$work/runs.db"

# Long rows of real text: consecutive mails joined until a row has ≥ 6000 characters.
"$python" - "$demo/data/spam/train.jsonl" "$work/corpus.jsonl" <<'PY'
import json, sys
rows, current = [], ""
for line in open(sys.argv[1], encoding="utf-8"):
    current += json.loads(line)["text"] + "\n\n"
    if len(current) >= 6000:
        rows.append(current)
        current = ""
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for row in rows:
        out.write(json.dumps({"text": row}) + "\n")
PY

# print_median WHAT KIND RATIO…: "WHAT, median of N KIND 1.23x (each: 1.20x, 1.23x, …)".
print_median() {
  "$python" - "$@" <<'PY'
import statistics, sys
what, kind, ratios = sys.argv[1], sys.argv[2], sorted(float(r) for r in sys.argv[3:])
print(f"{what}, median of {len(ratios)} {kind} {statistics.median(ratios):.2f}x "
      f"(each: {', '.join(f'{r:.2f}x' for r in ratios)})")
PY
}

# bench NAME CONFIG METHODS STEPS EAGER_METHODS [--set key=value …]
# Every method first (the table), then per eager method TB_BENCH_PAIRS (default 3) pairs of a
# fresh run of ours right before eager's, and the median of their ratios: a shared machine
# drifts by 10–20 % over minutes (one pair measured eager at 810 tok/s, the next at 697), so
# each ratio compares two runs made within the same minute or so, and one slow minute moves
# the median less than it moves a single pair.
bench() {
  local name=$1 config=$2 methods=$3 steps=$4 eager=$5
  shift 5
  echo "== $name"
  "$cli" bench "$config" --set "dataset=$work/corpus.jsonl" "$@" --methods "$methods" \
    --steps "$steps" --dump "$work/$name"
  [[ -z "$eager" ]] && return 0
  if [[ "$mode" == check ]]; then
    "$python" "$here/eager_reference.py" "$work/$name" --methods "$eager" \
      --label "$name, PyTorch eager as installed"
    return 0
  fi
  local core method
  core=$("$cli" doctor --json 2>/dev/null | "$python" -c \
    'import json,re,sys; m=re.search(r"core=(\w+)",json.load(sys.stdin)["blas_backend"]); print(m.group(1) if m else "")' ||
    true)
  local pair speedups
  for method in ${eager//,/ }; do
    speedups=""
    for ((pair = 1; pair <= ${TB_BENCH_PAIRS:-3}; ++pair)); do
      "$cli" bench "$config" --set "dataset=$work/corpus.jsonl" "$@" --methods "$method" \
        --steps "$steps" --dump "$work/$name-paired" >/dev/null
      "$python" "$here/eager_reference.py" "$work/$name-paired" --methods "$method" \
        --label "$name, PyTorch eager as installed, pair $pair" | tee "$work/pair.txt"
      speedups+=" $(grep '^{"event"' "$work/pair.txt" | "$python" -c \
        'import json,sys; print(json.loads(sys.stdin.readline())["speedup"])')"
    done
    print_median "$name $method: ours / eager as installed" pairs $speedups
    if [[ -n "$core" ]]; then
      OPENBLAS_CORETYPE=$core "$python" "$here/eager_reference.py" "$work/$name-paired" \
        --methods "$method" --label "$name, PyTorch eager on tunebench's BLAS kernels ($core)"
    fi
  done
}

# method_ratio NAME CONFIG A B STEPS [--set key=value …]: B's tokens/s over A's (ours both),
# TB_BENCH_PAIRS (default 3) runs of both methods in one process, the order alternated (A,B;
# B,A; …) so neither always runs on the warmer or cooler minute; the median ratio.
method_ratio() {
  local name=$1 config=$2 a=$3 b=$4 steps=$5
  shift 5
  local round order ratios=""
  for ((round = 1; round <= ${TB_BENCH_PAIRS:-3}; ++round)); do
    order="$a,$b"
    ((round % 2 == 0)) && order="$b,$a"
    ratios+=" $("$cli" bench "$config" --set "dataset=$work/corpus.jsonl" "$@" --methods "$order" \
      --steps "$steps" --json | "$python" -c '
import json, sys
rate = {}
for line in sys.stdin:
    event = json.loads(line)
    if event.get("event") == "method":
        rate[event["method"]] = event["tokens_per_second"]
print(rate[sys.argv[2]] / rate[sys.argv[1]])' "$a" "$b")"
  done
  print_median "$name: $b / $a tokens/s (ours)" "alternating runs" $ratios
}

if [[ "$mode" == check ]]; then
  bench demo-llama "$here/llama-1.4m.yaml" full,lora,freeze 20 full,lora,freeze \
    --set "model_name_or_path=$demo/models/tiny-llama"
  exit 0
fi

"$cli" init-model --arch llama --out "$work/llama-33m" --tokenizer "$demo/models/tiny-llama/tokenizer.json" \
  --hidden-size 512 --num-layers 8 --num-heads 8 --intermediate-size 1664 --seed 1
"$cli" init-model --arch llama --out "$work/llama-1.4m" --tokenizer "$demo/models/tiny-llama/tokenizer.json" \
  --hidden-size 128 --num-layers 2 --num-heads 4 --intermediate-size 344 --seed 1
"$cli" init-model --arch bert --out "$work/bert-small" --tokenizer "$demo/models/tiny-bert/tokenizer.json" \
  --hidden-size 256 --num-layers 4 --num-heads 4 --seed 1
bench llama-1.4m "$here/llama-1.4m.yaml" all 20 full,lora,freeze --set "model_name_or_path=$work/llama-1.4m"
bench llama-33m "$here/llama-33m.yaml" all 20 full,lora --set "model_name_or_path=$work/llama-33m"
method_ratio llama-33m "$here/llama-33m.yaml" full lora 20 --set "model_name_or_path=$work/llama-33m"
bench bert-small "$here/bert-small.yaml" all 20 "" --set "model_name_or_path=$work/bert-small"
