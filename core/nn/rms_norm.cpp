#include "core/nn/rms_norm.h"

#include "core/nn/rms_norm_cpu.h"

namespace tb {

RmsNormImpl::RmsNormImpl(const RmsNormOptions& options_) : options(options_) { reset(); }

void RmsNormImpl::reset() { weight = register_parameter("weight", torch::ones({options.dim()})); }

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x) {
  if (rms_norm_cpu_applies(x, weight)) return rms_norm_cpu(x, weight, options.eps());
  // fp32 statistics even for bf16 activations: the mean of squares loses too much otherwise.
  const torch::Tensor x32 = x.to(torch::kFloat32);
  const torch::Tensor normed = x32 * torch::rsqrt(x32.pow(2).mean(-1, true) + options.eps());
  return weight * normed.to(x.scalar_type());
}

}  // namespace tb
