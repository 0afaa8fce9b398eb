#!/bin/sh
# Screenshots of every page with real runs, under Xvfb, for the README (docs/screenshots/).
# Trains three short runs of the bundled demo (LoRA, full, Freeze on the tiny Llama with the
# mail instructions) with the CLI into a scratch history, then opens the GUI on each page.
# Usage: tests/ui/take_screenshots.sh BUILD_DIR [OUT_DIR]   (default OUT_DIR: docs/screenshots)
set -eu
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${2:-$root/docs/screenshots}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TB_DB="$work/runs.db" XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data" \
  XDG_RUNTIME_DIR="$work"
cli="$build/app/tunebench-cli"
gui="$build/app/tunebench"
demo="$root/resources/demo"
command -v xvfb-run >/dev/null || { echo "take_screenshots: xvfb-run missing (apt install xvfb)" >&2; exit 1; }

cat >"$work/run.yaml" <<YAML
model_name_or_path: $demo/models/tiny-llama
stage: sft
lora_target: all
dataset: $demo/data/mail-instructions/train.jsonl
max_samples: 240
val_size: 24
cutoff_len: 96
per_device_train_batch_size: 4
num_train_epochs: 2
eval_strategy: steps
eval_steps: 20
learning_rate: 1.0e-3
warmup_ratio: 0.1
seed: 42
YAML
for method in lora full freeze; do
  "$cli" train "$work/run.yaml" --set finetuning_type=$method --set run_name="demo $method" \
    --set output_dir="$work/out-$method" >/dev/null
done

shot() {  # shot NAME GUI-ARGS…
  name=$1
  shift
  xvfb-run -a -s "-screen 0 1400x900x24" "$gui" "$@" --screenshot "$out/$name.png" 2>/dev/null
  echo "$out/$name.png"
}
# New run while a fourth run trains: the live monitor.
shot new-run --config "$work/run.yaml" --start --screenshot-after 9000
shot runs --page runs
shot compare --compare 1,2,3 --metric train/loss --smoothing 0.6
shot export --page export
# The full fine-tune against its base model, on an instruction from the held-out mails.
shot playground --prompt "On which day of the week was this email sent?
Date: Tue, 08 Oct 2002 12:10:07 +0100
Subject: [zzzzteana] Uncle Mark seeks parole" --screenshot-after 6000
