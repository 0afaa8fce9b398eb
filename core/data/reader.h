#pragma once
// Readers turn one data file into rows with random access. Each reader scans the file once
// to build an index of byte spans (one per row), checking every row as it goes; a row is
// parsed again from its span when asked for, so a multi-GB file never sits in memory.
// The readers are listed explicitly in reader.cpp (`reader_kinds`, `open_reader`).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/data/source_file.h"
#include "core/data/value.h"

namespace tb::data {

/// How the plain-text reader cuts a file into rows.
enum class TextUnit { kLine, kParagraph };

/// Options shared by every reader.
struct ReaderOptions {
  bool skip_bad_rows = false;            // false: a malformed row stops loading with an error;
                                         // true: it is left out and counted (see Reader::skipped)
  TextUnit text_unit = TextUnit::kLine;  // plain text: one row per line, or per paragraph
  std::string text_column = "text";      // plain text: the column name each row's text gets
  bool csv_header = true;                // CSV/TSV: true = the first record names the columns
  std::filesystem::path temp_dir;        // gzip: where the inflated copy lives; empty = system temp
};

/// Byte span of one row in the (decompressed) file.
struct RowSpan {
  uint64_t offset = 0;  // first byte of the row
  uint32_t length = 0;  // bytes in the row (without its line ending)
  uint32_t line = 0;    // 1-based line where the row starts
};

/// One data file as rows. Subclasses build `spans_` in their constructor and parse one span.
class Reader {
 public:
  virtual ~Reader() = default;
  /// The reader's name: "jsonl", "json", "csv", "tsv" or "text".
  virtual std::string kind() const = 0;
  /// Column names: the CSV header, the text column, or the keys of the first JSON row.
  virtual std::vector<std::string> columns() const;
  /// Number of rows kept.
  int64_t size() const { return int64_t(spans_.size()); }
  /// Row `index` (0 ≤ index < size()), parsed from the file.
  Row row(int64_t index) const;
  /// How many malformed rows were left out (only with skip_bad_rows).
  int64_t skipped() const { return skipped_; }
  /// The messages of the first few rows left out, for the user to look at.
  const std::vector<std::string>& skipped_messages() const { return skipped_messages_; }
  /// The file being read.
  const SourceFile& source() const { return source_; }

 protected:
  Reader(const std::filesystem::path& path, const ReaderOptions& options);
  /// Parses the bytes of one row (already validated by the index scan).
  virtual Value parse(std::string_view bytes) const = 0;
  /// Reports a malformed row: throws, or with skip_bad_rows counts it and returns.
  void reject(int64_t line, int64_t column, const std::string& what, const std::string& fix);
  /// Checks that a row's bytes (starting at line:column) are UTF-8; rejects the row (returns
  /// false) when not.
  bool check_utf8(std::string_view bytes, uint32_t line, int64_t row_number, int64_t column = 1);
  /// Calls `visit(line, offset, line_number)` for every line (no '\n', no trailing '\r').
  void scan_lines(const std::function<void(std::string_view, uint64_t, uint32_t)>& visit) const;

  SourceFile source_;
  ReaderOptions options_;
  std::vector<RowSpan> spans_;

 private:
  int64_t skipped_ = 0;
  std::vector<std::string> skipped_messages_;
};

/// The reader names open_reader accepts, in the order auto-detection tries extensions.
std::vector<std::string> reader_kinds();

/// Opens `path` with the reader `kind` ("" = from the extension, ".gz" looked through; a
/// ".json" file holding JSON Lines is read as such). Throws tb::Error for an unknown kind.
std::unique_ptr<Reader> open_reader(const std::filesystem::path& path,
                                    const ReaderOptions& options = {}, std::string_view kind = {});

}  // namespace tb::data
