#include "core/methods/full.h"

#include "core/models/loader.h"

namespace tb {

namespace {

class FullMethod final : public AppliedMethod {
 public:
  explicit FullMethod(std::shared_ptr<LanguageModel> model) : AppliedMethod(std::move(model)) {
    set_requires_grad(*model_, true);
  }
  std::string name() const override { return "full"; }
  void save(const std::filesystem::path& folder) const override { save_model(*model_, folder); }
};

}  // namespace

std::unique_ptr<AppliedMethod> apply_full(std::shared_ptr<LanguageModel> model, const RunConfig&) {
  return std::make_unique<FullMethod>(std::move(model));
}

}  // namespace tb
