#include "core/methods/registry.h"

#include "core/methods/freeze.h"
#include "core/methods/full.h"
#include "core/methods/lora.h"
#include "core/methods/prefix.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb {

const std::vector<MethodEntry>& methods() {
  static const std::vector<MethodEntry> entries = {
      {"full", &apply_full},
      {"freeze", &apply_freeze},
      {"lora", &apply_lora},
      {"ptuning", &apply_prefix},
  };
  return entries;
}

std::unique_ptr<AppliedMethod> apply_method(std::shared_ptr<LanguageModel> model,
                                            const RunConfig& config) {
  std::vector<std::string> names;
  for (const MethodEntry& entry : methods()) {
    if (entry.name == config.method.finetuning_type) return entry.apply(std::move(model), config);
    names.push_back(entry.name);
  }
  throw make_error(
      "finetuning_type '" + config.method.finetuning_type + "' is not available in this build",
      "finetuning_type", "Use one of: " + join(names, ", ") + ".");
}

}  // namespace tb
