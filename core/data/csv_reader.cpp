#include "core/data/csv_reader.h"

#include "core/util/error.h"

namespace tb::data {

std::vector<std::string> split_csv_record(std::string_view record, char delimiter) {
  std::vector<std::string> fields(1);
  bool quoted = false;      // inside a quoted section
  bool field_start = true;  // nothing read yet for this field
  for (size_t i = 0; i < record.size(); ++i) {
    const char c = record[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < record.size() && record[i + 1] == '"') {
          fields.back() += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else if (c == '\r' && i + 1 < record.size() && record[i + 1] == '\n') {
        continue;  // CRLF inside a quoted field reads as LF, as every CSV library does
      } else {
        fields.back() += c;
      }
      continue;
    }
    if (c == delimiter) {
      fields.emplace_back();
      field_start = true;
      continue;
    }
    if (c == '"' && field_start) {
      quoted = true;
      field_start = false;
      continue;
    }
    field_start = false;
    fields.back() += c;  // a stray quote inside an unquoted field is kept as text (lenient)
  }
  return fields;
}

CsvReader::CsvReader(const std::filesystem::path& path, const ReaderOptions& options,
                     char delimiter)
    : Reader(path, options), delimiter_(delimiter) {
  // Pass 1: record boundaries. A newline ends a record only outside quotes, and a quote opens
  // a quoted field only at the field's start: the same rules split_csv_record reads by, so a
  // stray quote inside an unquoted field (5" screen) stays text and cannot swallow lines.
  enum class State { kFieldStart, kUnquoted, kQuoted, kQuoteInQuoted };
  State state = State::kFieldStart;
  std::vector<RowSpan> records;
  uint64_t start = 0;
  uint32_t line = 1, start_line = 1;
  source_.for_each_chunk([&](std::string_view chunk, uint64_t base) {
    for (size_t i = 0; i < chunk.size(); ++i) {
      const char c = chunk[i];
      if (state == State::kQuoted) {
        if (c == '"') state = State::kQuoteInQuoted;
        if (c == '\n') ++line;
        continue;
      }
      if (state == State::kQuoteInQuoted) {
        if (c == '"') {  // a doubled quote: still inside the field
          state = State::kQuoted;
          continue;
        }
        state = State::kUnquoted;  // the field was closed; read c as after any text
      }
      if (c == delimiter_) {
        state = State::kFieldStart;
      } else if (c == '\n') {
        const uint64_t end = base + i;
        records.push_back({start, uint32_t(end - start), start_line});
        start = end + 1;
        start_line = ++line;
        state = State::kFieldStart;
      } else if (c == '"' && state == State::kFieldStart) {
        state = State::kQuoted;
      } else {
        state = State::kUnquoted;
      }
    }
  });
  if (state == State::kQuoted) {
    throw make_error("a quoted field opened in the record starting here is never closed",
                     location(source_.path(), start_line),
                     "Close the quote (\"), or double quotes inside a field (\"\").");
  }
  if (start < source_.size()) {
    records.push_back({start, uint32_t(source_.size() - start), start_line});
  }

  // Pass 2: each record's fields against the header.
  int64_t row_number = 0;
  bool have_header = !options.csv_header;
  for (RowSpan span : records) {
    std::string bytes = source_.read(span.offset, span.length);
    if (!bytes.empty() && bytes.back() == '\r') {
      bytes.pop_back();
      --span.length;
    }
    if (span.offset == 0 && bytes.compare(0, 3, "\xEF\xBB\xBF") == 0) {
      bytes.erase(0, 3);
      span.offset += 3;
      span.length -= 3;
    }
    if (bytes.find_first_not_of(" \t") == std::string::npos) continue;  // blank line
    if (!have_header) {
      if (!check_utf8(bytes, span.line, 0)) {
        throw make_error("the header is not valid UTF-8", location(source_.path(), span.line),
                         "Convert the file to UTF-8.");
      }
      header_ = split_csv_record(bytes, delimiter_);
      have_header = true;
      continue;
    }
    ++row_number;
    if (!check_utf8(bytes, span.line, row_number)) continue;
    const std::vector<std::string> fields = split_csv_record(bytes, delimiter_);
    if (header_.empty()) {
      for (size_t k = 0; k < fields.size(); ++k)
        header_.push_back("column_" + std::to_string(k + 1));
    }
    if (fields.size() != header_.size()) {
      reject(span.line, 0,
             "ragged row " + std::to_string(row_number) + ": it has " +
                 std::to_string(fields.size()) + " fields, the header has " +
                 std::to_string(header_.size()),
             "Give every row the same number of fields (quote fields that contain the "
             "delimiter).");
      continue;
    }
    spans_.push_back(span);
  }
}

Value CsvReader::parse(std::string_view bytes) const {
  std::vector<std::string> fields = split_csv_record(bytes, delimiter_);
  Value row;
  row.type = Value::Type::kObject;
  for (size_t k = 0; k < header_.size(); ++k) {
    row.fields.emplace_back(header_[k],
                            Value::of_string(k < fields.size() ? std::move(fields[k]) : ""));
  }
  return row;
}

}  // namespace tb::data
