#pragma once
// A torch::nn::Linear with an optional adapter slot. Models declare their projections as
// tb::Linear; a fine-tuning method (LoRA, QLoRA) installs an adapter that then computes the
// layer's output, so methods wrap layers without the models knowing about them.

#include <torch/torch.h>

#include <memory>

namespace tb {

class LinearImpl;

/// x·Wᵀ + b as torch::nn::functional::linear computes it; fp32 CPU inputs take linear_cpu()
/// (products split over the threads in row blocks), everything else torch's own.
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight,
                     const torch::Tensor& bias = {});

/// Computes a Linear layer's output in place of x·Wᵀ + b (e.g. base + LoRA, or NF4 weights).
class LinearAdapter {
 public:
  virtual ~LinearAdapter() = default;
  /// The output of `layer` for input x [..., in_features].
  virtual torch::Tensor forward(LinearImpl& layer, const torch::Tensor& x) = 0;
};

/// torch::nn::LinearImpl (same parameters and names) whose forward defers to an adapter.
class LinearImpl : public torch::nn::LinearImpl {
 public:
  using torch::nn::LinearImpl::LinearImpl;
  /// x·Wᵀ + b, or the adapter's output when one is installed.
  torch::Tensor forward(const torch::Tensor& x);
  /// The plain x·Wᵀ + b, ignoring the adapter.
  torch::Tensor base_forward(const torch::Tensor& x);

  std::shared_ptr<LinearAdapter> adapter;  // null = plain linear layer
};
TORCH_MODULE(Linear);

}  // namespace tb
