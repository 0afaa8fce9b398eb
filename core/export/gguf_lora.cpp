#include "core/export/gguf_lora.h"
#include "core/tokenizer/json_util.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/export/gguf_model.h"
#include "core/io/safetensors.h"
#include "core/models/llama.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace tb {

namespace {

using json = nlohmann::json;

bool is_empty(const json& value) { return value.is_null() || value.empty(); }

}  // namespace

GgufWriter gguf_for_lora(const json& base_config, const std::filesystem::path& adapter_folder,
                         GgmlType type) {
  const std::filesystem::path config_path = adapter_folder / "adapter_config.json";
  const json adapter = tokenizer_json::parse(read_file(config_path), config_path.string());
  const std::string where = config_path.string();
  const std::string merged_hint = "Export the merged model instead (--format gguf with --adapter).";
  if (adapter.value("peft_type", "") != "LORA") {
    throw make_error("peft_type \"" + adapter.value("peft_type", std::string()) +
                         "\" cannot be a llama.cpp adapter (only LORA can)",
                     where, merged_hint);
  }
  if (adapter.value("use_dora", false)) {
    throw make_error("DoRA adapters have no llama.cpp form", where, merged_hint);
  }
  if (!is_empty(adapter.value("modules_to_save", json()))) {
    throw make_error(
        "modules_to_save (fully trained modules) cannot be carried by a llama.cpp "
        "LoRA adapter",
        where, merged_hint);
  }
  if (!is_empty(adapter.value("rank_pattern", json())) ||
      !is_empty(adapter.value("alpha_pattern", json()))) {
    throw make_error(
        "per-layer rank_pattern/alpha_pattern cannot be expressed with llama.cpp's "
        "single adapter.lora.alpha",
        where, merged_hint);
  }
  const std::string arch = gguf_architecture(base_config);
  const double rank = adapter.at("r").get<double>();
  const double alpha = adapter.at("lora_alpha").get<double>();
  const double scaling =
      adapter.value("use_rslora", false) ? alpha / std::sqrt(rank) : alpha / rank;

  GgufWriter writer;
  writer.set("general.architecture", GgufValue::string(arch));
  writer.set("general.type", GgufValue::string("adapter"));
  writer.set("general.name", GgufValue::string(adapter.value("base_model_name_or_path",
                                                             std::string("tunebench adapter"))));
  writer.set("adapter.type", GgufValue::string("lora"));
  writer.set("adapter.lora.alpha", GgufValue::f32(static_cast<float>(scaling * rank)));

  const LlamaConfig c = llama_config_from_json(base_config, "config.json");
  const SafetensorsFile file(adapter_folder / "adapter_model.safetensors");
  const std::string prefix = "base_model.model.";
  for (const std::string& key : file.names()) {
    const bool is_a = key.find(".lora_A.weight") != std::string::npos;
    const bool is_b = key.find(".lora_B.weight") != std::string::npos;
    if ((!is_a && !is_b) || key.rfind(prefix, 0) != 0) {
      throw make_error("tensor \"" + key + "\" is not a LoRA A/B matrix", file.path().string(),
                       merged_hint);
    }
    const std::string module = key.substr(
        prefix.size(), key.size() - prefix.size() - std::string(".lora_A.weight").size());
    const std::optional<std::string> base = gguf_tensor_name(module + ".weight");
    if (!base) {
      throw make_error("the adapted module \"" + module + "\" has no llama.cpp counterpart",
                       file.path().string(), merged_hint);
    }
    torch::Tensor data = file.tensor(key);
    if (is_b && arch == "llama" && module.find("self_attn.q_proj") != std::string::npos) {
      data = permute_for_llama_rope(data, c.num_attention_heads);
    } else if (is_b && arch == "llama" && module.find("self_attn.k_proj") != std::string::npos) {
      data = permute_for_llama_rope(data, c.num_key_value_heads);
    }
    writer.add_tensor(*base + (is_a ? ".lora_a" : ".lora_b"), data, type);
  }
  return writer;
}

}  // namespace tb
