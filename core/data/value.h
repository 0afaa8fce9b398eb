#pragma once
// A data-set row as plain values: what every reader produces and every format consumes.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tb::data {

/// One field value with JSON's shapes (CSV and text readers produce strings only).
struct Value {
  /// Which member holds the value.
  enum class Type { kNull, kString, kInt, kReal, kBool, kList, kObject };

  Type type = Type::kNull;                            // default null
  std::string text;                                   // kString: UTF-8 text
  int64_t integer = 0;                                // kInt; kBool as 0/1
  double real = 0;                                    // kReal
  std::vector<Value> items;                           // kList: elements in order
  std::vector<std::pair<std::string, Value>> fields;  // kObject: members in file order

  /// A string value.
  static Value of_string(std::string text);
  /// An integer value.
  static Value of_int(int64_t integer);
  /// The member named `key` of an object, or nullptr (also for non-objects).
  const Value* find(std::string_view key) const;
  /// The names of an object's members, in order.
  std::vector<std::string> keys() const;
  /// "null", "string", "int", "real", "bool", "list" or "object".
  std::string type_name() const;
  /// Compact text for previews: strings as is, numbers printed, lists/objects as JSON-like text.
  std::string to_display() const;
};

/// One row of a data set: an object value plus where it came from.
struct Row {
  int64_t index = 0;  // 0-based row number among the rows kept (bad rows skipped)
  int64_t line = 0;   // 1-based line of the source file where the row starts; 0 = unknown
  Value value;        // an object: column name → value
};

}  // namespace tb::data
