#pragma once
// A JSON file holding one array of row objects (LLaMA-Factory's usual .json layout).

#include "core/data/reader.h"

namespace tb::data {

/// Reads `[ {...}, {...} ]` by scanning the array's structure once and indexing each element's
/// byte span, so the file is never parsed whole into memory.
class JsonReader : public Reader {
 public:
  /// Scans and checks every element; structural damage (an unterminated string or array)
  /// always throws with file:line:column, a broken element is skippable.
  JsonReader(const std::filesystem::path& path, const ReaderOptions& options);
  std::string kind() const override { return "json"; }

 protected:
  Value parse(std::string_view bytes) const override;
};

/// True when a .json file is really JSON Lines (its first non-space byte is not '[').
bool json_file_holds_lines(const std::filesystem::path& path, const ReaderOptions& options);

}  // namespace tb::data
