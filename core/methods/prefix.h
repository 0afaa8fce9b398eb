#pragma once
// P-tuning v2 (deep prompt tuning, Liu et al. 2022) in PEFT's PREFIX_TUNING form: trainable
// key/value vectors for pre_seq_len virtual tokens in every layer are put in front of the
// layer's own keys/values (through the model's KvCache), the attention mask is extended with
// ones, and the backbone stays frozen (a classification head trains, as PEFT does for
// SEQ_CLS). With prefix_projection the prefix is an embedding passed through a two-layer tanh
// MLP (prefix_hidden_size). Works for the Llama family (kv heads, GQA) and BERT.

#include <memory>

#include "core/methods/method.h"

namespace tb {

/// Wraps `model` with a trainable prefix; tb::Error for pre_seq_len < 1 or a model whose
/// config.json lacks the layer/head sizes.
std::unique_ptr<AppliedMethod> apply_prefix(std::shared_ptr<LanguageModel> model,
                                            const RunConfig& config);

}  // namespace tb
