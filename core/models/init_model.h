#pragma once
// Writes a randomly initialised Hugging Face model folder of a given shape: the tiny models
// tests and demos use (`tunebench-cli init-model`).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/models/model.h"

namespace tb {

/// Shape and output of init_model(). Unset fields come from `config`, else the defaults noted.
struct InitModelOptions {
  std::string arch;                     // model_type: llama|mistral|qwen2|qwen3|bert; "" = config's
  std::filesystem::path out;            // folder to write (created); required
  std::filesystem::path tokenizer;      // tokenizer.json copied in and sizing the vocabulary
  std::filesystem::path config;         // config.json to start from; empty = none
  std::optional<int64_t> vocab_size;    // default: tokenizer's size, else config's; required
  std::optional<int64_t> hidden_size;   // default 64
  std::optional<int64_t> num_layers;    // num_hidden_layers, default 2
  std::optional<int64_t> num_heads;     // num_attention_heads, default 4
  std::optional<int64_t> num_kv_heads;  // num_key_value_heads, default = num_heads
  std::optional<int64_t> intermediate_size;        // default 4 × hidden (BERT) or 3 × hidden
  std::optional<int64_t> max_position_embeddings;  // default 512 (BERT) or 2048
  std::optional<double> rope_theta;                // default 10000
  std::optional<bool> tie_word_embeddings;         // default false (decoders)
  std::optional<int64_t> num_labels;  // set: ...ForSequenceClassification with this many classes
  uint64_t seed = 0;                  // seed of the normal(0, 0.02) initialisation
};

/// Builds, initialises and saves the model (config.json, model.safetensors, and the tokenizer
/// files when given); returns it. tb::Error on bad shapes or an unwritable folder.
std::shared_ptr<LanguageModel> init_model(const InitModelOptions& options);

}  // namespace tb
