#include "core/nn/linear_cpu.h"

#include <vector>

#include "core/nn/blas_cpu.h"

namespace tb {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// x is [rows, in]. Backward computes only the gradients autograd asks for: a frozen layer
// (Freeze, prompt methods) costs one product, not two; no bias (an empty stand-in, which
// requires no gradient) none at all for it.
class LinearFunction final : public torch::autograd::Function<LinearFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias) {
    ctx->save_for_backward({x, weight});
    return linear_2d(x, weight, bias);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const variable_list saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &weight = saved[1], &grad = grads[0];
    torch::Tensor grad_x, grad_weight, grad_bias;
    // matmul_2d: torch::mm for what the row blocks do not take (a matrix past 2³¹ elements).
    if (ctx->needs_input_grad(0)) grad_x = matmul_2d(grad, weight);
    if (ctx->needs_input_grad(1)) grad_weight = matmul_2d(grad.t(), x);
    if (ctx->needs_input_grad(2)) grad_bias = grad.sum(0);
    return {grad_x, grad_weight, grad_bias};
  }
};

}  // namespace

torch::Tensor linear_2d(const torch::Tensor& x, const torch::Tensor& weight,
                        const torch::Tensor& bias) {
  const bool has_bias = bias.defined() && bias.numel() > 0;
  if (mm_row_blocks_applies(x, weight.t()) &&
      (!has_bias || (bias.device().is_cpu() && bias.scalar_type() == torch::kFloat32))) {
    // The bias goes into the output first, so the product accumulates onto it.
    torch::Tensor out = torch::empty({x.size(0), weight.size(0)}, x.options());
    if (has_bias) out.copy_(bias.expand_as(out));
    mm_row_blocks(out, x, weight.t(), has_bias);
    return out;
  }
  return has_bias ? torch::addmm(bias, x, weight.t()) : torch::mm(x, weight.t());
}

bool linear_cpu_applies(const torch::Tensor& x, const torch::Tensor& weight,
                        const torch::Tensor& bias) {
  const auto cpu_fp32 = [](const torch::Tensor& t) {
    return t.device().is_cpu() && t.scalar_type() == torch::kFloat32;
  };
  return blas_sgemm_available() && x.dim() >= 2 && cpu_fp32(x) && cpu_fp32(weight) &&
         weight.dim() == 2 && x.size(-1) == weight.size(1) &&
         (!bias.defined() || (cpu_fp32(bias) && bias.dim() == 1 && bias.size(0) == weight.size(0)));
}

torch::Tensor linear_cpu(const torch::Tensor& x, const torch::Tensor& weight,
                         const torch::Tensor& bias) {
  TORCH_CHECK(linear_cpu_applies(x, weight, bias),
              "linear_cpu: inputs it does not take (see linear_cpu_applies)");
  const torch::Tensor flat = x.reshape({-1, x.size(-1)});
  const bool graph =
      torch::GradMode::is_enabled() &&
      (x.requires_grad() || weight.requires_grad() || (bias.defined() && bias.requires_grad()));
  // LibTorch 1.13's Function::apply takes defined tensors only: no bias is an empty one.
  const torch::Tensor out =
      graph ? LinearFunction::apply(flat, weight,
                                    bias.defined() ? bias : torch::empty({0}, x.options()))
            : linear_2d(flat, weight, bias);
  std::vector<int64_t> sizes = x.sizes().vec();
  sizes.back() = weight.size(0);
  return out.view(sizes);
}

}  // namespace tb
