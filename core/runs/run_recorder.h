#pragma once
// The trainer's side of the run history: it logs metrics without ever waiting for SQLite.
// Rows are buffered in memory and committed by a background thread (its own connection) in
// one transaction per flush, at least every `flush_interval_seconds` and at the end; each
// flush also refreshes the run's heartbeat, so a dead process is recognised on next open.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/runs/run_store.h"

namespace tb {

/// Options of RunRecorder.
struct RecorderOptions {
  double flush_interval_seconds = 1.0;  // commit buffered rows (and heartbeat) this often
  size_t flush_at_rows = 50000;         // also commit early once this many metric rows wait
};

/// Buffered, thread-safe writer of one run's metrics, events and artifacts.
class RunRecorder {
 public:
  /// Opens its own connection to `store` and marks `run_id` running (pid, host, start time).
  RunRecorder(const RunStoreOptions& store, int64_t run_id, RecorderOptions options = {});
  /// Commits what is buffered and stops the background thread (the status is left as is).
  ~RunRecorder();
  RunRecorder(const RunRecorder&) = delete;
  RunRecorder& operator=(const RunRecorder&) = delete;

  /// Buffers one metric value (never blocks on I/O).
  void log_metric(const std::string& name, const MetricPoint& point);
  /// Buffers one event line ("info", "warning" or "error").
  void log_event(const std::string& level, const std::string& message);
  /// Buffers a produced file and, for kind "checkpoint", makes it the resume point.
  void add_artifact(const RunArtifact& artifact);
  /// Returns once everything logged so far is committed; throws tb::Error if it cannot be.
  void flush();
  /// Flushes, then records the final status, summary (JSON object) and error text.
  void finish(RunStatus status, const std::string& summary_json = "{}",
              const std::string& error_text = {});
  /// Metric rows committed so far.
  int64_t committed_rows() const;
  /// The run being recorded.
  int64_t run_id() const { return run_id_; }

 private:
  /// A finish() waiting to be applied by the flusher after its batch.
  struct FinishRequest {
    RunStatus status;          // final state
    std::string summary_json;  // final metrics
    std::string error_text;    // why it failed
  };
  void flusher_loop();
  void request_and_wait(std::optional<FinishRequest> finish);

  const int64_t run_id_;
  const RecorderOptions options_;
  RunStore store_;  // used only by the flusher thread after construction
  mutable std::mutex mutex_;
  std::condition_variable wake_;     // new work or stop request for the flusher
  std::condition_variable flushed_;  // a flush completed (or failed)
  WriteBatch pending_;
  uint64_t requested_ = 0;  // flush requests issued
  uint64_t completed_ = 0;  // flush requests satisfied
  int64_t committed_rows_ = 0;
  std::optional<FinishRequest> finish_;  // set by finish(), applied by the flusher
  std::string error_;                    // last background failure, empty when fine
  bool stop_ = false;
  std::thread flusher_;
};

}  // namespace tb
