#pragma once
// classification: text (+ optional text pair) and a label given as an int id or a name.

#include "core/data/format.h"

namespace tb::data {

/// Label names ↔ ids.
class LabelSet {
 public:
  /// Ids are positions in `names`.
  explicit LabelSet(std::vector<std::string> names = {});
  /// Number of labels.
  int64_t size() const { return int64_t(names_.size()); }
  /// The names, by id.
  const std::vector<std::string>& names() const { return names_; }
  /// The id of `name`, or -1.
  int64_t id(const std::string& name) const;

 private:
  std::vector<std::string> names_;
};

/// Labels: with FormatOptions::label_names, names map to ids and int ids must be < count;
/// without, prepare() reads every label: all ints (or digit strings) → ids 0..max, named
/// "0".."max"; otherwise the sorted distinct names.
class ClassificationFormat : public Format {
 public:
  std::string name() const override { return "classification"; }
  /// text→text, label→label (required); text_pair→text_pair.
  std::vector<ColumnRole> roles() const override;
  void prepare(const Reader& reader) override;
  Sample convert(const Row& row) const override;
  /// The label set in force (after prepare).
  const LabelSet& labels() const { return labels_; }

 private:
  LabelSet labels_;
};

}  // namespace tb::data
