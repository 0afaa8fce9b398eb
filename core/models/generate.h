#pragma once
// Text generation for decoders with a key/value cache: greedy or sampled (temperature, top-k,
// top-p), repetition penalty, stop tokens and a per-token callback for streaming.

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/models/model.h"

namespace tb {

/// Called once per new token with the model's raw next-token logits [vocab] (fp32, before any
/// penalty or temperature); return false to stop after this token.
using TokenCallback = std::function<bool(int64_t token, const torch::Tensor& logits)>;

/// How to generate.
struct GenerateOptions {
  int64_t max_new_tokens = 64;          // upper bound on new tokens
  double temperature = 0.0;             // 0 = greedy (argmax); > 0 = sample from softmax(l/T)
  int64_t top_k = 0;                    // sample among the k most likely tokens; 0 = all
  double top_p = 1.0;                   // sample within the smallest set of mass ≥ top_p; 1 = all
  double repetition_penalty = 1.0;      // > 1 penalises tokens already present (CTRL rule)
  std::vector<int64_t> stop_token_ids;  // stop after emitting one of these (it is kept)
  uint64_t seed = 0;                    // seed of the sampling generator
  TokenCallback on_token;               // streaming hook; empty = none
};

/// What generate() produced.
struct GenerateResult {
  std::vector<int64_t> tokens;  // new tokens only (the prompt is not repeated)
  std::string stop_reason;      // "stop_token", "max_new_tokens" or "callback"
};

/// Applies repetition penalty, temperature, top-k and top-p to logits [vocab] and picks the
/// next token (argmax when temperature is 0). `seen` are the ids so far.
int64_t choose_next_token(const torch::Tensor& logits, const std::vector<int64_t>& seen,
                          const GenerateOptions& options, torch::Generator& generator);

/// Continues `prompt` (token ids, non-empty) with a decoder model; tb::Error for encoders.
GenerateResult generate(LanguageModel& model, const std::vector<int64_t>& prompt,
                        const GenerateOptions& options);

}  // namespace tb
