#include "core/methods/registry.h"

#include <cstdio>

#include "core/methods/full.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb {

const std::vector<MethodEntry>& methods() {
  static const std::vector<MethodEntry> entries = {
      {"full", &apply_full},
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

std::string TrainableReport::text() const {
  // Thousands separators, as PEFT prints them.
  const auto grouped = [](int64_t value) {
    std::string digits = std::to_string(value);
    for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
    return digits;
  };
  char percent[32];
  std::snprintf(
      percent, sizeof(percent), "%.4f",
      total > 0 ? 100.0 * static_cast<double>(trainable) / static_cast<double>(total) : 0.0);
  return "trainable params: " + grouped(trainable) + " || all params: " + grouped(total) +
         " || trainable%: " + percent;
}

TrainableReport count_parameters(const LanguageModel& model) {
  TrainableReport report;
  for (const auto& parameter : model.parameters()) {
    report.total += parameter.numel();
    if (parameter.requires_grad()) report.trainable += parameter.numel();
  }
  return report;
}

}  // namespace tb
