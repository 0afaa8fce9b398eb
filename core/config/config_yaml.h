#pragma once
// RunConfig ⇄ YAML. Reading reports every problem at once with file:line:column; keys of other
// tools that do not apply load with a warning; relative paths resolve against the YAML's folder.

#include <filesystem>
#include <string>
#include <vector>

#include "core/config/run_config.h"

namespace tb {

/// A config as loaded, with the warnings to show the user.
struct LoadedConfig {
  RunConfig config;                   // the settings, defaults filled in, paths resolved
  std::vector<std::string> warnings;  // complete messages with their location
};

/// Reads a YAML file; throws tb::Error listing every problem (unknown key with "did you
/// mean", wrong type, out of range) with file:line:column.
LoadedConfig load_config_file(const std::filesystem::path& file);

/// Reads YAML text; `source` names it in messages, `base_dir` anchors relative paths.
LoadedConfig load_config_string(const std::string& yaml, const std::string& source,
                                const std::filesystem::path& base_dir);

/// Applies one "key=value" override (value parsed as YAML, paths relative to `base_dir`);
/// throws tb::Error naming "--set key" on a bad key or value.
void apply_override(LoadedConfig& loaded, const std::string& assignment,
                    const std::filesystem::path& base_dir);

/// Every field as YAML, grouped with comments; load_config_string(config_to_yaml(c)) == c.
std::string config_to_yaml(const RunConfig& config);

/// Writes config_to_yaml atomically.
void save_config_file(const RunConfig& config, const std::filesystem::path& file);

}  // namespace tb
