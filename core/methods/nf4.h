#pragma once
// NF4 4-bit quantisation (QLoRA, Dettmers et al. 2023), with bitsandbytes' layout: the 16
// NormalFloat code values, blocks of 64 weights scaled by their absolute maximum, two codes per
// byte (first in the high nibble). Double quantisation stores the fp32 block scales as 8-bit
// codes of bitsandbytes' dynamic 8-bit map (blocks of 256, mean removed) — 4.127 bits per
// weight instead of 4.5. Weights are dequantised on the fly in forward and backward and never
// kept in full precision.

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

namespace tb {

/// The 16 NF4 code values (bitsandbytes' table, ascending, exact zero at index 7).
const std::array<float, 16>& nf4_code();

/// bitsandbytes' signed dynamic 8-bit map (256 sorted values in [-1, 1]) that codes the block
/// scales under double quantisation.
const std::vector<float>& nf4_scale_code();

/// A tensor stored in NF4.
struct Nf4Tensor {
  std::vector<int64_t> shape;   // logical shape
  int64_t numel = 0;            // logical element count
  int64_t block_size = 64;      // weights per absmax scale
  torch::Tensor packed;         // uint8 [ceil(numel/block)·block/2]: two codes per byte
  torch::Tensor absmax;         // fp32 [blocks]; undefined when double-quantised
  torch::Tensor absmax_codes;   // uint8 [blocks]: dynamic-map codes of absmax - offset (double q.)
  torch::Tensor absmax_scales;  // fp32 [ceil(blocks/256)]: absmax of each 256-block of codes
  float absmax_offset = 0;      // mean of the absmax values (double quant)
  /// Bytes of storage (codes, scales, offset).
  int64_t bytes() const;
  /// Storage bits per logical element.
  double bits_per_element() const { return 8.0 * double(bytes()) / double(numel); }
};

/// Quantises `weights` (any float dtype and shape, CPU or CUDA) to NF4.
Nf4Tensor nf4_quantize(const torch::Tensor& weights, bool double_quantization,
                       int64_t block_size = 64);

/// The per-block scales (after undoing the double quantisation when present), fp32 [blocks].
torch::Tensor nf4_block_scales(const Nf4Tensor& tensor);

/// Dequantises to `dtype` in the original shape.
torch::Tensor nf4_dequantize(const Nf4Tensor& tensor, torch::ScalarType dtype);

/// x·Wᵀ (+ bias) with W in NF4, dequantised in forward and again in backward (no gradient for
/// W; x receives one). x [..., in]; W [out, in].
torch::Tensor nf4_linear(const torch::Tensor& x, const Nf4Tensor& weight,
                         const torch::Tensor& bias);

}  // namespace tb
