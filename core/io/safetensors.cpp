#include "core/io/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct DtypeInfo {
  const char* code;
  torch::ScalarType type;
};

// The order is the one the format's documentation lists; it is also what errors print.
const DtypeInfo kDtypes[] = {
    {"F64", torch::kFloat64},   {"F32", torch::kFloat32}, {"F16", torch::kFloat16},
    {"BF16", torch::kBFloat16}, {"I64", torch::kInt64},   {"I32", torch::kInt32},
    {"I16", torch::kInt16},     {"I8", torch::kInt8},     {"U8", torch::kUInt8},
    {"BOOL", torch::kBool},
};

std::string os_reason() { return std::strerror(errno); }

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

const char* kFixCorrupt =
    "The file is damaged or not a safetensors file; download or export it again.";

}  // namespace

const std::vector<std::string>& safetensors_dtypes() {
  static const std::vector<std::string> codes = [] {
    std::vector<std::string> all;
    for (const DtypeInfo& info : kDtypes) all.emplace_back(info.code);
    return all;
  }();
  return codes;
}

torch::ScalarType safetensors_to_torch_dtype(const std::string& code) {
  for (const DtypeInfo& info : kDtypes) {
    if (code == info.code) return info.type;
  }
  throw make_error("unknown dtype '" + code + "'", "safetensors",
                   "Supported dtypes: " + join(safetensors_dtypes(), ", ") + ".");
}

std::string torch_to_safetensors_dtype(torch::ScalarType dtype) {
  for (const DtypeInfo& info : kDtypes) {
    if (dtype == info.type) return info.code;
  }
  throw make_error(std::string("dtype ") + c10::toString(dtype) + " cannot be stored",
                   "safetensors",
                   "Convert the tensor to one of " + join(safetensors_dtypes(), ", "));
}

// The mapping outlives the SafetensorsFile when tensors still point into it.
struct SafetensorsFile::Mapping {
  void* base = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (base) ::munmap(base, size);
  }
};

SafetensorsFile::SafetensorsFile(const fs::path& path) : path_(path) {
  const std::string where = path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw make_error(fs::exists(path) ? "cannot open (" + os_reason() + ")" : "no such file", where,
                     "Check the path and its permissions.");
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const std::string reason = os_reason();
    ::close(fd);
    throw make_error("cannot read file size (" + reason + ")", where);
  }
  file_size_ = static_cast<uint64_t>(info.st_size);
  if (file_size_ < 8) {
    ::close(fd);
    throw make_error(
        "file too small for a safetensors header (" + std::to_string(file_size_) + " bytes)", where,
        kFixCorrupt);
  }
  mapping_ = std::make_shared<Mapping>();
  // Private and writable: pages are shared with the page cache until someone writes to a
  // tensor (training in place), which then gets its own copy instead of a crash.
  void* base = ::mmap(nullptr, file_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  const std::string reason = os_reason();
  ::close(fd);
  if (base == MAP_FAILED) throw make_error("cannot memory-map (" + reason + ")", where);
  mapping_->base = base;
  mapping_->size = file_size_;
  const auto* bytes = static_cast<const unsigned char*>(base);

  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | bytes[i];
  if (header_size > kSafetensorsMaxHeaderBytes) {
    throw make_error(
        "header length " + std::to_string(header_size) + " bytes is over the 100 MB limit", where,
        kFixCorrupt);
  }
  if (header_size > file_size_ - 8) {
    throw make_error("header length " + std::to_string(header_size) +
                         " bytes runs past the end of the file (" + std::to_string(file_size_) +
                         " bytes)",
                     where, "The file is truncated; download or export it again.");
  }
  data_start_ = 8 + header_size;
  const uint64_t data_size = file_size_ - data_start_;

  json header;
  try {
    header = json::parse(bytes + 8, bytes + 8 + header_size);
  } catch (const json::parse_error& error) {
    throw make_error("header is not valid JSON (byte " + std::to_string(error.byte) + ")", where,
                     kFixCorrupt);
  } catch (const json::exception&) {  // out_of_range 406: a number beyond a double (1e400)
    throw make_error("header holds a number too large to read", where, kFixCorrupt);
  }
  if (!header.is_object()) throw make_error("header is not a JSON object", where, kFixCorrupt);

  for (const auto& [name, value] : header.items()) {
    const std::string at = where + ": tensor '" + name + "'";
    if (name == "__metadata__") {
      if (!value.is_object()) throw make_error("__metadata__ is not an object", where, kFixCorrupt);
      for (const auto& [key, text] : value.items()) {
        if (!text.is_string()) {
          throw make_error("__metadata__ value for '" + key + "' is not a string", where,
                           kFixCorrupt);
        }
        metadata_[key] = text.get<std::string>();
      }
      continue;
    }
    if (!value.is_object()) throw make_error("entry is not an object", at, kFixCorrupt);
    SafetensorsEntry entry;
    entry.name = name;
    const auto dtype = value.find("dtype");
    if (dtype == value.end() || !dtype->is_string()) {
      throw make_error("missing or non-string 'dtype'", at, kFixCorrupt);
    }
    entry.dtype = dtype->get<std::string>();
    if (std::find(safetensors_dtypes().begin(), safetensors_dtypes().end(), entry.dtype) ==
        safetensors_dtypes().end()) {
      throw make_error("unknown dtype '" + entry.dtype + "'", at,
                       "Supported dtypes: " + join(safetensors_dtypes(), ", ") + ".");
    }
    const auto shape = value.find("shape");
    if (shape == value.end() || !shape->is_array()) {
      throw make_error("missing or non-array 'shape'", at, kFixCorrupt);
    }
    uint64_t elements = 1;
    for (const json& dim : *shape) {
      if (!dim.is_number_unsigned() || dim.get<uint64_t>() > uint64_t(INT64_MAX)) {
        throw make_error(
            "shape " + shape->dump() + " has a dimension that is not a " + "non-negative integer",
            at, kFixCorrupt);
      }
      entry.shape.push_back(dim.get<int64_t>());
      if (__builtin_mul_overflow(elements, dim.get<uint64_t>(), &elements)) {
        throw make_error("shape " + shape->dump() + " overflows 64 bits", at, kFixCorrupt);
      }
    }
    const auto offsets = value.find("data_offsets");
    if (offsets == value.end() || !offsets->is_array() || offsets->size() != 2 ||
        !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned()) {
      throw make_error("'data_offsets' must be two non-negative integers [begin, end]", at,
                       kFixCorrupt);
    }
    entry.begin = (*offsets)[0].get<uint64_t>();
    entry.end = (*offsets)[1].get<uint64_t>();
    if (entry.end < entry.begin) {
      throw make_error("data_offsets [" + std::to_string(entry.begin) + ", " +
                           std::to_string(entry.end) + "] end before they begin",
                       at, kFixCorrupt);
    }
    const uint64_t item = torch::elementSize(safetensors_to_torch_dtype(entry.dtype));
    uint64_t expected = 0;
    if (__builtin_mul_overflow(elements, item, &expected) || expected != entry.end - entry.begin) {
      throw make_error("shape " + shape_text(entry.shape) + " of " + entry.dtype + " needs " +
                           std::to_string(elements) + " × " + std::to_string(item) +
                           " bytes but data_offsets give " +
                           std::to_string(entry.end - entry.begin),
                       at, kFixCorrupt);
    }
    if (entry.end > data_size) {
      throw make_error("data_offsets [" + std::to_string(entry.begin) + ", " +
                           std::to_string(entry.end) + "] lie outside the data area (" +
                           std::to_string(data_size) + " bytes)",
                       at, "The file is truncated; download or export it again.");
    }
    entries_.push_back(std::move(entry));
  }

  std::sort(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 0; i < entries_.size(); ++i) {
    // Empty tensors occupy no bytes and cannot overlap anything.
    if (i > 0 && entries_[i].begin < entries_[i - 1].end && entries_[i].end > entries_[i].begin) {
      throw make_error("data of tensor '" + entries_[i].name + "' overlaps tensor '" +
                           entries_[i - 1].name + "'",
                       where, kFixCorrupt);
    }
    index_[entries_[i].name] = i;
  }
}

SafetensorsFile::~SafetensorsFile() = default;

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> names;
  for (const SafetensorsEntry& entry : entries_) names.push_back(entry.name);
  return names;
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
  const auto found = index_.find(name);
  if (found == index_.end()) {
    const std::string guess = closest_match(name, names());
    throw make_error("no tensor named '" + name + "'", path_.string(),
                     guess.empty() ? "" : "Did you mean '" + guess + "'?");
  }
  return entries_[found->second];
}

torch::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const SafetensorsEntry& info = entry(name);
  const torch::ScalarType dtype = safetensors_to_torch_dtype(info.dtype);
  auto* data = static_cast<char*>(mapping_->base) + data_start_ + info.begin;
  const auto options = torch::TensorOptions().dtype(dtype);
  if (reinterpret_cast<uintptr_t>(data) % torch::elementSize(dtype) == 0) {
    std::shared_ptr<Mapping> keep = mapping_;
    return torch::from_blob(
        data, info.shape, [keep](void*) mutable { keep.reset(); }, options);
  }
  // Misaligned data (legal in the format, produced by some writers) cannot be viewed safely.
  torch::Tensor copy = torch::empty(info.shape, options);
  std::memcpy(copy.data_ptr(), data, info.end - info.begin);
  return copy;
}

void SafetensorsFile::release(const std::string& name) const {
  const SafetensorsEntry& info = entry(name);
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto start = reinterpret_cast<uintptr_t>(mapping_->base) + data_start_ + info.begin;
  const uintptr_t first = (start + page - 1) / page * page;  // whole pages inside the tensor
  const uintptr_t last = (start + (info.end - info.begin)) / page * page;
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

// --- sharded checkpoints -------------------------------------------------------------------

SafetensorsCheckpoint::SafetensorsCheckpoint(const fs::path& path) {
  fs::path target = path;
  if (fs::is_directory(path)) {
    if (fs::exists(path / "model.safetensors")) {
      target = path / "model.safetensors";
    } else if (fs::exists(path / "model.safetensors.index.json")) {
      target = path / "model.safetensors.index.json";
    } else {
      throw make_error("no model.safetensors or model.safetensors.index.json", path.string(),
                       "Point at a Hugging Face model folder with safetensors weights.");
    }
  }
  const std::string name = target.filename().string();
  const std::string suffix = ".index.json";
  if (name.size() <= suffix.size() ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    files_.push_back(std::make_unique<SafetensorsFile>(target));
    for (const std::string& tensor : files_.back()->names()) owner_[tensor] = 0;
    return;
  }

  const std::string where = target.string();
  json index;
  try {
    index = json::parse(read_file(target));
  } catch (const json::parse_error& error) {
    throw make_error("not valid JSON (byte " + std::to_string(error.byte) + ")", where,
                     "Download or export the checkpoint again.");
  } catch (const json::exception&) {  // out_of_range 406: a number beyond a double (1e400)
    throw make_error("holds a number too large to read", where,
                     "Download or export the checkpoint again.");
  }
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
    throw make_error("has no \"weight_map\" object", where,
                     "A sharded checkpoint index maps tensor names to shard files.");
  }
  std::map<std::string, size_t> shard_of_file;
  for (const auto& [tensor, file] : index["weight_map"].items()) {
    if (!file.is_string()) {
      throw make_error("weight_map entry for '" + tensor + "' is not a file name", where);
    }
    const fs::path shard = file.get<std::string>();
    if (shard.empty() || shard.has_parent_path() || shard.is_absolute()) {
      throw make_error("weight_map entry for '" + tensor + "' names '" + shard.string() +
                           "', which is not a file beside the index",
                       where, "Shards must sit in the same folder as the index.");
    }
    auto found = shard_of_file.find(shard.string());
    if (found == shard_of_file.end()) {
      files_.push_back(std::make_unique<SafetensorsFile>(target.parent_path() / shard));
      found = shard_of_file.emplace(shard.string(), files_.size() - 1).first;
    }
    if (!files_[found->second]->contains(tensor)) {
      throw make_error("the index places tensor '" + tensor + "' in " + shard.string() +
                           ", which does not hold it",
                       where, "The checkpoint is incomplete or mixed; download it again.");
    }
    owner_[tensor] = found->second;
  }
}

std::vector<std::string> SafetensorsCheckpoint::names() const {
  std::vector<std::string> names;
  for (const auto& [name, file] : owner_) names.push_back(name);
  return names;
}

const SafetensorsFile& SafetensorsCheckpoint::file_of(const std::string& name) const {
  const auto found = owner_.find(name);
  if (found == owner_.end()) {
    const std::string guess = closest_match(name, names());
    throw make_error("checkpoint has no tensor named '" + name + "'",
                     files_.empty() ? std::string() : files_.front()->path().string(),
                     guess.empty() ? "" : "Did you mean '" + guess + "'?");
  }
  return *files_[found->second];
}

uint64_t SafetensorsCheckpoint::total_bytes() const {
  uint64_t total = 0;
  for (const auto& file : files_) total += file->file_size();
  return total;
}

// --- writer ----------------------------------------------------------------------------------

void save_safetensors(const fs::path& path,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                      std::map<std::string, std::string> metadata) {
  const std::string where = path.string();
  std::vector<std::pair<std::string, torch::Tensor>> ordered;
  std::set<std::string> seen;
  for (const auto& [name, tensor] : tensors) {
    if (name.empty() || name == "__metadata__" || !seen.insert(name).second) {
      throw make_error("tensor name '" + name + "' is empty, reserved or repeated", where);
    }
    torch_to_safetensors_dtype(tensor.scalar_type());  // throws for unsupported dtypes
    ordered.emplace_back(name, tensor.detach().to(torch::kCPU).contiguous());
  }
  // Largest element size first keeps every tensor aligned to its own element size.
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
    const size_t size_a = a.second.element_size(), size_b = b.second.element_size();
    return size_a != size_b ? size_a > size_b : a.first < b.first;
  });

  metadata.emplace("format", "pt");
  json header = json::object();
  header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : ordered) {
    const uint64_t bytes = tensor.numel() * tensor.element_size();
    header[name] = {{"dtype", torch_to_safetensors_dtype(tensor.scalar_type())},
                    {"shape", tensor.sizes().vec()},
                    {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // data area starts 8-byte aligned
  char length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<char>((uint64_t(text.size()) >> (8 * i)));

  write_file_atomic_pieces(path, [&](const PieceWriter& write) {
    write(std::string_view(length, 8));
    write(text);
    for (const auto& [name, tensor] : ordered) {
      write(std::string_view(static_cast<const char*>(tensor.data_ptr()),
                             static_cast<size_t>(tensor.numel() * tensor.element_size())));
    }
  });
}

}  // namespace tb
