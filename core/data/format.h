#pragma once
// Formats map a reader's rows to Samples. Each format names the column roles it uses (with
// LLaMA-Factory's role names, e.g. alpaca's prompt/query/response) and their default column
// names; an explicit mapping renames any of them. Formats are listed explicitly in format.cpp.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/data/sample.h"
#include "core/data/value.h"

namespace tb::data {

class Reader;

/// sharegpt-style message keys and role names (LLaMA-Factory's `tags`).
struct MessageTags {
  std::string role_tag = "from";                // key holding the speaker
  std::string content_tag = "value";            // key holding the text
  std::string user_tag = "human";               // speaker name of user turns
  std::string assistant_tag = "gpt";            // speaker name of assistant turns
  std::string system_tag = "system";            // speaker name of a leading system turn
  std::string observation_tag = "observation";  // speaker name of tool results
  std::string function_tag = "function_call";   // speaker name of tool calls
};

/// What a format needs besides the rows.
struct FormatOptions {
  std::map<std::string, std::string> columns;  // role → column name; {} = the defaults
  MessageTags tags;                            // sharegpt/messages keys; {} = format default
  bool tags_given = false;                     // false: the format's own default tags apply
  std::vector<std::string> label_names;        // classification: id → name; {} = from the data
};

/// A column role of a format: its name, default column and whether rows must have it.
struct ColumnRole {
  std::string role;            // e.g. "prompt"
  std::string default_column;  // e.g. "instruction"
  bool required = false;       // true: a row without it is an error
};

/// One data format.
class Format {
 public:
  virtual ~Format() = default;
  /// "alpaca", "sharegpt", "messages", "text" or "classification".
  virtual std::string name() const = 0;
  /// The column roles, required ones first.
  virtual std::vector<ColumnRole> roles() const = 0;
  /// Reads whatever must be known before converting (the classification label set).
  virtual void prepare(const Reader& reader);
  /// Converts one row; throws tb::Error naming file:line, row and the columns found.
  virtual Sample convert(const Row& row) const = 0;

  /// The column a role is read from (the mapping, else the default).
  std::string column(const std::string& role) const;
  /// Sets the options and the file name used in messages; called once by make_format.
  void configure(const FormatOptions& options, const std::filesystem::path& source);

 protected:
  /// The role's value in `row`; throws when required and missing, else returns nullptr.
  const Value* field(const Row& row, const std::string& role) const;
  /// The role's value as text (strings as is, numbers printed); "" when absent.
  std::string text(const Row& row, const std::string& role) const;
  /// An error about `row` at its line: "<file>:<line>: row N: <what>. <fix>".
  [[noreturn]] void fail(const Row& row, const std::string& what, const std::string& fix) const;

  FormatOptions options_;
  std::filesystem::path source_;
};

/// Every format name, in the order auto-detection tries them.
std::vector<std::string> format_names();

/// The format whose default columns match `columns` (the first row's keys), or "" if none.
std::string detect_format(const std::vector<std::string>& columns);

/// Creates format `name` with `options`; throws tb::Error for an unknown name.
std::unique_ptr<Format> make_format(const std::string& name, const FormatOptions& options,
                                    const std::filesystem::path& source);

}  // namespace tb::data
