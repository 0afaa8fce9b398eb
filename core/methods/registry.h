#pragma once
// The explicit list of fine-tuning methods: finetuning_type → apply function.

#include <memory>
#include <string>
#include <vector>

#include "core/methods/method.h"

namespace tb {

/// Applies a method to a loaded model (which it keeps alive) according to the config.
using MethodApply = std::unique_ptr<AppliedMethod> (*)(std::shared_ptr<LanguageModel> model,
                                                       const RunConfig& config);

/// One registry line.
struct MethodEntry {
  std::string name;   // finetuning_type value
  MethodApply apply;  // what it does
};

/// Every method, in the order menus list them.
const std::vector<MethodEntry>& methods();

/// Applies config.method.finetuning_type; tb::Error listing the methods for an unknown one.
std::unique_ptr<AppliedMethod> apply_method(std::shared_ptr<LanguageModel> model,
                                            const RunConfig& config);

}  // namespace tb
