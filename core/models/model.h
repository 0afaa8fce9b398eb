#pragma once
// What every model family implements: one forward over a batch (optionally continuing from a
// key/value cache), returning logits and, when labels are given, the loss.

#include <torch/torch.h>

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "core/nn/attention.h"

namespace tb {

/// What the model's head computes (from the "architectures" suffix in config.json).
enum class ModelTask {
  kBase,                    // bare backbone (LlamaModel, BertModel): logits = hidden states
  kCausalLm,                // next-token logits [B,T,vocab]
  kSequenceClassification,  // one row of class logits per sequence [B,num_labels]
  kMaskedLm,                // token logits [B,T,vocab] from the MLM head
};

/// Name of a task as used in messages and `inspect` ("causal_lm", …).
std::string task_name(ModelTask task);

/// One batch of model input. Only input_ids is required.
struct ModelBatch {
  torch::Tensor input_ids;  // [B,T] int64 token ids
  torch::Tensor
      attention_mask;  // [B,past+T] 1 = token, 0 = padding (left or right); undefined = all 1
  torch::Tensor position_ids;    // [B,T] int64; undefined = derived from attention_mask
  torch::Tensor token_type_ids;  // [B,T] int64 segment ids (BERT); undefined = zeros
  torch::Tensor labels;          // causal LM / MLM: [B,T] with -100 ignored; classification: [B]
  torch::Tensor mask_positions;  // [B] int64 index of the mask token (verbalizer); or undefined
};

/// Result of a forward pass.
struct ModelOutput {
  torch::Tensor logits;  // see ModelTask; fp32 or the compute dtype
  torch::Tensor loss;    // scalar when labels were given, else undefined
  torch::Tensor hidden;  // last hidden states [B,T,hidden]
};

/// Base of every model family. Parameter names equal transformers' state-dict names.
class LanguageModel : public torch::nn::Module {
 public:
  /// Runs the model. `cache` supplies earlier keys/values (decoders; for encoders a fixed
  /// prefix) and receives this step's; the attention mask then covers past + new positions.
  virtual ModelOutput forward(const ModelBatch& batch, KvCache* cache = nullptr) = 0;
  /// config.json "model_type" ("llama", "qwen2", "bert", …).
  virtual std::string model_type() const = 0;
  /// transformers class name ("LlamaForCausalLM", "BertForSequenceClassification", …).
  virtual std::string architecture() const = 0;
  /// What the head computes.
  virtual ModelTask task() const = 0;
  /// Whether this is a causal decoder (can generate, supports KvCache).
  virtual bool is_decoder() const = 0;
  /// Prefix of the backbone's tensors in task models ("model" for Llama, "bert" for BERT).
  virtual std::string base_prefix() const = 0;
  /// Tensor-name prefixes of the task head: missing ones are initialised, not an error.
  virtual std::vector<std::string> head_prefixes() const = 0;
  /// Checkpoint tensors this model deliberately does not load (tied copies, old buffers).
  virtual bool ignores_tensor(const std::string& name) const = 0;
  /// The complete config.json for this model (used when saving).
  virtual nlohmann::json config_json() const = 0;
  /// Standard deviation of the normal initialisation (config.json initializer_range).
  virtual double initializer_range() const = 0;
  /// Vocabulary size (rows of the token embedding).
  virtual int64_t vocab_size() const = 0;
};

}  // namespace tb
