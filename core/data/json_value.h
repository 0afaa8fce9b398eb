#pragma once
// JSON text → Value. Shared by the JSON Lines and JSON array readers; nlohmann stays private.

#include <string_view>

#include "core/data/value.h"

namespace tb::data {

/// Where a JSON text failed to parse: 1-based byte position inside it and the parser's words.
struct JsonFailure {
  size_t byte = 0;      // 1-based position of the offending byte within the text; 0 = none
  std::string message;  // what is wrong, e.g. "unexpected end of input; expected '}'"
};

/// True when `text` is one well-formed JSON value; otherwise fills `failure`. Fast (no tree).
bool check_json(std::string_view text, JsonFailure& failure);

/// Parses a JSON text known to be well formed (see check_json) into a Value.
Value parse_json_value(std::string_view text);

}  // namespace tb::data
