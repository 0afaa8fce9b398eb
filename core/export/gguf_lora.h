#pragma once
// A PEFT LoRA adapter as a llama.cpp LoRA GGUF (general.type "adapter", adapter.type "lora",
// adapter.lora.alpha), loaded by llama.cpp's --lora on top of the base model's GGUF. Tensors
// are "<llama.cpp weight name>.lora_a" [r, in] and ".lora_b" [out, r]; for the "llama"
// architecture lora_b of q/k gets the same row permutation as the base weights.

#include <filesystem>
#include <nlohmann/json_fwd.hpp>

#include "core/io/gguf.h"

namespace tb {

/// Builds the adapter GGUF from a PEFT folder (adapter_config.json + adapter_model.safetensors)
/// for the base model whose config.json is `base_config`. llama.cpp scales by alpha / r, so
/// rsLoRA's alpha / √r is written as alpha·√r. tb::Error for DoRA, modules_to_save, per-layer
/// rank/alpha patterns or a non-LoRA adapter (export those merged).
GgufWriter gguf_for_lora(const nlohmann::json& base_config,
                         const std::filesystem::path& adapter_folder, GgmlType type);

}  // namespace tb
