#include "core/methods/nf4.h"

#include "core/util/error.h"

namespace tb {

namespace {

constexpr int64_t kScaleBlock = 256;  // block size of the double quantisation

torch::Tensor code_tensor(torch::Device device) {
  const auto& code = nf4_code();
  return torch::from_blob(const_cast<float*>(code.data()), {16}, torch::kFloat32)
      .to(device, /*non_blocking=*/false, /*copy=*/true);
}

// x·Wᵀ with W dequantised when needed; the autograd graph keeps only a pointer to the NF4
// storage, never the full-precision weight.
class Nf4MatmulFunction : public torch::autograd::Function<Nf4MatmulFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const Nf4Tensor* weight) {
    ctx->saved_data["weight"] = reinterpret_cast<int64_t>(weight);
    return torch::matmul(x, nf4_dequantize(*weight, x.scalar_type()).t());
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto* weight = reinterpret_cast<const Nf4Tensor*>(ctx->saved_data["weight"].toInt());
    const torch::Tensor& grad = grads[0];
    return {torch::matmul(grad, nf4_dequantize(*weight, grad.scalar_type())), torch::Tensor()};
  }
};

}  // namespace

const std::array<float, 16>& nf4_code() {
  // bitsandbytes' NF4 table: quantiles of N(0,1) normalised to [-1, 1], 8 positive and 7
  // negative values plus an exact zero.
  static const std::array<float, 16> code = {-1.0f,
                                             -0.6961928009986877f,
                                             -0.5250730514526367f,
                                             -0.39491748809814453f,
                                             -0.28444138169288635f,
                                             -0.18477343022823334f,
                                             -0.09105003625154495f,
                                             0.0f,
                                             0.07958029955625534f,
                                             0.16093020141124725f,
                                             0.24611230194568634f,
                                             0.33791524171829224f,
                                             0.44070982933044434f,
                                             0.5626170039176941f,
                                             0.7229568362236023f,
                                             1.0f};
  return code;
}

int64_t Nf4Tensor::bytes() const {
  int64_t total = packed.nbytes();
  if (absmax.defined()) total += absmax.nbytes();
  if (absmax_codes.defined()) total += absmax_codes.nbytes() + absmax_scales.nbytes() + 4;
  return total;
}

Nf4Tensor nf4_quantize(const torch::Tensor& weights, bool double_quantization, int64_t block_size) {
  if (block_size <= 0 || block_size % 2) {
    throw make_error("NF4 block size " + std::to_string(block_size) +
                         " is not a positive even "
                         "number",
                     "quantization", "Use 64 (bitsandbytes' default).");
  }
  torch::NoGradGuard no_grad;
  Nf4Tensor out;
  out.shape = weights.sizes().vec();
  out.numel = weights.numel();
  out.block_size = block_size;
  const int64_t blocks = (out.numel + block_size - 1) / block_size;
  torch::Tensor flat = weights.detach().reshape({-1}).to(torch::kFloat32);
  // The last block is padded with zeros (code 7 decodes to exactly 0 and is cut off again).
  flat = torch::constant_pad_nd(flat, {0, blocks * block_size - out.numel}, 0).view({blocks, -1});
  const torch::Tensor absmax = flat.abs().amax(1);
  const torch::Tensor normalised = flat / absmax.clamp_min(1e-30).unsqueeze(1);
  // Nearest code value: count how many midpoints between neighbours lie below the value.
  const torch::Tensor code = code_tensor(flat.device());
  const torch::Tensor midpoints = (code.slice(0, 1, 16) + code.slice(0, 0, 15)) / 2;
  const torch::Tensor index =
      torch::bucketize(normalised.reshape({-1}), midpoints).to(torch::kUInt8);
  const torch::Tensor pairs = index.view({-1, 2});
  out.packed = (pairs.select(1, 0) * 16 + pairs.select(1, 1)).to(torch::kUInt8).contiguous();
  if (!double_quantization) {
    out.absmax = absmax.contiguous();
    return out;
  }
  // Double quantisation: subtract the mean, then 8-bit codes per 256 scales, each block
  // scaled by its own absolute maximum (symmetric, code 128 = 0).
  out.absmax_offset = absmax.mean().item<float>();
  const int64_t scale_blocks = (blocks + kScaleBlock - 1) / kScaleBlock;
  const torch::Tensor centred = torch::constant_pad_nd(absmax - out.absmax_offset,
                                                       {0, scale_blocks * kScaleBlock - blocks}, 0)
                                    .view({scale_blocks, kScaleBlock});
  out.absmax_scales = centred.abs().amax(1).contiguous();
  out.absmax_codes =
      (torch::round(centred / out.absmax_scales.clamp_min(1e-30).unsqueeze(1) * 127) + 128)
          .clamp(1, 255)
          .to(torch::kUInt8)
          .reshape({-1})
          .slice(0, 0, blocks)
          .contiguous();
  return out;
}

torch::Tensor nf4_block_scales(const Nf4Tensor& tensor) {
  if (tensor.absmax.defined()) return tensor.absmax;
  const int64_t blocks = tensor.absmax_codes.numel();
  const torch::Tensor scales =
      tensor.absmax_scales.repeat_interleave(kScaleBlock).slice(0, 0, blocks);
  return (tensor.absmax_codes.to(torch::kFloat32) - 128) / 127 * scales + tensor.absmax_offset;
}

torch::Tensor nf4_dequantize(const Nf4Tensor& tensor, torch::ScalarType dtype) {
  const torch::Tensor packed = tensor.packed.to(torch::kInt64);
  const torch::Tensor index =
      torch::stack({torch::floor_divide(packed, 16), packed.remainder(16)}, 1).view({-1});
  const torch::Tensor values =
      code_tensor(packed.device()).index_select(0, index).view({-1, tensor.block_size});
  const torch::Tensor scaled = values * nf4_block_scales(tensor).unsqueeze(1);
  return scaled.view({-1}).slice(0, 0, tensor.numel).view(tensor.shape).to(dtype);
}

torch::Tensor nf4_linear(const torch::Tensor& x, const Nf4Tensor& weight,
                         const torch::Tensor& bias) {
  torch::Tensor out = Nf4MatmulFunction::apply(x, &weight);
  return bias.defined() ? out + bias.to(out.scalar_type()) : out;
}

}  // namespace tb
