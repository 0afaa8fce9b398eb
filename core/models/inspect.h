#pragma once
// A model folder at a glance, read from config.json and the safetensors headers only (no
// weights are touched, so it is instant even for large models).

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tb {

/// One tensor as stored in the checkpoint.
struct TensorSummary {
  std::string name;            // transformers name
  std::string dtype;           // safetensors dtype code
  std::vector<int64_t> shape;  // dimensions
};

/// What `tunebench-cli inspect` shows.
struct ModelSummary {
  std::filesystem::path folder;        // the model folder
  std::string model_type;              // config.json model_type
  std::string architecture;            // first of config.json architectures ("" if none)
  std::string task;                    // causal_lm, sequence_classification, masked_lm, base
  bool supported = false;              // whether tunebench can load this model_type
  int64_t parameters = 0;              // elements over all stored tensors
  uint64_t bytes = 0;                  // size of the safetensors file(s)
  std::string dtype;                   // stored dtype(s), "+"-joined when mixed
  std::vector<std::string> files;      // safetensors files
  std::vector<TensorSummary> tensors;  // sorted by name
  nlohmann::json config;               // config.json as read
};

/// Reads the folder's config.json and safetensors headers; tb::Error when either is missing or
/// malformed (pickle-only folders are refused as by load_model).
ModelSummary inspect_model(const std::filesystem::path& folder);

/// The summary as JSON (tensors included).
nlohmann::json summary_to_json(const ModelSummary& summary);

/// The summary as a few aligned lines for people (tensors listed when `with_tensors`).
std::string summary_to_text(const ModelSummary& summary, bool with_tensors);

}  // namespace tb
