#pragma once
// A model that wraps another one and changes only its forward (P-tuning v2's prefix, the
// verbalizer's class logits): every description is the inner model's, and train()/eval()
// reach the inner model too, because its dropout reads its own flag.

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/models/model.h"

namespace tb {

/// Base of wrappers: forwards everything but forward() to `inner`.
class WrappingModel : public LanguageModel {
 public:
  /// Wraps `inner` (kept alive by the wrapper).
  explicit WrappingModel(std::shared_ptr<LanguageModel> inner) : inner_(std::move(inner)) {}

  void train(bool on) override {
    torch::nn::Module::train(on);
    inner_->train(on);
  }
  std::string model_type() const override { return inner_->model_type(); }
  std::string architecture() const override { return inner_->architecture(); }
  ModelTask task() const override { return inner_->task(); }
  bool is_decoder() const override { return inner_->is_decoder(); }
  std::string base_prefix() const override { return inner_->base_prefix(); }
  std::vector<std::string> head_prefixes() const override { return inner_->head_prefixes(); }
  bool ignores_tensor(const std::string& name) const override {
    return inner_->ignores_tensor(name);
  }
  nlohmann::json config_json() const override { return inner_->config_json(); }
  double initializer_range() const override { return inner_->initializer_range(); }
  int64_t vocab_size() const override { return inner_->vocab_size(); }

 protected:
  std::shared_ptr<LanguageModel> inner_;  // the wrapped model
};

}  // namespace tb
