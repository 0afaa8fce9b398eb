#pragma once
// Fused fp32 RMSNorm on the CPU: one pass forward (statistics and output), one pass backward
// (input and weight gradients). LibTorch runs pow, mean, add, rsqrt, mul, mul forward and about
// twice as many passes backward, each over the whole [tokens, hidden] activation, keeping the
// squares and the normalised input alive for backward; this keeps one float per row.

#include <torch/torch.h>

namespace tb {

/// Whether rms_norm_cpu() takes these: fp32 CPU x whose last dimension is the length of an fp32
/// CPU weight vector.
bool rms_norm_cpu_applies(const torch::Tensor& x, const torch::Tensor& weight);

/// weight · x / sqrt(mean(x², last dim) + eps), differentiable in x and weight; what
/// RmsNorm's LibTorch form computes.
torch::Tensor rms_norm_cpu(const torch::Tensor& x, const torch::Tensor& weight, double eps);

/// The kernels over row-major [rows, dim] arrays (for the test). Forward writes the output and
/// each row's 1/rms. Backward takes the output's gradient and writes the input's (skipped when
/// grad_x is null) and the weight's (skipped when grad_weight is null); the weight gradient is
/// summed over fixed blocks of rows, so it does not change with the thread count.
void rms_norm_forward(const float* x, const float* weight, float* out, float* inv_rms, int64_t rows,
                      int64_t dim, float eps);
void rms_norm_backward(const float* x, const float* weight, const float* inv_rms,
                       const float* grad_out, float* grad_x, float* grad_weight, int64_t rows,
                       int64_t dim);

}  // namespace tb
