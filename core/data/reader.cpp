#include "core/data/reader.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/data/csv_reader.h"
#include "core/data/json_reader.h"
#include "core/data/jsonl_reader.h"
#include "core/data/text_reader.h"
#include "core/data/utf8.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb::data {

namespace {

constexpr size_t kMaxSkippedMessages = 10;

// Line and column (1-based, in bytes) of `offset` inside a row that starts at line:column.
std::pair<int64_t, int64_t> position_in(std::string_view bytes, size_t offset, int64_t line,
                                        int64_t column) {
  for (size_t i = 0; i < offset && i < bytes.size(); ++i) {
    if (bytes[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

Row make_row(int64_t index, const RowSpan& span, Value value) {
  Row row;
  row.index = index;
  row.line = span.line;
  row.value = std::move(value);
  return row;
}

}  // namespace

Reader::Reader(const std::filesystem::path& path, const ReaderOptions& options)
    : source_(path, options.temp_dir), options_(options) {}

std::vector<std::string> Reader::columns() const {
  if (spans_.empty()) return {};
  return row(0).value.keys();
}

Row Reader::row(int64_t index) const {
  if (index < 0 || index >= size()) {
    throw make_error("row " + std::to_string(index) + " is out of range (the data set has " +
                         std::to_string(size()) + " rows)",
                     source_.path().string());
  }
  const RowSpan& span = spans_[size_t(index)];
  return make_row(index, span, parse(source_.read(span.offset, span.length)));
}

void Reader::reject(int64_t line, int64_t column, const std::string& what, const std::string& fix) {
  const std::string where = location(source_.path(), line, column);
  if (!options_.skip_bad_rows) {
    throw make_error(what, where, fix + " Or set skip_bad_rows to leave such rows out.");
  }
  ++skipped_;
  if (skipped_messages_.size() < kMaxSkippedMessages) {
    skipped_messages_.push_back(where + ": " + what);
  }
}

bool Reader::check_utf8(std::string_view bytes, uint32_t line, int64_t row_number, int64_t column) {
  const size_t bad = find_invalid_utf8(bytes);
  if (bad == std::string_view::npos) return true;
  if (bad == 0 && (bytes.substr(0, 2) == "\xFF\xFE" || bytes.substr(0, 2) == "\xFE\xFF")) {
    // A UTF-16 byte-order mark: the whole file is UTF-16, not one bad row.
    throw make_error("the file is UTF-16, not UTF-8", location(source_.path(), line, column),
                     "Convert it: iconv -f utf-16 -t utf-8 IN > OUT.");
  }
  const auto [bad_line, bad_column] = position_in(bytes, bad, line, column);
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02X", unsigned(static_cast<unsigned char>(bytes[bad])));
  reject(bad_line, bad_column,
         "row " + std::to_string(row_number) + " is not valid UTF-8: byte " + hex +
             " at byte offset " + std::to_string(bad) + " of the row",
         "Convert the file to UTF-8 (for example: iconv -f latin1 -t utf-8).");
  return false;
}

void Reader::scan_lines(
    const std::function<void(std::string_view, uint64_t, uint32_t)>& visit) const {
  std::string carry;         // a line split across chunks
  uint64_t carry_start = 0;  // its offset in the file
  uint32_t line = 0;
  auto emit = [&](std::string_view text, uint64_t offset) {
    ++line;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    // A UTF-8 byte-order mark at the very start is not part of the data.
    if (offset == 0 && text.substr(0, 3) == "\xEF\xBB\xBF") {
      text.remove_prefix(3);
      offset = 3;
    }
    visit(text, offset, line);
  };
  source_.for_each_chunk([&](std::string_view chunk, uint64_t base) {
    size_t start = 0;
    while (start < chunk.size()) {
      const void* found = std::memchr(chunk.data() + start, '\n', chunk.size() - start);
      if (!found) {
        if (carry.empty()) carry_start = base + start;
        carry.append(chunk.substr(start));
        return;
      }
      const size_t end = size_t(static_cast<const char*>(found) - chunk.data());
      if (!carry.empty()) {
        carry.append(chunk.substr(start, end - start));
        emit(carry, carry_start);
        carry.clear();
      } else {
        emit(chunk.substr(start, end - start), base + start);
      }
      start = end + 1;
    }
  });
  if (!carry.empty()) emit(carry, carry_start);
}

std::vector<std::string> reader_kinds() { return {"jsonl", "json", "csv", "tsv", "text"}; }

std::unique_ptr<Reader> open_reader(const std::filesystem::path& path, const ReaderOptions& options,
                                    std::string_view kind) {
  std::string chosen(kind);
  if (chosen.empty()) {
    std::string extension = without_gz(path).extension().string();
    std::transform(extension.begin(), extension.end(), extension.begin(), ::tolower);
    if (extension == ".jsonl" || extension == ".ndjson") {
      chosen = "jsonl";
    } else if (extension == ".json") {
      chosen = json_file_holds_lines(path, options) ? "jsonl" : "json";
    } else if (extension == ".csv") {
      chosen = "csv";
    } else if (extension == ".tsv") {
      chosen = "tsv";
    } else if (extension == ".txt" || extension == ".text" || extension == ".md") {
      chosen = "text";
    } else {
      throw make_error("cannot tell the file type from the name '" + path.filename().string() + "'",
                       path.string(),
                       "Use .jsonl, .json, .csv, .tsv or .txt (optionally .gz), or name the "
                       "reader: " +
                           join(reader_kinds(), ", ") + ".");
    }
  }
  // The explicit list of readers.
  if (chosen == "jsonl") return std::make_unique<JsonlReader>(path, options);
  if (chosen == "json") return std::make_unique<JsonReader>(path, options);
  if (chosen == "csv") return std::make_unique<CsvReader>(path, options, ',');
  if (chosen == "tsv") return std::make_unique<CsvReader>(path, options, '\t');
  if (chosen == "text") return std::make_unique<TextReader>(path, options);
  const std::string suggestion = closest_match(chosen, reader_kinds());
  throw make_error("unknown reader '" + chosen + "'", path.string(),
                   (suggestion.empty() ? "" : "Did you mean '" + suggestion + "'? ") +
                       "Readers: " + join(reader_kinds(), ", ") + ".");
}

}  // namespace tb::data
