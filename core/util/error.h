#pragma once
// The one exception type core throws. Its message always says what went wrong, where
// (file, line/column, tensor name, row) and what the user can do about it.

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tb {

/// A user-facing error: the message is complete and ready to show as is.
class Error : public std::runtime_error {
 public:
  /// Wraps a complete message ("what, where, what to do").
  explicit Error(const std::string& message);
};

/// Builds an Error from its three parts: "<where>: <what>. <fix>" (empty parts are left out).
Error make_error(std::string_view what, std::string_view where = {}, std::string_view fix = {});

/// Formats a source location the way compilers do: "path:line:column" (0 = unknown, omitted).
std::string location(const std::filesystem::path& file, int64_t line = 0, int64_t column = 0);

}  // namespace tb
