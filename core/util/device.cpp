#include "core/util/device.h"

#include "core/util/error.h"

namespace tb {

torch::Device resolve_device(const std::string& setting) {
  const bool cuda = torch::cuda::is_available();
  const int64_t count = cuda ? static_cast<int64_t>(torch::cuda::device_count()) : 0;
  if (setting == "auto" || setting.empty()) {
    return cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  }
  if (setting == "cpu") return torch::Device(torch::kCPU);
  if (setting.rfind("cuda", 0) != 0) {
    throw make_error("unknown device '" + setting + "'", "training.device",
                     "Use auto, cpu, cuda or cuda:N.");
  }
  int64_t index = 0;
  if (setting != "cuda") {
    const std::string number = setting.size() > 5 && setting[4] == ':' ? setting.substr(5) : "";
    if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos ||
        number.size() > 3) {
      throw make_error("unknown device '" + setting + "'", "training.device",
                       "Use auto, cpu, cuda or cuda:N (N = 0 for the first GPU).");
    }
    index = std::stoll(number);
  }
  if (!cuda) {
    throw make_error("training.device is '" + setting + "' but this LibTorch sees no CUDA device",
                     "training.device",
                     "Use device: cpu (or auto), or build tunebench against a LibTorch with CUDA "
                     "(README, \"GPU build\") on a machine with an NVIDIA GPU; `tunebench-cli "
                     "doctor` shows what this one has.");
  }
  if (index >= count) {
    throw make_error("training.device is '" + setting + "' but there are " + std::to_string(count) +
                         " CUDA device(s) (cuda:0…cuda:" + std::to_string(count - 1) + ")",
                     "training.device", "Pick one of them; `tunebench-cli doctor` lists them.");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

std::string device_label(const std::string& setting) {
  try {
    return resolve_device(setting).str();
  } catch (const Error&) {
    return setting;
  }
}

}  // namespace tb
