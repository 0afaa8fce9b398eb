// safetensors files of any content: opened and every tensor read, or a tb::Error naming the
// file — never a crash or a read outside the mapping. A file that opens must survive a
// save_safetensors round trip byte for byte (names, dtypes, shapes, data, metadata).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "core/io/safetensors.h"
#include "core/util/error.h"

namespace {

const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("tb-fuzz-safetensors-" + std::to_string(getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  return dir;
}

// The tensor's bytes as stored (contiguous, native little-endian).
std::string bytes_of(const torch::Tensor& tensor) {
  const torch::Tensor dense = tensor.contiguous();
  return std::string(static_cast<const char*>(dense.data_ptr()), dense.nbytes());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::filesystem::path input = scratch_dir() / "input.safetensors";
  const std::filesystem::path again = scratch_dir() / "again.safetensors";
  {
    std::ofstream out(input, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  std::map<std::string, std::string> metadata;
  try {
    const tb::SafetensorsFile file(input);
    for (const std::string& name : file.names()) {
      const tb::SafetensorsEntry& entry = file.entry(name);
      torch::Tensor tensor = file.tensor(name);
      if (tensor.sizes().vec() != entry.shape) std::abort();
      if (static_cast<uint64_t>(tensor.nbytes()) != entry.end - entry.begin) std::abort();
      tensors.emplace_back(name, tensor.clone());  // every byte is touched (ASan checks reads)
    }
    metadata = file.metadata();
  } catch (const tb::Error&) {
    return 0;  // refused with a message naming the file: the expected outcome for most inputs
  }
  try {
    tb::save_safetensors(again, tensors, metadata);
  } catch (const tb::Error&) {
    return 0;  // names the writer refuses (empty, reserved) are fine to refuse
  }
  const tb::SafetensorsFile reread(again);  // our own output must always load
  if (reread.names().size() != tensors.size()) std::abort();
  for (const auto& [name, tensor] : tensors) {
    const torch::Tensor back = reread.tensor(name);
    if (back.scalar_type() != tensor.scalar_type() || back.sizes() != tensor.sizes()) std::abort();
    if (bytes_of(back) != bytes_of(tensor)) std::abort();
  }
  for (const auto& [key, value] : metadata) {
    const auto found = reread.metadata().find(key);
    if (found == reread.metadata().end() || found->second != value) std::abort();
  }
  return 0;
}
