#include "core/train/optimizer.h"

#include <algorithm>
#include <cmath>

#include "core/train/adamw_kernel.h"
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

  void step(double lr, double gradient_scale) override {
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
      const double decay = decay_[i] ? lr * options_.weight_decay : 0.0;
      if (fusable(parameter, grad, i)) {
        AdamWStep s;
        s.decay_factor = static_cast<float>(1.0 - decay);
        s.beta1 = static_cast<float>(options_.beta1);
        s.beta2 = static_cast<float>(options_.beta2);
        s.step_size = static_cast<float>(step_size);
        s.correction2_sqrt = static_cast<float>(correction2_sqrt);
        s.epsilon = static_cast<float>(options_.epsilon);
        s.gradient_scale = static_cast<float>(gradient_scale);
        adamw_update(parameter.data_ptr<float>(), grad.data_ptr<float>(),
                     exp_avg_[i].data_ptr<float>(), exp_avg_sq_[i].data_ptr<float>(),
                     parameter.numel(), s);
        continue;
      }
      // Other dtypes, devices or layouts: torch's own sequence of tensor operations.
      const torch::Tensor g = gradient_scale == 1.0 ? grad : grad * gradient_scale;
      if (decay != 0) parameter.mul_(1.0 - decay);
      exp_avg_[i].mul_(options_.beta1).add_(g, 1.0 - options_.beta1);
      exp_avg_sq_[i].mul_(options_.beta2).addcmul_(g, g, 1.0 - options_.beta2);
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
  // The one-pass kernel needs fp32 CPU tensors laid out alike.
  bool fusable(const torch::Tensor& parameter, const torch::Tensor& grad, size_t i) const {
    const auto dense_fp32_cpu = [](const torch::Tensor& t) {
      return t.device().is_cpu() && t.scalar_type() == torch::kFloat32 && t.is_contiguous();
    };
    return dense_fp32_cpu(parameter) && dense_fp32_cpu(grad) && dense_fp32_cpu(exp_avg_[i]) &&
           dense_fp32_cpu(exp_avg_sq_[i]) && grad.numel() == parameter.numel();
  }

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

  void step(double lr, double gradient_scale) override {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < parameters_.size(); ++i) {
      torch::Tensor& parameter = parameters_[i].second;
      if (!parameter.grad().defined()) continue;
      torch::Tensor grad =
          gradient_scale == 1.0 ? parameter.grad() : parameter.grad() * gradient_scale;
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

double gradient_norm(const std::vector<NamedParameter>& parameters) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (const auto& [name, parameter] : parameters) {
    if (parameter.grad().defined()) norms.push_back(parameter.grad().detach().norm(2));
  }
  if (norms.empty()) return 0.0;
  return torch::stack(norms).norm(2).item<double>();
}

double clip_factor(double norm, double max_norm) {
  if (max_norm <= 0) return 1.0;
  return std::min(1.0, max_norm / (norm + 1e-6));
}

double clip_grad_norm(const std::vector<NamedParameter>& parameters, double max_norm) {
  torch::NoGradGuard no_grad;
  const double norm = gradient_norm(parameters);
  const double factor = clip_factor(norm, max_norm);
  if (factor != 1.0) {
    for (const auto& [name, parameter] : parameters) {
      if (parameter.grad().defined()) parameter.grad().mul_(factor);
    }
  }
  return norm;
}

}  // namespace tb
