#pragma once
// Freeze tuning, as LLaMA-Factory does it: only the last n layers (first n when
// freeze_trainable_layers is negative) train, optionally only some modules inside them
// (freeze_trainable_modules), plus named modules outside the layers (freeze_extra_modules,
// e.g. "classifier" for recipe A.4's head-only training). Everything else is frozen.

#include <memory>

#include "core/methods/method.h"

namespace tb {

/// Freezes `model` except the layers and modules the config names; tb::Error for a module
/// name that does not exist (the message lists the ones that do).
std::unique_ptr<AppliedMethod> apply_freeze(std::shared_ptr<LanguageModel> model,
                                            const RunConfig& config);

}  // namespace tb
