#pragma once
// CSV and TSV (RFC 4180): quoted fields may hold delimiters, doubled quotes and line breaks.

#include "core/data/reader.h"

namespace tb::data {

/// Reads a delimited file whose first record (by default) names the columns; every value is a
/// string. A record with a different number of fields than the header is a bad row.
class CsvReader : public Reader {
 public:
  /// Scans the records (quote-aware) and checks each one's field count and UTF-8.
  CsvReader(const std::filesystem::path& path, const ReaderOptions& options, char delimiter);
  std::string kind() const override { return delimiter_ == '\t' ? "tsv" : "csv"; }
  std::vector<std::string> columns() const override { return header_; }

 protected:
  Value parse(std::string_view bytes) const override;

 private:
  char delimiter_;
  std::vector<std::string> header_;
};

/// Splits one CSV record (may contain quoted line breaks) into its fields.
std::vector<std::string> split_csv_record(std::string_view record, char delimiter);

}  // namespace tb::data
