#pragma once
// The recipes of RECIPES.md as YAML presets in resources/presets/, usable by name wherever a
// config file is expected (`tunebench-cli train A-lora`, the GUI's presets menu).

#include <filesystem>
#include <string>
#include <vector>

#include "core/config/config_yaml.h"

namespace tb {

/// One preset file.
struct PresetInfo {
  std::string name;            // file name without .yaml, e.g. "A-lora"
  std::string title;           // first comment line of the file
  std::filesystem::path path;  // the YAML file
};

/// Presets found in resources_dir()/presets, sorted by name.
std::vector<PresetInfo> list_presets();

/// `argument` as a config file: an existing path, else a preset name; throws tb::Error
/// listing the presets when it is neither.
std::filesystem::path find_config_file(const std::string& argument);

/// Loads a config file or preset by name, applies "key=value" overrides (paths relative to
/// the working directory) and the model fallback. Validation is left to the caller.
LoadedConfig load_run_config(const std::string& argument,
                             const std::vector<std::string>& overrides);

/// When model_name_or_path is not a local folder and fallback_model is, switches to the
/// fallback, applies fallback_set (except keys in `user_overrides`, "key=value" strings, which
/// win) and adds a warning saying so (presets name real models, e.g. bert-base-uncased).
void apply_model_fallback(LoadedConfig& loaded,
                          const std::vector<std::string>& user_overrides = {});

}  // namespace tb
