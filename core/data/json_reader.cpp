#include "core/data/json_reader.h"

#include <zlib.h>

#include "core/data/json_value.h"
#include "core/util/error.h"

namespace tb::data {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Where the structural scan stands; carried across chunks.
struct ScanState {
  int depth = 0;           // 0 outside the array, 1 between its elements
  bool in_string = false;  // inside a JSON string
  bool escape = false;     // the previous byte was a backslash inside a string
  bool started = false;    // the opening '[' was seen
  bool finished = false;   // the closing ']' was seen
  bool in_element = false;
  uint64_t element_start = 0;
  uint32_t element_line = 0;
  uint32_t element_column = 0;
  uint64_t element_end = 0;  // one past the last non-space byte of the element
  uint32_t line = 1;
  uint32_t column = 0;
  uint32_t string_line = 0;  // where the open string began (for "unterminated" messages)
  uint32_t string_column = 0;
};

}  // namespace

bool json_file_holds_lines(const std::filesystem::path& path, const ReaderOptions&) {
  // gzread reads plain files too, so one code path sniffs both.
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) throw make_error("data file not found or unreadable", path.string());
  char buffer[4096];
  const int got = gzread(file, buffer, sizeof buffer);
  gzclose(file);
  for (int i = 0; i < got; ++i) {
    if (is_space(buffer[i])) continue;
    if (i == 0 && got >= 3 && std::string_view(buffer, 3) == "\xEF\xBB\xBF") {
      i += 2;
      continue;
    }
    return buffer[i] != '[';
  }
  return false;
}

JsonReader::JsonReader(const std::filesystem::path& path, const ReaderOptions& options)
    : Reader(path, options) {
  ScanState state;
  std::vector<RowSpan> elements;
  std::vector<uint32_t> columns;
  auto structure_error = [&](uint32_t line, uint32_t column, const std::string& what) {
    throw make_error(what, location(source_.path(), line, column),
                     "The file must hold one JSON array of objects: [{...}, {...}].");
  };
  source_.for_each_chunk([&](std::string_view chunk, uint64_t base) {
    for (size_t i = 0; i < chunk.size(); ++i) {
      const char c = chunk[i];
      const uint64_t offset = base + i;
      if (c == '\n') {
        ++state.line;
        state.column = 0;
      } else {
        ++state.column;
      }
      if (state.in_string) {
        if (state.escape) {
          state.escape = false;
        } else if (c == '\\') {
          state.escape = true;
        } else if (c == '"') {
          state.in_string = false;
          state.element_end = offset + 1;
        }
        continue;
      }
      if (is_space(c)) continue;
      if (offset < 3 && (c == '\xEF' || c == '\xBB' || c == '\xBF')) continue;  // BOM
      if (state.finished) {
        structure_error(state.line, state.column, "unexpected text after the closing ']'");
      }
      if (!state.started) {
        if (c != '[') structure_error(state.line, state.column, "expected '[' to open the array");
        state.started = true;
        state.depth = 1;
        continue;
      }
      if (state.depth == 1 && (c == ',' || c == ']')) {
        if (state.in_element) {
          elements.push_back({state.element_start,
                              uint32_t(state.element_end - state.element_start),
                              state.element_line});
          columns.push_back(state.element_column);
          state.in_element = false;
        } else if (c == ',' || !elements.empty()) {
          structure_error(state.line, state.column, "missing array element before this");
        }
        if (c == ']') {
          state.finished = true;
          state.depth = 0;
        }
        continue;
      }
      if (!state.in_element) {
        state.in_element = true;
        state.element_start = offset;
        state.element_line = state.line;
        state.element_column = state.column;
      }
      state.element_end = offset + 1;
      if (c == '"') {
        state.in_string = true;
        state.string_line = state.line;
        state.string_column = state.column;
      } else if (c == '{' || c == '[') {
        ++state.depth;
      } else if (c == '}' || c == ']') {
        if (--state.depth < 1) structure_error(state.line, state.column, "unbalanced bracket");
      }
    }
  });
  if (state.in_string) {
    structure_error(state.string_line, state.string_column, "unterminated string");
  }
  if (!state.started) structure_error(1, 1, "the file is empty; expected a JSON array");
  if (!state.finished) {
    structure_error(state.line, state.column, "the array is not closed (missing ']')");
  }
  int64_t row_number = 0;
  for (size_t k = 0; k < elements.size(); ++k) {
    const RowSpan& span = elements[k];
    ++row_number;
    const std::string bytes = source_.read(span.offset, span.length);
    if (!check_utf8(bytes, span.line, row_number, columns[k])) continue;
    JsonFailure failure;
    if (!check_json(bytes, failure)) {
      // Position of the failure inside the element, counted from the element's first byte.
      int64_t line = span.line, column = columns[k];
      for (size_t i = 0; i + 1 < failure.byte && i < bytes.size(); ++i) {
        if (bytes[i] == '\n') {
          ++line;
          column = 1;
        } else {
          ++column;
        }
      }
      reject(line, column,
             "broken JSON in row " + std::to_string(row_number) + ": " + failure.message,
             "Fix that element of the array.");
      continue;
    }
    if (bytes[0] != '{') {
      reject(span.line, columns[k], "row " + std::to_string(row_number) + " is not a JSON object",
             "Each element must be an object such as {\"text\": \"...\"}.");
      continue;
    }
    spans_.push_back(span);
  }
}

Value JsonReader::parse(std::string_view bytes) const { return parse_json_value(bytes); }

}  // namespace tb::data
