#include "core/methods/lora_linear.h"

#include "core/methods/nf4.h"
#include "core/nn/blas_cpu.h"
#include "core/nn/linear_cpu.h"
#include "core/nn/thin_matmul_cpu.h"

namespace tb {

namespace {

// Whether the rank-sized products go to the thin kernels (fp32 on the CPU) instead of BLAS.
bool thin_kernels_apply(const torch::Tensor& x, int64_t rank) {
  return x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && rank <= kThinMatmulMaxRank;
}

// W + scale·B·A in x's dtype, a fresh tensor (the base weight is never written).
torch::Tensor folded_weight(const torch::Tensor& dense, const Nf4Tensor* nf4,
                            const torch::Tensor& lora_a, const torch::Tensor& lora_b,
                            double scale) {
  const torch::Tensor base =
      nf4 != nullptr ? nf4_dequantize(*nf4, lora_a.scalar_type()) : dense.contiguous();
  if (!thin_kernels_apply(base, lora_a.size(0))) {
    return nf4 != nullptr ? base.addmm_(lora_b, lora_a, 1.0, scale)
                          : torch::addmm(base, lora_b, lora_a, 1.0, scale);
  }
  // The dequantised NF4 weight is already a scratch copy: folded in place.
  torch::Tensor out = nf4 != nullptr ? base : torch::empty_like(base);
  const torch::Tensor b = lora_b.contiguous(), a = lora_a.contiguous();
  thin_expand(b.data_ptr<float>(), b.size(0), b.size(1), a.data_ptr<float>(), a.size(1),
              static_cast<float>(scale), base.data_ptr<float>(), out.data_ptr<float>());
  return out;
}

// u = x·Aᵀ, [tokens, rank].
torch::Tensor project_on_a(const torch::Tensor& x, const torch::Tensor& lora_a) {
  if (!thin_kernels_apply(x, lora_a.size(0))) return torch::mm(x, lora_a.t());
  const torch::Tensor xc = x.contiguous(), a = lora_a.contiguous();
  torch::Tensor u = torch::empty({x.size(0), a.size(0)}, x.options());
  thin_project(xc.data_ptr<float>(), xc.size(0), xc.size(1), a.data_ptr<float>(), a.size(0),
               u.data_ptr<float>());
  return u;
}

// {dA, dB} = {s·(g·B)ᵀ·x, s·gᵀ·u}.
std::pair<torch::Tensor, torch::Tensor> lora_gradients(const torch::Tensor& grad,
                                                       const torch::Tensor& x,
                                                       const torch::Tensor& lora_b,
                                                       const torch::Tensor& u, double scale) {
  if (!thin_kernels_apply(x, u.size(1))) {
    // The scale goes on the rank-sized factors, not on the gradients' own size.
    return {torch::mm(torch::mm(grad, lora_b).mul_(scale).t(), x), torch::mm(grad.t(), u * scale)};
  }
  const torch::Tensor g = grad.contiguous(), xc = x.contiguous(), uc = u.contiguous();
  const torch::Tensor b_t = lora_b.t().contiguous();
  const int64_t rows = g.size(0), rank = b_t.size(0);
  torch::Tensor v = torch::empty({rows, rank}, g.options());
  torch::Tensor grad_b_t = torch::empty({rank, g.size(1)}, g.options());
  // One pass over g for both of its products: v = g·B and uᵀ·g = dBᵀ/s.
  thin_project_and_accumulate(g.data_ptr<float>(), rows, g.size(1), b_t.data_ptr<float>(),
                              uc.data_ptr<float>(), rank, v.data_ptr<float>(),
                              grad_b_t.data_ptr<float>());
  v.mul_(scale);
  torch::Tensor grad_a = torch::empty({rank, xc.size(1)}, g.options());
  thin_accumulate(v.data_ptr<float>(), xc.data_ptr<float>(), rows, xc.size(1), rank,
                  grad_a.data_ptr<float>());
  return {grad_a, grad_b_t.t().mul(scale)};
}

// Forward saves x and u = x·Aᵀ (tokens × rank); backward folds the weight again:
//   dx = g·W',  dB = s·gᵀ·u,  dA = s·(g·B)ᵀ·x.
class MergedLoraLinearFunction : public torch::autograd::Function<MergedLoraLinearFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& lora_a, const torch::Tensor& lora_b,
                               const torch::Tensor& dense, const torch::Tensor& bias,
                               const Nf4Tensor* nf4, double scale) {
    const torch::Tensor weight = folded_weight(dense, nf4, lora_a, lora_b, scale);
    torch::Tensor out = linear_2d(x, weight, bias);
    ctx->save_for_backward({x, lora_a, lora_b, project_on_a(x, lora_a), dense});
    ctx->saved_data["nf4"] = reinterpret_cast<int64_t>(nf4);
    ctx->saved_data["scale"] = scale;
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &lora_a = saved[1], &lora_b = saved[2], &u = saved[3];
    const auto* nf4 = reinterpret_cast<const Nf4Tensor*>(ctx->saved_data["nf4"].toInt());
    const double scale = ctx->saved_data["scale"].toDouble();
    const torch::Tensor& grad = grads[0];
    torch::Tensor grad_x;
    if (ctx->needs_input_grad(0)) {
      grad_x = matmul_2d(grad, folded_weight(saved[4], nf4, lora_a, lora_b, scale));
    }
    auto [grad_a, grad_b] = lora_gradients(grad, x, lora_b, u, scale);
    return {grad_x,          grad_a,          grad_b,         torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

bool merged_lora_linear_applies(const torch::Tensor& x, const LoraBaseWeight& base,
                                const torch::Tensor& bias, const torch::Tensor& lora_a,
                                const torch::Tensor& lora_b, bool dropout_active) {
  const auto fp32 = [](const torch::Tensor& t) { return t.scalar_type() == torch::kFloat32; };
  return !dropout_active && x.dim() >= 2 && fp32(x) && fp32(lora_a) && fp32(lora_b) &&
         (base.nf4 || (base.dense.defined() && fp32(base.dense) && !base.dense.requires_grad())) &&
         (!bias.defined() || (fp32(bias) && !bias.requires_grad()));
}

torch::Tensor merged_lora_linear(const torch::Tensor& x, const LoraBaseWeight& base,
                                 const torch::Tensor& bias, const torch::Tensor& lora_a,
                                 const torch::Tensor& lora_b, double scale) {
  const torch::Tensor flat = x.reshape({-1, x.size(-1)});
  torch::Tensor out;
  if (torch::GradMode::is_enabled()) {
    // LibTorch 1.13's Function::apply cannot take an undefined tensor: empty ones stand in.
    const auto or_empty = [&](const torch::Tensor& t) {
      return t.defined() ? t : torch::empty({0}, x.options());
    };
    out = MergedLoraLinearFunction::apply(flat, lora_a, lora_b, or_empty(base.dense),
                                          or_empty(bias), base.nf4, scale);
  } else {
    // No graph: no saved x·Aᵀ.
    const torch::Tensor weight = folded_weight(base.dense, base.nf4, lora_a, lora_b, scale);
    out = linear_2d(flat, weight, bias);
  }
  std::vector<int64_t> sizes = x.sizes().vec();
  sizes.back() = out.size(1);
  return out.view(sizes);
}

}  // namespace tb
