#include "core/data/dataset.h"

#include <nlohmann/json.hpp>

#include "core/data/classification_format.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb::data {

namespace fs = std::filesystem;

Dataset::Dataset(const fs::path& file, const DatasetOptions& options) {
  reader_ = open_reader(file, options.reader_options, options.reader);
  if (reader_->size() == 0) {
    const int64_t skipped = reader_->skipped();
    throw make_error("the data set is empty" + (skipped ? " (all " + std::to_string(skipped) +
                                                              " rows were malformed and skipped)"
                                                        : std::string(" (no rows)")),
                     file.string(),
                     skipped ? "First problem: " + reader_->skipped_messages().front()
                             : "Point at a file with at least one row.");
  }
  std::string format = options.format;
  if (format.empty()) {
    const std::vector<std::string> columns = reader_->columns();
    format = detect_format(columns);
    if (format.empty()) {
      throw make_error("cannot detect the data format; columns found: " + join(columns, ", "),
                       file.string(),
                       "Name it (--format " + join(format_names(), "|") +
                           ") and map the columns (--column ROLE=NAME).");
    }
    detected_ = true;
  }
  format_ = make_format(format, options.format_options, file);
  format_->prepare(*reader_);
  if (options.validate) {
    for (int64_t i = 0; i < reader_->size(); ++i) format_->convert(reader_->row(i));
  }
}

std::vector<std::string> Dataset::label_names() const {
  if (const auto* classification = dynamic_cast<const ClassificationFormat*>(format_.get())) {
    return classification->labels().names();
  }
  return {};
}

DatasetEntry read_dataset_info(const fs::path& folder, const std::string& name,
                               const DatasetOptions& base) {
  const fs::path info_path = folder / "dataset_info.json";
  const nlohmann::json info = nlohmann::json::parse(read_file(info_path), nullptr, false);
  if (info.is_discarded() || !info.is_object()) {
    throw make_error("dataset_info.json is not a JSON object", info_path.string(),
                     "See LLaMA-Factory's data/README for the layout.");
  }
  std::vector<std::string> names;
  for (const auto& item : info.items()) names.push_back(item.key());
  std::string chosen = name;
  if (chosen.empty()) {
    if (names.size() != 1) {
      throw make_error("name a data set of this folder", info_path.string(),
                       "Entries: " + join(names, ", ") + ".");
    }
    chosen = names.front();
  }
  if (!info.contains(chosen)) {
    const std::string suggestion = closest_match(chosen, names);
    throw make_error("no data set named '" + chosen + "'", info_path.string(),
                     (suggestion.empty() ? "" : "Did you mean '" + suggestion + "'? ") +
                         "Entries: " + join(names, ", ") + ".");
  }
  const nlohmann::json& entry = info[chosen];
  const std::string where = info_path.string() + " (" + chosen + ")";
  auto string_at = [&](const nlohmann::json& object, const char* key) -> std::string {
    if (!object.contains(key)) return {};
    if (!object[key].is_string()) throw make_error(std::string(key) + " must be a string", where);
    return object[key].get<std::string>();
  };
  if (!entry.is_object() || !entry.contains("file_name")) {
    throw make_error("the entry has no file_name (only local files are supported)", where,
                     "Set \"file_name\" to a file beside dataset_info.json.");
  }
  if (entry.value("ranking", false)) {
    throw make_error("ranking (preference) data sets are not supported yet", where);
  }
  if (entry.contains("num_samples")) {
    // LLaMA-Factory draws these with numpy's unseeded global generator: no run could repeat it.
    throw make_error("num_samples is not supported (its rows would differ on every run)", where,
                     "Remove it and set max_samples with a seed instead.");
  }
  DatasetEntry result;
  result.name = chosen;
  result.file = folder / string_at(entry, "file_name");
  result.options = base;
  std::string formatting = string_at(entry, "formatting");
  result.options.format = formatting.empty() ? "alpaca" : formatting;
  if (entry.contains("columns")) {
    for (const auto& column : entry["columns"].items()) {
      if (column.key() == "tools") continue;  // function-calling schemas are not used here
      if (!column.value().is_string()) throw make_error("columns must map to strings", where);
      result.options.format_options.columns[column.key()] = column.value().get<std::string>();
    }
  }
  if (entry.contains("tags")) {
    const nlohmann::json& tags = entry["tags"];
    MessageTags& out = result.options.format_options.tags;
    // Unset tags keep the sharegpt defaults, as in LLaMA-Factory.
    const std::pair<const char*, std::string*> keys[] = {
        {"role_tag", &out.role_tag},        {"content_tag", &out.content_tag},
        {"user_tag", &out.user_tag},        {"assistant_tag", &out.assistant_tag},
        {"system_tag", &out.system_tag},    {"observation_tag", &out.observation_tag},
        {"function_tag", &out.function_tag}};
    for (const auto& [key, target] : keys) {
      const std::string value = string_at(tags, key);
      if (!value.empty()) *target = value;
    }
    result.options.format_options.tags_given = true;
  }
  return result;
}

Dataset open_dataset(const fs::path& path, const std::string& name, const DatasetOptions& options) {
  if (fs::is_directory(path)) {
    const DatasetEntry entry = read_dataset_info(path, name, options);
    return Dataset(entry.file, entry.options);
  }
  return Dataset(path, options);
}

}  // namespace tb::data
