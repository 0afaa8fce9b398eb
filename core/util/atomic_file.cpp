#include "core/util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "core/util/error.h"

namespace tb {
namespace fs = std::filesystem;

namespace {

std::string os_reason() { return std::strerror(errno); }

fs::path temp_path_beside(const fs::path& target) {
  // Same directory as the target so the final rename never crosses file systems.
  std::random_device random;
  const auto suffix = std::to_string(::getpid()) + "-" + std::to_string(random());
  return target.parent_path() / ("." + target.filename().string() + ".tmp-" + suffix);
}

void fsync_path(const fs::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return;  // Directories on some file systems cannot be opened; best effort.
  ::fsync(fd);
  ::close(fd);
}

void write_all(int fd, std::string_view bytes, const fs::path& temp) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw make_error("cannot write (" + os_reason() + ")", temp.string(),
                       "Check free disk space and permissions.");
    }
    bytes.remove_prefix(static_cast<size_t>(written));
  }
}

}  // namespace

void write_file_atomic_pieces(const fs::path& path,
                              const std::function<void(const PieceWriter& write)>& fill) {
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  if (!fs::is_directory(dir)) {
    throw make_error("the folder does not exist", dir.string(),
                     "Create it first or choose another output path.");
  }
  const fs::path temp = temp_path_beside(path.parent_path().empty() ? "./" / path : path);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw make_error("cannot create a file here (" + os_reason() + ")", dir.string(),
                     "Check that the folder is writable.");
  }
  try {
    fill([fd, &temp](std::string_view bytes) { write_all(fd, bytes, temp); });
    if (::fsync(fd) != 0) {
      throw make_error("cannot flush to disk (" + os_reason() + ")", temp.string());
    }
  } catch (...) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string reason = os_reason();
    ::unlink(temp.c_str());
    throw make_error("cannot replace the file (" + reason + ")", path.string(),
                     "Check permissions of the file and its folder.");
  }
  fsync_path(dir, O_RDONLY | O_DIRECTORY);  // the rename itself must survive a crash
}

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  write_file_atomic_pieces(path, [bytes](const PieceWriter& write) { write(bytes); });
}

void write_file_atomic(const fs::path& path, const std::function<void(std::ostream&)>& fill) {
  // Content is produced first and written in one go; artifacts streamed this way (configs,
  // JSON, model cards) are small. Large tensors use dedicated writers with their own temp file.
  std::ostringstream buffer;
  fill(buffer);
  write_file_atomic(path, buffer.str());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw make_error(fs::exists(path) ? "cannot open the file for reading" : "no such file",
                     path.string(), "Check the path and its permissions.");
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) throw make_error("read error", path.string());
  return content.str();
}

}  // namespace tb
