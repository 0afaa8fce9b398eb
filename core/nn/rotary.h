#pragma once
// Rotary position embeddings (RoPE) with the "rotate half" layout transformers uses, and the
// rope_scaling variants of config.json: default, linear, dynamic (NTK) and llama3.

#include <torch/torch.h>

#include <string>
#include <utility>

namespace tb {

/// config.json "rope_scaling"; type "default" means none.
struct RopeScaling {
  std::string type = "default";                  // default | linear | dynamic | llama3
  double factor = 1.0;                           // context extension factor
  double low_freq_factor = 1.0;                  // llama3 only
  double high_freq_factor = 4.0;                 // llama3 only
  int64_t original_max_position_embeddings = 0;  // llama3/dynamic; 0 = max_position_embeddings
};

/// Options of Rotary.
struct RotaryOptions {
  int64_t head_dim = 64;                   // rotated dimension (the whole head)
  double theta = 10000.0;                  // config.json rope_theta
  int64_t max_position_embeddings = 2048;  // config.json max_position_embeddings
  RopeScaling scaling;                     // config.json rope_scaling
};

/// Computes cos/sin tables for given positions. Holds no parameters (transformers does not
/// save inv_freq either).
class Rotary {
 public:
  /// Precomputes the inverse frequencies; throws tb::Error for an unknown scaling type.
  explicit Rotary(const RotaryOptions& options);
  /// cos and sin of shape [batch, seq, head_dim] for position_ids [batch, seq], in `dtype`.
  std::pair<torch::Tensor, torch::Tensor> cos_sin(const torch::Tensor& position_ids,
                                                  torch::ScalarType dtype) const;
  /// The inverse frequencies used for positions below the original context, [head_dim/2].
  const torch::Tensor& inv_freq() const { return inv_freq_; }

 private:
  RotaryOptions options_;
  torch::Tensor inv_freq_;
};

/// Rotates x [batch, heads, seq, head_dim] by cos/sin [batch, seq, head_dim].
torch::Tensor apply_rotary(const torch::Tensor& x, const torch::Tensor& cos,
                           const torch::Tensor& sin);

}  // namespace tb
