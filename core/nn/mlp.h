#pragma once
// Feed-forward blocks and the activations config.json names in "hidden_act".

#include <torch/torch.h>

#include <string>

#include "core/nn/linear.h"

namespace tb {

/// Whether "hidden_act" names an activation this code implements.
bool is_known_activation(const std::string& name);
/// Throws tb::Error naming `where` and listing the known activations when `name` is unknown.
void check_activation(const std::string& name, const std::string& where);
/// Applies an activation by its transformers name (silu, gelu, gelu_new, relu, …).
torch::Tensor activation(const std::string& name, const torch::Tensor& x);

/// Options of GatedMlp.
struct GatedMlpOptions {
  /// A gated MLP hidden_size → intermediate_size → hidden_size.
  GatedMlpOptions(int64_t hidden_size, int64_t intermediate_size)
      : hidden_size_(hidden_size), intermediate_size_(intermediate_size) {}
  TORCH_ARG(int64_t, hidden_size);        // model width; required
  TORCH_ARG(int64_t, intermediate_size);  // inner width; required
  TORCH_ARG(bool, bias) = false;          // biases on the three projections (mlp_bias)
  TORCH_ARG(std::string, act) = "silu";   // activation of the gate (hidden_act)
};

/// down_proj(act(gate_proj(x)) * up_proj(x)), names as in transformers' LlamaMLP.
class GatedMlpImpl : public torch::nn::Cloneable<GatedMlpImpl> {
 public:
  /// Creates the three projections.
  explicit GatedMlpImpl(const GatedMlpOptions& options);
  /// (Re)creates the projections.
  void reset() override;
  /// Applies the block to x [..., hidden_size].
  torch::Tensor forward(const torch::Tensor& x);

  GatedMlpOptions options;    // as constructed
  Linear gate_proj{nullptr};  // hidden → intermediate
  Linear up_proj{nullptr};    // hidden → intermediate
  Linear down_proj{nullptr};  // intermediate → hidden
};
TORCH_MODULE(GatedMlp);

}  // namespace tb
