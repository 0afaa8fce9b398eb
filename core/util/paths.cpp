#include "core/util/paths.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <system_error>

#include "core/version.h"

namespace tb {
namespace fs = std::filesystem;

namespace {

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value ? std::string(value) : std::string();
}

fs::path home_dir() {
  const std::string home = env_or_empty("HOME");
  return home.empty() ? fs::temp_directory_path() : fs::path(home);
}

// The XDG spec says relative values are invalid and must be ignored.
fs::path xdg_dir(const char* override_var, const char* xdg_var, const fs::path& fallback) {
  if (const std::string value = env_or_empty(override_var); !value.empty()) return value;
  if (const std::string value = env_or_empty(xdg_var); !value.empty() && value[0] == '/') {
    return fs::path(value) / "tunebench";
  }
  return home_dir() / fallback / "tunebench";
}

DirCheck probe(const std::string& label, const fs::path& dir) {
  DirCheck check{label, dir, false, {}};
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) {
    check.detail = "cannot create: " + error.message();
    return check;
  }
  const fs::path probe_file = dir / (".tunebench-write-probe-" + std::to_string(::getpid()));
  {
    std::ofstream out(probe_file);
    out << "probe";
    check.writable = static_cast<bool>(out);
  }
  if (!check.writable) check.detail = "cannot create files here (permissions?)";
  fs::remove(probe_file, error);
  return check;
}

}  // namespace

fs::path data_dir() { return xdg_dir("TB_DATA_DIR", "XDG_DATA_HOME", ".local/share"); }

fs::path cache_dir() { return xdg_dir("TB_CACHE_DIR", "XDG_CACHE_HOME", ".cache"); }

fs::path run_store_path() {
  if (const std::string value = env_or_empty("TB_DB"); !value.empty()) return value;
  return data_dir() / "runs.db";
}

fs::path executable_path() {
  std::error_code error;
  fs::path exe = fs::read_symlink("/proc/self/exe", error);
  return error ? fs::path() : exe;
}

fs::path resources_dir() {
  if (const std::string value = env_or_empty("TB_RESOURCES_DIR"); !value.empty()) return value;
  // Installed layout: <prefix>/bin/tunebench → <prefix>/share/tunebench.
  if (const fs::path exe = executable_path(); !exe.empty()) {
    const fs::path installed = exe.parent_path().parent_path() / "share" / "tunebench";
    if (fs::is_directory(installed)) return installed;
  }
  return fs::path(kSourceResourcesDir);
}

std::vector<DirCheck> check_writable_dirs() {
  return {probe("data", data_dir()), probe("cache", cache_dir()),
          probe("temp", fs::temp_directory_path())};
}

}  // namespace tb
