#include "core/methods/freeze.h"

#include <nlohmann/json.hpp>
#include <set>

#include "core/models/loader.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb {

namespace {

// A parameter inside a numbered layer: "<…>.<index>.<module>.<…>".
struct LayerName {
  int64_t index = -1;  // -1 = not inside a layer
  std::string module;  // first component after the index ("self_attn", "attention", …)
};

LayerName parse_layer_name(const std::string& name) {
  // The first ".<digits>.<module>" (a non-empty module after the number).
  for (auto found = find_numbered_component(name); found;
       found = find_numbered_component(name, found->end)) {
    if (found->end + 1 >= name.size() || name[found->end + 1] == '.') continue;
    const size_t module_end = name.find('.', found->end + 1);
    return {found->number, name.substr(found->end + 1, module_end == std::string::npos
                                                           ? std::string::npos
                                                           : module_end - found->end - 1)};
  }
  return {};
}

// Whether `module` names a whole dotted component run of `name` ("classifier" matches
// "classifier.weight", "bert.pooler" matches "bert.pooler.dense.bias").
bool names_module(const std::string& name, const std::string& module) {
  const std::string dotted = "." + name + ".";
  return dotted.find("." + module + ".") != std::string::npos;
}

class FreezeMethod final : public AppliedMethod {
 public:
  FreezeMethod(std::shared_ptr<LanguageModel> model, const RunConfig& config)
      : AppliedMethod(std::move(model)) {
    const MethodSettings& m = config.method;
    const int64_t layers =
        model_->config_json().value("num_hidden_layers", static_cast<int64_t>(0));
    // LLaMA-Factory: positive n = the last n layers, negative n = the first |n|.
    const int64_t n = m.freeze_trainable_layers;
    first_layer_ = n > 0 ? std::max<int64_t>(0, layers - n) : 0;
    end_layer_ = n > 0 ? layers : std::min(-n, layers);

    std::set<std::string> layer_modules;
    std::vector<std::string> names;
    for (const auto& item : model_->named_parameters()) {
      names.push_back(item.key());
      const LayerName parsed = parse_layer_name(item.key());
      if (parsed.index >= 0) layer_modules.insert(parsed.module);
    }
    const bool all_modules =
        std::find(m.freeze_trainable_modules.begin(), m.freeze_trainable_modules.end(), "all") !=
        m.freeze_trainable_modules.end();
    for (const std::string& module : m.freeze_trainable_modules) {
      if (module != "all" && !layer_modules.count(module)) {
        throw make_error(
            "freeze_trainable_modules names '" + module + "', which no layer of " +
                model_->architecture() + " has",
            "freeze_trainable_modules",
            "Use all or some of: " +
                join(std::vector<std::string>(layer_modules.begin(), layer_modules.end()), ", ") +
                ".");
      }
    }
    for (const std::string& module : m.freeze_extra_modules) {
      bool found = false;
      for (const std::string& name : names) {
        found |= parse_layer_name(name).index < 0 && names_module(name, module);
      }
      if (!found) {
        throw make_error("freeze_extra_modules names '" + module + "', which " +
                             model_->architecture() + " has no parameters of outside its layers",
                         "freeze_extra_modules",
                         "Use module names of: " + join(outside_layers(names), ", ") + ".");
      }
    }

    for (auto& item : model_->named_parameters()) {
      const LayerName parsed = parse_layer_name(item.key());
      bool trains = false;
      if (parsed.index >= first_layer_ && parsed.index < end_layer_) {
        trains = all_modules ||
                 std::find(m.freeze_trainable_modules.begin(), m.freeze_trainable_modules.end(),
                           parsed.module) != m.freeze_trainable_modules.end();
      }
      for (const std::string& module : m.freeze_extra_modules) {
        trains |= parsed.index < 0 && names_module(item.key(), module);
      }
      item.value().set_requires_grad(trains);
    }
    if (parameters_requiring_grad(*model_).empty()) {
      throw make_error("freeze leaves nothing to train in " + model_->architecture(),
                       "freeze_trainable_layers",
                       "Set freeze_trainable_layers to a non-zero number of layers or name "
                       "freeze_extra_modules (e.g. the classifier).");
    }
  }

  std::string name() const override { return "freeze"; }
  void save(const std::filesystem::path& folder) const override { save_model(*model_, folder); }

  MemoryEstimate estimate_memory(int64_t batch, int64_t length) const override {
    // Backward stops at the lowest trainable layer: only the layers from there on keep
    // activations (all of them when something below the layers, the embeddings, trains).
    const int64_t layers =
        model_->config_json().value("num_hidden_layers", static_cast<int64_t>(0));
    int64_t lowest = layers;
    for (const auto& [name, tensor] : trainable()) {
      const LayerName parsed = parse_layer_name(name);
      if (parsed.index >= 0) lowest = std::min(lowest, parsed.index);
      if (parsed.index < 0 && name.find("embed") != std::string::npos) lowest = 0;
    }
    return estimate_for(*model_, trainable(), batch, length, layers - lowest);
  }

 private:
  static std::vector<std::string> outside_layers(const std::vector<std::string>& names) {
    std::set<std::string> modules;
    for (const std::string& name : names) {
      if (parse_layer_name(name).index >= 0) continue;
      const size_t dot = name.rfind('.');
      modules.insert(dot == std::string::npos ? name : name.substr(0, dot));
    }
    return {modules.begin(), modules.end()};
  }

  int64_t first_layer_ = 0, end_layer_ = 0;  // trainable layer range [first, end)
};

}  // namespace

std::unique_ptr<AppliedMethod> apply_freeze(std::shared_ptr<LanguageModel> model,
                                            const RunConfig& config) {
  return std::make_unique<FreezeMethod>(std::move(model), config);
}

}  // namespace tb
