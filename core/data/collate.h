#pragma once
// Examples → LibTorch tensors: padding (dynamic to the longest example, or a fixed max_length),
// on the right or the left, labels padded with -100, per-segment position ids for packed rows.

#include <torch/torch.h>

#include <vector>

#include "core/data/example.h"

namespace tb::data {

/// Which side padding goes on (left for decoder generation-style batches).
enum class PaddingSide { kRight, kLeft };

/// Options of collation.
struct CollateOptions {
  int64_t max_length = 0;          // 0 = pad to the longest example of the batch (dynamic);
                                   // > 0 = every batch exactly this long (longer examples cut)
  int64_t pad_to_multiple_of = 1;  // dynamic padding rounds the length up to a multiple of this
  PaddingSide padding_side = PaddingSide::kRight;  // where pad tokens go
  int32_t pad_id = 0;                              // input id of padding (TokenizerFns::pad_id)
};

/// A batch of tensors (int64). Undefined tensors are not used by the task.
struct Batch {
  torch::Tensor input_ids;       // [B, T]
  torch::Tensor attention_mask;  // [B, T]: 1 = token, 0 = padding
  torch::Tensor position_ids;    // [B, T]: 0.. per example, restarting in each packed segment
  torch::Tensor labels;          // [B, T], kIgnoreIndex on padding (token-level tasks)
  torch::Tensor segment_ids;     // [B, T]: packed segment per token, 0 on padding (packed only)
  torch::Tensor token_type_ids;  // [B, T] (text pairs only)
  torch::Tensor class_labels;    // [B] (classification and verbalizer)
  torch::Tensor mask_positions;  // [B]: index of the mask token after padding (verbalizer)
};

/// Collates examples into one batch; throws tb::Error for an empty list.
Batch collate(const std::vector<Example>& examples, const CollateOptions& options);

/// The attention mask of packed rows: [B, 1, T, T] bool, true where query i may attend key j
/// (same non-zero segment and j ≤ i): block-diagonal and causal.
torch::Tensor packed_attention_mask(const torch::Tensor& segment_ids);

}  // namespace tb::data
