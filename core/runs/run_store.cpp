#include "core/runs/run_store.h"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <system_error>

#include "core/runs/run_store_impl.h"
#include "core/runs/schema.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/hash.h"
#include "core/util/paths.h"

namespace tb {
namespace fs = std::filesystem;

namespace {

std::string this_host() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "unknown";
  return name;
}

// kill(pid, 0) also succeeds for zombies, which are dead for our purpose.
bool process_alive(int64_t pid) {
  if (pid <= 0) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;  // no /proc: trust kill()
  const auto close = line.rfind(')');
  return close == std::string::npos || close + 2 >= line.size() ||
         (line[close + 2] != 'Z' && line[close + 2] != 'X');
}

void refuse(const fs::path& path, const std::string& what) {
  throw make_error(what, path.string(),
                   "The file was left untouched. Move it away, or point --db / TB_DB at another "
                   "file to start a new run history.");
}

// Rejects files that are not (or not yet) a tunebench run history before anything is written.
void check_file_is_ours(SQLite::Database& db, const fs::path& path) {
  int application_id = 0;
  int tables = 0;
  try {
    application_id = db.execAndGet("PRAGMA application_id").getInt();
    tables = db.execAndGet("SELECT count(*) FROM sqlite_master").getInt();
  } catch (const SQLite::Exception& error) {
    refuse(path, std::string("not a readable run history: SQLite reports '") + error.what() +
                     "' (the file is corrupt or not a SQLite database)");
  }
  if (application_id != 0 && application_id != kRunStoreApplicationId) {
    refuse(path, "this SQLite file belongs to another application, not tunebench");
  }
  if (application_id == 0 && tables > 0) {
    refuse(path, "this SQLite file has tables but is not a tunebench run history");
  }
}

}  // namespace

double unix_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

[[noreturn]] void throw_sql_error(const SQLite::Exception& error, const std::string& where,
                                  const std::string& operation) {
  throw make_error(operation + " failed: " + error.what(), where,
                   "If another program holds the run history locked, retry; if the file is "
                   "damaged, `tunebench-cli runs check` tells.");
}

void RunStore::Impl::require_run(int64_t run_id) const {
  SQLite::Statement query(*db, "SELECT 1 FROM runs WHERE id = ?");
  query.bind(1, run_id);
  if (!query.executeStep()) {
    throw make_error("no run with id " + std::to_string(run_id), where(),
                     "List the runs with `tunebench-cli runs list`.");
  }
}

int64_t RunStore::Impl::metric_name_id(const std::string& name) {
  if (const auto found = name_ids.find(name); found != name_ids.end()) return found->second;
  SQLite::Statement insert(*db, "INSERT OR IGNORE INTO metric_names (name) VALUES (?)");
  insert.bind(1, name);
  insert.exec();
  SQLite::Statement select(*db, "SELECT id FROM metric_names WHERE name = ?");
  select.bind(1, name);
  select.executeStep();
  const int64_t id = select.getColumn(0).getInt64();
  name_ids.emplace(name, id);
  return id;
}

RunStore::RunStore(RunStoreOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->path = options.path.empty() ? run_store_path() : options.path;
  const fs::path& path = impl_->path;
  if (fs::exists(path) && !fs::is_regular_file(path)) {
    refuse(path, "the run history path exists but is not a file");
  }
  std::error_code error;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), error);
  if (error) {
    throw make_error("cannot create the folder of the run history (" + error.message() + ")",
                     path.parent_path().string(), "Set TB_DB or --db to a writable location.");
  }
  try {
    impl_->db = std::make_unique<SQLite::Database>(
        path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, options.busy_timeout_ms);
  } catch (const SQLite::Exception& failure) {
    throw make_error(std::string("cannot open the run history: ") + failure.what(), path.string(),
                     "Check the file's permissions, or set TB_DB / --db.");
  }
  SQLite::Database& db = *impl_->db;
  check_file_is_ours(db, path);
  try {
    // WAL lets the GUI read while a trainer writes; NORMAL sync keeps every committed
    // transaction across a process crash (only a power cut may lose the last ones).
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    migrate(db, path.string(), run_store_migrations());
    if (db.execAndGet("PRAGMA application_id").getInt() == 0) {
      db.exec("PRAGMA application_id = " + std::to_string(kRunStoreApplicationId));
    }
  } catch (const SQLite::Exception& failure) {
    throw_sql_error(failure, path.string(), "preparing the run history");
  }
  if (options.recover_interrupted) recover_interrupted();
}

RunStore::~RunStore() = default;
RunStore::RunStore(RunStore&&) noexcept = default;
RunStore& RunStore::operator=(RunStore&&) noexcept = default;

const fs::path& RunStore::path() const { return impl_->path; }

int RunStore::schema_version() const {
  return impl_->db->execAndGet("PRAGMA user_version").getInt();
}

std::string RunStore::integrity_check() const {
  SQLite::Statement query(*impl_->db, "PRAGMA integrity_check");
  std::string result;
  while (query.executeStep()) {
    result += (result.empty() ? "" : "\n") + query.getColumn(0).getString();
  }
  return result;
}

int64_t RunStore::create_run(const NewRun& run) {
  try {
    SQLite::Transaction transaction(*impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement insert(*impl_->db,
                             "INSERT INTO runs (name, status, task, method, model_path, dataset, "
                             "subset, config_yaml, config_hash, created_at, output_dir, device) "
                             "VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    int column = 1;
    for (const std::string* text : {&run.name, &run.task, &run.method, &run.model_path,
                                    &run.dataset, &run.subset, &run.config_yaml}) {
      insert.bind(column++, *text);
    }
    insert.bind(column++, fnv1a64_hex(run.config_yaml));
    insert.bind(column++, unix_now());
    insert.bind(column++, run.output_dir);
    insert.bind(column++, run.device);
    insert.exec();
    const int64_t id = impl_->db->getLastInsertRowid();
    SQLite::Statement tag(*impl_->db, "INSERT OR IGNORE INTO run_tags (run_id, tag) VALUES (?, ?)");
    for (const std::string& name : run.tags) {
      tag.bind(1, id);
      tag.bind(2, name);
      tag.exec();
      tag.reset();
    }
    transaction.commit();
    return id;
  } catch (const SQLite::Exception& error) {
    throw_sql_error(error, impl_->where(), "creating a run");
  }
}

void RunStore::mark_started(int64_t run_id) {
  impl_->require_run(run_id);
  SQLite::Statement update(*impl_->db,
                           "UPDATE runs SET status = 'running', started_at = ?1, "
                           "heartbeat_at = ?1, pid = ?2, host = ?3, finished_at = NULL, "
                           "error_text = '' WHERE id = ?4");
  update.bind(1, unix_now());
  update.bind(2, static_cast<int64_t>(::getpid()));
  update.bind(3, this_host());
  update.bind(4, run_id);
  update.exec();
}

void RunStore::heartbeat(int64_t run_id) {
  SQLite::Statement update(*impl_->db, "UPDATE runs SET heartbeat_at = ? WHERE id = ?");
  update.bind(1, unix_now());
  update.bind(2, run_id);
  update.exec();
}

void RunStore::finish_run(int64_t run_id, RunStatus status, const std::string& summary_json,
                          const std::string& error_text) {
  impl_->require_run(run_id);
  SQLite::Statement update(*impl_->db,
                           "UPDATE runs SET status = ?, finished_at = ?, summary_json = ?, "
                           "error_text = ? WHERE id = ?");
  update.bind(1, to_string(status));
  update.bind(2, unix_now());
  update.bind(3, summary_json.empty() ? std::string("{}") : summary_json);
  update.bind(4, error_text);
  update.bind(5, run_id);
  update.exec();
}

void RunStore::write(int64_t run_id, const WriteBatch& batch) {
  Impl& impl = *impl_;
  try {
    SQLite::Transaction transaction(*impl.db, SQLite::TransactionBehavior::IMMEDIATE);
    if (!impl.insert_metric) {
      impl.insert_metric = std::make_unique<SQLite::Statement>(
          *impl.db, "INSERT OR REPLACE INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?)");
    }
    SQLite::Statement& insert = *impl.insert_metric;
    int64_t last_step = 0;
    for (const auto& [name, point] : batch.metrics) {
      insert.bind(1, run_id);
      insert.bind(2, impl.metric_name_id(name));
      insert.bind(3, point.step);
      insert.bind(4, point.epoch);
      insert.bind(5, point.tokens);
      insert.bind(6, point.wall);
      insert.bind(7, point.value);
      insert.exec();
      insert.reset();
      last_step = std::max(last_step, point.step);
    }
    if (!batch.events.empty()) {
      SQLite::Statement event(*impl.db,
                              "INSERT INTO events (run_id, time, level, message) VALUES (?,?,?,?)");
      for (const RunEvent& line : batch.events) {
        event.bind(1, run_id);
        event.bind(2, line.time);
        event.bind(3, line.level);
        event.bind(4, line.message);
        event.exec();
        event.reset();
      }
    }
    if (!batch.artifacts.empty()) {
      SQLite::Statement artifact(
          *impl.db,
          "INSERT INTO artifacts (run_id, kind, path, size, created_at) VALUES (?,?,?,?,?)");
      for (const RunArtifact& file : batch.artifacts) {
        artifact.bind(1, run_id);
        artifact.bind(2, file.kind);
        artifact.bind(3, file.path);
        artifact.bind(4, file.size);
        artifact.bind(5, file.created_at);
        artifact.exec();
        artifact.reset();
      }
    }
    SQLite::Statement update(*impl.db,
                             "UPDATE runs SET heartbeat_at = ?, last_step = max(last_step, ?), "
                             "last_checkpoint = coalesce(?, last_checkpoint) WHERE id = ?");
    update.bind(1, unix_now());
    update.bind(2, last_step);
    if (batch.last_checkpoint) update.bind(3, *batch.last_checkpoint);
    update.bind(4, run_id);
    if (update.exec() == 0) impl.require_run(run_id);
    transaction.commit();
  } catch (const SQLite::Exception& error) {
    impl.name_ids.clear();  // names inserted by the rolled-back transaction are gone
    impl.insert_metric.reset();
    throw_sql_error(error, impl.where(), "writing metrics of run " + std::to_string(run_id));
  }
}

std::vector<int64_t> RunStore::recover_interrupted() {
  struct Candidate {
    int64_t id, pid, last_step;
    std::string host, checkpoint;
    double heartbeat;
  };
  std::vector<Candidate> running;
  SQLite::Statement query(*impl_->db,
                          "SELECT id, pid, host, coalesce(heartbeat_at, started_at, created_at), "
                          "last_step, last_checkpoint FROM runs WHERE status = 'running'");
  while (query.executeStep()) {
    running.push_back({query.getColumn(0).getInt64(), query.getColumn(1).getInt64(),
                       query.getColumn(4).getInt64(), query.getColumn(2).getString(),
                       query.getColumn(5).getString(), query.getColumn(3).getDouble()});
  }
  const std::string host = this_host();
  const double now = unix_now();
  std::vector<int64_t> interrupted;
  for (const Candidate& run : running) {
    std::string reason;
    if (run.host == host && !process_alive(run.pid)) {
      reason = "process " + std::to_string(run.pid) + " on " + host + " is gone";
    } else if (now - run.heartbeat > impl_->options.stale_after_seconds) {
      reason = "no heartbeat for " + std::to_string(static_cast<int64_t>(now - run.heartbeat)) +
               " s from process " + std::to_string(run.pid) + " on " + run.host;
    } else {
      continue;
    }
    const std::string message =
        "interrupted: " + reason + "; last step " + std::to_string(run.last_step) +
        (run.checkpoint.empty() ? "; no checkpoint yet"
                                : "; resume from checkpoint " + run.checkpoint);
    SQLite::Transaction transaction(*impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement update(*impl_->db,
                             "UPDATE runs SET status = 'interrupted', finished_at = ?, "
                             "error_text = ? WHERE id = ? AND status = 'running'");
    update.bind(1, run.heartbeat);
    update.bind(2, message);
    update.bind(3, run.id);
    if (update.exec() == 1) {
      SQLite::Statement event(*impl_->db,
                              "INSERT INTO events (run_id, time, level, message) "
                              "VALUES (?, ?, 'warning', ?)");
      event.bind(1, run.id);
      event.bind(2, now);
      event.bind(3, message);
      event.exec();
      interrupted.push_back(run.id);
    }
    transaction.commit();
  }
  return interrupted;
}

void RunStore::rename_run(int64_t run_id, const std::string& name) {
  impl_->require_run(run_id);
  SQLite::Statement update(*impl_->db, "UPDATE runs SET name = ? WHERE id = ?");
  update.bind(1, name);
  update.bind(2, run_id);
  update.exec();
}

void RunStore::set_tags(int64_t run_id, const std::vector<std::string>& tags) {
  impl_->require_run(run_id);
  SQLite::Transaction transaction(*impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
  SQLite::Statement clear(*impl_->db, "DELETE FROM run_tags WHERE run_id = ?");
  clear.bind(1, run_id);
  clear.exec();
  SQLite::Statement insert(*impl_->db, "INSERT OR IGNORE INTO run_tags VALUES (?, ?)");
  for (const std::string& tag : tags) {
    if (tag.empty()) continue;
    insert.bind(1, run_id);
    insert.bind(2, tag);
    insert.exec();
    insert.reset();
  }
  transaction.commit();
}

void RunStore::set_notes(int64_t run_id, const std::string& notes) {
  impl_->require_run(run_id);
  SQLite::Statement update(*impl_->db, "UPDATE runs SET notes = ? WHERE id = ?");
  update.bind(1, notes);
  update.bind(2, run_id);
  update.exec();
}

void RunStore::delete_run(int64_t run_id, bool delete_files) {
  const RunRecord run = get_run(run_id);
  if (delete_files && !run.output_dir.empty() && fs::exists(run.output_dir)) {
    if (!fs::exists(fs::path(run.output_dir) / kOutputDirMarker)) {
      throw make_error("the output folder has no " + std::string(kOutputDirMarker) +
                           " marker, so tunebench did not create it and will not delete it",
                       run.output_dir,
                       "Delete the folder yourself, or delete the run without its files.");
    }
    std::error_code error;
    fs::remove_all(run.output_dir, error);
    if (error) {
      throw make_error("cannot delete the output folder (" + error.message() + ")", run.output_dir,
                       "Check permissions; the run was kept.");
    }
  }
  SQLite::Statement remove(*impl_->db, "DELETE FROM runs WHERE id = ?");
  remove.bind(1, run_id);
  remove.exec();  // metrics, events, artifacts and tags go with it (ON DELETE CASCADE)
}

void mark_output_dir(const fs::path& dir, int64_t run_id) {
  fs::create_directories(dir);
  write_file_atomic(dir / kOutputDirMarker, "run " + std::to_string(run_id) + "\n");
}

const char* to_string(RunStatus status) {
  switch (status) {
    case RunStatus::kQueued:
      return "queued";
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kCompleted:
      return "completed";
    case RunStatus::kStopped:
      return "stopped";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kInterrupted:
      return "interrupted";
  }
  return "unknown";
}

RunStatus parse_run_status(const std::string& text) {
  for (RunStatus status : {RunStatus::kQueued, RunStatus::kRunning, RunStatus::kCompleted,
                           RunStatus::kStopped, RunStatus::kFailed, RunStatus::kInterrupted}) {
    if (text == to_string(status)) return status;
  }
  throw make_error("unknown run status '" + text + "'", {},
                   "Use one of: queued, running, completed, stopped, failed, interrupted.");
}

}  // namespace tb
