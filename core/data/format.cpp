#include "core/data/format.h"

#include <algorithm>

#include "core/data/alpaca_format.h"
#include "core/data/classification_format.h"
#include "core/data/messages_format.h"
#include "core/data/sharegpt_format.h"
#include "core/data/text_format.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb::data {

void Format::prepare(const Reader&) {}

std::string Format::column(const std::string& role) const {
  const auto mapped = options_.columns.find(role);
  if (mapped != options_.columns.end()) return mapped->second;
  for (const ColumnRole& known : roles()) {
    if (known.role == role) return known.default_column;
  }
  return role;
}

void Format::configure(const FormatOptions& options, const std::filesystem::path& source) {
  options_ = options;
  source_ = source;
  std::vector<std::string> known;
  for (const ColumnRole& role : roles()) known.push_back(role.role);
  for (const auto& [role, column_name] : options.columns) {
    if (std::find(known.begin(), known.end(), role) != known.end()) continue;
    const std::string suggestion = closest_match(role, known);
    throw make_error("the " + name() + " format has no column role '" + role + "'", source.string(),
                     (suggestion.empty() ? "" : "Did you mean '" + suggestion + "'? ") +
                         "Roles: " + join(known, ", ") + ".");
  }
}

const Value* Format::field(const Row& row, const std::string& role) const {
  const std::string name_in_file = column(role);
  const Value* value = row.value.find(name_in_file);
  if (value && value->type != Value::Type::kNull) return value;
  for (const ColumnRole& known : roles()) {
    if (known.role != role || !known.required) continue;
    if (value) {
      fail(row, "column '" + name_in_file + "' (the " + name() + " format's " + role + ") is null",
           "Fill the value or remove the row.");
    }
    fail(row,
         "missing column '" + name_in_file + "' (the " + name() + " format's " + role +
             "); columns found: " + join(row.value.keys(), ", "),
         "Map the column: --column " + role + "=NAME, or \"columns\" in dataset_info.json.");
  }
  return nullptr;
}

std::string Format::text(const Row& row, const std::string& role) const {
  const Value* value = field(row, role);
  if (!value) return {};
  if (value->type == Value::Type::kList || value->type == Value::Type::kObject) {
    fail(row, "column '" + column(role) + "' holds a " + value->type_name() + ", not text",
         "Map the " + role + " role to a text column.");
  }
  return value->to_display();
}

void Format::fail(const Row& row, const std::string& what, const std::string& fix) const {
  throw make_error("row " + std::to_string(row.index + 1) + ": " + what,
                   location(source_, row.line), fix);
}

std::vector<std::string> format_names() {
  return {"sharegpt", "messages", "alpaca", "classification", "text"};
}

std::string detect_format(const std::vector<std::string>& columns) {
  auto has = [&](const char* name) {
    return std::find(columns.begin(), columns.end(), name) != columns.end();
  };
  // Most specific first: a classification file also has "text", an alpaca one may have "input".
  if (has("conversations")) return "sharegpt";
  if (has("messages")) return "messages";
  if (has("instruction") && has("output")) return "alpaca";
  if (has("text") && has("label")) return "classification";
  if (has("text")) return "text";
  return {};
}

std::unique_ptr<Format> make_format(const std::string& name, const FormatOptions& options,
                                    const std::filesystem::path& source) {
  std::unique_ptr<Format> format;
  // The explicit list of formats.
  if (name == "alpaca") format = std::make_unique<AlpacaFormat>();
  if (name == "sharegpt") format = std::make_unique<ShareGptFormat>();
  if (name == "messages") format = std::make_unique<MessagesFormat>();
  if (name == "text") format = std::make_unique<TextFormat>();
  if (name == "classification") format = std::make_unique<ClassificationFormat>();
  if (!format) {
    const std::string suggestion = closest_match(name, format_names());
    throw make_error("unknown data format '" + name + "'", source.string(),
                     (suggestion.empty() ? "" : "Did you mean '" + suggestion + "'? ") +
                         "Formats: " + join(format_names(), ", ") + ".");
  }
  format->configure(options, source);
  return format;
}

}  // namespace tb::data
