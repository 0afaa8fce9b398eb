#include "core/data/preview.h"

#include <algorithm>

namespace tb::data {

namespace {

constexpr size_t kMaxDistinct = 20;

// Running statistics of one column.
struct Accumulator {
  ColumnStats stats;
  int64_t total_chars = 0;
  std::map<std::string, int64_t> distinct;
  bool too_many = false;

  void add(const Value& value) {
    if (value.type == Value::Type::kNull) return;
    ++stats.present;
    ++stats.types[value.type_name()];
    const std::string shown = value.to_display();
    const auto length = int64_t(shown.size());
    if ((value.type == Value::Type::kString && value.text.empty()) ||
        (value.type == Value::Type::kList && value.items.empty())) {
      ++stats.empty;
    }
    stats.min_chars = stats.present == 1 ? length : std::min(stats.min_chars, length);
    stats.max_chars = std::max(stats.max_chars, length);
    total_chars += length;
    if (!too_many && shown.size() <= 64) {  // long texts are not categories
      ++distinct[shown];
      too_many = distinct.size() > kMaxDistinct;
    } else {
      too_many = true;
    }
  }

  ColumnStats finish() {
    if (stats.present > 0) stats.mean_chars = double(total_chars) / double(stats.present);
    if (!too_many) stats.values.assign(distinct.begin(), distinct.end());
    std::stable_sort(stats.values.begin(), stats.values.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    return stats;
  }
};

}  // namespace

std::vector<PreviewSpan> render_spans(const Sample& sample,
                                      const std::vector<std::string>& label_names) {
  std::vector<PreviewSpan> spans;
  if (!sample.system.empty()) spans.push_back({"system", sample.system, false});
  for (const Message& message : sample.messages) {
    spans.push_back({message.role, message.content, message.role == "assistant"});
  }
  if (sample.label >= 0) {
    spans.push_back({"text", sample.text, false});
    if (!sample.text_pair.empty()) spans.push_back({"text_pair", sample.text_pair, false});
    const bool named = size_t(sample.label) < label_names.size();
    spans.push_back(
        {"label", named ? label_names[size_t(sample.label)] : std::to_string(sample.label), true});
  } else if (sample.messages.empty()) {
    spans.push_back({"text", sample.text, true});
  }
  return spans;
}

DataPreview preview_data(const std::filesystem::path& path, const PreviewOptions& options) {
  DataPreview preview;
  std::filesystem::path file = path;
  DatasetOptions dataset_options = options.dataset;
  if (std::filesystem::is_directory(path)) {
    const DatasetEntry entry = read_dataset_info(path, options.name, options.dataset);
    file = entry.file;
    dataset_options = entry.options;
  }
  const Dataset data(file, dataset_options);
  preview.file = file;
  preview.reader = data.reader().kind();
  preview.format = data.format().name();
  preview.format_detected = data.format_detected();
  preview.rows = data.size();
  preview.skipped = data.reader().skipped();
  preview.skipped_messages = data.reader().skipped_messages();
  preview.label_names = data.label_names();

  const int64_t stats_rows =
      options.stats_rows > 0 ? std::min(options.stats_rows, data.size()) : data.size();
  std::vector<std::string> order;
  std::map<std::string, Accumulator> columns;
  for (const std::string& name : data.reader().columns()) {
    order.push_back(name);
    columns[name].stats.name = name;
  }
  for (int64_t i = 0; i < stats_rows; ++i) {
    const Row row = data.row(i);
    for (const auto& [name, value] : row.value.fields) {
      if (!columns.count(name)) {
        order.push_back(name);
        columns[name].stats.name = name;
      }
      columns[name].add(value);
    }
  }
  preview.stats_rows = stats_rows;
  for (const std::string& name : order) preview.columns.push_back(columns[name].finish());

  for (int64_t i = 0; i < std::min(options.rows, data.size()); ++i) {
    const Row row = data.row(i);
    preview.first_rows.push_back(
        {i, row.line, render_spans(data.format().convert(row), preview.label_names)});
  }
  if (!options.eval_path.empty()) {
    const Dataset eval(options.eval_path, dataset_options);
    preview.eval_file_rows = eval.size();
  }
  preview.subset = select_subset(data.size(), preview.eval_file_rows, options.subset);
  if (options.tokenizer.encode) {
    preview.train_tokens =
        token_length_stats(data, preview.subset.train, options.tokenizer, options.task);
  }
  return preview;
}

}  // namespace tb::data
