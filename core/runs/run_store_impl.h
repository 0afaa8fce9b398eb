#pragma once
// Private to core/runs: the connection and cached statements behind RunStore.

#include <SQLiteCpp/SQLiteCpp.h>

#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/runs/run_store.h"

namespace tb {

struct RunStore::Impl {
  std::filesystem::path path;                         // the database file
  RunStoreOptions options;                            // as opened
  std::unique_ptr<SQLite::Database> db;               // this thread's connection
  std::unordered_map<std::string, int64_t> name_ids;  // interned metric names
  std::unique_ptr<SQLite::Statement> insert_metric;   // reused: batches insert many rows

  /// "path" for error messages.
  std::string where() const { return path.string(); }
  /// Throws tb::Error unless the run exists.
  void require_run(int64_t run_id) const;
  /// Id of a metric name, inserting it when new (inside the caller's transaction).
  int64_t metric_name_id(const std::string& name);
};

/// Converts SQLite's exception into a tb::Error that names the file and the operation.
[[noreturn]] void throw_sql_error(const SQLite::Exception& error, const std::string& where,
                                  const std::string& operation);

/// Reads the run columns selected by kRunColumns (in that order) from a statement row.
RunRecord read_run_row(SQLite::Statement& query, bool with_config);

/// The column list read_run_row() expects, for SELECT … FROM runs.
extern const char* const kRunColumns;

}  // namespace tb
