#include "core/nn/rms_norm_cpu.h"

#include <ATen/Parallel.h>

// at::parallel_for splits work over threads only in files compiled with OpenMP.
#ifndef _OPENMP
#error "compile this file with OpenMP (core/CMakeLists.txt): without it at::parallel_for is serial"
#endif

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/nn/cpu_vector_math.h"

namespace tb {

namespace {

// The weight gradient sums over all rows: each block of rows adds into its own partial vector
// and the partials are summed in block order. Blocks hold at least kMinRowsPerBlock rows and
// there are at most kMaxBlocks of them, both fixed by the row count alone (never the thread
// count), so one and two threads give the same bits.
constexpr int64_t kMinRowsPerBlock = 64;
constexpr int64_t kMaxBlocks = 64;

TB_CPU_CLONES void forward_rows(const float* __restrict x, const float* __restrict weight,
                                float* __restrict out, float* __restrict inv_rms, int64_t begin,
                                int64_t end, int64_t dim, float eps) {
  for (int64_t row = begin; row < end; ++row) {
    const float* __restrict xr = x + row * dim;
    float* __restrict yr = out + row * dim;
    float squares = 0.0f;
#pragma omp simd reduction(+ : squares)
    for (int64_t j = 0; j < dim; ++j) squares += xr[j] * xr[j];
    const float inv = 1.0f / std::sqrt(squares / float(dim) + eps);
    inv_rms[row] = inv;
#pragma omp simd
    for (int64_t j = 0; j < dim; ++j) yr[j] = weight[j] * (xr[j] * inv);
  }
}

// y = w·x·r with r = (Σx²/D + eps)^(−1/2): dy/dx_j = r·w_j·g_j − x_j·r³·(Σ_k g_k·w_k·x_k)/D,
// dy/dw_j = Σ_rows g_j·x_j·r.
TB_CPU_CLONES void backward_rows(const float* __restrict x, const float* __restrict weight,
                                 const float* __restrict inv_rms, const float* __restrict grad_out,
                                 float* __restrict grad_x, float* __restrict partial_weight,
                                 int64_t begin, int64_t end, int64_t dim) {
  for (int64_t row = begin; row < end; ++row) {
    const float* __restrict xr = x + row * dim;
    const float* __restrict gr = grad_out + row * dim;
    const float inv = inv_rms[row];
    if (partial_weight) {
#pragma omp simd
      for (int64_t j = 0; j < dim; ++j) partial_weight[j] += gr[j] * (xr[j] * inv);
    }
    if (!grad_x) continue;
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < dim; ++j) dot += gr[j] * weight[j] * xr[j];
    const float correction = dot * inv * inv * inv / float(dim);
    float* __restrict dx = grad_x + row * dim;
#pragma omp simd
    for (int64_t j = 0; j < dim; ++j) dx[j] = inv * (weight[j] * gr[j]) - correction * xr[j];
  }
}

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

class RmsNormFunction final : public torch::autograd::Function<RmsNormFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, double eps) {
    RECORD_FUNCTION("tb::rms_norm_cpu", std::vector<c10::IValue>());
    const torch::Tensor input = x.contiguous(), w = weight.contiguous();
    const int64_t dim = w.numel(), rows = dim > 0 ? input.numel() / dim : 0;
    torch::Tensor out = torch::empty_like(input);
    torch::Tensor inv_rms = torch::empty({rows}, input.options());
    rms_norm_forward(input.data_ptr<float>(), w.data_ptr<float>(), out.data_ptr<float>(),
                     inv_rms.data_ptr<float>(), rows, dim, float(eps));
    ctx->save_for_backward({input, w, inv_rms});
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const tensor_list saved = ctx->get_saved_variables();
    const torch::Tensor& input = saved[0];
    const torch::Tensor& w = saved[1];
    const torch::Tensor grad_out = grad_outputs[0].contiguous();
    const int64_t dim = w.numel(), rows = dim > 0 ? input.numel() / dim : 0;
    torch::Tensor grad_x, grad_weight;
    if (ctx->needs_input_grad(0)) grad_x = torch::empty_like(input);
    if (ctx->needs_input_grad(1)) grad_weight = torch::empty_like(w);
    rms_norm_backward(input.data_ptr<float>(), w.data_ptr<float>(), saved[2].data_ptr<float>(),
                      grad_out.data_ptr<float>(),
                      grad_x.defined() ? grad_x.data_ptr<float>() : nullptr,
                      grad_weight.defined() ? grad_weight.data_ptr<float>() : nullptr, rows, dim);
    return {grad_x, grad_weight, torch::Tensor()};
  }
};

}  // namespace

void rms_norm_forward(const float* x, const float* weight, float* out, float* inv_rms, int64_t rows,
                      int64_t dim, float eps) {
  const int64_t grain = rows_per_task(dim);
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    forward_rows(x, weight, out, inv_rms, begin, end, dim, eps);
  });
}

void rms_norm_backward(const float* x, const float* weight, const float* inv_rms,
                       const float* grad_out, float* grad_x, float* grad_weight, int64_t rows,
                       int64_t dim) {
  if (!grad_weight) {
    const int64_t grain = rows_per_task(dim);
    at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
      backward_rows(x, weight, inv_rms, grad_out, grad_x, nullptr, begin, end, dim);
    });
    return;
  }
  const int64_t rows_per_block = std::max(kMinRowsPerBlock, (rows + kMaxBlocks - 1) / kMaxBlocks);
  const int64_t blocks = (rows + rows_per_block - 1) / rows_per_block;
  std::vector<float> partials(size_t(blocks * dim), 0.0f);
  at::parallel_for(0, blocks, 1, [&](int64_t first, int64_t last) {
    for (int64_t block = first; block < last; ++block) {
      const int64_t begin = block * rows_per_block;
      backward_rows(x, weight, inv_rms, grad_out, grad_x, partials.data() + block * dim, begin,
                    std::min(rows, begin + rows_per_block), dim);
    }
  });
  std::fill(grad_weight, grad_weight + dim, 0.0f);
  for (int64_t block = 0; block < blocks; ++block) {
    const float* partial = partials.data() + block * dim;
    for (int64_t j = 0; j < dim; ++j) grad_weight[j] += partial[j];
  }
}

bool rms_norm_cpu_applies(const torch::Tensor& x, const torch::Tensor& weight) {
  return x.device().is_cpu() && weight.device().is_cpu() && x.scalar_type() == torch::kFloat32 &&
         weight.scalar_type() == torch::kFloat32 && weight.dim() == 1 && x.dim() >= 1 &&
         x.size(-1) == weight.size(0) && weight.size(0) > 0;
}

torch::Tensor rms_norm_cpu(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  TORCH_CHECK(rms_norm_cpu_applies(x, weight),
              "rms_norm_cpu: fp32 CPU x whose last dimension is the fp32 weight's length");
  return RmsNormFunction::apply(x, weight, eps);
}

}  // namespace tb
