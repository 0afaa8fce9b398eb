#include "core/nn/cross_entropy.h"

#include "core/models/heads.h"
#include "core/nn/cross_entropy_cpu.h"

#include <stdexcept>
#include <string>

namespace tb {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// fp32 on the CPU: the fused kernel computes the loss and the gradient in the forward pass
// (the loss is the graph's end, so the gradient only needs the incoming scalar's factor).
class FusedTokenCrossEntropy final : public torch::autograd::Function<FusedTokenCrossEntropy> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& logits,
                               const torch::Tensor& targets) {
    RECORD_FUNCTION("tb::fused_token_cross_entropy", std::vector<c10::IValue>());
    const torch::Tensor rows = logits.contiguous();
    const torch::Tensor labels = targets.to(torch::kInt64).contiguous();
    const int64_t kept = (labels != kIgnoreIndex).sum().item<int64_t>();
    torch::Tensor gradient;
    if (logits.requires_grad()) gradient = torch::empty_like(rows);
    CrossEntropyRows job;
    job.logits = rows.data_ptr<float>();
    job.targets = labels.data_ptr<int64_t>();
    job.rows = rows.size(0);
    job.vocab = rows.size(1);
    job.gradient_scale = 1.0f / static_cast<float>(kept);
    job.gradient = gradient.defined() ? gradient.data_ptr<float>() : nullptr;
    const double total = cross_entropy_rows(job);
    ctx->saved_data["gradient"] = gradient;
    // 0 / 0 = NaN when every target is skipped, as torch gives.
    return torch::scalar_tensor(total / static_cast<double>(kept), logits.options());
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const torch::Tensor gradient = ctx->saved_data["gradient"].toTensor();
    const torch::Tensor& incoming = grad_outputs[0];
    // The usual loss.backward() passes 1: hand the gradient over without another pass.
    if (incoming.item<float>() == 1.0f) return {gradient, torch::Tensor()};
    return {gradient * incoming, torch::Tensor()};
  }
};

// Other dtypes and devices: LibTorch's operators, still without torch's zero-filled gradient.
class TokenCrossEntropy final : public torch::autograd::Function<TokenCrossEntropy> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& logits,
                               const torch::Tensor& targets) {
    const torch::Tensor log_probs = torch::log_softmax(logits, 1);
    const torch::Tensor kept = targets != kIgnoreIndex;
    // Skipped rows gather column 0 and are weighted 0.
    const torch::Tensor columns = targets.masked_fill(kept.logical_not(), 0).unsqueeze(1);
    const torch::Tensor weights = kept.to(log_probs.scalar_type());
    const torch::Tensor count = weights.sum();
    const torch::Tensor picked = log_probs.gather(1, columns).squeeze(1);
    ctx->save_for_backward({log_probs, columns, weights, count});
    return -(picked * weights).sum() / count;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const tensor_list saved = ctx->get_saved_variables();
    const torch::Tensor& log_probs = saved[0];
    const torch::Tensor& columns = saved[1];
    // d loss / d logits[i] = w_i · g / count · (softmax(logits[i]) − onehot(target_i)).
    const torch::Tensor row_scale = (saved[2] * (grad_outputs[0] / saved[3])).unsqueeze(1);
    torch::Tensor grad = log_probs.exp();
    grad.mul_(row_scale);
    grad.scatter_add_(1, columns, -row_scale);
    return {grad, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor token_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets) {
  TORCH_CHECK(logits.dim() == 2 && targets.dim() == 1 && logits.size(0) == targets.size(0),
              "token_cross_entropy: logits [N, V] and targets [N]");
  const torch::Tensor wrong =
      (targets != kIgnoreIndex) & ((targets < 0) | (targets >= logits.size(1)));
  if (wrong.any().item<bool>()) {
    const int64_t row = wrong.nonzero()[0][0].item<int64_t>();
    throw std::invalid_argument(
        "token_cross_entropy: target " + std::to_string(targets[row].item<int64_t>()) + " of row " +
        std::to_string(row) + " is outside the " + std::to_string(logits.size(1)) +
        " classes of the logits (and is not the ignore index " + std::to_string(kIgnoreIndex) +
        ")");
  }
  if (logits.device().is_cpu() && logits.scalar_type() == torch::kFloat32) {
    return FusedTokenCrossEntropy::apply(logits, targets);
  }
  return TokenCrossEntropy::apply(logits, targets);
}

}  // namespace tb
