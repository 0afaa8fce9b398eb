#pragma once
// A trained model as a plain Hugging Face folder: the LoRA merged into the base (QLoRA's NF4
// bases dequantised first), adapter tensors dropped, weights in the chosen dtype and sharded
// as transformers shards them (model-0000i-of-0000n.safetensors + model.safetensors.index.json
// when larger than max_shard_size), config.json with torch_dtype.

#include <cstdint>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include <torch/types.h>

#include "core/export/gguf_model.h"
#include "core/methods/method.h"

namespace tb {

/// How to write the folder.
struct MergedModelOptions {
  torch::ScalarType dtype = torch::kFloat32;  // stored dtype: float32, float16 or bfloat16
  uint64_t max_shard_size = 5'000'000'000;    // bytes per shard (transformers' "5GB")
};

/// Bytes for "5GB", "500MB", "2GiB", "100KB" or a plain number (transformers' units: KB/MB/GB
/// are powers of 1000, KiB/MiB/GiB powers of 1024); tb::Error naming `text` otherwise.
uint64_t parse_byte_size(const std::string& text);

/// The torch dtype for "f32"/"float32", "f16"/"float16", "bf16"/"bfloat16"; tb::Error otherwise.
torch::ScalarType parse_weight_dtype(const std::string& text);

/// Merges `method` (LoRA; full and freeze are already whole models) and returns the
/// transformers-named tensors of the underlying model without adapter tensors. tb::Error for
/// P-tuning v2, whose prompts cannot be merged into weights.
TensorList merged_state(AppliedMethod& method);

/// Writes config.json (torch_dtype) and the weights into `folder` (created; files replaced).
void save_hf_model(const nlohmann::json& config, const TensorList& state,
                   const std::filesystem::path& folder, const MergedModelOptions& options);

}  // namespace tb
