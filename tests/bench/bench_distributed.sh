#!/bin/sh
# Data-parallel overhead on this machine: tokens/s of 2 ranks × 1 thread against 1 rank × 2
# threads, same global batch and data, full fine-tuning and LoRA, on a Llama-style model of
# ~1.4M parameters (hidden 128, 2 layers) and the demo tokenizer. Reports ratios; never fails
# on speed (it fails only when a run fails).
# Usage: bench_distributed.sh TUNEBENCH_CLI SOURCE_DIR [STEPS]
set -eu
cli=$1
source_dir=$2
steps=${3:-40}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TB_DB="$work/runs.db"
demo="$source_dir/resources/demo"

"$cli" init-model --arch llama --out "$work/model" \
  --tokenizer "$demo/models/tiny-llama/tokenizer.json" --hidden-size 128 --num-layers 2 \
  --num-heads 4 --seed 1 >/dev/null
cat >"$work/run.yaml" <<YAML
model_name_or_path: $work/model
stage: sft
dataset: $demo/data/mail-instructions/train.jsonl
cutoff_len: 64
pad_to_max_length: true
lora_target: all
lora_dropout: 0
eval_strategy: "no"
save_strategy: "no"
logging_steps: 1
max_steps: $steps
seed: 3
YAML

# Mean tokens/s of a --json run's steps after the first 5 (warm-up).
mean_rate() {
  python3 -c '
import json, sys
rates = [e["tokens_per_second"] for e in map(json.loads, sys.stdin) if e.get("event") == "step"]
rates = rates[5:] or rates
print(f"{sum(rates) / len(rates):.0f}")'
}

printf '%-6s %22s %22s %8s\n' method "1 rank x 2 threads" "2 ranks x 1 thread" ratio
for method in full lora; do
  one=$(TB_THREADS=2 "$cli" train "$work/run.yaml" --json --set finetuning_type=$method \
    --set per_device_train_batch_size=16 --set output_dir="$work/one-$method" | mean_rate)
  two=$("$cli" launch --nproc 2 --threads 1 "$work/run.yaml" --json \
    --set finetuning_type=$method --set per_device_train_batch_size=8 \
    --set output_dir="$work/two-$method" 2>/dev/null | mean_rate)
  ratio=$(python3 -c "print(f'{$two / $one:.2f}')")
  printf '%-6s %16s tok/s %16s tok/s %7sx\n' "$method" "$one" "$two" "$ratio"
done
echo "machine: $(nproc) cores; $steps steps of 16 sequences x 64 tokens (global batch)"
