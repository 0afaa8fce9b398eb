#include "core/data/source_file.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/util/error.h"

namespace tb::data {

namespace fs = std::filesystem;

namespace {

constexpr size_t kChunk = size_t(1) << 20;

std::string os_reason() { return std::strerror(errno); }

// Inflates every gzip member of `source` into `target` (multi-member files are legal gzip).
void inflate_file(const fs::path& source, const fs::path& target) {
  std::ifstream in(source, std::ios::binary);
  std::ofstream out(target, std::ios::binary | std::ios::trunc);
  if (!in || !out) {
    throw make_error("cannot decompress " + source.string() + " into " + target.string(), {},
                     "Check that the temp folder is writable and has space.");
  }
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 32) != Z_OK) throw make_error("zlib failed to initialise");
  std::vector<unsigned char> input(kChunk), output(kChunk);
  int status = Z_OK;
  bool any_input = false;
  while (true) {
    if (stream.avail_in == 0) {
      in.read(reinterpret_cast<char*>(input.data()), std::streamsize(input.size()));
      stream.avail_in = static_cast<uInt>(in.gcount());
      stream.next_in = input.data();
      if (stream.avail_in == 0) break;
      any_input = true;
    }
    stream.avail_out = static_cast<uInt>(output.size());
    stream.next_out = output.data();
    status = inflate(&stream, Z_NO_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END) {
      const std::string reason = stream.msg ? stream.msg : "corrupt data";
      inflateEnd(&stream);
      throw make_error("broken gzip stream (" + reason + ") after " +
                           std::to_string(stream.total_out) + " decompressed bytes",
                       source.string(), "Re-download or re-compress the file.");
    }
    out.write(reinterpret_cast<const char*>(output.data()),
              std::streamsize(output.size() - stream.avail_out));
    if (status == Z_STREAM_END) inflateReset(&stream);  // another member may follow
  }
  inflateEnd(&stream);
  if (any_input && status != Z_STREAM_END) {
    throw make_error("the gzip file ends in the middle of its data", source.string(),
                     "The file is truncated; re-download or re-compress it.");
  }
  out.flush();
  if (!out) throw make_error("cannot write " + target.string() + ": " + os_reason());
}

fs::path spill_path(const fs::path& temp_dir) {
  static std::atomic<int> counter{0};
  const fs::path dir = temp_dir.empty() ? fs::temp_directory_path() : temp_dir;
  return dir /
         ("tunebench-data-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + ".tmp");
}

}  // namespace

bool is_gzip_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char magic[2] = {0, 0};
  in.read(reinterpret_cast<char*>(magic), 2);
  return in.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

fs::path without_gz(const fs::path& path) {
  return path.extension() == ".gz" ? path.parent_path() / path.stem() : path;
}

SourceFile::SourceFile(const fs::path& path, const fs::path& temp_dir) : path_(path) {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) {
    throw make_error("data file not found", path.string(),
                     "Check the path (a folder needs a dataset_info.json).");
  }
  fs::path content = path;
  if (is_gzip_file(path)) {
    gzipped_ = true;
    spill_ = spill_path(temp_dir);
    try {
      inflate_file(path, spill_);
    } catch (...) {
      fs::remove(spill_, error);
      throw;
    }
    content = spill_;
  }
  fd_ = ::open(content.c_str(), O_RDONLY | O_CLOEXEC);
  const std::string reason = fd_ < 0 ? os_reason() : std::string();
  // The spill is unlinked at once: it lives while the descriptor is open, never longer, and
  // a crash cannot leave it behind.
  if (!spill_.empty()) fs::remove(spill_, error);
  if (fd_ < 0) throw make_error("cannot open the data file: " + reason, path.string());
  const off_t end = ::lseek(fd_, 0, SEEK_END);
  size_ = end < 0 ? 0 : static_cast<uint64_t>(end);
}

SourceFile::~SourceFile() {
  if (fd_ >= 0) ::close(fd_);
}

SourceFile::SourceFile(SourceFile&& other) noexcept
    : path_(std::move(other.path_)),
      spill_(std::move(other.spill_)),
      fd_(other.fd_),
      size_(other.size_),
      gzipped_(other.gzipped_) {
  other.fd_ = -1;
}

std::string SourceFile::read(uint64_t offset, size_t length) const {
  std::string bytes(length, '\0');
  size_t done = 0;
  while (done < length) {
    const ssize_t got = ::pread(fd_, bytes.data() + done, length - done, off_t(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      throw make_error("cannot read " + std::to_string(length) + " bytes at offset " +
                           std::to_string(offset) + ": " + (got < 0 ? os_reason() : "file shrank"),
                       path_.string(), "Was the file changed while in use?");
    }
    done += size_t(got);
  }
  return bytes;
}

void SourceFile::for_each_chunk(
    const std::function<void(std::string_view, uint64_t)>& visit) const {
  std::string buffer(kChunk, '\0');
  uint64_t offset = 0;
  while (offset < size_) {
    const size_t length = size_t(std::min<uint64_t>(kChunk, size_ - offset));
    const ssize_t got = ::pread(fd_, buffer.data(), length, off_t(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) throw make_error("cannot read the data file: " + os_reason(), path_.string());
    visit(std::string_view(buffer.data(), size_t(got)), offset);
    offset += uint64_t(got);
  }
}

std::string SourceFile::head(size_t length) const {
  return read(0, size_t(std::min<uint64_t>(length, size_)));
}

}  // namespace tb::data
