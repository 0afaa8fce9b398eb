#pragma once
// Root-mean-square layer norm (Llama family): x / sqrt(mean(x²) + eps) * weight, computed in
// fp32 and cast back, as transformers' LlamaRMSNorm does.

#include <torch/torch.h>

namespace tb {

/// Options of RmsNorm.
struct RmsNormOptions {
  /// Normalises over the last dimension of size `dim`.
  explicit RmsNormOptions(int64_t dim) : dim_(dim) {}
  TORCH_ARG(int64_t, dim);        // size of the normalised (last) dimension; required
  TORCH_ARG(double, eps) = 1e-6;  // added to the mean square (config.json rms_norm_eps)
};

/// RMSNorm with one learned scale per feature, parameter name "weight".
class RmsNormImpl : public torch::nn::Cloneable<RmsNormImpl> {
 public:
  /// Creates the scale, initialised to ones.
  explicit RmsNormImpl(const RmsNormOptions& options);
  /// (Re)creates the parameter.
  void reset() override;
  /// Normalises the last dimension of x.
  torch::Tensor forward(const torch::Tensor& x);

  RmsNormOptions options;  // as constructed
  torch::Tensor weight;    // [dim]
};
TORCH_MODULE(RmsNorm);

}  // namespace tb
