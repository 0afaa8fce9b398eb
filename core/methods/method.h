#pragma once
// A fine-tuning method adapts a loaded model (freezes, wraps, quantises) and says what trains.
// Each method is one .h/.cpp pair listed in registry.cpp.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/config/run_config.h"
#include "core/models/model.h"
#include "core/train/optimizer.h"

namespace tb {

/// Parameter counts, as PEFT's print_trainable_parameters reports them.
struct TrainableReport {
  int64_t trainable = 0;  // parameters that receive gradients
  int64_t total = 0;      // all parameters (base + added)
  /// "trainable params: 294,912 || all params: 124,734,720 || trainable%: 0.2364"
  std::string text() const;
};

/// A method applied to a model: what to optimise and how to save the result.
class AppliedMethod {
 public:
  virtual ~AppliedMethod() = default;
  /// Method name as in finetuning_type ("full", "freeze", "lora", "ptuning").
  virtual std::string name() const = 0;
  /// The tensors the optimizer updates, by name (names are checkpoint keys).
  virtual std::vector<NamedParameter> trainable() const = 0;
  /// Counts of trainable and total parameters.
  virtual TrainableReport report() const = 0;
  /// Writes the trained result into `folder` in the layout other tools load (PEFT adapter, or
  /// a Hugging Face model folder for full/freeze).
  virtual void save(const std::filesystem::path& folder) const = 0;
};

/// Counts parameters of `model` and how many of them require gradients.
TrainableReport count_parameters(const LanguageModel& model);

}  // namespace tb
