#include "core/data/text_reader.h"

namespace tb::data {

namespace {

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r\f\v") == std::string_view::npos;
}

}  // namespace

TextReader::TextReader(const std::filesystem::path& path, const ReaderOptions& options)
    : Reader(path, options) {
  int64_t row_number = 0;
  if (options.text_unit == TextUnit::kLine) {
    scan_lines([&](std::string_view line, uint64_t offset, uint32_t line_number) {
      if (blank(line)) return;
      ++row_number;
      if (check_utf8(line, line_number, row_number)) {
        spans_.push_back({offset, uint32_t(line.size()), line_number});
      }
    });
    return;
  }
  // Paragraphs: a span from the first line's start to the last line's end; UTF-8 is checked
  // line by line so a bad byte is reported on its own line.
  RowSpan paragraph;
  bool open = false, bad = false;
  auto close = [&] {
    if (open && !bad) spans_.push_back(paragraph);
    open = bad = false;
  };
  scan_lines([&](std::string_view line, uint64_t offset, uint32_t line_number) {
    if (blank(line)) {
      close();
      return;
    }
    if (!open) {
      open = true;
      ++row_number;
      paragraph = {offset, 0, line_number};
    }
    paragraph.length = uint32_t(offset + line.size() - paragraph.offset);
    if (!bad && !check_utf8(line, line_number, row_number)) bad = true;
  });
  close();
}

Value TextReader::parse(std::string_view bytes) const {
  std::string text;
  text.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] == '\r' && i + 1 < bytes.size() && bytes[i + 1] == '\n') continue;
    text += bytes[i];
  }
  Value row;
  row.type = Value::Type::kObject;
  row.fields.emplace_back(options_.text_column, Value::of_string(std::move(text)));
  return row;
}

}  // namespace tb::data
