#pragma once
// The run history: one SQLite file per user (WAL, busy timeout). A RunStore is one
// connection; use one per thread (the GUI reader, the trainer's RunRecorder, the CLI).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/runs/run_types.h"

namespace tb {

/// How to open the run history.
struct RunStoreOptions {
  std::filesystem::path path;        // empty = run_store_path() ($TB_DB or the XDG data dir)
  int busy_timeout_ms = 10000;       // wait this long for another writer's lock
  double stale_after_seconds = 120;  // a `running` run silent this long is `interrupted`
  bool recover_interrupted = true;   // mark dead `running` runs `interrupted` on open
};

/// Metrics, events and artifacts written together in one transaction.
struct WriteBatch {
  std::vector<std::pair<std::string, MetricPoint>> metrics;  // (name, point)
  std::vector<RunEvent> events;                              // log lines
  std::vector<RunArtifact> artifacts;                        // files produced
  std::optional<std::string> last_checkpoint;                // newest resume point, if changed
};

/// A connection to the run history with every query the apps need.
class RunStore {
 public:
  /// Opens (creating and migrating as needed) the file; refuses corrupt, foreign or newer files
  /// with a tb::Error and never modifies them.
  explicit RunStore(RunStoreOptions options = {});
  ~RunStore();
  RunStore(RunStore&&) noexcept;
  RunStore& operator=(RunStore&&) noexcept;

  /// The database file.
  const std::filesystem::path& path() const;

  // --- life cycle -----------------------------------------------------------------------
  /// Inserts a run (status queued) and returns its id.
  int64_t create_run(const NewRun& run);
  /// Status running; records start time, this process's pid and host, first heartbeat.
  void mark_started(int64_t run_id);
  /// Records that the writing process is alive.
  void heartbeat(int64_t run_id);
  /// Ends a run: status, finish time, summary metrics (JSON object) and error text.
  void finish_run(int64_t run_id, RunStatus status, const std::string& summary_json = "{}",
                  const std::string& error_text = {});
  /// Appends a batch in one transaction; also refreshes heartbeat and last_step.
  void write(int64_t run_id, const WriteBatch& batch);
  /// Marks `running` runs whose process is gone or silent as `interrupted`; returns their ids.
  std::vector<int64_t> recover_interrupted();

  // --- reading --------------------------------------------------------------------------
  /// One run with everything (throws tb::Error for an unknown id).
  RunRecord get_run(int64_t run_id) const;
  /// Runs matching the filter, sorted; config_yaml is left empty (get_run has it).
  std::vector<RunRecord> list_runs(const RunFilter& filter = {}) const;
  /// Names of the metrics a run has logged, sorted.
  std::vector<std::string> metric_names(int64_t run_id) const;
  /// Series of several runs at once; each downsampled to ≤ max_points (0 = all) keeping
  /// every bucket's min and max and the first and last point.
  std::vector<MetricSeries> series(const std::vector<int64_t>& run_ids,
                                   const std::vector<std::string>& names, int max_points = 0) const;
  /// A run's event log, oldest first.
  std::vector<RunEvent> events(int64_t run_id) const;
  /// Files a run produced, oldest first.
  std::vector<RunArtifact> artifacts(int64_t run_id) const;
  /// Config keys (flattened YAML) whose values differ between the runs.
  std::vector<ConfigDiffRow> config_diff(const std::vector<int64_t>& run_ids) const;

  // --- editing --------------------------------------------------------------------------
  /// Renames a run.
  void rename_run(int64_t run_id, const std::string& name);
  /// Replaces a run's tags.
  void set_tags(int64_t run_id, const std::vector<std::string>& tags);
  /// Replaces a run's notes.
  void set_notes(int64_t run_id, const std::string& notes);
  /// Deletes a run and its rows; with `delete_files`, also its output folder (only when it
  /// carries the marker written by mark_output_dir(), so no user folder is ever removed).
  void delete_run(int64_t run_id, bool delete_files = false);

  // --- export and maintenance -----------------------------------------------------------
  /// Writes every metric of a run as CSV (long format), atomically.
  void export_csv(int64_t run_id, const std::filesystem::path& file) const;
  /// Writes the run, its config, metrics, events and artifacts as JSON, atomically.
  void export_json(int64_t run_id, const std::filesystem::path& file) const;
  /// The run as the JSON document export_json writes.
  std::string run_json(int64_t run_id) const;
  /// "ok" or SQLite's list of problems (PRAGMA integrity_check).
  std::string integrity_check() const;
  /// The schema version of the open file.
  int schema_version() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Name of the marker file that makes an output folder deletable with its run.
inline constexpr const char* kOutputDirMarker = ".tunebench-run";

/// Creates `dir` if needed and writes the marker naming `run_id` (done by the trainer).
void mark_output_dir(const std::filesystem::path& dir, int64_t run_id);

/// Seconds since the Unix epoch, with sub-second precision.
double unix_now();

}  // namespace tb
