#include "core/train/memory.h"

#include <fstream>
#include <string>

namespace tb {

void read_process_memory(MemoryStats& stats) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    // Lines look like "VmRSS:     123456 kB".
    const auto read_kb = [&line](const char* key) -> int64_t {
      if (line.rfind(key, 0) != 0) return -1;
      return std::stoll(line.substr(line.find_first_of("0123456789"))) * 1024;
    };
    if (const int64_t rss = read_kb("VmRSS:"); rss >= 0) stats.rss_bytes = rss;
    if (const int64_t peak = read_kb("VmHWM:"); peak >= 0) stats.peak_rss_bytes = peak;
  }
}

void reset_peak_rss() {
  // "5" resets the peak resident set size to the current one (Linux ≥ 4.0).
  std::ofstream clear("/proc/self/clear_refs");
  if (clear) clear << "5";
}

int64_t tensor_bytes(const std::vector<torch::Tensor>& tensors) {
  int64_t bytes = 0;
  for (const torch::Tensor& tensor : tensors) {
    if (tensor.defined()) bytes += tensor.numel() * static_cast<int64_t>(tensor.element_size());
  }
  return bytes;
}

}  // namespace tb
