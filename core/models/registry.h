#pragma once
// The model families tunebench can build, listed in one place (registry.cpp), and the mapping
// from config.json's "model_type"/"architectures" to a family and a task.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/models/model.h"

namespace tb {

/// Builds a randomly initialised model of one family from its config.json for a task.
using ModelBuilder = std::shared_ptr<LanguageModel> (*)(const nlohmann::json& config,
                                                        ModelTask task, const std::string& where);

/// One registry line: a config.json model_type and the function that builds it.
struct ModelFamily {
  std::string model_type;  // config.json "model_type"
  std::string family;      // implementation file (llama, bert) shown by inspect
  ModelBuilder build;      // constructor
};

/// Every supported family, in the order errors and --help list them.
const std::vector<ModelFamily>& model_families();

/// The supported model_type values, e.g. for an error message.
std::vector<std::string> supported_model_types();

/// The task a transformers class name implies ("LlamaForCausalLM" → kCausalLm,
/// "BertForPreTraining" → kMaskedLm, "BertModel" → kBase); tb::Error for other suffixes.
ModelTask task_from_architecture(const std::string& architecture, const std::string& where);

/// The task of a config.json: its first "architectures" entry, else causal LM for decoders
/// and the bare model for encoders.
ModelTask task_from_config(const nlohmann::json& config, const std::string& where);

/// Builds the model a config.json describes for `task`; unsupported model_type → tb::Error
/// listing the supported ones.
std::shared_ptr<LanguageModel> build_model(const nlohmann::json& config, ModelTask task,
                                           const std::string& where);

}  // namespace tb
