#pragma once
// Loading a PEFT adapter folder (adapter_config.json + adapter_model.safetensors) onto a base
// model: LORA adapters (incl. rsLoRA, DoRA, modules_to_save) and PREFIX_TUNING prompts, as
// tunebench and PEFT write them. The result is an AppliedMethod, so training can continue or
// the LoRA can be merged.

#include <filesystem>
#include <memory>

#include "core/methods/method.h"

namespace tb {

/// Applies the adapter in `folder` to `model` (settings from adapter_config.json; `config`
/// supplies the rest, e.g. training.seed) and loads its tensors. tb::Error naming the file and
/// tensor for an unknown peft_type, a missing tensor or a shape mismatch.
std::unique_ptr<AppliedMethod> load_adapter(std::shared_ptr<LanguageModel> model,
                                            const std::filesystem::path& folder,
                                            const RunConfig& config);

}  // namespace tb
