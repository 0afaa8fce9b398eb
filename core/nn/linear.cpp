#include "core/nn/linear.h"

namespace tb {

torch::Tensor LinearImpl::forward(const torch::Tensor& x) {
  return adapter ? adapter->forward(*this, x) : base_forward(x);
}

torch::Tensor LinearImpl::base_forward(const torch::Tensor& x) {
  return torch::nn::functional::linear(x, weight, bias);
}

}  // namespace tb
