#include "core/data/jsonl_reader.h"

#include "core/data/json_value.h"

namespace tb::data {

namespace {

size_t first_non_space(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r') return i;
  }
  return std::string_view::npos;
}

}  // namespace

JsonlReader::JsonlReader(const std::filesystem::path& path, const ReaderOptions& options)
    : Reader(path, options) {
  int64_t row_number = 0;
  scan_lines([&](std::string_view line, uint64_t offset, uint32_t line_number) {
    const size_t start = first_non_space(line);
    if (start == std::string_view::npos) return;  // blank line
    ++row_number;
    if (!check_utf8(line, line_number, row_number)) return;
    JsonFailure failure;
    if (!check_json(line, failure)) {
      reject(line_number, int64_t(failure.byte == 0 ? 1 : failure.byte),
             "broken JSON in row " + std::to_string(row_number) + ": " + failure.message,
             "Fix that line (each line must be one complete JSON object).");
      return;
    }
    if (line[start] != '{') {
      reject(line_number, int64_t(start + 1),
             "row " + std::to_string(row_number) + " is not a JSON object",
             "Each line must be an object such as {\"text\": \"...\"}.");
      return;
    }
    spans_.push_back({offset, uint32_t(line.size()), line_number});
  });
}

Value JsonlReader::parse(std::string_view bytes) const { return parse_json_value(bytes); }

}  // namespace tb::data
