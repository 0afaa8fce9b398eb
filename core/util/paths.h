#pragma once
// Where tunebench keeps its files. Every location follows the XDG base-directory spec and
// can be overridden by an environment variable (tests and CI use those).

#include <filesystem>
#include <string>
#include <vector>

namespace tb {

/// User data folder: $TB_DATA_DIR, else $XDG_DATA_HOME/tunebench, else ~/.local/share/tunebench.
std::filesystem::path data_dir();

/// Cache folder (npm references, tokenizer caches): $TB_CACHE_DIR, else
/// $XDG_CACHE_HOME/tunebench, else ~/.cache/tunebench.
std::filesystem::path cache_dir();

/// The run-history SQLite file: $TB_DB, else data_dir()/runs.db.
std::filesystem::path run_store_path();

/// Presets, demo models and icons: $TB_RESOURCES_DIR, else <prefix>/share/tunebench next to
/// the installed binary, else the source tree's resources/ (developer builds).
std::filesystem::path resources_dir();

/// The running executable's path (/proc/self/exe), empty when unknown.
std::filesystem::path executable_path();

/// Result of probing one folder for write access.
struct DirCheck {
  std::string label;           // what the folder is for ("data", "cache", "temp")
  std::filesystem::path path;  // the folder probed
  bool writable = false;       // true when a file could be created and removed there
  std::string detail;          // the OS reason when not writable, empty otherwise
};

/// Creates (if needed) and probes the data, cache and temp folders for write access.
std::vector<DirCheck> check_writable_dirs();

}  // namespace tb
