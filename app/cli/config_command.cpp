// `tunebench-cli config …`: check a YAML config, list every key, list the recipe presets.
#include <nlohmann/json.hpp>

#include <iomanip>
#include <iostream>
#include <memory>

#include "app/cli/command.h"
#include "core/config/config_fields.h"
#include "core/config/config_validation.h"
#include "core/config/presets.h"

namespace tb::cli {

namespace {

std::string shown_default(const std::string& value) { return value.empty() ? "\"\"" : value; }
std::string shown_default(int64_t value) { return std::to_string(value); }
std::string shown_default(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}
std::string shown_default(bool value) { return value ? "true" : "false"; }
std::string shown_default(const std::vector<std::string>& values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i) text += (i ? ", " : "") + values[i];
  return text + "]";
}

}  // namespace

Command add_config_command(CLI::App& app) {
  CLI::App* config = app.add_subcommand("config", "Check run configs, list keys and presets");
  config->require_subcommand(1);
  config->footer(
      "Examples:\n  tunebench-cli config check run.yaml --set learning_rate=1e-4\n"
      "  tunebench-cli config check A-lora      (a preset by name)\n"
      "  tunebench-cli config keys | grep lora\n  tunebench-cli config presets");

  struct Args {
    std::string file;
    std::vector<std::string> overrides;
    bool json = false;
  };
  auto a = std::make_shared<Args>();

  CLI::App* check = config->add_subcommand(
      "check", "Validate a config (file or preset) and print the effective YAML");
  check->add_option("config", a->file, "YAML file or preset name")->required();
  check->add_option("--set", a->overrides, "Override a key: --set key=value (repeatable)");

  CLI::App* keys = config->add_subcommand("keys", "Every config key with default and meaning");
  keys->add_flag("--json", a->json, "JSON array");

  CLI::App* presets = config->add_subcommand("presets", "The recipe presets");
  presets->add_flag("--json", a->json, "JSON array");

  return {
      config, [=]() -> int {
        if (check->parsed()) {
          const LoadedConfig loaded = load_run_config(a->file, a->overrides);
          ValidationResult result = validate_config(loaded.config);
          check_model_compatibility(loaded.config, result);
          for (const std::string& warning : loaded.warnings) {
            std::cerr << "warning: " << warning << "\n";
          }
          for (const std::string& warning : result.warnings) {
            std::cerr << "warning: " << warning << "\n";
          }
          throw_if_invalid(result, a->file);
          std::cout << config_to_yaml(loaded.config);
        } else if (keys->parsed()) {
          const RunConfig defaults;
          nlohmann::json array = nlohmann::json::array();
          visit_fields(defaults, [&](const auto& value, const FieldMeta& meta) {
            if (a->json) {
              array.push_back({{"key", meta.key},
                               {"group", meta.group},
                               {"default", shown_default(value)},
                               {"help", meta.help},
                               {"choices", meta.choices}});
            } else {
              std::cout << std::left << std::setw(30) << meta.key << std::setw(16)
                        << shown_default(value) << meta.help << "\n";
            }
          });
          if (a->json) std::cout << array.dump(2) << "\n";
        } else if (presets->parsed()) {
          nlohmann::json array = nlohmann::json::array();
          for (const PresetInfo& preset : list_presets()) {
            if (a->json) {
              array.push_back(
                  {{"name", preset.name}, {"title", preset.title}, {"path", preset.path.string()}});
            } else {
              std::cout << std::left << std::setw(16) << preset.name << preset.title << "\n";
            }
          }
          if (a->json) std::cout << array.dump(2) << "\n";
        }
        return kExitOk;
      }};
}

}  // namespace tb::cli
