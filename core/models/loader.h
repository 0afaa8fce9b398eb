#pragma once
// Loading and saving Hugging Face model folders: config.json → family and task → module, then
// safetensors weights matched by transformers' tensor names (zero copy when the dtype already
// matches), with a report of what was missing, unexpected or freshly initialised.

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/io/safetensors.h"
#include "core/models/model.h"

namespace tb {

/// How to load a model folder.
struct LoadOptions {
  torch::ScalarType dtype = torch::kFloat32;  // compute dtype: kFloat32 or kBFloat16
  torch::Device device = torch::kCPU;         // where the weights go
  std::optional<ModelTask> task;              // head to build; unset = from "architectures"
  int64_t num_labels = 0;                     // classes of a classification head; 0 = config
  bool strict = true;  // a missing backbone tensor is an error (heads are always initialised)
};

/// What loading did with each tensor name.
struct LoadReport {
  std::vector<std::string> missing;      // expected but absent (only when strict is false)
  std::vector<std::string> unexpected;   // in the checkpoint, not used by this model
  std::vector<std::string> initialised;  // head tensors absent from the checkpoint, initialised
  int64_t zero_copy = 0;                 // tensors used straight from the memory map
  int64_t converted = 0;                 // tensors copied (dtype or device conversion)
};

/// A loaded model and facts about it.
struct LoadedModel {
  std::shared_ptr<LanguageModel> model;  // in eval mode; call train() to fine-tune
  LoadReport report;                     // tensor bookkeeping
  nlohmann::json config;                 // config.json as read
  std::filesystem::path folder;          // the model folder
  uint64_t weight_bytes = 0;             // size of the safetensors file(s)
  std::string weight_dtype;              // dtype(s) stored in the checkpoint, e.g. "BF16"
};

/// Loads a Hugging Face folder (config.json + model.safetensors or a sharded index).
LoadedModel load_model(const std::filesystem::path& folder, const LoadOptions& options = {});

/// Loads checkpoint tensors into `model` by name (see LoadReport); tb::Error on shape
/// mismatches and, when strict, on missing backbone tensors.
LoadReport load_weights(LanguageModel& model, const SafetensorsCheckpoint& checkpoint,
                        const LoadOptions& options);

/// Parameters and buffers by transformers name, in registration order.
std::vector<std::pair<std::string, torch::Tensor>> model_state(const LanguageModel& model);

/// transformers-style initialisation from `seed`: normal(0, initializer_range) for weights and
/// embeddings, zeros for biases, ones for norm scales.
void init_weights(LanguageModel& model, uint64_t seed);

/// Writes config.json (torch_dtype set) and model.safetensors into `folder` (created).
void save_model(const LanguageModel& model, const std::filesystem::path& folder);

}  // namespace tb
