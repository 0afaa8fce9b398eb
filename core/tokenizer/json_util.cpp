#include "core/tokenizer/json_util.h"

#include <fstream>
#include <sstream>

#include "core/util/error.h"
#include "core/util/text.h"

namespace tb::tokenizer_json {

Json parse(std::string_view text, const std::string& source) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& error) {
    // parse_error::byte is the 1-based offset of the offending byte; turn it into line/column.
    const size_t stop = std::min<size_t>(error.byte == 0 ? 0 : error.byte - 1, text.size());
    int64_t line = 1, column = 1;
    for (size_t i = 0; i < stop; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
        ++column;
      }
    }
    std::string what = error.what();
    // nlohmann prefixes "[json.exception.parse_error.101] parse error at line L, column C: ";
    // keep only the explanation since the location is printed in the compiler style.
    const size_t colon = what.find(": ", what.find("parse error"));
    if (colon != std::string::npos) what = what.substr(colon + 2);
    throw make_error("invalid JSON: " + what, location(source, line, column),
                     "fix the file or download it again");
  } catch (const Json::exception& error) {
    // Not a syntax error but a value the parser cannot hold (e.g. a number beyond 64 bits,
    // found by fuzzing): still the file's fault, never a crash.
    std::string what = error.what();
    const size_t bracket = what.find("] ");
    if (bracket != std::string::npos) what = what.substr(bracket + 2);
    throw make_error("invalid JSON: " + what, source, "fix the file or download it again");
  }
}

Json parse_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw make_error("cannot open " + path.string(), "tokenizer",
                     "check the path; a model folder must contain tokenizer.json");
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return parse(buffer.str(), path.string());
}

namespace {

[[noreturn]] void wrong_type(const char* key, const char* expected, std::string_view where) {
  throw make_error(std::string("field '") + key + "' must be " + expected, where,
                   "fix the tokenizer file");
}

}  // namespace

std::string get_string(const Json& object, const char* key, const std::string& fallback,
                       std::string_view where) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_string()) wrong_type(key, "a string", where);
  return it->get<std::string>();
}

bool get_bool(const Json& object, const char* key, bool fallback, std::string_view where) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) wrong_type(key, "true or false", where);
  return it->get<bool>();
}

uint64_t get_uint(const Json& object, const char* key, uint64_t fallback, std::string_view where) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_number_unsigned() && !(it->is_number_integer() && it->get<int64_t>() >= 0)) {
    wrong_type(key, "a non-negative integer", where);
  }
  return it->get<uint64_t>();
}

uint32_t token_id(const Json& value, const std::string& what, std::string_view where) {
  const bool integer = value.is_number_unsigned() || value.is_number_integer();
  if (!integer || (value.is_number_integer() && value.get<int64_t>() < 0) ||
      value.get<uint64_t>() > kMaxTokenId) {
    throw make_error(what + " has id " + value.dump() + ", not a token id from 0 to " +
                         std::to_string(kMaxTokenId),
                     where, "fix the tokenizer file");
  }
  return static_cast<uint32_t>(value.get<uint64_t>());
}

double get_double(const Json& object, const char* key, double fallback, std::string_view where) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_number()) wrong_type(key, "a number", where);
  return it->get<double>();
}

std::string get_type(const Json& object, std::string_view where) {
  if (!object.is_object()) {
    throw make_error("expected a JSON object with a \"type\" field", where,
                     "fix the tokenizer file");
  }
  const auto it = object.find("type");
  if (it == object.end() || !it->is_string()) {
    throw make_error("component has no \"type\" field", where, "fix the tokenizer file");
  }
  return it->get<std::string>();
}

void unknown_type(std::string_view family, const std::string& type,
                  const std::vector<std::string>& supported, std::string_view where) {
  const std::string suggestion = closest_match(type, supported);
  throw make_error(std::string("unknown ") + std::string(family) + " type '" + type + "'" +
                       (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)"),
                   where, "supported " + std::string(family) + " types: " + join(supported, ", "));
}

}  // namespace tb::tokenizer_json
