#pragma once
// text: one column of plain text per row (causal-LM pre-training style, recipe B).

#include "core/data/format.h"

namespace tb::data {

/// Rows become Sample::text.
class TextFormat : public Format {
 public:
  std::string name() const override { return "text"; }
  /// text→text (required).
  std::vector<ColumnRole> roles() const override { return {{"text", "text", true}}; }
  Sample convert(const Row& row) const override;
};

}  // namespace tb::data
