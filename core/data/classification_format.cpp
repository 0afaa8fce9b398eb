#include "core/data/classification_format.h"

#include <algorithm>
#include <set>

#include "core/data/reader.h"
#include "core/util/text.h"

namespace tb::data {

namespace {

// An integer label: an int value, or a string of ASCII digits (CSV gives strings only).
bool as_int(const Value& value, int64_t& out) {
  if (value.type == Value::Type::kInt || value.type == Value::Type::kBool) {
    out = value.integer;
    return true;
  }
  if (value.type != Value::Type::kString || value.text.empty() || value.text.size() > 18) {
    return false;
  }
  size_t start = value.text[0] == '-' ? 1 : 0;
  if (start == value.text.size()) return false;
  for (size_t i = start; i < value.text.size(); ++i) {
    if (value.text[i] < '0' || value.text[i] > '9') return false;
  }
  out = std::stoll(value.text);
  return true;
}

}  // namespace

LabelSet::LabelSet(std::vector<std::string> names) : names_(std::move(names)) {}

int64_t LabelSet::id(const std::string& name) const {
  const auto found = std::find(names_.begin(), names_.end(), name);
  return found == names_.end() ? -1 : int64_t(found - names_.begin());
}

std::vector<ColumnRole> ClassificationFormat::roles() const {
  return {{"text", "text", true}, {"label", "label", true}, {"text_pair", "text_pair", false}};
}

void ClassificationFormat::prepare(const Reader& reader) {
  if (!options_.label_names.empty()) {
    labels_ = LabelSet(options_.label_names);
    return;
  }
  int64_t max_id = -1;
  bool all_ints = true;
  std::set<std::string> names;
  for (int64_t i = 0; i < reader.size(); ++i) {
    const Row row = reader.row(i);
    const Value* label = field(row, "label");
    int64_t id = 0;
    if (as_int(*label, id)) {
      if (id < 0) {
        fail(row, "label " + std::to_string(id) + " is negative",
             "Label ids start at 0; or give label names.");
      }
      max_id = std::max(max_id, id);
    } else if (label->type == Value::Type::kString) {
      all_ints = false;
    } else {
      fail(row, "the label is a " + label->type_name() + ", not an int or a name",
           "Use integer ids (0, 1, ...) or label names.");
    }
    names.insert(label->to_display());
  }
  std::vector<std::string> ordered;
  if (all_ints) {
    for (int64_t id = 0; id <= max_id; ++id) ordered.push_back(std::to_string(id));
  } else {
    ordered.assign(names.begin(), names.end());
  }
  labels_ = LabelSet(ordered);
}

Sample ClassificationFormat::convert(const Row& row) const {
  Sample sample;
  sample.row = row.index;
  sample.text = text(row, "text");
  sample.text_pair = text(row, "text_pair");
  const Value* label = field(row, "label");
  int64_t id = -1;
  const bool names_are_ints = labels_.size() > 0 && labels_.names()[0] == "0";
  if (label->type == Value::Type::kString && labels_.id(label->text) >= 0) {
    id = labels_.id(label->text);
  } else if (as_int(*label, id) && (names_are_ints || label->type != Value::Type::kString)) {
    if (id < 0 || id >= labels_.size()) id = -1;
  } else {
    id = -1;
  }
  if (id < 0) {
    fail(row,
         "label '" + label->to_display() + "' is outside the label set {" +
             join(labels_.names(), ", ") + "}",
         "Fix the label, or list every label name (label_names) in id order.");
  }
  sample.label = id;
  return sample;
}

}  // namespace tb::data
