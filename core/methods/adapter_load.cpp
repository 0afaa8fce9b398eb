#include "core/methods/adapter_load.h"
#include "core/tokenizer/json_util.h"

#include <nlohmann/json.hpp>
#include <set>

#include "core/io/safetensors.h"
#include "core/methods/lora.h"
#include "core/methods/prefix.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace tb {

namespace {

std::vector<std::string> string_list(const nlohmann::json& value) {
  if (value.is_string()) return {value.get<std::string>()};
  std::vector<std::string> items;
  if (value.is_array()) {
    for (const auto& item : value) items.push_back(item.get<std::string>());
  }
  return items;
}

// Copies each trainable tensor from the file key `key_of(name)`; every tensor of the file
// must find its place (a classifier saved for SEQ_CLS on a base loaded without one would
// otherwise be dropped without a word).
template <typename KeyOf>
void copy_tensors(const AppliedMethod& method, const SafetensorsFile& file, KeyOf key_of) {
  torch::NoGradGuard no_grad;
  std::set<std::string> used;
  for (const auto& [name, tensor] : method.trainable()) {
    const std::string key = key_of(name);
    used.insert(key);
    if (!file.contains(key)) {
      throw make_error("adapter tensor '" + key + "' is missing", file.path().string(),
                       "The adapter was saved for a different model or method settings.");
    }
    const torch::Tensor stored = file.tensor(key);
    if (stored.sizes() != tensor.sizes()) {
      throw make_error("adapter tensor '" + key + "' has shape " + c10::str(stored.sizes()) +
                           " but the model expects " + c10::str(tensor.sizes()),
                       file.path().string(), "The adapter belongs to a differently sized model.");
    }
    tensor.copy_(stored);
  }
  for (const std::string& key : file.names()) {
    if (used.count(key) == 0) {
      throw make_error(
          "adapter tensor '" + key + "' has no place in " + method.model()->architecture(),
          file.path().string(),
          "The adapter was trained with another head or model; load the base "
          "model with the adapter's task (its adapter_config.json task_type).");
    }
  }
}

}  // namespace

AdapterHead adapter_head(const std::filesystem::path& folder) {
  const std::filesystem::path config_path = folder / "adapter_config.json";
  const nlohmann::json adapter =
      tokenizer_json::parse(read_file(config_path), config_path.string());
  AdapterHead head;
  const nlohmann::json task_type = adapter.value("task_type", nlohmann::json());
  if (!task_type.is_string() || task_type.get<std::string>() != "SEQ_CLS") return head;
  head.task = ModelTask::kSequenceClassification;
  const SafetensorsFile file(folder / "adapter_model.safetensors");
  for (const std::string& name : file.names()) {
    const auto& shape = file.entry(name).shape;
    const bool head_weight = name.find(".classifier.weight") != std::string::npos ||
                             name.find(".score.weight") != std::string::npos;
    if (head_weight && shape.size() == 2) head.num_labels = shape[0];
  }
  return head;
}

std::unique_ptr<AppliedMethod> load_adapter(std::shared_ptr<LanguageModel> model,
                                            const std::filesystem::path& folder,
                                            const RunConfig& config) {
  const std::filesystem::path config_path = folder / "adapter_config.json";
  const nlohmann::json adapter =
      tokenizer_json::parse(read_file(config_path), config_path.string());
  const SafetensorsFile file(folder / "adapter_model.safetensors");
  const std::string type = adapter.value("peft_type", "");
  RunConfig settings = config;
  try {
    if (type == "LORA") {
      MethodSettings& m = settings.method;
      m.finetuning_type = "lora";
      m.lora_rank = adapter.at("r").get<int64_t>();
      m.lora_alpha = adapter.at("lora_alpha").get<double>();
      m.lora_dropout = adapter.value("lora_dropout", 0.0);
      m.lora_target = string_list(adapter.at("target_modules"));
      m.additional_target = string_list(adapter.value("modules_to_save", nlohmann::json()));
      m.use_rslora = adapter.value("use_rslora", false);
      m.use_dora = adapter.value("use_dora", false);
      auto method = apply_lora(std::move(model), settings);
      copy_tensors(*method, file,
                   [](const std::string& name) { return "base_model.model." + name; });
      return method;
    }
    if (type == "PREFIX_TUNING") {
      // As PEFT in inference mode: the saved (already projected) prompt is the embedding.
      MethodSettings& m = settings.method;
      m.finetuning_type = "ptuning";
      m.pre_seq_len = adapter.at("num_virtual_tokens").get<int64_t>();
      m.prefix_projection = false;
      auto method = apply_prefix(std::move(model), settings);
      copy_tensors(*method, file, [](const std::string& name) {
        return name == "prefix_encoder.embedding.weight" ? "prompt_embeddings"
                                                         : "base_model." + name;
      });
      return method;
    }
  } catch (const nlohmann::json::exception& error) {
    throw make_error(std::string("adapter_config.json lacks a field: ") + error.what(),
                     config_path.string(), "Re-save the adapter with PEFT or tunebench.");
  }
  throw make_error("peft_type '" + type + "' is not supported", config_path.string(),
                   "tunebench loads LORA and PREFIX_TUNING adapters.");
}

}  // namespace tb
