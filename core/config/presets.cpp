#include "core/config/presets.h"

#include <algorithm>
#include <fstream>

#include "core/util/error.h"
#include "core/util/paths.h"
#include "core/util/text.h"

namespace tb {
namespace fs = std::filesystem;

std::vector<PresetInfo> list_presets() {
  std::vector<PresetInfo> presets;
  const fs::path folder = resources_dir() / "presets";
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(folder, error)) {
    if (entry.path().extension() != ".yaml") continue;
    PresetInfo preset{entry.path().stem().string(), "", entry.path()};
    std::ifstream in(entry.path());
    std::string line;
    if (std::getline(in, line) && line.rfind("#", 0) == 0) {
      preset.title = line.substr(line.find_first_not_of("# "));
    }
    presets.push_back(preset);
  }
  std::sort(presets.begin(), presets.end(),
            [](const PresetInfo& a, const PresetInfo& b) { return a.name < b.name; });
  return presets;
}

fs::path find_config_file(const std::string& argument) {
  if (fs::is_regular_file(argument)) return argument;
  std::vector<std::string> names;
  for (const PresetInfo& preset : list_presets()) {
    if (preset.name == argument) return preset.path;
    names.push_back(preset.name);
  }
  const std::string guess = closest_match(argument, names);
  throw make_error("no such config file or preset", argument,
                   (guess.empty() ? std::string() : "Did you mean '" + guess + "'? ") +
                       "Presets: " + join(names, ", ") + " (in " +
                       (resources_dir() / "presets").string() + ").");
}

LoadedConfig load_run_config(const std::string& argument,
                             const std::vector<std::string>& overrides) {
  LoadedConfig loaded = load_config_file(find_config_file(argument));
  for (const std::string& assignment : overrides) {
    apply_override(loaded, assignment, fs::current_path());
  }
  apply_model_fallback(loaded, overrides);
  return loaded;
}

void apply_model_fallback(LoadedConfig& loaded, const std::vector<std::string>& user_overrides) {
  ModelSettings& model = loaded.config.model;
  if (model.fallback_model.empty() || fs::is_directory(model.model_name_or_path)) return;
  if (!fs::is_directory(model.fallback_model)) return;  // the loader reports the real model
  loaded.warnings.push_back("model '" + model.model_name_or_path +
                            "' is not a local folder (no downloads): using the bundled demo "
                            "model " +
                            model.fallback_model +
                            " instead. Set model_name_or_path to your copy of the real model.");
  model.model_name_or_path = model.fallback_model;
  auto key_of = [](const std::string& assignment) {
    return assignment.substr(0, assignment.find('='));
  };
  std::vector<std::string> applied;
  for (const std::string& assignment : std::vector<std::string>(model.fallback_set)) {
    const bool user_set =
        std::any_of(user_overrides.begin(), user_overrides.end(),
                    [&](const std::string& mine) { return key_of(mine) == key_of(assignment); });
    if (user_set) continue;
    apply_override(loaded, assignment, fs::current_path());
    applied.push_back(assignment);
  }
  if (!applied.empty()) {
    loaded.warnings.push_back("with the demo model: " + join(applied, ", ") +
                              " (fallback_set; the recipe's values are for the real model)");
  }
}

}  // namespace tb
