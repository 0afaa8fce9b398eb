#include "core/methods/full.h"

#include "core/models/loader.h"

namespace tb {

namespace {

class FullMethod final : public AppliedMethod {
 public:
  explicit FullMethod(std::shared_ptr<LanguageModel> model) : model_(std::move(model)) {
    for (auto& item : model_->named_parameters()) item.value().set_requires_grad(true);
  }
  std::string name() const override { return "full"; }
  std::vector<NamedParameter> trainable() const override {
    std::vector<NamedParameter> parameters;
    for (const auto& item : model_->named_parameters()) {
      parameters.emplace_back(item.key(), item.value());
    }
    return parameters;
  }
  TrainableReport report() const override { return count_parameters(*model_); }
  void save(const std::filesystem::path& folder) const override { save_model(*model_, folder); }

 private:
  std::shared_ptr<LanguageModel> model_;
};

}  // namespace

std::unique_ptr<AppliedMethod> apply_full(std::shared_ptr<LanguageModel> model, const RunConfig&) {
  return std::make_unique<FullMethod>(std::move(model));
}

}  // namespace tb
