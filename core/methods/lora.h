#pragma once
// LoRA (Hu et al. 2021) as PEFT implements it, and QLoRA when quantization_bit is 4: every
// targeted tb::Linear gets lora_A [r,in] (kaiming-uniform, a=√5) and lora_B [out,r] (zeros)
// and computes base(x) + B(A(dropout(x)))·alpha/r (alpha/√r with rsLoRA). The base is frozen
// (and stored in NF4 for QLoRA); modules_to_save (additional_target, plus the classification
// head for sequence classification) train fully. use_dora adds DoRA's per-row magnitude
// (lora_magnitude_vector). save() writes a PEFT adapter folder.

#include <memory>

#include "core/methods/method.h"

namespace tb {

/// Adds LoRA adapters to the modules lora_target names (or all linear layers but the output
/// head for all / all-linear); tb::Error listing the linear modules when a target matches none.
/// With quantization_bit 4 every linear layer but the heads is stored in NF4 on the device it
/// is on now: move the model to its device first.
std::unique_ptr<AppliedMethod> apply_lora(std::shared_ptr<LanguageModel> model,
                                          const RunConfig& config);

/// PEFT's task_type for a model ("CAUSAL_LM", "SEQ_CLS", "FEATURE_EXTRACTION"; "" for a
/// masked-LM model, verbalizer-wrapped or not: PEFT has no task type for it).
std::string peft_task_type(const LanguageModel& model);

}  // namespace tb
