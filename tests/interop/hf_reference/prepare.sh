#!/bin/bash
# Builds what tests/interop/hf_reference/make_reference.py feeds to transformers + PEFT on a
# machine that has them (they are not Debian packages): adapters trained and exported by
# tunebench, small models of the architectures the demo has no model for, a merged export, and
# `bench --dump` folders (batches, initial trainable tensors, losses) for the training check.
#
#   prepare.sh CLI SOURCE_DIR WORK [--commit | --dumps-only]
#
# WORK receives everything; with --commit the adapters and small models are also copied into
# tests/interop/hf_reference/{adapters,models} (they are committed: the reference logits in
# transformers_reference.json belong to exactly these files). --dumps-only writes only the
# training dumps, from the committed models (what check_reference.py repeats).
set -euo pipefail
cli=$(realpath "$1")
source_dir=$(realpath "$2")
mkdir -p "$3"
work=$(realpath "$3")
rm -rf "$work/out" "$work/models" "$work/dump-llama" "$work/dump-qwen2"
commit=${4:-}
here="$source_dir/tests/interop/hf_reference"
demo="$source_dir/resources/demo"
export TB_DB="$work/runs.db"

models="$work/models"
[[ "$commit" == --dumps-only ]] && models="$here/models"

if [[ "$commit" != --dumps-only ]]; then
# Training configs: few steps with a large learning rate, so every adapter tensor (LoRA's B
# starts at zero) is far from its initial value.
cat >"$work/llama-lora.yaml" <<YAML
model_name_or_path: $demo/models/tiny-llama
stage: pt
task: lm
finetuning_type: lora
lora_rank: 4
lora_alpha: 8
lora_target: all
dataset: $demo/data/spam/train.jsonl
cutoff_len: 48
per_device_train_batch_size: 4
learning_rate: 2.0e-2
max_steps: 6
seed: 7
save_strategy: "no"
output_dir: $work/out/llama-lora
YAML
cat >"$work/llama-prefix.yaml" <<YAML
model_name_or_path: $demo/models/tiny-llama
stage: pt
task: lm
finetuning_type: ptuning
pre_seq_len: 5
prefix_projection: false
dataset: $demo/data/spam/train.jsonl
cutoff_len: 48
per_device_train_batch_size: 4
learning_rate: 5.0e-1
max_steps: 6
seed: 7
save_strategy: "no"
output_dir: $work/out/llama-prefix
YAML
cat >"$work/bert-seqcls-lora.yaml" <<YAML
model_name_or_path: $demo/models/tiny-bert
stage: sft
task: classification
num_labels: 2
finetuning_type: lora
lora_rank: 4
lora_alpha: 16
lora_target: query,value
additional_target: classifier,pooler
dataset: $demo/data/spam/train.jsonl
cutoff_len: 64
per_device_train_batch_size: 8
learning_rate: 2.0e-2
max_steps: 6
seed: 7
save_strategy: "no"
output_dir: $work/out/bert-seqcls-lora
YAML

for name in llama-lora llama-prefix bert-seqcls-lora; do
  "$cli" train "$work/$name.yaml" >"$work/$name.log" 2>&1 || { cat "$work/$name.log"; exit 1; }
  "$cli" export "$work/out/$name" --format peft --out "$work/adapters/$name" --force \
    >>"$work/$name.log" 2>&1 || { cat "$work/$name.log"; exit 1; }
done
"$cli" export "$demo/models/tiny-llama" --adapter "$work/adapters/llama-lora" --format merged \
  --out "$work/merged-llama-lora" --force >/dev/null

# Architectures without a demo model: biases on q/k/v (qwen2), q/k norms (qwen3), GQA (mistral).
# A 512-token byte-level BPE learnt from the demo mail keeps them small (~0.6 MB each).
"$cli" train-tokenizer --kind bpe --vocab-size 512 --input "$demo/data/spam/train.jsonl" \
  --out "$work/tok512" --force >/dev/null
for arch in qwen2 qwen3 mistral; do
  "$cli" init-model --arch "$arch" --out "$work/models/tiny-$arch" --tokenizer "$work/tok512/tokenizer.json" \
    --hidden-size 64 --num-layers 2 --num-heads 4 --num-kv-heads 2 --intermediate-size 160 \
    --seed 11 >/dev/null
done
# init-model's biases are zero, its norms one and its weights small (attention nearly uniform):
# a model that ignored biases or norms would still pass. Random biases and norm scales and 4×
# larger weights make every part count.
/usr/bin/python3 - "$work"/models/tiny-*/model.safetensors <<'PY'
import json, struct, sys, torch
generator = torch.Generator().manual_seed(5)
for path in sys.argv[1:]:
    blob = open(path, "rb").read()
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + length])
    data = bytearray(blob[8 + length:])
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", name
        begin, end = entry["data_offsets"]
        t = torch.frombuffer(data[begin:end], dtype=torch.float32).clone()
        noise = torch.randn(t.shape, generator=generator)
        t = 0.2 * noise if name.endswith("bias") else 1 + 0.3 * noise if "norm" in name else 4 * t
        data[begin:end] = t.numpy().tobytes()
    open(path, "wb").write(blob[:8 + length] + bytes(data))
PY
fi

# Training dumps: the demo Llama (full, LoRA, Freeze) and the qwen2 model (full, LoRA).
sed -e "s|../../resources/demo|$demo|" "$source_dir/tests/bench/llama-1.4m.yaml" >"$work/dump.yaml"
"$cli" bench "$work/dump.yaml" --set "model_name_or_path=$demo/models/tiny-llama" \
  --set cutoff_len=48 --set per_device_train_batch_size=4 --methods full,lora,freeze --steps 20 \
  --dump "$work/dump-llama" >"$work/dump-llama.log" 2>&1 || { cat "$work/dump-llama.log"; exit 1; }
"$cli" bench "$work/dump.yaml" --set "model_name_or_path=$models/tiny-qwen2" \
  --set cutoff_len=48 --set per_device_train_batch_size=4 --methods full,lora --steps 20 \
  --dump "$work/dump-qwen2" >"$work/dump-qwen2.log" 2>&1 || { cat "$work/dump-qwen2.log"; exit 1; }
for run in "$work"/dump-llama/{full,lora,freeze} "$work"/dump-qwen2/{full,lora}; do
  [[ -f "$run/run.json" ]] || { cat "$work"/dump-*.log; echo "prepare.sh: no dump in $run" >&2; exit 1; }
done

if [[ "$commit" == --commit ]]; then
  rm -rf "$here/adapters" "$here/models"
  mkdir -p "$here/adapters" "$here/models"
  cp -r "$work/adapters/." "$here/adapters/"
  cp -r "$work/models/." "$here/models/"
fi
echo "prepare.sh: inputs in $work"
