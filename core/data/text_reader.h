#pragma once
// Plain text: one row per line, or per paragraph (lines separated by a blank line).

#include "core/data/reader.h"

namespace tb::data {

/// Reads a .txt file into rows with one string column (options.text_column, "text").
class TextReader : public Reader {
 public:
  /// Indexes the non-blank lines or paragraphs and checks their UTF-8.
  TextReader(const std::filesystem::path& path, const ReaderOptions& options);
  std::string kind() const override { return "text"; }
  std::vector<std::string> columns() const override { return {options_.text_column}; }

 protected:
  Value parse(std::string_view bytes) const override;
};

}  // namespace tb::data
