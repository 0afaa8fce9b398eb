#pragma once
// alpaca: instruction, input, output, optional system and history ([[query, answer], ...]).

#include "core/data/format.h"

namespace tb::data {

/// Rows become: history turns, then user = instruction + "\n" + input, assistant = output.
class AlpacaFormat : public Format {
 public:
  std::string name() const override { return "alpaca"; }
  /// prompt→instruction, response→output (required); query→input, system, history.
  std::vector<ColumnRole> roles() const override;
  Sample convert(const Row& row) const override;
};

}  // namespace tb::data
