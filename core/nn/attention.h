#pragma once
// Scaled dot-product attention, the masks decoders and encoders need, and a key/value cache
// for incremental decoding.

#include <torch/torch.h>

#include <vector>

namespace tb {

/// Keys and values of earlier positions, one entry per layer, [batch, kv_heads, past, head_dim].
class KvCache {
 public:
  /// Number of cached positions (0 when empty).
  int64_t length() const { return keys_.empty() || !keys_[0].defined() ? 0 : keys_[0].size(2); }
  /// Appends this step's keys/values for `layer` and returns all of them (past + new).
  std::pair<torch::Tensor, torch::Tensor> append(size_t layer, const torch::Tensor& keys,
                                                 const torch::Tensor& values);
  /// Forgets everything.
  void clear() { keys_.clear(), values_.clear(); }

 private:
  std::vector<torch::Tensor> keys_;
  std::vector<torch::Tensor> values_;
};

/// Repeats kv heads so grouped-query (GQA/MQA) keys match the query heads: [B,Hkv,T,D] →
/// [B,Hkv*n,T,D].
torch::Tensor repeat_kv(const torch::Tensor& x, int64_t n);

/// softmax(q·kᵀ·scale + mask)·v with the softmax in fp32. q [B,H,Tq,D]; k, v [B,Hkv,Tk,D];
/// mask additive, broadcastable to [B,H,Tq,Tk], or undefined. Uses LibTorch's
/// scaled_dot_product_attention when built against LibTorch ≥ 2.0 and `fused` is true.
torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                        const torch::Tensor& mask, double scale, double dropout = 0.0,
                        bool training = false, bool fused = true);

/// The always-available matmul/softmax implementation of attention() (same arguments).
torch::Tensor attention_reference(const torch::Tensor& q, const torch::Tensor& k,
                                  const torch::Tensor& v, const torch::Tensor& mask, double scale,
                                  double dropout = 0.0, bool training = false);

/// Additive mask [B,1,Tq,past+Tq] for a decoder: query i (absolute position past+i) sees key j
/// when j ≤ past+i, attention_mask[b,j] is 1 and (window = 0 or past+i-j < window).
/// attention_mask is [B,past+Tq] of 0/1 or undefined (all ones). Blocked entries hold the
/// lowest finite value of `dtype` so fully padded rows stay finite.
torch::Tensor causal_mask(const torch::Tensor& attention_mask, int64_t batch, int64_t query_len,
                          int64_t past, torch::ScalarType dtype, torch::Device device,
                          int64_t window = 0);

/// Additive mask [B,1,1,T] for an encoder from attention_mask [B,T] (1 = token, 0 = padding).
torch::Tensor padding_mask(const torch::Tensor& attention_mask, torch::ScalarType dtype);

/// Position ids for new tokens: with padding, counts only real tokens (cumsum of the mask - 1,
/// pads get 1) so a padded row sees the same positions as its unpadded self; without a mask,
/// past … past+query_len-1. Returns [B,query_len] int64.
torch::Tensor default_position_ids(const torch::Tensor& attention_mask, int64_t batch,
                                   int64_t query_len, int64_t past, torch::Device device);

}  // namespace tb
