#pragma once
// Loading a PEFT adapter folder (adapter_config.json + adapter_model.safetensors) onto a base
// model: LORA adapters (incl. rsLoRA, DoRA, modules_to_save) and PREFIX_TUNING prompts, as
// tunebench and PEFT write them. The result is an AppliedMethod, so training can continue or
// the LoRA can be merged.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

#include "core/methods/method.h"

namespace tb {

/// The head an adapter was trained with, which its base model must be loaded with.
struct AdapterHead {
  std::optional<ModelTask> task;  // SEQ_CLS → sequence classification; unset = the folder's own
  int64_t num_labels = 0;         // rows of the saved classifier/score (0 = none saved)
};

/// Reads task_type (and, for SEQ_CLS, the saved head's rows) of the adapter in `folder`.
AdapterHead adapter_head(const std::filesystem::path& folder);

/// Applies the adapter in `folder` to `model` (settings from adapter_config.json; `config`
/// supplies the rest, e.g. training.seed) and loads its tensors. tb::Error naming the file and
/// tensor for an unknown peft_type, a missing tensor or a shape mismatch.
std::unique_ptr<AppliedMethod> load_adapter(std::shared_ptr<LanguageModel> model,
                                            const std::filesystem::path& folder,
                                            const RunConfig& config);

}  // namespace tb
