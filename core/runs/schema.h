#pragma once
// The run history's schema: an ordered list of forward migrations. The database records how
// many it has applied in PRAGMA user_version; opening applies the missing ones in order.

#include <string>
#include <vector>

namespace SQLite {
class Database;
}

namespace tb {

/// One forward step of the schema.
struct Migration {
  int version = 0;          // user_version after this step (1, 2, …, contiguous)
  std::string description;  // what changes, for logs
  std::string sql;          // statements run in one transaction
};

/// The schema's history, oldest first. Append only; never edit a released step.
const std::vector<Migration>& run_store_migrations();

/// The version a fully migrated database has.
int latest_schema_version();

/// Marks a tunebench run history (PRAGMA application_id), so other SQLite files are refused.
inline constexpr int kRunStoreApplicationId = 0x54426e63;  // "TBnc"

/// Applies every migration newer than the file's user_version, each in its own transaction.
/// Throws tb::Error when the file is newer than `migrations` knows (naming both versions).
void migrate(SQLite::Database& db, const std::string& where,
             const std::vector<Migration>& migrations);

}  // namespace tb
