#pragma once
// Byte access to one data file for the readers: sequential chunks for indexing and positioned
// reads for random access. A gzip file (detected by its magic bytes, not its name) is
// decompressed once into a temporary file so random access stays cheap and memory stays flat.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace tb::data {

/// An open data file; movable, not copyable. A gzip spill is unlinked as soon as it is open.
class SourceFile {
 public:
  /// Opens `path`; a gzip file is inflated into `temp_dir` (empty = the system temp folder).
  /// Throws tb::Error naming the path when it cannot be read or is a broken gzip stream.
  explicit SourceFile(const std::filesystem::path& path,
                      const std::filesystem::path& temp_dir = {});
  ~SourceFile();
  SourceFile(SourceFile&& other) noexcept;
  SourceFile& operator=(SourceFile&&) = delete;
  SourceFile(const SourceFile&) = delete;
  SourceFile& operator=(const SourceFile&) = delete;

  /// The path the user gave (used in messages).
  const std::filesystem::path& path() const { return path_; }
  /// True when the file was gzip-compressed.
  bool gzipped() const { return gzipped_; }
  /// Size of the (decompressed) content in bytes.
  uint64_t size() const { return size_; }
  /// Reads `length` bytes at `offset` of the (decompressed) content.
  std::string read(uint64_t offset, size_t length) const;
  /// Calls `visit(chunk, offset)` over the whole content in order, in chunks of ~1 MiB.
  void for_each_chunk(const std::function<void(std::string_view, uint64_t)>& visit) const;
  /// The first up to `length` bytes (for sniffing the format).
  std::string head(size_t length) const;

 private:
  std::filesystem::path path_;
  std::filesystem::path spill_;  // where a gzip file was inflated (already unlinked); or empty
  int fd_ = -1;
  uint64_t size_ = 0;
  bool gzipped_ = false;
};

/// True when the file starts with the gzip magic bytes 1f 8b.
bool is_gzip_file(const std::filesystem::path& path);

/// The file name without a trailing ".gz" (what names the inner format: "a.jsonl.gz" → "a.jsonl").
std::filesystem::path without_gz(const std::filesystem::path& path);

}  // namespace tb::data
