#pragma once
// Fused fp32 rotary position embedding on the CPU: x·cos + rotate_half(x)·sin in one pass
// forward and one backward. LibTorch's form (slice, neg, cat, mul, mul, add) makes six passes
// over the [batch, heads, seq, head_dim] queries and keys each way and keeps the rotated copy.

#include <torch/torch.h>

namespace tb {

/// Whether rotary_cpu() takes these: fp32 CPU tensors, x [batch, heads, seq, head_dim] with
/// contiguous head_dim rows and an even head_dim, cos and sin [batch or 1, seq, head_dim]
/// with contiguous rows and no gradient of their own.
bool rotary_cpu_applies(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

/// x·cos + rotate_half(x)·sin with rotate_half(x) = [−x₂, x₁] (halves of head_dim),
/// differentiable in x. The result (and x's gradient) is laid out [batch, seq, heads, head_dim]
/// in memory and returned as its [batch, heads, seq, head_dim] view: the layout the projections
/// produce, and the one LibTorch's elementwise operators keep for a transposed x.
torch::Tensor rotary_cpu(const torch::Tensor& x, const torch::Tensor& cos,
                         const torch::Tensor& sin);

}  // namespace tb
