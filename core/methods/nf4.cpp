#include "core/methods/nf4.h"

#include <algorithm>
#include <cmath>

#include "core/util/error.h"

namespace tb {

namespace {

constexpr int64_t kScaleBlock = 256;  // block size of the double quantisation

}  // namespace

const std::vector<float>& nf4_scale_code() {
  // create_dynamic_map(signed=True, 7, 8): for decade i (10^-6 … 10^0), the 2^i midpoints of
  // a linear split of [0.1, 1] into 2^i parts, both signs, plus 0 and 1.
  static const std::vector<float> code = [] {
    std::vector<double> values;
    for (int i = 0; i < 7; ++i) {
      const int count = (1 << i) + 1;  // boundaries
      const double decade = std::pow(10.0, -6 + i);
      for (int j = 0; j + 1 < count; ++j) {
        const double low = 0.1 + 0.9 * j / (count - 1), high = 0.1 + 0.9 * (j + 1) / (count - 1);
        values.push_back(decade * (low + high) / 2);
        values.push_back(-decade * (low + high) / 2);
      }
    }
    values.push_back(0.0);
    values.push_back(1.0);
    std::sort(values.begin(), values.end());
    return std::vector<float>(values.begin(), values.end());
  }();
  return code;
}

namespace {

// Index of the nearest entry of a sorted code for every value.
torch::Tensor nearest_code(const torch::Tensor& values, const torch::Tensor& code) {
  const int64_t n = code.numel();
  const torch::Tensor midpoints = (code.slice(0, 1, n) + code.slice(0, 0, n - 1)) / 2;
  return torch::bucketize(values, midpoints);
}

torch::Tensor dynamic_code_tensor(torch::Device device) {
  const auto& code = nf4_scale_code();
  return torch::from_blob(const_cast<float*>(code.data()), {int64_t(code.size())}, torch::kFloat32)
      .to(device, /*non_blocking=*/false, /*copy=*/true);
}

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
  const torch::Tensor index =
      nearest_code(normalised.reshape({-1}), code_tensor(flat.device())).to(torch::kUInt8);
  const torch::Tensor pairs = index.view({-1, 2});
  out.packed = (pairs.select(1, 0) * 16 + pairs.select(1, 1)).to(torch::kUInt8).contiguous();
  if (!double_quantization) {
    out.absmax = absmax.contiguous();
    return out;
  }
  // Double quantisation as bitsandbytes: subtract the mean, then blocks of 256 scales coded
  // with the dynamic 8-bit map relative to each block's absolute maximum.
  out.absmax_offset = absmax.mean().item<float>();
  const int64_t scale_blocks = (blocks + kScaleBlock - 1) / kScaleBlock;
  const torch::Tensor centred = torch::constant_pad_nd(absmax - out.absmax_offset,
                                                       {0, scale_blocks * kScaleBlock - blocks}, 0)
                                    .view({scale_blocks, kScaleBlock});
  out.absmax_scales = centred.abs().amax(1).contiguous();
  const torch::Tensor relative = centred / out.absmax_scales.clamp_min(1e-30).unsqueeze(1);
  out.absmax_codes = nearest_code(relative.reshape({-1}), dynamic_code_tensor(flat.device()))
                         .to(torch::kUInt8)
                         .slice(0, 0, blocks)
                         .contiguous();
  return out;
}

torch::Tensor nf4_block_scales(const Nf4Tensor& tensor) {
  if (tensor.absmax.defined()) return tensor.absmax;
  const int64_t blocks = tensor.absmax_codes.numel();
  const torch::Tensor scales =
      tensor.absmax_scales.repeat_interleave(kScaleBlock).slice(0, 0, blocks);
  const torch::Tensor code = dynamic_code_tensor(tensor.absmax_codes.device());
  return code.index_select(0, tensor.absmax_codes.to(torch::kInt64)) * scales +
         tensor.absmax_offset;
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
