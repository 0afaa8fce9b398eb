#include "core/io/gguf.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <set>

#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace tb {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint32_t kVersion = 3;
constexpr uint64_t kAlignment = 32;  // general.alignment's default; we never write another
constexpr int64_t kQ8Block = 32;

uint64_t align_up(uint64_t value) { return (value + kAlignment - 1) / kAlignment * kAlignment; }

// --- encoding ------------------------------------------------------------------------------

void put_raw(std::string& out, const void* data, size_t bytes) {
  out.append(static_cast<const char*>(data), bytes);
}
template <typename T>
void put(std::string& out, T value) {
  put_raw(out, &value, sizeof(T));
}
void put_string(std::string& out, const std::string& text) {
  put<uint64_t>(out, text.size());
  out += text;
}

void put_element(std::string& out, GgufType type, const GgufValue& v, size_t i) {
  switch (type) {
    case GgufType::kUint8:
      put<uint8_t>(out, static_cast<uint8_t>(v.ints[i]));
      break;
    case GgufType::kInt8:
      put<int8_t>(out, static_cast<int8_t>(v.ints[i]));
      break;
    case GgufType::kUint16:
      put<uint16_t>(out, static_cast<uint16_t>(v.ints[i]));
      break;
    case GgufType::kInt16:
      put<int16_t>(out, static_cast<int16_t>(v.ints[i]));
      break;
    case GgufType::kUint32:
      put<uint32_t>(out, static_cast<uint32_t>(v.ints[i]));
      break;
    case GgufType::kInt32:
      put<int32_t>(out, static_cast<int32_t>(v.ints[i]));
      break;
    case GgufType::kUint64:
      put<uint64_t>(out, static_cast<uint64_t>(v.ints[i]));
      break;
    case GgufType::kInt64:
      put<int64_t>(out, v.ints[i]);
      break;
    case GgufType::kBool:
      put<uint8_t>(out, v.ints[i] != 0);
      break;
    case GgufType::kFloat32:
      put<float>(out, static_cast<float>(v.floats[i]));
      break;
    case GgufType::kFloat64:
      put<double>(out, v.floats[i]);
      break;
    case GgufType::kString:
      put_string(out, v.strings[i]);
      break;
    case GgufType::kArray:
      throw make_error("nested GGUF arrays are not written", "GGUF writer");
  }
}

size_t element_count(const GgufValue& v) {
  const GgufType type = v.type == GgufType::kArray ? v.element_type : v.type;
  if (type == GgufType::kString) return v.strings.size();
  if (type == GgufType::kFloat32 || type == GgufType::kFloat64) return v.floats.size();
  return v.ints.size();
}

void put_value(std::string& out, const GgufValue& v) {
  put<uint32_t>(out, static_cast<uint32_t>(v.type));
  if (v.type != GgufType::kArray) {
    put_element(out, v.type, v, 0);
    return;
  }
  put<uint32_t>(out, static_cast<uint32_t>(v.element_type));
  const size_t count = element_count(v);
  put<uint64_t>(out, count);
  for (size_t i = 0; i < count; ++i) put_element(out, v.element_type, v, i);
}

// Rounds half away from zero, as C's roundf in ggml's reference quantiser (torch::round
// rounds half to even, which would flip some codes).
torch::Tensor round_half_away(const torch::Tensor& x) {
  return torch::sign(x) * torch::floor(torch::abs(x) + 0.5);
}

// --- decoding ------------------------------------------------------------------------------

// Bounds-checked cursor over the header bytes.
class Cursor {
 public:
  Cursor(std::ifstream& in, const std::filesystem::path& path, uint64_t size)
      : in_(in), path_(path), size_(size) {}
  uint64_t offset() const { return offset_; }
  void read(void* out, uint64_t bytes, const char* what) {
    if (bytes > size_ - offset_) {
      throw make_error(
          "the file ends inside " + std::string(what) + " at byte " + std::to_string(offset_),
          path_.string(), "The GGUF file is truncated or corrupt; export it again.");
    }
    in_.read(static_cast<char*>(out), static_cast<std::streamsize>(bytes));
    offset_ += bytes;
  }
  template <typename T>
  T get(const char* what) {
    T value;
    read(&value, sizeof(T), what);
    return value;
  }
  std::string get_string(const char* what) {
    const uint64_t length = get<uint64_t>(what);
    if (length > size_ - offset_) {
      throw make_error(std::string(what) + " at byte " + std::to_string(offset_) + " claims " +
                           std::to_string(length) + " bytes, past the end",
                       path_.string(), "The GGUF file is corrupt; export it again.");
    }
    std::string text(length, '\0');
    read(text.data(), length, what);
    return text;
  }
  // A count of items that each take at least `min_bytes`: must fit in what is left.
  uint64_t get_count(const char* what, uint64_t min_bytes) {
    const uint64_t count = get<uint64_t>(what);
    if (count > (size_ - offset_) / std::max<uint64_t>(min_bytes, 1)) {
      throw make_error(std::string(what) + " " + std::to_string(count) + " at byte " +
                           std::to_string(offset_) + " cannot fit in the file",
                       path_.string(), "The GGUF file is corrupt; export it again.");
    }
    return count;
  }

 private:
  std::ifstream& in_;
  const std::filesystem::path& path_;
  uint64_t size_;
  uint64_t offset_ = 0;
};

void get_element(Cursor& in, GgufType type, GgufValue& v, const std::filesystem::path& path) {
  switch (type) {
    case GgufType::kUint8:
      v.ints.push_back(in.get<uint8_t>("a u8"));
      break;
    case GgufType::kInt8:
      v.ints.push_back(in.get<int8_t>("an i8"));
      break;
    case GgufType::kUint16:
      v.ints.push_back(in.get<uint16_t>("a u16"));
      break;
    case GgufType::kInt16:
      v.ints.push_back(in.get<int16_t>("an i16"));
      break;
    case GgufType::kUint32:
      v.ints.push_back(in.get<uint32_t>("a u32"));
      break;
    case GgufType::kInt32:
      v.ints.push_back(in.get<int32_t>("an i32"));
      break;
    case GgufType::kUint64:
      v.ints.push_back(static_cast<int64_t>(in.get<uint64_t>("a u64")));
      break;
    case GgufType::kInt64:
      v.ints.push_back(in.get<int64_t>("an i64"));
      break;
    case GgufType::kBool:
      v.ints.push_back(in.get<uint8_t>("a bool") != 0);
      break;
    case GgufType::kFloat32:
      v.floats.push_back(in.get<float>("an f32"));
      break;
    case GgufType::kFloat64:
      v.floats.push_back(in.get<double>("an f64"));
      break;
    case GgufType::kString:
      v.strings.push_back(in.get_string("a string"));
      break;
    default:
      throw make_error("unknown metadata type " + std::to_string(static_cast<uint32_t>(type)) +
                           " at byte " + std::to_string(in.offset()),
                       path.string(), "The GGUF file is corrupt or from a newer format.");
  }
}

}  // namespace

std::string ggml_type_name(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
      return "F32";
    case GgmlType::kF16:
      return "F16";
    case GgmlType::kQ8_0:
      return "Q8_0";
    case GgmlType::kBF16:
      return "BF16";
  }
  return "type " + std::to_string(static_cast<uint32_t>(type));
}

uint64_t ggml_type_bytes(GgmlType type, int64_t elements) {
  switch (type) {
    case GgmlType::kF32:
      return 4 * static_cast<uint64_t>(elements);
    case GgmlType::kF16:
    case GgmlType::kBF16:
      return 2 * static_cast<uint64_t>(elements);
    case GgmlType::kQ8_0:
      return static_cast<uint64_t>(elements / kQ8Block) * (2 + kQ8Block);
  }
  throw make_error("unsupported ggml type " + std::to_string(static_cast<uint32_t>(type)));
}

// --- values --------------------------------------------------------------------------------

GgufValue GgufValue::u32(uint32_t value) { return {GgufType::kUint32, {}, {value}, {}, {}}; }
GgufValue GgufValue::i32(int32_t value) { return {GgufType::kInt32, {}, {value}, {}, {}}; }
GgufValue GgufValue::u64(uint64_t value) {
  return {GgufType::kUint64, {}, {static_cast<int64_t>(value)}, {}, {}};
}
GgufValue GgufValue::f32(float value) { return {GgufType::kFloat32, {}, {}, {value}, {}}; }
GgufValue GgufValue::boolean(bool value) { return {GgufType::kBool, {}, {value}, {}, {}}; }
GgufValue GgufValue::string(std::string value) {
  return {GgufType::kString, {}, {}, {}, {std::move(value)}};
}
GgufValue GgufValue::strings_array(std::vector<std::string> values) {
  return {GgufType::kArray, GgufType::kString, {}, {}, std::move(values)};
}
GgufValue GgufValue::i32_array(const std::vector<int32_t>& values) {
  return {GgufType::kArray, GgufType::kInt32, {values.begin(), values.end()}, {}, {}};
}
GgufValue GgufValue::f32_array(const std::vector<float>& values) {
  return {GgufType::kArray, GgufType::kFloat32, {}, {values.begin(), values.end()}, {}};
}
bool GgufValue::operator==(const GgufValue& other) const {
  return type == other.type && (type != GgufType::kArray || element_type == other.element_type) &&
         ints == other.ints && floats == other.floats && strings == other.strings;
}

// --- tensor encoding -----------------------------------------------------------------------

std::string encode_ggml(const torch::Tensor& tensor, GgmlType type) {
  const torch::Tensor flat = tensor.detach().to(torch::kCPU).contiguous().reshape({-1});
  torch::Tensor bytes;
  switch (type) {
    case GgmlType::kF32:
      bytes = flat.to(torch::kFloat32).contiguous();
      break;
    case GgmlType::kF16:
      bytes = flat.to(torch::kFloat16).contiguous();
      break;
    case GgmlType::kBF16:
      bytes = flat.to(torch::kBFloat16).contiguous();
      break;
    case GgmlType::kQ8_0: {
      if (tensor.dim() == 0 || tensor.size(-1) % kQ8Block != 0) {
        throw make_error("q8_0 needs rows that are a multiple of 32 values",
                         "GGUF writer, tensor of shape " + std::to_string(tensor.size(-1)));
      }
      const torch::Tensor blocks = flat.to(torch::kFloat32).reshape({-1, kQ8Block});
      const torch::Tensor d = blocks.abs().amax(1, true) / 127.0f;
      const torch::Tensor inverse = torch::where(d > 0, 1.0f / d, torch::zeros_like(d));
      const torch::Tensor q = round_half_away(blocks * inverse).to(torch::kInt8);
      const torch::Tensor scale_bytes = d.to(torch::kFloat16).contiguous().view(torch::kUInt8);
      bytes = torch::cat({scale_bytes, q.view(torch::kUInt8)}, 1).contiguous();
      break;
    }
  }
  return std::string(static_cast<const char*>(bytes.data_ptr()),
                     static_cast<size_t>(bytes.numel() * bytes.element_size()));
}

torch::Tensor decode_ggml(const std::string& bytes, GgmlType type,
                          const std::vector<int64_t>& shape) {
  int64_t elements = 1;
  for (int64_t d : shape) elements *= d;
  if (bytes.size() != ggml_type_bytes(type, elements)) {
    throw make_error("tensor data of " + std::to_string(bytes.size()) + " bytes does not match " +
                     std::to_string(elements) + " " + ggml_type_name(type) + " values");
  }
  auto raw = [&](torch::ScalarType dtype, int64_t count) {
    return torch::from_blob(const_cast<char*>(bytes.data()), {count}, dtype).clone();
  };
  torch::Tensor values;
  switch (type) {
    case GgmlType::kF32:
      values = raw(torch::kFloat32, elements);
      break;
    case GgmlType::kF16:
      values = raw(torch::kFloat16, elements).to(torch::kFloat32);
      break;
    case GgmlType::kBF16:
      values = raw(torch::kBFloat16, elements).to(torch::kFloat32);
      break;
    case GgmlType::kQ8_0: {
      const torch::Tensor blocks =
          raw(torch::kUInt8, static_cast<int64_t>(bytes.size())).reshape({-1, 2 + kQ8Block});
      const torch::Tensor d = blocks.narrow(1, 0, 2).contiguous().view(torch::kFloat16);
      const torch::Tensor q = blocks.narrow(1, 2, kQ8Block).contiguous().view(torch::kInt8);
      values = (q.to(torch::kFloat32) * d.to(torch::kFloat32)).reshape({-1});
      break;
    }
  }
  return values.reshape(shape);
}

// --- writer --------------------------------------------------------------------------------

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& [existing, stored] : metadata_) {
    if (existing == key) {
      stored = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(key, std::move(value));
}

void GgufWriter::add_tensor(const std::string& name, torch::Tensor tensor, GgmlType type) {
  for (const Tensor& t : tensors_) {
    if (t.info.name == name) throw make_error("tensor added twice", "GGUF writer, " + name);
  }
  if (type == GgmlType::kQ8_0 && (tensor.dim() == 0 || tensor.size(-1) % kQ8Block != 0)) {
    throw make_error("q8_0 needs rows that are a multiple of 32 values", "GGUF tensor " + name,
                     "Store this tensor as f16 or f32.");
  }
  Tensor entry;
  entry.info.name = name;
  entry.info.type = type;
  for (int64_t d = tensor.dim() - 1; d >= 0; --d) entry.info.dims.push_back(tensor.size(d));
  if (entry.info.dims.empty()) entry.info.dims.push_back(1);
  uint64_t offset = 0;
  if (!tensors_.empty()) {
    const GgufTensorInfo& last = tensors_.back().info;
    offset = align_up(last.offset + ggml_type_bytes(last.type, tensors_.back().data.numel()));
  }
  entry.info.offset = offset;
  entry.data = std::move(tensor);
  tensors_.push_back(std::move(entry));
}

std::string GgufWriter::header() const {
  std::string header;
  put<uint32_t>(header, kMagic);
  put<uint32_t>(header, kVersion);
  put<uint64_t>(header, tensors_.size());
  put<uint64_t>(header, metadata_.size());
  for (const auto& [key, value] : metadata_) {
    put_string(header, key);
    put_value(header, value);
  }
  for (const Tensor& t : tensors_) {
    put_string(header, t.info.name);
    put<uint32_t>(header, static_cast<uint32_t>(t.info.dims.size()));
    for (int64_t d : t.info.dims) put<uint64_t>(header, static_cast<uint64_t>(d));
    put<uint32_t>(header, static_cast<uint32_t>(t.info.type));
    put<uint64_t>(header, t.info.offset);
  }
  header.resize(align_up(header.size()), '\0');
  return header;
}

uint64_t GgufWriter::file_bytes() const {
  uint64_t bytes = header().size();
  if (!tensors_.empty()) {
    const Tensor& last = tensors_.back();
    bytes += align_up(last.info.offset + ggml_type_bytes(last.info.type, last.data.numel()));
  }
  return bytes;
}

void GgufWriter::write(const std::filesystem::path& path) const {
  write_file_atomic_pieces(path, [this](const PieceWriter& write) {
    write(header());
    uint64_t at = 0;
    for (const Tensor& t : tensors_) {
      if (t.info.offset > at) write(std::string(t.info.offset - at, '\0'));
      const std::string bytes = encode_ggml(t.data, t.info.type);
      write(bytes);
      at = t.info.offset + bytes.size();
    }
    if (align_up(at) > at) write(std::string(align_up(at) - at, '\0'));
  });
}

double GgufWriter::verify(const std::filesystem::path& path) const {
  const GgufFile file(path);
  if (file.tensors().size() != tensors_.size() || file.metadata().size() != metadata_.size()) {
    throw make_error("the written file has " + std::to_string(file.tensors().size()) +
                         " tensors and " + std::to_string(file.metadata().size()) +
                         " keys instead of " + std::to_string(tensors_.size()) + " and " +
                         std::to_string(metadata_.size()),
                     path.string(), "The disk may be failing; export again.");
  }
  double worst = 0;
  for (const Tensor& t : tensors_) {
    const torch::Tensor source = t.data.detach().to(torch::kCPU, torch::kFloat32);
    const double error =
        (file.tensor(t.info.name).reshape(source.sizes()) - source).abs().max().item<double>();
    // f16/bf16 round to 11/8 significant bits; q8_0 to half a step of absmax/127 (+ fp16 scale).
    const double scale = source.abs().max().item<double>();
    double allowed = 0;
    if (t.info.type == GgmlType::kF16) allowed = scale * 1e-3 + 1e-7;
    if (t.info.type == GgmlType::kBF16) allowed = scale * 8e-3;
    if (t.info.type == GgmlType::kQ8_0) allowed = scale * (0.5 / 127 + 2e-3);
    if (!(error <= allowed)) {
      throw make_error("tensor " + t.info.name + " reads back off by " + std::to_string(error),
                       path.string(), "This is a bug in the GGUF writer; please report it.");
    }
    worst = std::max(worst, error);
  }
  return worst;
}

// --- reader --------------------------------------------------------------------------------

GgufFile::GgufFile(const std::filesystem::path& path) : path_(path) {
  std::error_code error;
  file_size_ = std::filesystem::file_size(path, error);
  std::ifstream in(path, std::ios::binary);
  if (error || !in) {
    throw make_error("cannot open the GGUF file", path.string(), "Check the path.");
  }
  Cursor cursor(in, path_, file_size_);
  if (cursor.get<uint32_t>("the magic") != kMagic) {
    throw make_error("not a GGUF file (the first 4 bytes are not \"GGUF\")", path.string());
  }
  version_ = cursor.get<uint32_t>("the version");
  if (version_ < 2 || version_ > 3) {
    throw make_error("GGUF version " + std::to_string(version_) + " is not supported (2 and 3 are)",
                     path.string());
  }
  const uint64_t tensor_count = cursor.get_count("the tensor count", 24);
  const uint64_t kv_count = cursor.get_count("the metadata count", 12);
  std::set<std::string> keys;
  for (uint64_t i = 0; i < kv_count; ++i) {
    std::string key = cursor.get_string("a metadata key");
    if (!keys.insert(key).second) {
      throw make_error("metadata key \"" + key + "\" appears twice", path.string());
    }
    GgufValue value;
    value.type = static_cast<GgufType>(cursor.get<uint32_t>("a metadata type"));
    if (value.type == GgufType::kArray) {
      value.element_type = static_cast<GgufType>(cursor.get<uint32_t>("an array type"));
      if (value.element_type == GgufType::kArray) {
        throw make_error("nested array in \"" + key + "\" is not supported", path.string());
      }
      const uint64_t count = cursor.get_count("an array length", 1);
      for (uint64_t j = 0; j < count; ++j) get_element(cursor, value.element_type, value, path);
    } else {
      get_element(cursor, value.type, value, path);
    }
    metadata_.emplace_back(std::move(key), std::move(value));
  }
  std::set<std::string> names;
  for (uint64_t i = 0; i < tensor_count; ++i) {
    GgufTensorInfo info;
    info.name = cursor.get_string("a tensor name");
    if (!names.insert(info.name).second) {
      throw make_error("tensor \"" + info.name + "\" appears twice", path.string());
    }
    const uint32_t dims = cursor.get<uint32_t>("a tensor rank");
    if (dims == 0 || dims > 4) {
      throw make_error(
          "tensor \"" + info.name + "\" has rank " + std::to_string(dims) + " (GGUF allows 1 to 4)",
          path.string());
    }
    for (uint32_t d = 0; d < dims; ++d) {
      const uint64_t size = cursor.get<uint64_t>("a tensor dimension");
      if (size == 0 || size > (uint64_t{1} << 40)) {
        throw make_error("tensor \"" + info.name + "\" has dimension " + std::to_string(size),
                         path.string());
      }
      info.dims.push_back(static_cast<int64_t>(size));
    }
    const uint32_t type = cursor.get<uint32_t>("a tensor type");
    if (type != 0 && type != 1 && type != 8 && type != 30) {
      throw make_error("tensor \"" + info.name + "\" has ggml type " + std::to_string(type) +
                           ", which this reader does not decode (F32, F16, Q8_0, BF16)",
                       path.string());
    }
    info.type = static_cast<GgmlType>(type);
    info.offset = cursor.get<uint64_t>("a tensor offset");
    tensors_.push_back(std::move(info));
  }
  data_start_ = align_up(cursor.offset());
  for (const GgufTensorInfo& info : tensors_) {
    int64_t elements = 1;
    for (int64_t d : info.dims) elements *= d;
    if (info.offset % kAlignment != 0 || info.offset + ggml_type_bytes(info.type, elements) >
                                             file_size_ - std::min(file_size_, data_start_)) {
      throw make_error("tensor \"" + info.name + "\" lies outside the data area or is unaligned",
                       path.string(), "The GGUF file is truncated or corrupt; export it again.");
    }
  }
}

const GgufValue& GgufFile::value(const std::string& key) const {
  for (const auto& [name, value] : metadata_) {
    if (name == key) return value;
  }
  throw make_error("no metadata key \"" + key + "\"", path_.string());
}

bool GgufFile::has(const std::string& key) const {
  return std::any_of(metadata_.begin(), metadata_.end(),
                     [&](const auto& item) { return item.first == key; });
}

const GgufTensorInfo& GgufFile::tensor_info(const std::string& name) const {
  for (const GgufTensorInfo& info : tensors_) {
    if (info.name == name) return info;
  }
  throw make_error("no tensor \"" + name + "\"", path_.string());
}

torch::Tensor GgufFile::tensor(const std::string& name) const {
  const GgufTensorInfo& info = tensor_info(name);
  int64_t elements = 1;
  for (int64_t d : info.dims) elements *= d;
  std::string bytes(ggml_type_bytes(info.type, elements), '\0');
  std::ifstream in(path_, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(data_start_ + info.offset));
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!in) throw make_error("cannot read tensor \"" + name + "\"", path_.string());
  std::vector<int64_t> shape(info.dims.rbegin(), info.dims.rend());
  return decode_ggml(bytes, info.type, shape);
}

}  // namespace tb
