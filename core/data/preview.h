#pragma once
// What the GUI's data page and `tunebench-cli preview-data` show before a run: the detected
// reader and format, per-column statistics, the first rows as the task sees them (prompt and
// target spans marked) and the row indices of the train/eval subsets.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/data/dataset.h"
#include "core/data/subset.h"
#include "core/data/token_stats.h"

namespace tb::data {

/// What to preview.
struct PreviewOptions {
  std::string name;                 // dataset_info.json entry when the path is a folder
  DatasetOptions dataset;           // reader, format, column mapping, skip_bad_rows
  std::filesystem::path eval_path;  // eval file; empty = none (val_size may split one off)
  SubsetOptions subset;             // max_samples, eval_samples, val_size, seed
  int64_t rows = 5;                 // first rows rendered
  int64_t stats_rows = 10000;       // rows read for column statistics; ≤ 0 = all
  TokenizerFns tokenizer;           // set (encode non-empty) to measure token lengths of the
                                    // train subset; unset = no token statistics
  TaskOptions task;                 // the task whose examples are measured
};

/// Statistics of one column over the rows read.
struct ColumnStats {
  std::string name;                                     // column name
  int64_t present = 0;                                  // rows with a non-null value
  int64_t empty = 0;                                    // rows with "" or an empty list
  std::map<std::string, int64_t> types;                 // value type → rows
  int64_t min_chars = 0;                                // shortest displayed value (bytes)
  int64_t max_chars = 0;                                // longest displayed value (bytes)
  double mean_chars = 0;                                // mean displayed length (bytes)
  std::vector<std::pair<std::string, int64_t>> values;  // value → rows, when ≤ 20 distinct
};

/// One marked piece of a rendered row.
struct PreviewSpan {
  std::string role;     // "system", "user", "assistant", "text", "text_pair" or "label"
  std::string text;     // the text as the task sees it
  bool target = false;  // true: the model learns this part (loss), false: prompt/context
};

/// One rendered row.
struct PreviewRow {
  int64_t row = 0;                 // row index
  int64_t line = 0;                // line in the file where it starts
  std::vector<PreviewSpan> spans;  // in order
};

/// Everything preview_data found.
struct DataPreview {
  std::filesystem::path file;                 // the file read (resolved from dataset_info.json)
  std::string reader;                         // reader kind
  std::string format;                         // format name
  bool format_detected = false;               // true when detected rather than named
  int64_t rows = 0;                           // rows in the train file
  int64_t skipped = 0;                        // malformed rows left out (skip_bad_rows)
  std::vector<std::string> skipped_messages;  // the first of those, with file:line
  int64_t stats_rows = 0;                     // rows the statistics cover
  std::vector<ColumnStats> columns;           // per column, in file order
  std::vector<std::string> label_names;       // classification label set, by id
  std::vector<PreviewRow> first_rows;         // the first `rows` rows, rendered
  int64_t eval_file_rows = -1;                // rows in the eval file; -1 = no eval file
  Subset subset;                              // train/eval row indices
  std::optional<TokenStats> train_tokens;     // token lengths of the train subset (only with
                                              // a tokenizer)
};

/// Opens the data set(s), gathers statistics and draws the subsets. Throws tb::Error as
/// Dataset does.
DataPreview preview_data(const std::filesystem::path& path, const PreviewOptions& options);

/// A Sample as marked spans (chat turns, text, classification text + label name).
std::vector<PreviewSpan> render_spans(const Sample& sample,
                                      const std::vector<std::string>& label_names);

}  // namespace tb::data
