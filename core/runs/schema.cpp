#include "core/runs/schema.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include "core/util/error.h"

namespace tb {

const std::vector<Migration>& run_store_migrations() {
  static const std::vector<Migration> migrations = {
      {1, "runs, metrics, events, artifacts", R"sql(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN
      ('queued', 'running', 'completed', 'stopped', 'failed', 'interrupted')),
  task TEXT NOT NULL DEFAULT '',
  method TEXT NOT NULL DEFAULT '',
  model_path TEXT NOT NULL DEFAULT '',
  dataset TEXT NOT NULL DEFAULT '',
  subset TEXT NOT NULL DEFAULT '',
  config_yaml TEXT NOT NULL DEFAULT '',
  config_hash TEXT NOT NULL DEFAULT '',
  created_at REAL NOT NULL,
  started_at REAL,
  finished_at REAL,
  heartbeat_at REAL,
  pid INTEGER NOT NULL DEFAULT 0,
  host TEXT NOT NULL DEFAULT '',
  device TEXT NOT NULL DEFAULT '',
  last_step INTEGER NOT NULL DEFAULT 0,
  last_checkpoint TEXT NOT NULL DEFAULT '',
  summary_json TEXT NOT NULL DEFAULT '{}',
  output_dir TEXT NOT NULL DEFAULT '',
  error_text TEXT NOT NULL DEFAULT '',
  notes TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_created ON runs (created_at);
CREATE INDEX runs_by_status ON runs (status);

CREATE TABLE run_tags (
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (run_id, tag)
) WITHOUT ROWID;
CREATE INDEX run_tags_by_tag ON run_tags (tag);

-- Metric names are interned: 100k-row series then cost 8 bytes per row for the name.
CREATE TABLE metric_names (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);

-- Clustered by (run, name, step): reading one series is one range scan.
CREATE TABLE metrics (
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  name_id INTEGER NOT NULL REFERENCES metric_names (id),
  step INTEGER NOT NULL,
  epoch REAL NOT NULL DEFAULT 0,
  tokens INTEGER NOT NULL DEFAULT 0,
  wall REAL NOT NULL DEFAULT 0,
  value REAL NOT NULL,
  PRIMARY KEY (run_id, name_id, step)
) WITHOUT ROWID;

CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  time REAL NOT NULL,
  level TEXT NOT NULL CHECK (level IN ('info', 'warning', 'error')),
  message TEXT NOT NULL
);
CREATE INDEX events_by_run ON events (run_id, id);

CREATE TABLE artifacts (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  path TEXT NOT NULL,
  size INTEGER NOT NULL DEFAULT 0,
  created_at REAL NOT NULL
);
CREATE INDEX artifacts_by_run ON artifacts (run_id);
)sql"},
  };
  return migrations;
}

int latest_schema_version() { return run_store_migrations().back().version; }

void migrate(SQLite::Database& db, const std::string& where,
             const std::vector<Migration>& migrations) {
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  const int current = db.execAndGet("PRAGMA user_version").getInt();
  if (current > latest) {
    throw make_error("this run history was written by a newer tunebench (schema version " +
                         std::to_string(current) + "; this build knows up to " +
                         std::to_string(latest) + ")",
                     where,
                     "Upgrade tunebench, or point --db / TB_DB at another file. The file was "
                     "not changed.");
  }
  for (const Migration& step : migrations) {
    if (step.version <= current) continue;
    // IMMEDIATE: take the write lock up front so two processes cannot migrate at once.
    SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
    // Another process may have migrated while we waited for the lock.
    if (db.execAndGet("PRAGMA user_version").getInt() >= step.version) continue;
    db.exec(step.sql);
    db.exec("PRAGMA user_version = " + std::to_string(step.version));
    transaction.commit();
  }
}

}  // namespace tb
