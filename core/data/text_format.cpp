#include "core/data/text_format.h"

namespace tb::data {

Sample TextFormat::convert(const Row& row) const {
  Sample sample;
  sample.row = row.index;
  sample.text = text(row, "text");
  return sample;
}

}  // namespace tb::data
