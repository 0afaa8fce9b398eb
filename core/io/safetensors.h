#pragma once
// safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length N, N bytes of JSON {name: {dtype, shape, data_offsets:[begin,end]}, "__metadata__":
// {str: str}}, then the raw little-endian tensor bytes. Read through mmap so tensors cost no
// copy; every header field is validated before it is used.

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tb {

/// Largest header accepted (the reference implementation uses the same bound).
constexpr uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

/// One tensor entry of a safetensors header, already validated.
struct SafetensorsEntry {
  std::string name;            // tensor name, e.g. "model.embed_tokens.weight"
  std::string dtype;           // safetensors dtype code: "F32", "BF16", "I64", …
  std::vector<int64_t> shape;  // dimensions; empty for a scalar
  uint64_t begin = 0;          // first byte, relative to the start of the data area
  uint64_t end = 0;            // one past the last byte, relative to the data area
};

/// The safetensors dtype codes this reader and writer support, in a stable order.
const std::vector<std::string>& safetensors_dtypes();

/// The torch dtype for a safetensors code; throws tb::Error listing the known codes.
torch::ScalarType safetensors_to_torch_dtype(const std::string& code);

/// The safetensors code for a torch dtype; throws tb::Error for dtypes the format lacks here.
std::string torch_to_safetensors_dtype(torch::ScalarType dtype);

/// One memory-mapped .safetensors file. Tensors it returns share the mapping (zero copy) when
/// their bytes are aligned for their dtype, and keep the mapping alive while they exist.
/// Replacing the file by rename (as save_safetensors does) is safe; rewriting it in place
/// while tensors are in use is not.
class SafetensorsFile {
 public:
  /// Maps and validates `path`; throws tb::Error naming the file (and tensor) on any problem.
  explicit SafetensorsFile(const std::filesystem::path& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  /// The file this was read from.
  const std::filesystem::path& path() const { return path_; }
  /// Tensor names in the order of their data offsets.
  std::vector<std::string> names() const;
  /// Whether the file holds a tensor of this name.
  bool contains(const std::string& name) const { return index_.count(name) > 0; }
  /// The header entry of a tensor; throws tb::Error (with a "did you mean") when absent.
  const SafetensorsEntry& entry(const std::string& name) const;
  /// The tensor, CPU, zero-copy when aligned (read-only pages are copy-on-write).
  torch::Tensor tensor(const std::string& name) const;
  /// The "__metadata__" map (empty when the file has none).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  /// Size of the whole file in bytes.
  uint64_t file_size() const { return file_size_; }
  /// Drops the pages of a tensor from this process's memory after its bytes were copied
  /// elsewhere (they are re-read from disk if the tensor is used again).
  void release(const std::string& name) const;

 private:
  struct Mapping;
  std::filesystem::path path_;
  uint64_t file_size_ = 0;
  uint64_t data_start_ = 0;
  std::shared_ptr<Mapping> mapping_;
  std::vector<SafetensorsEntry> entries_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

/// A model's weights: one model.safetensors, or shards listed by model.safetensors.index.json.
class SafetensorsCheckpoint {
 public:
  /// Opens a .safetensors file, a .safetensors.index.json, or a folder holding either one.
  explicit SafetensorsCheckpoint(const std::filesystem::path& path);

  /// Every tensor name across all shards, sorted.
  std::vector<std::string> names() const;
  /// Whether any shard holds this tensor.
  bool contains(const std::string& name) const { return owner_.count(name) > 0; }
  /// The shard holding a tensor; throws tb::Error when absent.
  const SafetensorsFile& file_of(const std::string& name) const;
  /// The tensor (see SafetensorsFile::tensor).
  torch::Tensor tensor(const std::string& name) const { return file_of(name).tensor(name); }
  /// The opened shard files, in index order.
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }
  /// Sum of the shard file sizes in bytes.
  uint64_t total_bytes() const;

 private:
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, size_t> owner_;
};

/// Writes tensors to a .safetensors file atomically (temp file, fsync, rename). Metadata gets
/// "format":"pt" unless given; data is laid out largest element size first so every tensor is
/// aligned, and the header is space-padded to a multiple of 8 bytes.
void save_safetensors(const std::filesystem::path& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      std::map<std::string, std::string> metadata = {});

}  // namespace tb
