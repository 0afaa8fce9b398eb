#include "core/config/config_yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "core/config/config_fields.h"
#include "core/data/utf8.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb {
namespace fs = std::filesystem;

namespace {

// Fields holding paths, resolved against the YAML's folder. Model and data entries may also
// be names (hub ids, dataset_info.json entries): they are only rewritten when the path exists.
enum class PathKind { kNone, kAlways, kIfExists };

PathKind path_kind(const std::string& key) {
  if (key == "output_dir" || key == "dataset_dir" || key == "resume_from_checkpoint" ||
      key == "adapter_name_or_path" || key == "fallback_model") {
    return PathKind::kAlways;
  }
  if (key == "model_name_or_path" || key == "dataset" || key == "eval_dataset") {
    return PathKind::kIfExists;
  }
  return PathKind::kNone;
}

std::string resolve_path(const std::string& value, PathKind kind, const fs::path& base) {
  if (value.empty() || kind == PathKind::kNone || fs::path(value).is_absolute()) return value;
  const fs::path candidate = (base / value).lexically_normal();
  if (kind == PathKind::kAlways || fs::exists(candidate)) return candidate.string();
  return value;
}

std::string where(const std::string& source, const YAML::Mark& mark) {
  if (mark.line < 0) return source;
  return location(source, mark.line + 1, mark.column + 1);
}

// Converts one YAML value into a field, collecting problems instead of stopping at the first.
class FieldReader {
 public:
  FieldReader(const YAML::Node& node, std::string where, std::vector<std::string>& errors)
      : node_(node), where_(std::move(where)), errors_(errors) {}

  void read(std::string& out, const FieldMeta& meta) {
    if (node_.IsNull()) return void(out = "");
    if (!node_.IsScalar()) return fail(meta, "must be text");
    check_choice(node_.Scalar(), meta);
    out = node_.Scalar();
  }
  void read(int64_t& out, const FieldMeta& meta) {
    const std::string text = scalar(meta);
    int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
      return fail(meta, "must be a whole number, got '" + text + "'");
    }
    if (check_range(static_cast<double>(value), meta)) out = value;
  }
  void read(double& out, const FieldMeta& meta) {
    const std::string text = scalar(meta);
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
        !std::isfinite(value)) {
      return fail(meta, "must be a number, got '" + text + "'");
    }
    if (check_range(value, meta)) out = value;
  }
  void read(bool& out, const FieldMeta& meta) {
    std::string text = scalar(meta);
    std::transform(text.begin(), text.end(), text.begin(), ::tolower);
    if (text == "true" || text == "yes" || text == "on") return void(out = true);
    if (text == "false" || text == "no" || text == "off") return void(out = false);
    fail(meta, "must be true or false, got '" + text + "'");
  }
  void read(std::vector<std::string>& out, const FieldMeta& meta) {
    std::vector<std::string> items;
    if (node_.IsSequence()) {
      for (const YAML::Node& item : node_) {
        if (!item.IsScalar()) return fail(meta, "must be a list of names");
        items.push_back(item.Scalar());
      }
    } else if (node_.IsScalar()) {
      // LLaMA-Factory writes lists as comma-separated text: "q_proj,v_proj".
      std::istringstream in(node_.Scalar());
      for (std::string item; std::getline(in, item, ',');) {
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (!item.empty()) items.push_back(item);
      }
    } else if (!node_.IsNull()) {
      return fail(meta, "must be a list or comma-separated text");
    }
    for (const std::string& item : items) check_choice(item, meta);
    out = std::move(items);
  }

 private:
  std::string scalar(const FieldMeta& meta) {
    if (node_.IsScalar()) return node_.Scalar();
    fail(meta, node_.IsNull() ? "needs a value" : "must be a single value");
    return {};
  }
  bool check_range(double value, const FieldMeta& meta) {
    const bool low = meta.min_exclusive ? value <= meta.min : value < meta.min;
    if (!low && value <= meta.max) return true;
    std::ostringstream range;
    if (std::isinf(meta.max)) {
      range << (meta.min_exclusive ? "greater than " : "at least ") << meta.min;
    } else {
      range << "between " << meta.min << " and " << meta.max;
    }
    fail(meta, "must be " + range.str() + ", got " + node_.Scalar());
    return false;
  }
  void check_choice(const std::string& value, const FieldMeta& meta) {
    if (meta.choices.empty() ||
        std::find(meta.choices.begin(), meta.choices.end(), value) != meta.choices.end()) {
      return;
    }
    std::vector<std::string> shown;
    for (const std::string& choice : meta.choices)
      shown.push_back(choice.empty() ? "\"\"" : choice);
    const std::string guess = closest_match(value, meta.choices);
    fail(meta, "'" + value + "' is not one of " + join(shown, ", ") +
                   (guess.empty() ? "" : " (did you mean '" + guess + "'?)"));
  }
  void fail(const FieldMeta& meta, const std::string& problem) {
    errors_.push_back(where_ + ": " + meta.key + " " + problem);
  }

  const YAML::Node& node_;
  std::string where_;
  std::vector<std::string>& errors_;
};

std::string canonical_key(const std::string& key) {
  for (const auto& [alias, target] : config_key_aliases()) {
    if (alias == key) return target;
  }
  return key;
}

// Sets field `key` of `config` from `value`; false when no field has that key.
bool read_field(RunConfig& config, const std::string& key, const YAML::Node& value,
                const std::string& at, std::vector<std::string>& errors) {
  bool found = false;
  visit_fields(config, [&](auto& member, const FieldMeta& meta) {
    if (found || key != meta.key) return;
    found = true;
    FieldReader(value, at, errors).read(member, meta);
  });
  return found;
}

void resolve_member(std::string& value, PathKind kind, const fs::path& base) {
  value = resolve_path(value, kind, base);
}
void resolve_member(std::vector<std::string>& values, PathKind kind, const fs::path& base) {
  for (std::string& value : values) value = resolve_path(value, kind, base);
}
template <class Other>
void resolve_member(Other&, PathKind, const fs::path&) {}

// Anchors the path fields (given or defaulted) at `base`; `only_key` limits it to one field.
void resolve_paths(RunConfig& config, const fs::path& base, const std::string& only_key = {}) {
  visit_fields(config, [&](auto& member, const FieldMeta& meta) {
    if (!only_key.empty() && only_key != meta.key) return;
    resolve_member(member, path_kind(meta.key), base);
  });
}

std::string ignored_reason(const std::string& key) {
  for (const auto& [ignored, reason] : ignored_config_keys()) {
    if (ignored == key) return reason;
  }
  return {};
}

void read_map(LoadedConfig& loaded, const YAML::Node& root, const std::string& source,
              const fs::path& base) {
  std::vector<std::string> errors;
  if (!root.IsMap()) {
    if (root.IsNull()) {  // an empty file is a config of defaults (validation says more)
      resolve_paths(loaded.config, base);
      return;
    }
    throw make_error("a run config must be a mapping of keys to values", where(source, root.Mark()),
                     "Write one 'key: value' per line, e.g. 'learning_rate: 2e-5'.");
  }
  std::map<std::string, std::string> seen;  // canonical key → where it was first given
  for (const auto& entry : root) {
    const std::string key = entry.first.as<std::string>();
    const std::string at = where(source, entry.first.Mark());
    const std::string canonical = canonical_key(key);
    if (const auto first = seen.find(canonical); first != seen.end()) {
      errors.push_back(at + ": " + key + " is given twice (first at " + first->second + ")");
      continue;
    }
    seen.emplace(canonical, at);
    if (read_field(loaded.config, canonical, entry.second, where(source, entry.second.Mark()),
                   errors)) {
      continue;
    }
    if (const std::string reason = ignored_reason(key); !reason.empty()) {
      loaded.warnings.push_back(at + ": " + key + " is ignored: " + reason);
      continue;
    }
    const std::string guess = closest_match(key, all_config_keys());
    errors.push_back(at + ": unknown key '" + key + "'" +
                     (guess.empty() ? "" : " (did you mean '" + guess + "'?)"));
  }
  if (!errors.empty()) {
    throw Error(join(errors, "\n") +
                "\n(`tunebench-cli config keys` lists every key with its meaning.)");
  }
  resolve_paths(loaded.config, base);
}

std::string emit_value(const std::string& value) {
  YAML::Emitter out;
  out << value;
  return out.c_str();
}
std::string emit_value(int64_t value) { return std::to_string(value); }
std::string emit_value(bool value) { return value ? "true" : "false"; }
std::string emit_value(double value) {
  char text[64];
  // Shortest text that reads back to the same double: the round trip is exact.
  const auto result = std::to_chars(text, text + sizeof(text), value);
  std::string shown(text, result.ptr);
  // A whole number keeps a decimal point so the value reads as a number of the same type.
  if (shown.find_first_of(".eEn") == std::string::npos) shown += ".0";
  return shown;
}
std::string emit_value(const std::vector<std::string>& values) {
  YAML::Emitter out;
  out << YAML::Flow << values;
  return out.c_str();
}

}  // namespace

LoadedConfig load_config_string(const std::string& yaml, const std::string& source,
                                const fs::path& base_dir) {
  // YAML is Unicode text; bytes that are not UTF-8 would not survive a save and reload.
  const size_t bad = data::find_invalid_utf8(yaml);
  if (bad != std::string::npos) {
    const size_t newline = bad == 0 ? std::string::npos : yaml.rfind('\n', bad - 1);
    const size_t line_begin = newline == std::string::npos ? 0 : newline + 1;
    const int64_t line = 1 + std::count(yaml.begin(), yaml.begin() + bad, '\n');
    const int64_t column = static_cast<int64_t>(bad - line_begin) + 1;
    char byte[8];
    std::snprintf(byte, sizeof(byte), "0x%02X", static_cast<unsigned char>(yaml[bad]));
    throw make_error(std::string("not valid UTF-8 (byte ") + byte + ")",
                     location(source, line, column), "Save the file as UTF-8.");
  }
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::ParserException& error) {
    throw make_error("not valid YAML: " + error.msg, where(source, error.mark),
                     "Fix the syntax at that position (indentation, a missing ':' or quote).");
  }
  LoadedConfig loaded;
  read_map(loaded, root, source, base_dir);
  return loaded;
}

LoadedConfig load_config_file(const fs::path& file) {
  const fs::path base = fs::absolute(file).parent_path();
  return load_config_string(read_file(file), file.string(), base);
}

void apply_override(LoadedConfig& loaded, const std::string& assignment, const fs::path& base_dir) {
  const auto equals = assignment.find('=');
  if (equals == std::string::npos || equals == 0) {
    throw make_error("'" + assignment + "' is not key=value", "--set",
                     "Write it like --set learning_rate=1e-4.");
  }
  const std::string key = assignment.substr(0, equals);
  const std::string text = assignment.substr(equals + 1);
  YAML::Node value;
  try {
    value = YAML::Load(text);
  } catch (const YAML::Exception& error) {
    throw make_error("the value of " + key + " is not valid YAML (" + error.what() + ")",
                     "--set " + key);
  }
  std::vector<std::string> errors;
  if (!read_field(loaded.config, canonical_key(key), value, "--set", errors)) {
    const std::string guess = closest_match(key, all_config_keys());
    throw make_error("unknown key '" + key + "'", "--set",
                     guess.empty() ? "`tunebench-cli config keys` lists every key."
                                   : "Did you mean '" + guess + "'?");
  }
  if (!errors.empty()) throw Error(join(errors, "\n"));
  resolve_paths(loaded.config, base_dir, canonical_key(key));
}

std::string config_to_yaml(const RunConfig& config) {
  std::ostringstream out;
  out << "# tunebench run config. Keys follow LLaMA-Factory; `tunebench-cli config keys` "
         "explains each.\n";
  std::string group;
  visit_fields(config, [&](const auto& member, const FieldMeta& meta) {
    if (group != meta.group) {
      group = meta.group;
      out << "\n### " << group << "\n";
    }
    out << meta.key << ": " << emit_value(member) << "\n";
  });
  return out.str();
}

void save_config_file(const RunConfig& config, const fs::path& file) {
  write_file_atomic(file, config_to_yaml(config));
}

}  // namespace tb
