#include "core/train/optimizer.h"

#include <cmath>

#include "core/util/error.h"

namespace tb {

namespace {

// AdamW (amsgrad off) as torch computes it: decoupled decay first, then the bias-corrected
// Adam step.
class AdamW final : public Optimizer {
 public:
  AdamW(std::vector<NamedParameter> parameters, const OptimizerOptions& options)
      : Optimizer(std::move(parameters)), options_(options) {
    for (const auto& [name, parameter] : parameters_) {
      exp_avg_.push_back(torch::zeros_like(parameter, torch::MemoryFormat::Preserve));
      exp_avg_sq_.push_back(torch::zeros_like(parameter, torch::MemoryFormat::Preserve));
      decay_.push_back(!is_no_decay_parameter(name));
    }
  }

  void step(double lr) override {
    torch::NoGradGuard no_grad;
    ++step_;
    const double correction1 = 1.0 - std::pow(options_.beta1, static_cast<double>(step_));
    const double correction2 = 1.0 - std::pow(options_.beta2, static_cast<double>(step_));
    const double step_size = lr / correction1;
    const double correction2_sqrt = std::sqrt(correction2);
    for (size_t i = 0; i < parameters_.size(); ++i) {
      torch::Tensor& parameter = parameters_[i].second;
      const torch::Tensor& grad = parameter.grad();
      if (!grad.defined()) continue;
      if (decay_[i] && options_.weight_decay != 0) parameter.mul_(1.0 - lr * options_.weight_decay);
      // The order and form of LibTorch's AdamW, so both give bit-identical updates.
      exp_avg_[i].mul_(options_.beta1).add_(grad, 1.0 - options_.beta1);
      exp_avg_sq_[i].mul_(options_.beta2).addcmul_(grad, grad, 1.0 - options_.beta2);
      const torch::Tensor denom = (exp_avg_sq_[i].sqrt() / correction2_sqrt).add_(options_.epsilon);
      parameter.addcdiv_(exp_avg_[i], denom, -step_size);
    }
  }

  std::vector<NamedParameter> state() const override {
    std::vector<NamedParameter> state{{"step", torch::tensor(step_, torch::kInt64)}};
    for (size_t i = 0; i < parameters_.size(); ++i) {
      state.emplace_back(parameters_[i].first + ".exp_avg", exp_avg_[i]);
      state.emplace_back(parameters_[i].first + ".exp_avg_sq", exp_avg_sq_[i]);
    }
    return state;
  }

  void load_state(const std::vector<NamedParameter>& state) override {
    auto find = [&state](const std::string& name) -> const torch::Tensor& {
      for (const auto& [key, tensor] : state) {
        if (key == name) return tensor;
      }
      throw make_error("optimizer state '" + name + "' is missing from the checkpoint", {},
                       "The checkpoint belongs to another method or model; resume with the "
                       "config it was written with.");
    };
    step_ = find("step").item<int64_t>();
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < parameters_.size(); ++i) {
      const std::pair<const char*, torch::Tensor*> slots[] = {{".exp_avg", &exp_avg_[i]},
                                                              {".exp_avg_sq", &exp_avg_sq_[i]}};
      for (const auto& [suffix, target] : slots) {
        const torch::Tensor& saved = find(parameters_[i].first + suffix);
        if (!saved.sizes().equals(target->sizes())) {
          throw make_error("optimizer state '" + parameters_[i].first + suffix +
                               "' has a different shape than its parameter",
                           {}, "Resume with the config the checkpoint was written with.");
        }
        target->copy_(saved);
      }
    }
  }

 private:
  OptimizerOptions options_;
  std::vector<torch::Tensor> exp_avg_, exp_avg_sq_;
  std::vector<bool> decay_;
  int64_t step_ = 0;
};

// torch.optim.SGD with momentum (dampening 0, not Nesterov) and L2 weight decay.
class Sgd final : public Optimizer {
 public:
  Sgd(std::vector<NamedParameter> parameters, const OptimizerOptions& options)
      : Optimizer(std::move(parameters)), options_(options) {
    for (const auto& [name, parameter] : parameters_) {
      momentum_.push_back(torch::zeros_like(parameter, torch::MemoryFormat::Preserve));
      decay_.push_back(!is_no_decay_parameter(name));
    }
  }

  void step(double lr) override {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < parameters_.size(); ++i) {
      torch::Tensor& parameter = parameters_[i].second;
      if (!parameter.grad().defined()) continue;
      torch::Tensor grad = parameter.grad();
      if (decay_[i] && options_.weight_decay != 0)
        grad = grad.add(parameter, options_.weight_decay);
      if (options_.beta1 != 0) {
        // torch initialises the buffer with the first gradient, then momentum · buf + grad.
        if (started_) {
          momentum_[i].mul_(options_.beta1).add_(grad);
        } else {
          momentum_[i].copy_(grad);
        }
        grad = momentum_[i];
      }
      parameter.add_(grad, -lr);
    }
    started_ = true;
  }

  std::vector<NamedParameter> state() const override {
    std::vector<NamedParameter> state{{"step", torch::tensor(started_ ? 1 : 0, torch::kInt64)}};
    for (size_t i = 0; i < parameters_.size(); ++i) {
      state.emplace_back(parameters_[i].first + ".momentum", momentum_[i]);
    }
    return state;
  }

  void load_state(const std::vector<NamedParameter>& state) override {
    torch::NoGradGuard no_grad;
    for (const auto& [key, tensor] : state) {
      if (key == "step") started_ = tensor.item<int64_t>() > 0;
      for (size_t i = 0; i < parameters_.size(); ++i) {
        if (key == parameters_[i].first + ".momentum") momentum_[i].copy_(tensor);
      }
    }
  }

 private:
  OptimizerOptions options_;
  std::vector<torch::Tensor> momentum_;
  std::vector<bool> decay_;
  bool started_ = false;
};

}  // namespace

bool is_no_decay_parameter(const std::string& name) {
  const auto ends_with = [&name](const std::string& suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with("bias")) return true;
  // Norm scales: LayerNorm.weight (BERT), *_layernorm.weight / norm.weight (Llama), q_norm/k_norm.
  std::string lower = name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.find("norm") != std::string::npos;
}

Optimizer::Optimizer(std::vector<NamedParameter> parameters) : parameters_(std::move(parameters)) {}

void Optimizer::zero_grad() {
  for (auto& [name, parameter] : parameters_) {
    if (parameter.grad().defined()) parameter.mutable_grad() = torch::Tensor();
  }
}

int64_t Optimizer::state_bytes() const {
  int64_t bytes = 0;
  for (const auto& [name, tensor] : state()) bytes += tensor.numel() * tensor.element_size();
  return bytes;
}

std::unique_ptr<Optimizer> make_optimizer(std::vector<NamedParameter> parameters,
                                          const OptimizerOptions& options) {
  if (options.type == "adamw_torch" || options.type == "adamw") {
    return std::make_unique<AdamW>(std::move(parameters), options);
  }
  if (options.type == "sgd") return std::make_unique<Sgd>(std::move(parameters), options);
  throw make_error("unknown optimizer '" + options.type + "'", "optim", "Use adamw_torch or sgd.");
}

double clip_grad_norm(const std::vector<NamedParameter>& parameters, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (const auto& [name, parameter] : parameters) {
    if (parameter.grad().defined()) norms.push_back(parameter.grad().detach().norm(2));
  }
  if (norms.empty()) return 0.0;
  // torch.nn.utils.clip_grad_norm_: norm of the per-tensor norms, coefficient clamped to 1.
  const torch::Tensor total = torch::stack(norms).norm(2);
  if (max_norm > 0) {
    const torch::Tensor coefficient = torch::clamp_max(max_norm / (total + 1e-6), 1.0);
    for (const auto& [name, parameter] : parameters) {
      if (parameter.grad().defined()) parameter.grad().mul_(coefficient);
    }
  }
  return total.item<double>();
}

}  // namespace tb
