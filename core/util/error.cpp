#include "core/util/error.h"

namespace tb {

Error::Error(const std::string& message) : std::runtime_error(message) {}

Error make_error(std::string_view what, std::string_view where, std::string_view fix) {
  std::string message;
  if (!where.empty()) {
    message.append(where).append(": ");
  }
  message.append(what);
  if (!fix.empty()) {
    // Sentences end once: "x failed. Do y." rather than "x failed.. Do y."
    if (!message.empty() && message.back() != '.') message.push_back('.');
    message.append(" ").append(fix);
  }
  return Error(message);
}

std::string location(const std::filesystem::path& file, int64_t line, int64_t column) {
  std::string text = file.string();
  if (line > 0) {
    text += ":" + std::to_string(line);
    if (column > 0) text += ":" + std::to_string(column);
  }
  return text;
}

}  // namespace tb
