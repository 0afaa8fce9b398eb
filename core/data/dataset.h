#pragma once
// A data set = one file read by a reader and mapped to Samples by a format. A folder with a
// dataset_info.json (LLaMA-Factory's layout) names its files, formats and column mappings.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/data/format.h"
#include "core/data/reader.h"

namespace tb::data {

/// How to open a data set.
struct DatasetOptions {
  std::string reader;            // "" = from the file extension; else jsonl/json/csv/tsv/text
  std::string format;            // "" = detected from the first row's columns; else a format
  FormatOptions format_options;  // column mapping, sharegpt tags, label names
  ReaderOptions reader_options;  // skip_bad_rows, text unit, CSV header, temp dir
  bool validate = true;          // true: every row is converted once at open, so a bad row
                                 // fails now and not in the middle of training
};

/// One opened data set; rows are read on demand.
class Dataset {
 public:
  /// Opens `file`; throws tb::Error for an empty data set, an undetectable format, or (with
  /// validate) the first row that does not convert.
  Dataset(const std::filesystem::path& file, const DatasetOptions& options);
  /// Number of rows.
  int64_t size() const { return reader_->size(); }
  /// Row `index` as read from the file.
  Row row(int64_t index) const { return reader_->row(index); }
  /// Row `index` converted by the format.
  Sample sample(int64_t index) const { return format_->convert(reader_->row(index)); }
  /// The reader in use.
  const Reader& reader() const { return *reader_; }
  /// The format in use.
  const Format& format() const { return *format_; }
  /// True when the format was detected rather than named.
  bool format_detected() const { return detected_; }
  /// Classification label names by id (empty for other formats).
  std::vector<std::string> label_names() const;

 private:
  std::unique_ptr<Reader> reader_;
  std::unique_ptr<Format> format_;
  bool detected_ = false;
};

/// A data set named in a dataset_info.json: its file and options.
struct DatasetEntry {
  std::string name;            // the entry's key
  std::filesystem::path file;  // file_name, resolved against the folder
  DatasetOptions options;      // formatting, columns and tags applied to `base`
};

/// Reads entry `name` of `folder`/dataset_info.json on top of `base`; an empty name is
/// allowed when the file has one entry. Throws tb::Error listing the entries when not found.
DatasetEntry read_dataset_info(const std::filesystem::path& folder, const std::string& name,
                               const DatasetOptions& base = {});

/// Opens a file, or entry `name` of a folder with a dataset_info.json.
Dataset open_dataset(const std::filesystem::path& path, const std::string& name,
                     const DatasetOptions& options);

}  // namespace tb::data
