#pragma once
// Full fine-tuning: every parameter trains; the result is a complete model folder.

#include <memory>

#include "core/methods/method.h"

namespace tb {

/// Marks every parameter of `model` trainable.
std::unique_ptr<AppliedMethod> apply_full(std::shared_ptr<LanguageModel> model,
                                          const RunConfig& config);

}  // namespace tb
