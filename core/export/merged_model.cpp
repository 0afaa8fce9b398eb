#include "core/export/merged_model.h"

#include <torch/torch.h>

#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/io/hf_folder.h"
#include "core/io/safetensors.h"
#include "core/models/loader.h"
#include "core/util/error.h"

namespace tb {

namespace {

// What a tensor name from an adapter looks like (not part of the merged model).
bool is_adapter_tensor(const std::string& name) {
  return name.find(".lora_A.") != std::string::npos || name.find(".lora_B.") != std::string::npos ||
         name.find(".lora_magnitude_vector.") != std::string::npos;
}

std::string dtype_name(torch::ScalarType dtype) {
  if (dtype == torch::kFloat16) return "float16";
  if (dtype == torch::kBFloat16) return "bfloat16";
  return "float32";
}

}  // namespace

uint64_t parse_byte_size(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
    ++digits;
  }
  const std::string unit = text.substr(digits);
  static const std::vector<std::pair<std::string, double>> units = {{"", 1},
                                                                    {"B", 1},
                                                                    {"KB", 1e3},
                                                                    {"MB", 1e6},
                                                                    {"GB", 1e9},
                                                                    {"TB", 1e12},
                                                                    {"KiB", 1024.0},
                                                                    {"MiB", 1048576.0},
                                                                    {"GiB", 1073741824.0},
                                                                    {"TiB", 1099511627776.0}};
  for (const auto& [name, factor] : units) {
    if (digits > 0 && unit == name) {
      const double value = std::stod(text.substr(0, digits)) * factor;
      if (value >= 1) return static_cast<uint64_t>(value);
    }
  }
  throw make_error("\"" + text + "\" is not a size", "max_shard_size",
                   "Write a number with an optional unit: 5GB, 500MB, 2GiB.");
}

torch::ScalarType parse_weight_dtype(const std::string& text) {
  if (text == "f32" || text == "float32") return torch::kFloat32;
  if (text == "f16" || text == "float16") return torch::kFloat16;
  if (text == "bf16" || text == "bfloat16") return torch::kBFloat16;
  throw make_error("\"" + text + "\" is not a weight dtype for a Hugging Face folder", "--dtype",
                   "Use f32, f16 or bf16 (q8_0 exists only in GGUF).");
}

TensorList merged_state(AppliedMethod& method) {
  if (method.name() == "ptuning") {
    throw make_error("P-tuning v2 prompts cannot be merged into the weights", "export",
                     "Export the adapter (--format peft); PEFT loads it as PREFIX_TUNING.");
  }
  if (method.can_merge()) method.merge();
  // The verbalizer and P-tuning wrap the model; export what lies beneath them.
  TensorList state;
  for (auto& [name, tensor] : model_state(*method.model())) {
    if (!is_adapter_tensor(name)) state.emplace_back(name, tensor.detach());
  }
  return state;
}

void save_hf_model(const nlohmann::json& config, const TensorList& state,
                   const std::filesystem::path& folder, const MergedModelOptions& options) {
  std::filesystem::create_directories(folder);
  // transformers' sharding: tensors in order, a new shard when the next one would overflow.
  // Sizes are known before conversion, so only one shard is ever converted at a time.
  std::vector<std::vector<size_t>> shards(1);
  uint64_t shard_bytes = 0, total_bytes = 0;
  const int64_t element_bytes = torch::elementSize(options.dtype);
  for (size_t i = 0; i < state.size(); ++i) {
    const uint64_t bytes = static_cast<uint64_t>(state[i].second.numel() * element_bytes);
    if (!shards.back().empty() && shard_bytes + bytes > options.max_shard_size) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(i);
    shard_bytes += bytes;
    total_bytes += bytes;
  }
  auto converted = [&](const std::vector<size_t>& shard) {
    TensorList tensors;
    for (size_t i : shard) {
      tensors.emplace_back(state[i].first,
                           state[i].second.to(torch::kCPU, options.dtype).contiguous());
    }
    return tensors;
  };
  nlohmann::json out = config;
  out["torch_dtype"] = dtype_name(options.dtype);
  write_json_file(folder / "config.json", out);
  if (shards.size() == 1) {
    save_safetensors(folder / "model.safetensors", converted(shards.front()));
    return;
  }
  nlohmann::json index = {{"metadata", {{"total_size", total_bytes}}},
                          {"weight_map", nlohmann::json::object()}};
  for (size_t i = 0; i < shards.size(); ++i) {
    char file[64];
    std::snprintf(file, sizeof(file), "model-%05zu-of-%05zu.safetensors", i + 1, shards.size());
    save_safetensors(folder / file, converted(shards[i]));
    for (size_t t : shards[i]) index["weight_map"][state[t].first] = file;
  }
  write_json_file(folder / "model.safetensors.index.json", index);
}

}  // namespace tb
