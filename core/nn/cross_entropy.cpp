#include "core/nn/cross_entropy.h"

#include "core/models/heads.h"

namespace tb {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

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
  return TokenCrossEntropy::apply(logits, targets);
}

}  // namespace tb
