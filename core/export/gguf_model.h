#pragma once
// A Llama-family causal LM (llama, mistral, qwen2, qwen3) as a llama.cpp GGUF file: tensors
// renamed to llama.cpp's names (blk.N.attn_q.weight, …), Q/K rows permuted for the "llama"
// architecture (llama.cpp rotates interleaved pairs, transformers rotates halves), the
// hyper-parameters as <arch>.* metadata, and the tokenizer (see gguf_vocab.h). Norms and biases
// stay f32; matrices take the chosen type (q8_0 falls back to f16 for rows not a multiple of 32,
// as llama.cpp's converter does).

#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "core/io/gguf.h"

namespace tb {

/// Transformers-named tensors of a model, e.g. from model_state() or a merged adapter.
using TensorList = std::vector<std::pair<std::string, torch::Tensor>>;

/// How to write the model.
struct GgufModelOptions {
  GgmlType matrix_type = GgmlType::kF32;  // type of 2-D weights: F32, F16, BF16 or Q8_0
  std::string name;                       // general.name ("" = the config's _name_or_path)
};

/// The ggml type for "f32", "f16", "bf16", "q8_0"; tb::Error listing them otherwise.
GgmlType parse_gguf_dtype(const std::string& text);

/// llama.cpp's architecture name for a config.json ("llama" for llama and mistral, "qwen2",
/// "qwen3"); tb::Error naming the model type and the supported ones.
std::string gguf_architecture(const nlohmann::json& config);

/// llama.cpp's name of a transformers tensor ("model.layers.3.mlp.up_proj.weight" →
/// "blk.3.ffn_up.weight"); nullopt for a name llama.cpp has no tensor for.
std::optional<std::string> gguf_tensor_name(const std::string& name);

/// Rows of a q_proj/k_proj weight (or bias) reordered from transformers' half-rotation
/// layout to llama.cpp's interleaved pairs, for `heads` heads.
torch::Tensor permute_for_llama_rope(const torch::Tensor& weight, int64_t heads);

/// Builds the GGUF of a causal LM: `config` is its config.json, `state` its tensors,
/// `tokenizer_folder` holds tokenizer.json (+ tokenizer_config.json). tb::Error for a
/// classifier/encoder, an unknown tensor, or a tokenizer llama.cpp cannot run.
GgufWriter gguf_for_model(const nlohmann::json& config, const TensorList& state,
                          const std::filesystem::path& tokenizer_folder,
                          const GgufModelOptions& options);

}  // namespace tb
