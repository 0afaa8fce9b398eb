#include "core/data/json_value.h"

#include <nlohmann/json.hpp>

namespace tb::data {

namespace {

using Json = nlohmann::json;

// Builds the Value tree straight from parser events: no intermediate nlohmann tree.
class ValueBuilder : public nlohmann::json_sax<Json> {
 public:
  Value root;

  bool null() override { return put(Value{}); }
  bool boolean(bool flag) override {
    Value value;
    value.type = Value::Type::kBool;
    value.integer = flag ? 1 : 0;
    return put(std::move(value));
  }
  bool number_integer(number_integer_t number) override { return put(Value::of_int(number)); }
  bool number_unsigned(number_unsigned_t number) override {
    if (number > static_cast<number_unsigned_t>(INT64_MAX)) return number_float(double(number), {});
    return put(Value::of_int(static_cast<int64_t>(number)));
  }
  bool number_float(number_float_t number, const string_t&) override {
    Value value;
    value.type = Value::Type::kReal;
    value.real = number;
    return put(std::move(value));
  }
  bool string(string_t& text) override { return put(Value::of_string(std::move(text))); }
  bool binary(binary_t&) override { return put(Value{}); }
  bool start_object(std::size_t) override {
    Value value;
    value.type = Value::Type::kObject;
    return open(std::move(value));
  }
  bool key(string_t& name) override {
    stack_.back()->fields.emplace_back(std::move(name), Value{});
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override {
    Value value;
    value.type = Value::Type::kList;
    return open(std::move(value));
  }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  // Places a value where the parser is: the root, the last key of an object, or a list's end.
  Value* slot() {
    if (stack_.empty()) return &root;
    Value* parent = stack_.back();
    if (parent->type == Value::Type::kObject) return &parent->fields.back().second;
    parent->items.emplace_back();
    return &parent->items.back();
  }
  bool put(Value value) {
    *slot() = std::move(value);
    return true;
  }
  bool open(Value value) {
    Value* target = slot();
    *target = std::move(value);
    stack_.push_back(target);
    return true;
  }
  std::vector<Value*> stack_;
};

// Validation without building anything; keeps the failure position and message.
class Checker : public nlohmann::json_sax<Json> {
 public:
  JsonFailure failure;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& error) override {
    failure.byte = position;
    std::string message = error.what();
    // nlohmann prefixes "[json.exception.parse_error.101] parse error at line 1, column 5: ";
    // the caller reports the position in the file, so keep only the reason.
    const size_t colon = message.find(": ");
    failure.message = colon == std::string::npos ? message : message.substr(colon + 2);
    return false;
  }
};

}  // namespace

bool check_json(std::string_view text, JsonFailure& failure) {
  Checker checker;
  const bool ok = Json::sax_parse(text.begin(), text.end(), &checker);
  if (!ok) failure = checker.failure;
  return ok;
}

Value parse_json_value(std::string_view text) {
  ValueBuilder builder;
  Json::sax_parse(text.begin(), text.end(), &builder);
  return std::move(builder.root);
}

}  // namespace tb::data
