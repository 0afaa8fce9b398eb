#pragma once
// Optimizers with state we own (so checkpoints hold exactly what resume needs): AdamW with
// decoupled weight decay, as torch.optim.AdamW computes it, and SGD with momentum. Biases and
// norm scales get no weight decay, as transformers' Trainer groups them.

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tb {

/// Optimizer settings (transformers' TrainingArguments names).
struct OptimizerOptions {
  std::string type = "adamw_torch";  // adamw_torch | sgd
  double weight_decay = 0.0;         // decoupled decay (AdamW) / L2 (SGD), not on bias/norms
  double beta1 = 0.9;                // AdamW β1 (SGD: momentum)
  double beta2 = 0.999;              // AdamW β2
  double epsilon = 1e-8;             // AdamW ε
};

/// A trainable tensor and its name (the name decides weight decay and checkpoint keys).
using NamedParameter = std::pair<std::string, torch::Tensor>;

/// True for parameters that get no weight decay: biases and normalisation scales.
bool is_no_decay_parameter(const std::string& name);

/// An optimizer over named parameters with named, checkpointable state.
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  /// Applies one update with learning rate `lr` from the parameters' .grad(), each gradient
  /// taken times `gradient_scale` (the clipping factor; the .grad() tensors are not changed).
  virtual void step(double lr, double gradient_scale = 1.0) = 0;
  /// Sets every .grad() to none.
  void zero_grad();
  /// Optimizer state tensors by name ("<param>.exp_avg", …) plus "step" as a 0-d tensor.
  virtual std::vector<NamedParameter> state() const = 0;
  /// Restores state(); throws tb::Error naming a missing or mis-shaped tensor.
  virtual void load_state(const std::vector<NamedParameter>& state) = 0;
  /// Bytes of optimizer state (memory accounting).
  int64_t state_bytes() const;
  /// The parameters being optimised.
  const std::vector<NamedParameter>& parameters() const { return parameters_; }

 protected:
  explicit Optimizer(std::vector<NamedParameter> parameters);
  std::vector<NamedParameter> parameters_;
};

/// Builds the optimizer named in `options` (tb::Error for an unknown type).
std::unique_ptr<Optimizer> make_optimizer(std::vector<NamedParameter> parameters,
                                          const OptimizerOptions& options);

/// The global L2 norm of the gradients (the norm of the per-tensor norms, as
/// torch.nn.utils.clip_grad_norm_ computes it).
double gradient_norm(const std::vector<NamedParameter>& parameters);

/// The factor clip_grad_norm_ multiplies gradients by: max_norm / (norm + 1e-6), at most 1;
/// 1 when max_norm is 0 (no clipping).
double clip_factor(double norm, double max_norm);

/// Clips the global L2 norm of the gradients to `max_norm` (0 = no clipping) in place; returns
/// the norm before clipping (as torch.nn.utils.clip_grad_norm_). The trainer instead passes
/// clip_factor to Optimizer::step, which saves a pass over the gradients.
double clip_grad_norm(const std::vector<NamedParameter>& parameters, double max_norm);

}  // namespace tb
