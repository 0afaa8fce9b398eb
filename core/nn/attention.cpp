#include "core/nn/attention.h"

#include "core/nn/attention_cpu.h"

#include <torch/version.h>

#include <cmath>
#include <limits>

namespace tb {

std::pair<torch::Tensor, torch::Tensor> KvCache::append(size_t layer, const torch::Tensor& keys,
                                                        const torch::Tensor& values) {
  if (keys_.size() <= layer) keys_.resize(layer + 1), values_.resize(layer + 1);
  if (keys_[layer].defined()) {
    keys_[layer] = torch::cat({keys_[layer], keys}, 2);
    values_[layer] = torch::cat({values_[layer], values}, 2);
  } else {
    keys_[layer] = keys;
    values_[layer] = values;
  }
  return {keys_[layer], values_[layer]};
}

torch::Tensor repeat_kv(const torch::Tensor& x, int64_t n) {
  if (n == 1) return x;
  const auto sizes = x.sizes();
  return x.unsqueeze(2)
      .expand({sizes[0], sizes[1], n, sizes[2], sizes[3]})
      .reshape({sizes[0], sizes[1] * n, sizes[2], sizes[3]});
}

torch::Tensor attention_reference(const torch::Tensor& q, const torch::Tensor& k,
                                  const torch::Tensor& v, const torch::Tensor& mask, double scale,
                                  double dropout, bool training) {
  const int64_t groups = q.size(1) / k.size(1);
  const torch::Tensor keys = repeat_kv(k, groups);
  const torch::Tensor values = repeat_kv(v, groups);
  // The scale goes on q (head_dim wide) rather than on the scores (key-length wide: 4× the
  // data at 256 tokens and 64-wide heads), and the mask is added in place to the fresh product
  // (nothing saved it for backward): two fewer passes over the largest tensors of attention,
  // forward and backward.
  torch::Tensor scores = torch::matmul(q * scale, keys.transpose(2, 3));
  if (mask.defined()) scores.add_(mask);
  // fp32 softmax as transformers' eager path: bf16 exponentials lose the small weights.
  torch::Tensor weights = torch::softmax(scores, -1, torch::kFloat32).to(q.scalar_type());
  if (training && dropout > 0) weights = torch::dropout(weights, dropout, true);
  return torch::matmul(weights, values);
}

torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& mask, double scale, double dropout, bool training,
                        bool fused) {
#if TORCH_VERSION_MAJOR >= 2
  if (fused) {
    const int64_t groups = q.size(1) / k.size(1);
    // The fused kernel scales by 1/sqrt(head_dim) itself and LibTorch 2.0 has no scale
    // argument, so any other scale is folded into q.
    const double own = 1.0 / std::sqrt(double(q.size(-1)));
    const torch::Tensor query = std::abs(scale - own) < 1e-12 ? q : q * (scale / own);
    return at::scaled_dot_product_attention(
        query, repeat_kv(k, groups), repeat_kv(v, groups),
        mask.defined() ? c10::optional<torch::Tensor>(mask.to(q.scalar_type())) : c10::nullopt,
        training ? dropout : 0.0, false);
  }
#else
  (void)fused;  // LibTorch 1.13 has no fused kernel of its own.
#endif
  if (fused_attention_cpu_applies(q, k, v, mask, dropout, training)) {
    return fused_attention_cpu(q, k, v, mask, scale);
  }
  return attention_reference(q, k, v, mask, scale, dropout, training);
}

torch::Tensor causal_mask(const torch::Tensor& attention_mask, int64_t batch, int64_t query_len,
                          int64_t past, torch::ScalarType dtype, torch::Device device,
                          int64_t window) {
  const int64_t key_len = past + query_len;
  const auto long_options = torch::TensorOptions().dtype(torch::kInt64).device(device);
  const torch::Tensor query_pos = torch::arange(past, key_len, long_options).view({-1, 1});
  const torch::Tensor key_pos = torch::arange(0, key_len, long_options).view({1, -1});
  torch::Tensor allowed = key_pos <= query_pos;  // [Tq, Tk]
  if (window > 0) allowed = allowed.logical_and(query_pos - key_pos < window);
  allowed = allowed.view({1, 1, query_len, key_len}).expand({batch, 1, query_len, key_len});
  if (attention_mask.defined()) {
    allowed = allowed.logical_and(attention_mask.to(device).view({batch, 1, 1, key_len}) != 0);
  }
  const double lowest = dtype == torch::kBFloat16  ? -3.38e38
                        : dtype == torch::kFloat16 ? -65504.0
                                                   : double(std::numeric_limits<float>::lowest());
  return torch::zeros({batch, 1, query_len, key_len},
                      torch::TensorOptions().dtype(dtype).device(device))
      .masked_fill(allowed.logical_not(), lowest);
}

torch::Tensor padding_mask(const torch::Tensor& attention_mask, torch::ScalarType dtype) {
  const double lowest = dtype == torch::kBFloat16  ? -3.38e38
                        : dtype == torch::kFloat16 ? -65504.0
                                                   : double(std::numeric_limits<float>::lowest());
  const torch::Tensor blocked = (attention_mask == 0).unsqueeze(1).unsqueeze(1);
  return torch::zeros(blocked.sizes(), attention_mask.options().dtype(dtype))
      .masked_fill(blocked, lowest);
}

torch::Tensor default_position_ids(const torch::Tensor& attention_mask, int64_t batch,
                                   int64_t query_len, int64_t past, torch::Device device) {
  if (!attention_mask.defined()) {
    return torch::arange(past, past + query_len,
                         torch::TensorOptions().dtype(torch::kInt64).device(device))
        .unsqueeze(0)
        .expand({batch, query_len});
  }
  const torch::Tensor mask = attention_mask.to(device).to(torch::kInt64);
  torch::Tensor positions = mask.cumsum(-1) - 1;
  positions.masked_fill_(mask == 0, 1);
  return positions.slice(1, positions.size(1) - query_len, positions.size(1));
}

}  // namespace tb
