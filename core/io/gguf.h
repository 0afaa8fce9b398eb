#pragma once
// GGUF v3, the file format of llama.cpp (ggml's docs/gguf.md): "GGUF", version 3, tensor and
// key/value counts, typed key/value metadata, tensor infos (name, dims with ne[0] the fastest
// = torch's last dimension, ggml type, offset), padding to general.alignment (32), then the
// tensor data, each tensor aligned. Tensors are encoded (f16, bf16, q8_0) only while the file
// is written, one at a time, so an export never holds a second copy of the model.

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace tb {

/// GGUF metadata value types (the numbers are the file's).
enum class GgufType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

/// ggml tensor types this writer produces (the numbers are ggml's).
enum class GgmlType : uint32_t { kF32 = 0, kF16 = 1, kQ8_0 = 8, kBF16 = 30 };

/// "F32", "F16", "Q8_0", "BF16".
std::string ggml_type_name(GgmlType type);

/// Bytes of `elements` values of `type` (q8_0: blocks of 32 as 2-byte scale + 32 bytes).
uint64_t ggml_type_bytes(GgmlType type, int64_t elements);

/// One metadata value. Scalars hold one element; arrays hold any number. Integers and bools
/// live in `ints`, floats in `floats`, strings in `strings`.
struct GgufValue {
  GgufType type = GgufType::kUint32;          // kArray for arrays
  GgufType element_type = GgufType::kUint32;  // arrays: the type of every element
  std::vector<int64_t> ints;                  // integer/bool values
  std::vector<double> floats;                 // float values
  std::vector<std::string> strings;           // string values

  static GgufValue u32(uint32_t value);
  static GgufValue i32(int32_t value);
  static GgufValue u64(uint64_t value);
  static GgufValue f32(float value);
  static GgufValue boolean(bool value);
  static GgufValue string(std::string value);
  static GgufValue strings_array(std::vector<std::string> values);
  static GgufValue i32_array(const std::vector<int32_t>& values);
  static GgufValue f32_array(const std::vector<float>& values);
  /// Equal type and values.
  bool operator==(const GgufValue& other) const;
};

/// One tensor of a GGUF file as its header describes it.
struct GgufTensorInfo {
  std::string name;           // e.g. "blk.0.attn_q.weight"
  std::vector<int64_t> dims;  // ggml order: dims[0] is the fastest-varying (torch's last)
  GgmlType type = GgmlType::kF32;
  uint64_t offset = 0;  // from the start of the data area
};

/// Collects metadata and tensors, then writes the file atomically.
class GgufWriter {
 public:
  /// Sets (or replaces) a metadata key; keys keep the order of their first set.
  void set(const std::string& key, GgufValue value);
  /// Adds a tensor in torch layout ([out, in] for a weight), stored as `type`. q8_0 needs the
  /// last dimension to be a multiple of 32. tb::Error for a duplicate name.
  void add_tensor(const std::string& name, torch::Tensor tensor, GgmlType type);
  /// Size the written file will have.
  uint64_t file_bytes() const;
  /// Writes `path` atomically (temp file + rename); tensors are encoded one by one.
  void write(const std::filesystem::path& path) const;
  /// Reads `path` back (after write) and compares every tensor with what was added: tb::Error
  /// when the header differs or a tensor is off by more than its type's rounding allows.
  /// Returns the largest absolute difference seen (0 for f32).
  double verify(const std::filesystem::path& path) const;

 private:
  struct Tensor {
    GgufTensorInfo info;
    torch::Tensor data;  // fp32 or any float dtype, torch layout
  };
  std::string header() const;  // everything before the data area, padded
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<Tensor> tensors_;
};

/// Encodes a float tensor as ggml bytes of `type` (q8_0 as ggml's reference quantize_row_q8_0:
/// d = absmax/127 stored as fp16, q = round-half-away(x/d)).
std::string encode_ggml(const torch::Tensor& tensor, GgmlType type);

/// Decodes ggml bytes back to an fp32 tensor of `shape` (torch layout).
torch::Tensor decode_ggml(const std::string& bytes, GgmlType type,
                          const std::vector<int64_t>& shape);

/// A GGUF file read back (used by tests and by `inspect`): metadata, tensor infos, and each
/// tensor's bytes on demand. Every count, length and offset is validated against the file size.
class GgufFile {
 public:
  /// Reads and validates the header of `path`; tb::Error naming the file and the byte offset.
  explicit GgufFile(const std::filesystem::path& path);
  /// The format version (3).
  uint32_t version() const { return version_; }
  /// Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  /// A metadata value; tb::Error naming the key when absent.
  const GgufValue& value(const std::string& key) const;
  /// Whether the key is present.
  bool has(const std::string& key) const;
  /// Tensor infos in file order.
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  /// The info of a tensor; tb::Error naming it when absent.
  const GgufTensorInfo& tensor_info(const std::string& name) const;
  /// The tensor decoded to fp32 in torch layout (dims reversed).
  torch::Tensor tensor(const std::string& name) const;

 private:
  std::filesystem::path path_;
  uint32_t version_ = 0;
  uint64_t data_start_ = 0;
  uint64_t file_size_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<GgufTensorInfo> tensors_;
};

}  // namespace tb
