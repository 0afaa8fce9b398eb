#include "core/nn/linear.h"

#include "core/nn/linear_cpu.h"

namespace tb {

torch::Tensor LinearImpl::forward(const torch::Tensor& x) {
  return adapter ? adapter->forward(*this, x) : base_forward(x);
}

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight,
                     const torch::Tensor& bias) {
  if (linear_cpu_applies(x, weight, bias)) return linear_cpu(x, weight, bias);
  return torch::nn::functional::linear(x, weight, bias);
}

torch::Tensor LinearImpl::base_forward(const torch::Tensor& x) {
  return tb::linear(x, weight, bias);
}

}  // namespace tb
