#pragma once
// JSON Lines: one JSON object per line; blank lines are ignored.

#include "core/data/reader.h"

namespace tb::data {

/// Reads a .jsonl file (or gzip of one) through an index of line offsets.
class JsonlReader : public Reader {
 public:
  /// Scans and checks every line; throws tb::Error at the first broken one (file:line:column)
  /// unless options.skip_bad_rows.
  JsonlReader(const std::filesystem::path& path, const ReaderOptions& options);
  std::string kind() const override { return "jsonl"; }

 protected:
  Value parse(std::string_view bytes) const override;
};

}  // namespace tb::data
