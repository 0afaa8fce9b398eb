#include "core/models/registry.h"

#include "core/io/hf_folder.h"
#include "core/models/bert.h"
#include "core/models/llama.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb {
using nlohmann::json;

std::string task_name(ModelTask task) {
  switch (task) {
    case ModelTask::kBase:
      return "base";
    case ModelTask::kCausalLm:
      return "causal_lm";
    case ModelTask::kSequenceClassification:
      return "sequence_classification";
    case ModelTask::kMaskedLm:
      return "masked_lm";
  }
  return "unknown";
}

const std::vector<ModelFamily>& model_families() {
  // Adding a family: one .h/.cpp pair in core/models/ and one line here.
  static const std::vector<ModelFamily> families = {
      {"llama", "llama", build_llama},  // also DeepSeek-LLM (model_type "llama")
      {"mistral", "llama", build_llama}, {"qwen2", "llama", build_llama},
      {"qwen3", "llama", build_llama},   {"bert", "bert", build_bert},
  };
  return families;
}

std::vector<std::string> supported_model_types() {
  std::vector<std::string> types;
  for (const ModelFamily& family : model_families()) types.push_back(family.model_type);
  return types;
}

ModelTask task_from_architecture(const std::string& architecture, const std::string& where) {
  const auto ends_with = [&](const std::string& suffix) {
    return architecture.size() > suffix.size() &&
           architecture.compare(architecture.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with("ForCausalLM")) return ModelTask::kCausalLm;
  if (ends_with("ForSequenceClassification")) return ModelTask::kSequenceClassification;
  // Pre-training checkpoints (bert-base-uncased) carry the MLM head plus NSP, which is unused.
  if (ends_with("ForMaskedLM") || ends_with("ForPreTraining")) return ModelTask::kMaskedLm;
  if (ends_with("Model")) return ModelTask::kBase;
  throw make_error("architecture '" + architecture + "' is not supported", where,
                   "Supported heads: ...Model, ...ForCausalLM, ...ForSequenceClassification, "
                   "...ForMaskedLM (BERT).");
}

ModelTask task_from_config(const json& config, const std::string& where) {
  const auto found = config.find("architectures");
  if (found != config.end() && found->is_array() && !found->empty() && found->front().is_string()) {
    return task_from_architecture(found->front().get<std::string>(), where);
  }
  return config_string(config, "model_type", "", where) == "bert" ? ModelTask::kBase
                                                                  : ModelTask::kCausalLm;
}

std::shared_ptr<LanguageModel> build_model(const json& config, ModelTask task,
                                           const std::string& where) {
  const std::string type = config_string(config, "model_type", "", where);
  for (const ModelFamily& family : model_families()) {
    if (family.model_type == type) return family.build(config, task, where);
  }
  const std::string guess = closest_match(type, supported_model_types());
  throw make_error(type.empty() ? "config.json has no \"model_type\""
                                : "model_type '" + type + "' is not supported",
                   where,
                   (guess.empty() ? "" : "Did you mean '" + guess + "'? ") +
                       std::string("Supported model types: ") +
                       join(supported_model_types(), ", ") + ".");
}

}  // namespace tb
