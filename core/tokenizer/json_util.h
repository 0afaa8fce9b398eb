#pragma once
// JSON reading for the tokenizer loaders (internal to core: nlohmann-json is a private
// dependency, so only core .cpp files include this header).

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tb::tokenizer_json {

using Json = nlohmann::json;

/// Parses `text`; syntax errors become tb::Error naming `source`:line:column.
Json parse(std::string_view text, const std::string& source);

/// Reads and parses a JSON file (errors name the file and the line/column).
Json parse_file(const std::filesystem::path& path);

/// String member `key` of `object`, or `fallback` when absent or null; other types are errors.
std::string get_string(const Json& object, const char* key, const std::string& fallback,
                       std::string_view where);
/// Boolean member, `fallback` when absent or null.
bool get_bool(const Json& object, const char* key, bool fallback, std::string_view where);
/// Unsigned integer member, `fallback` when absent or null.
uint64_t get_uint(const Json& object, const char* key, uint64_t fallback, std::string_view where);
/// Largest token id accepted. Vocabularies are stored densely by id, so an id in the billions
/// (a typo, a negative number read as unsigned) would allocate gigabytes; the largest real
/// vocabularies have ~256k entries.
inline constexpr uint32_t kMaxTokenId = (1u << 24) - 1;
/// `value` as a token id: tb::Error naming `what` unless it is an integer in [0, kMaxTokenId].
uint32_t token_id(const Json& value, const std::string& what, std::string_view where);
/// Number member, `fallback` when absent or null.
double get_double(const Json& object, const char* key, double fallback, std::string_view where);

/// The "type" member of a component object (error when missing).
std::string get_type(const Json& object, std::string_view where);

/// Throws the "unknown component type" error listing the supported ones.
[[noreturn]] void unknown_type(std::string_view family, const std::string& type,
                               const std::vector<std::string>& supported, std::string_view where);

}  // namespace tb::tokenizer_json
