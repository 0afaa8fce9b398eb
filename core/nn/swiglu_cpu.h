#pragma once
// Fused fp32 SwiGLU on the CPU: silu(gate) · up in one pass forward and both gradients in one
// pass backward. LibTorch runs silu, mul, and in backward mul, silu_backward, mul: five passes
// over the [tokens, intermediate] activations (the MLP's widest) and a saved silu output.

#include <torch/torch.h>

namespace tb {

/// Whether silu_times_cpu() takes these: fp32 CPU tensors of the same shape.
bool silu_times_cpu_applies(const torch::Tensor& gate, const torch::Tensor& up);

/// silu(gate) · up, differentiable in both; what torch::silu(gate) * up computes.
torch::Tensor silu_times_cpu(const torch::Tensor& gate, const torch::Tensor& up);

/// The kernels over flat arrays (for the test): out = silu(g)·u; and from the output's
/// gradient d: grad_gate = d·u·silu'(g), grad_up = d·silu(g).
void silu_times_forward(const float* gate, const float* up, float* out, int64_t count);
void silu_times_backward(const float* gate, const float* up, const float* grad_out,
                         float* grad_gate, float* grad_up, int64_t count);

}  // namespace tb
