#pragma once
// The Llama family of decoders: llama (incl. DeepSeek-LLM, which is plain Llama), mistral,
// qwen2 (q/k/v bias) and qwen3 (per-head q_norm/k_norm). One configurable implementation;
// tensor names equal transformers' (model.layers.N.self_attn.q_proj.weight, lm_head.weight…).

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/models/model.h"
#include "core/nn/rotary.h"

namespace tb {

/// config.json of a Llama-family model, typed. Defaults are transformers' LlamaConfig ones;
/// the per-family differences are applied by llama_config_from_json.
struct LlamaConfig {
  std::string model_type = "llama";        // llama | mistral | qwen2 | qwen3
  int64_t vocab_size = 32000;              // rows of embed_tokens
  int64_t hidden_size = 4096;              // model width
  int64_t intermediate_size = 11008;       // MLP inner width
  int64_t num_hidden_layers = 32;          // decoder layers
  int64_t num_attention_heads = 32;        // query heads
  int64_t num_key_value_heads = 32;        // key/value heads (< heads: GQA, 1: MQA)
  int64_t head_dim = 128;                  // per-head width (explicit in config or hidden/heads)
  std::string hidden_act = "silu";         // MLP gate activation
  int64_t max_position_embeddings = 2048;  // trained context length
  double rms_norm_eps = 1e-6;              // RMSNorm epsilon
  double rope_theta = 10000.0;             // RoPE base
  RopeScaling rope_scaling;                // RoPE scaling (default = none)
  bool tie_word_embeddings = false;        // lm_head shares embed_tokens.weight
  bool attention_bias = false;             // bias on q/k/v/o projections (llama)
  bool qkv_bias = false;                   // bias on q/k/v only (qwen2)
  bool mlp_bias = false;                   // bias on the MLP projections
  bool qk_norm = false;                    // RMSNorm per head on q and k (qwen3)
  int64_t sliding_window = 0;              // attention window, 0 = full attention
  int64_t max_window_layers = 0;           // layers from this index on use the window
  double attention_dropout = 0.0;          // dropout on attention weights when training
  double initializer_range = 0.02;         // std of the normal initialisation
  int64_t num_labels = 2;                  // classes of ...ForSequenceClassification
  int64_t pad_token_id = -1;               // -1 = none
  nlohmann::json raw = nlohmann::json::object();  // the file as read (unknown keys kept)
};

/// Parses config.json for llama/mistral/qwen2/qwen3; `where` names the file in errors.
LlamaConfig llama_config_from_json(const nlohmann::json& config, const std::string& where);

/// Serialises back to config.json (raw keys kept, typed fields overwrite them).
nlohmann::json llama_config_to_json(const LlamaConfig& config, const std::string& architecture);

/// Builds a randomly initialised Llama-family model for `task` (kBase, kCausalLm or
/// kSequenceClassification); throws tb::Error for other tasks or inconsistent shapes.
std::shared_ptr<LanguageModel> build_llama(const nlohmann::json& config, ModelTask task,
                                           const std::string& where);

}  // namespace tb
