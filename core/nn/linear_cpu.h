#pragma once
// x·Wᵀ + b on the CPU in fp32 with every product of forward and backward split into row blocks
// over the threads (blas_cpu.h): the input gradient g·W, the weight gradient gᵀ·x and the output
// each run as one single-threaded BLAS call per thread instead of one call threaded by the BLAS.

#include <torch/torch.h>

namespace tb {

/// Whether linear_cpu() takes these: x [..., in] fp32 on the CPU with at least 2 dimensions,
/// weight [out, in] fp32 on the CPU, bias undefined or fp32 [out] on the CPU, and a BLAS.
bool linear_cpu_applies(const torch::Tensor& x, const torch::Tensor& weight,
                        const torch::Tensor& bias);

/// x [rows, in]·Wᵀ + b without an autograd graph (for callers with their own backward): row
/// blocks for fp32 on the CPU, torch::addmm elsewhere. bias may be undefined or empty.
torch::Tensor linear_2d(const torch::Tensor& x, const torch::Tensor& weight,
                        const torch::Tensor& bias);

/// x·Wᵀ + b [..., out], differentiable in x, weight and bias as torch's linear is.
torch::Tensor linear_cpu(const torch::Tensor& x, const torch::Tensor& weight,
                         const torch::Tensor& bias);

}  // namespace tb
