#pragma once
// Plain structs of the run history: what the GUI, the CLI and the trainer exchange with the
// run store. No SQL and no SQLite types here.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tb {

/// Life cycle of a run. `interrupted` = the process died while the run was `running`.
enum class RunStatus { kQueued, kRunning, kCompleted, kStopped, kFailed, kInterrupted };

/// "queued", "running", … (the values stored in the database).
const char* to_string(RunStatus status);
/// Parses a status name; throws tb::Error listing the valid names.
RunStatus parse_run_status(const std::string& text);

/// What a new run is, as known when it is created.
struct NewRun {
  std::string name;         // display name, e.g. "lora-r8 imdb"; unique names are not required
  std::string task;         // "classification", "verbalizer", "sft", "lm"
  std::string method;       // "full", "freeze", "lora", "qlora", "ptuning"
  std::string model_path;   // model folder as the user gave it
  std::string dataset;      // data set path or name
  std::string subset;       // human summary of the subset, e.g. "train 500 / eval 100, seed 42"
  std::string config_yaml;  // the full effective YAML config
  std::string output_dir;   // where checkpoints and exports go
  std::string device;       // "cpu", "cuda:0", …
  std::vector<std::string> tags;  // free-form labels
};

/// One row of the `runs` table.
struct RunRecord {
  int64_t id = 0;                         // primary key
  std::string name;                       // display name
  RunStatus status = RunStatus::kQueued;  // life-cycle state
  std::string task;                       // see NewRun
  std::string method;                     // see NewRun
  std::string model_path;                 // see NewRun
  std::string dataset;                    // see NewRun
  std::string subset;                     // see NewRun
  std::string config_yaml;                // effective YAML config
  std::string config_hash;                // FNV-1a 64 of config_yaml, hex (spots identical setups)
  double created_at = 0;                  // Unix seconds
  std::optional<double> started_at;       // Unix seconds, set when it starts running
  std::optional<double> finished_at;      // Unix seconds, set when it ends (any way)
  std::optional<double> heartbeat_at;     // last sign of life of the writing process
  int64_t pid = 0;                        // writing process id (0 = none yet)
  std::string host;                       // writing host name
  std::string device;                     // see NewRun
  int64_t last_step = 0;                  // highest optimizer step with metrics stored
  std::string last_checkpoint;            // path of the newest checkpoint (resume point)
  std::string summary_json;               // final/best metrics as a JSON object
  std::string output_dir;                 // see NewRun
  std::string error_text;                 // why it failed, empty otherwise
  std::string notes;                      // user notes
  std::vector<std::string> tags;          // user labels, sorted
};

/// One logged scalar.
struct MetricPoint {
  int64_t step = 0;    // optimizer step
  double epoch = 0;    // fractional epoch
  int64_t tokens = 0;  // tokens seen so far
  double wall = 0;     // seconds since the run started
  double value = 0;    // the metric's value
};

/// A metric series of one run.
struct MetricSeries {
  int64_t run_id = 0;               // which run
  std::string name;                 // metric name, e.g. "train/loss"
  int64_t total_points = 0;         // points stored before downsampling
  std::vector<MetricPoint> points;  // in step order, possibly downsampled
};

/// One line of a run's event log.
struct RunEvent {
  double time = 0;      // Unix seconds
  std::string level;    // "info", "warning", "error"
  std::string message;  // the text
};

/// A file or folder a run produced.
struct RunArtifact {
  std::string kind;       // "checkpoint", "adapter", "merged", "gguf", "log", …
  std::string path;       // absolute path
  int64_t size = 0;       // bytes (folders: sum of files)
  double created_at = 0;  // Unix seconds
};

/// Sort keys of list_runs().
enum class RunSort { kCreated, kName, kStatus, kMethod, kLastStep };

/// Filter and order of list_runs(); empty fields do not filter.
struct RunFilter {
  std::optional<RunStatus> status;   // only runs in this state
  std::string method;                // only this method
  std::string task;                  // only this task
  std::string tag;                   // only runs carrying this tag
  std::string search;                // substring of name, model, data set, notes or tags
  RunSort sort = RunSort::kCreated;  // order
  bool descending = true;            // newest/highest first
  int limit = 0;                     // 0 = all
  int offset = 0;                    // rows to skip (paging)
};

/// One key of a config diff: its value in each compared run ("" when absent).
struct ConfigDiffRow {
  std::string key;                  // flattened YAML key, e.g. "lora.rank" or "targets[1]"
  std::vector<std::string> values;  // one per run, in the order the runs were given
};

}  // namespace tb
