#include "core/data/alpaca_format.h"

namespace tb::data {

std::vector<ColumnRole> AlpacaFormat::roles() const {
  return {{"prompt", "instruction", true},
          {"response", "output", true},
          {"query", "input", false},
          {"system", "system", false},
          {"history", "history", false}};
}

Sample AlpacaFormat::convert(const Row& row) const {
  Sample sample;
  sample.row = row.index;
  sample.system = text(row, "system");
  if (const Value* history = field(row, "history")) {
    if (history->type != Value::Type::kList) {
      fail(row, "column '" + column("history") + "' must be a list of [query, answer] pairs",
           "Write history as [[\"question\", \"answer\"], ...].");
    }
    for (const Value& pair : history->items) {
      if (pair.type != Value::Type::kList || pair.items.size() != 2 ||
          pair.items[0].type != Value::Type::kString ||
          pair.items[1].type != Value::Type::kString) {
        fail(row, "a history entry is not a [query, answer] pair of strings",
             "Write history as [[\"question\", \"answer\"], ...].");
      }
      sample.messages.push_back({"user", pair.items[0].text});
      sample.messages.push_back({"assistant", pair.items[1].text});
    }
  }
  // LLaMA-Factory joins instruction and input with one newline when input is not empty.
  std::string prompt = text(row, "prompt");
  const std::string query = text(row, "query");
  if (!query.empty()) prompt += "\n" + query;
  sample.messages.push_back({"user", std::move(prompt)});
  sample.messages.push_back({"assistant", text(row, "response")});
  return sample;
}

}  // namespace tb::data
