#pragma once
// The token-level cross-entropy of the language-model heads (mean over the targets that are not
// kIgnoreIndex). torch's cross_entropy (log_softmax + nll_loss, then a zero-filled gradient and
// log_softmax's backward) streams the [tokens, vocabulary] matrix through memory five times:
// ~15 % of a step on a small model with a 4096-word vocabulary. fp32 on the CPU runs the fused
// kernel of cross_entropy_cpu.h instead (loss and gradient in one visit per row, in the forward
// pass); other dtypes and devices run LibTorch's operators in two passes.

#include <torch/torch.h>

namespace tb {

/// Mean cross-entropy of `logits` [N, V] (fp32) against `targets` [N] (int64, -100 = skip):
/// the value and gradient of torch::nn::functional::cross_entropy with ignore_index -100.
/// NaN when every target is skipped, as torch gives; a target outside the classes that is not
/// -100 throws std::invalid_argument naming its row.
torch::Tensor token_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets);

}  // namespace tb
