#pragma once
// Masked-language-model targets (BERT pretraining, transformers'
// DataCollatorForLanguageModeling): a share of the real tokens become targets; most of them
// are replaced by [MASK], some by a random token, the rest stay. Masks are drawn per batch
// from a seed, so the same (seed, epoch, batch) masks the same tokens (exact resume) while
// every epoch sees new masks.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace tb::data {

/// How tokens are chosen and replaced.
struct MlmMaskingOptions {
  double probability = 0.15;        // share of real (non-special, non-pad) tokens made targets
  double mask_share = 0.8;          // targets replaced by the mask token
  double random_share = 0.1;        // targets replaced by a random token (the rest unchanged)
  int32_t mask_id = -1;             // the [MASK] token; required
  int64_t vocab_size = 0;           // random replacements are drawn from [0, vocab_size)
  std::vector<int32_t> never_mask;  // ids never chosen ([CLS], [SEP], [PAD], …)
};

/// Chooses targets in `input_ids` [B,T] (only where `attention_mask` is 1) and returns
/// {masked input ids, labels with kIgnoreIndex off-target}. At least one target per row that
/// has a real token, so no batch has an empty loss. tb::Error when mask_id or vocab_size is
/// missing.
std::pair<torch::Tensor, torch::Tensor> mask_tokens(const torch::Tensor& input_ids,
                                                    const torch::Tensor& attention_mask,
                                                    const MlmMaskingOptions& options,
                                                    uint64_t seed);

}  // namespace tb::data
