#pragma once
// The forward/backward of a LoRA layer with the update folded into the base weight for the
// step: y = x·(W + s·B·A)ᵀ + bias. PEFT computes x·Wᵀ + s·(x·Aᵀ)·Bᵀ instead; both are the same
// function of x, A and B, but the unfolded form spends two GEMMs with a rank-sized inner
// dimension that write whole activations (the Bᵀ product forward, the A product of the input
// gradient backward) plus an add of two input gradients, all memory-bound. Folding costs one
// rank-sized GEMM per weight (out×in, not tokens×out) in forward and again in backward; the
// folded weight is never kept between the two (no second copy of the model's weights).
// Measured on the 33M benchmark model, steps alternating between the two forms in one run:
// 1.810 vs 1.840 s median per LoRA step.

#include <torch/torch.h>

namespace tb {

struct Nf4Tensor;

/// Where a LoRA layer's frozen base weight comes from: a dense tensor (LoRA) or NF4 storage
/// dequantised when needed (QLoRA). Exactly one is set.
struct LoraBaseWeight {
  torch::Tensor dense;             // [out, in], frozen; undefined when quantised
  const Nf4Tensor* nf4 = nullptr;  // QLoRA's NF4 weight (owned by the adapter), else null
};

/// Whether merged_lora_linear computes this layer exactly enough: fp32 throughout (a bf16/fp16
/// sum W + s·B·A would round the small update away) and no dropout on the LoRA input (the base
/// and LoRA products would see different inputs).
bool merged_lora_linear_applies(const torch::Tensor& x, const LoraBaseWeight& base,
                                const torch::Tensor& bias, const torch::Tensor& lora_a,
                                const torch::Tensor& lora_b, bool dropout_active);

/// x·(W + scale·B·A)ᵀ + bias with gradients for x, A [rank, in] and B [out, rank]; none for W or
/// bias (frozen). x is [..., in].
torch::Tensor merged_lora_linear(const torch::Tensor& x, const LoraBaseWeight& base,
                                 const torch::Tensor& bias, const torch::Tensor& lora_a,
                                 const torch::Tensor& lora_b, double scale);

}  // namespace tb
