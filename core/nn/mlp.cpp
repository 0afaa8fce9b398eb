#include "core/nn/mlp.h"

#include <vector>

#include "core/nn/swiglu_cpu.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb {

namespace {
const std::vector<std::string> kActivations = {
    "silu", "swish", "gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "relu", "tanh"};
}

bool is_known_activation(const std::string& name) {
  return std::find(kActivations.begin(), kActivations.end(), name) != kActivations.end();
}

void check_activation(const std::string& name, const std::string& where) {
  if (is_known_activation(name)) return;
  const std::string guess = closest_match(name, kActivations);
  throw make_error("hidden_act '" + name + "' is not supported", where,
                   (guess.empty() ? "" : "Did you mean '" + guess + "'? ") +
                       std::string("Supported: ") + join(kActivations, ", ") + ".");
}

torch::Tensor activation(const std::string& name, const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  if (name == "silu" || name == "swish") return torch::silu(x);
  if (name == "gelu") return torch::gelu(x);  // exact (erf), as transformers' "gelu"
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") {
    return torch::gelu(x, "tanh");
  }
  if (name == "relu") return torch::relu(x);
  if (name == "tanh") return torch::tanh(x);
  check_activation(name, "hidden_act");
  return x;
}

GatedMlpImpl::GatedMlpImpl(const GatedMlpOptions& options_) : options(options_) { reset(); }

void GatedMlpImpl::reset() {
  check_activation(options.act(), "config.json");
  const auto linear = [&](int64_t in, int64_t out) {
    return Linear(torch::nn::LinearOptions(in, out).bias(options.bias()));
  };
  gate_proj =
      register_module("gate_proj", linear(options.hidden_size(), options.intermediate_size()));
  up_proj = register_module("up_proj", linear(options.hidden_size(), options.intermediate_size()));
  down_proj =
      register_module("down_proj", linear(options.intermediate_size(), options.hidden_size()));
}

torch::Tensor GatedMlpImpl::forward(const torch::Tensor& x) {
  const torch::Tensor gate = gate_proj(x), up = up_proj(x);
  const bool silu = options.act() == "silu" || options.act() == "swish";
  if (silu && silu_times_cpu_applies(gate, up)) return down_proj(silu_times_cpu(gate, up));
  return down_proj(activation(options.act(), gate) * up);
}

}  // namespace tb
