#include "core/data/value.h"

#include <sstream>

namespace tb::data {

Value Value::of_string(std::string text) {
  Value value;
  value.type = Type::kString;
  value.text = std::move(text);
  return value;
}

Value Value::of_int(int64_t integer) {
  Value value;
  value.type = Type::kInt;
  value.integer = integer;
  return value;
}

const Value* Value::find(std::string_view key) const {
  if (type != Type::kObject) return nullptr;
  for (const auto& [name, value] : fields) {
    if (name == key) return &value;
  }
  return nullptr;
}

std::vector<std::string> Value::keys() const {
  std::vector<std::string> names;
  for (const auto& field : fields) names.push_back(field.first);
  return names;
}

std::string Value::type_name() const {
  switch (type) {
    case Type::kNull:
      return "null";
    case Type::kString:
      return "string";
    case Type::kInt:
      return "int";
    case Type::kReal:
      return "real";
    case Type::kBool:
      return "bool";
    case Type::kList:
      return "list";
    case Type::kObject:
      return "object";
  }
  return "null";
}

std::string Value::to_display() const {
  switch (type) {
    case Type::kNull:
      return "null";
    case Type::kString:
      return text;
    case Type::kInt:
      return std::to_string(integer);
    case Type::kReal: {
      std::ostringstream out;
      out << real;
      return out.str();
    }
    case Type::kBool:
      return integer ? "true" : "false";
    case Type::kList: {
      std::string out = "[";
      for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i].to_display();
      return out + "]";
    }
    case Type::kObject: {
      std::string out = "{";
      for (size_t i = 0; i < fields.size(); ++i) {
        out += (i ? ", " : "") + fields[i].first + ": " + fields[i].second.to_display();
      }
      return out + "}";
    }
  }
  return {};
}

}  // namespace tb::data
