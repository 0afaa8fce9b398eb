#include "core/methods/method.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/models/loader.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb {

namespace {

std::string mib(int64_t bytes) { return format_mib(bytes) + " MiB"; }

int64_t config_size(const nlohmann::json& config, const char* key, int64_t fallback) {
  const auto found = config.find(key);
  return found != config.end() && found->is_number_integer() ? found->get<int64_t>() : fallback;
}

}  // namespace

std::string TrainableReport::text() const {
  // Thousands separators, as PEFT prints them.
  const auto grouped = [](int64_t value) {
    std::string digits = std::to_string(value);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
    return digits;
  };
  char percent[32];
  std::snprintf(
      percent, sizeof(percent), "%.4f",
      total > 0 ? 100.0 * static_cast<double>(trainable) / static_cast<double>(total) : 0.0);
  return "trainable params: " + grouped(trainable) + " || all params: " + grouped(total) +
         " || trainable%: " + percent;
}

std::string MemoryEstimate::text() const {
  return "weights " + mib(weights) + ", gradients " + mib(gradients) + ", optimizer " +
         mib(optimizer) + ", activations " + mib(activations) + " (total " + mib(total()) + ")";
}

std::vector<NamedParameter> AppliedMethod::trainable() const {
  return parameters_requiring_grad(*model_);
}

TrainableReport AppliedMethod::report() const { return count_parameters(*model_); }

std::vector<NamedParameter> AppliedMethod::saved_state() const { return model_state(*model_); }

void AppliedMethod::merge() {
  throw make_error("method " + name() + " has nothing to merge", "merge",
                   "Only LoRA adapters can be merged into the base weights.");
}

void AppliedMethod::unmerge() {
  throw make_error("method " + name() + " has nothing to unmerge", "unmerge",
                   "Only LoRA adapters can be merged into the base weights.");
}

MemoryEstimate AppliedMethod::estimate_memory(int64_t batch, int64_t length) const {
  return estimate_for(*model_, trainable(), batch, length);
}

TrainableReport count_parameters(const LanguageModel& model) {
  TrainableReport report;
  for (const auto& parameter : model.parameters()) {
    report.total += parameter.numel();
    if (parameter.requires_grad()) report.trainable += parameter.numel();
  }
  return report;
}

std::vector<NamedParameter> parameters_requiring_grad(const LanguageModel& model) {
  std::vector<NamedParameter> parameters;
  for (const auto& item : model.named_parameters()) {
    if (item.value().requires_grad()) parameters.emplace_back(item.key(), item.value());
  }
  return parameters;
}

void set_requires_grad(LanguageModel& model, bool value) {
  for (auto& parameter : model.parameters()) parameter.set_requires_grad(value);
}

int64_t activation_bytes(const LanguageModel& model, int64_t batch, int64_t length,
                         int64_t layers) {
  const nlohmann::json config = model.config_json();
  const int64_t hidden = config_size(config, "hidden_size", 0);
  const int64_t inner = config_size(config, "intermediate_size", 4 * hidden);
  const int64_t heads = config_size(config, "num_attention_heads", 1);
  const int64_t all_layers = config_size(config, "num_hidden_layers", 0);
  const int64_t kept_layers = layers < 0 ? all_layers : std::min(layers, all_layers);
  const auto parameters = model.parameters();
  const int64_t element = parameters.empty() ? 4 : int64_t(parameters.front().element_size());
  const int64_t tokens = batch * length;
  // Per layer: inputs of the norms, q/k/v/o and MLP projections (~6·h + 3·inner per token),
  // and the attention scores and probabilities (2·heads·length per token), as in
  // Korthikanti et al.'s accounting without recomputation.
  const int64_t per_layer = tokens * (6 * hidden + 3 * inner + 2 * heads * length) * element;
  // Token logits and their fp32 softmax for LM heads; classification logits are negligible.
  // (A verbalizer still computes the MLM head over every position.)
  const bool token_logits = model.task() == ModelTask::kCausalLm ||
                            model.task() == ModelTask::kMaskedLm ||
                            model.architecture().find("ForMaskedLM") != std::string::npos;
  const int64_t logits = token_logits ? tokens * model.vocab_size() * (element + 4) : 0;
  return kept_layers * per_layer + (kept_layers > 0 || token_logits ? logits : 0);
}

MemoryEstimate estimate_for(const LanguageModel& model,
                            const std::vector<NamedParameter>& trainable, int64_t batch,
                            int64_t length, int64_t layers) {
  MemoryEstimate estimate;
  for (const auto& tensor : model.parameters()) estimate.weights += tensor.nbytes();
  for (const auto& tensor : model.buffers()) estimate.weights += tensor.nbytes();
  for (const auto& [name, tensor] : trainable) {
    estimate.gradients += tensor.nbytes();
    estimate.optimizer += 2 * tensor.numel() * 4;  // exp_avg and exp_avg_sq in fp32
  }
  estimate.activations = trainable.empty() ? 0 : activation_bytes(model, batch, length, layers);
  return estimate;
}

}  // namespace tb
