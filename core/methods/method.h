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

/// Bytes a training run needs, by kind (what the GUI shows before a run starts).
struct MemoryEstimate {
  int64_t weights = 0;      // parameters and buffers as stored (quantised bases count packed)
  int64_t gradients = 0;    // one gradient per trainable element
  int64_t optimizer = 0;    // AdamW's two fp32 moments per trainable element
  int64_t activations = 0;  // tensors kept for backward at the given batch and length
  /// Sum of the four.
  int64_t total() const { return weights + gradients + optimizer + activations; }
  /// "weights 12.0 MiB, gradients 1.0 MiB, optimizer 2.0 MiB, activations 30.0 MiB (total …)"
  std::string text() const;
};

/// A method applied to a model: what to optimise and how to save the result.
class AppliedMethod {
 public:
  virtual ~AppliedMethod() = default;
  /// Method name as in finetuning_type ("full", "freeze", "lora", "ptuning").
  virtual std::string name() const = 0;
  /// The model to train and evaluate: the loaded one, or a wrapper around it (prefix).
  std::shared_ptr<LanguageModel> model() const { return model_; }
  /// The tensors the optimizer updates, by name (names are checkpoint keys).
  virtual std::vector<NamedParameter> trainable() const;
  /// Counts of trainable and total parameters.
  virtual TrainableReport report() const;
  /// What save() writes as tensors, by the names other tools expect (PEFT keys for adapters,
  /// transformers names for whole models).
  virtual std::vector<NamedParameter> saved_state() const;
  /// Writes the trained result into `folder` in the layout other tools load (PEFT adapter, or
  /// a Hugging Face model folder for full/freeze).
  virtual void save(const std::filesystem::path& folder) const = 0;
  /// Whether merge() is meaningful (LoRA: fold B·A into the base weights).
  virtual bool can_merge() const { return false; }
  /// Folds the adapter into the base weights (forward unchanged); tb::Error when unsupported.
  virtual void merge();
  /// Undoes merge() (restores the base weights); tb::Error when unsupported.
  virtual void unmerge();
  /// Memory a run needs with `batch` sequences of `length` tokens (AdamW, no checkpointing).
  virtual MemoryEstimate estimate_memory(int64_t batch, int64_t length) const;

 protected:
  /// Keeps `model` (the one model() returns).
  explicit AppliedMethod(std::shared_ptr<LanguageModel> model) : model_(std::move(model)) {}
  std::shared_ptr<LanguageModel> model_;  // what trains
};

/// Counts parameters of `model` and how many of them require gradients.
TrainableReport count_parameters(const LanguageModel& model);

/// The parameters of `model` that require gradients, by name.
std::vector<NamedParameter> parameters_requiring_grad(const LanguageModel& model);

/// Sets requires_grad of every parameter of `model` to `value`.
void set_requires_grad(LanguageModel& model, bool value);

/// Bytes of activations kept for backward by `layers` transformer layers plus the output
/// logits, from the sizes in the model's config.json (Korthikanti et al. 2022, no recompute).
int64_t activation_bytes(const LanguageModel& model, int64_t batch, int64_t length, int64_t layers);

/// Estimate with every parameter and buffer stored as is, AdamW state for `trainable`, and
/// activations of `layers` layers (-1 = all).
MemoryEstimate estimate_for(const LanguageModel& model,
                            const std::vector<NamedParameter>& trainable, int64_t batch,
                            int64_t length, int64_t layers = -1);

}  // namespace tb
