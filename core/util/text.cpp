#include "core/util/text.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace tb {

size_t edit_distance(std::string_view a, std::string_view b) {
  // One row of the dynamic-programming table is enough.
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string closest_match(std::string_view word, const std::vector<std::string>& candidates) {
  const size_t limit = std::max<size_t>(2, word.size() / 3);
  std::string best;
  size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    const size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string text;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) text.append(separator);
    text.append(items[i]);
  }
  return text;
}

std::string format_mib(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

std::optional<NumberedComponent> find_numbered_component(std::string_view name, size_t from) {
  for (size_t dot = name.find('.', from); dot != std::string_view::npos;
       dot = name.find('.', dot + 1)) {
    const size_t begin = dot + 1;
    size_t end = begin;
    while (end < name.size() && name[end] >= '0' && name[end] <= '9') ++end;
    const bool whole_component = end == name.size() || name[end] == '.';
    if (end == begin || !whole_component || end - begin > 18) continue;
    NumberedComponent found;
    found.begin = begin;
    found.end = end;
    for (size_t i = begin; i < end; ++i) found.number = found.number * 10 + (name[i] - '0');
    return found;
  }
  return std::nullopt;
}

}  // namespace tb
