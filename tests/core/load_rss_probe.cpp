// Helper of test_load_memory: loads a model folder in a fresh process, runs one forward over
// a few tokens (so every weight is touched) and prints {"vm_hwm_kb", "weight_bytes", …} as
// JSON. A separate process so the test's own allocations do not count.
#include <torch/torch.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/models/loader.h"
#include "core/util/error.h"

namespace {

int64_t status_kb(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: load_rss_probe MODEL_DIR\n";
    return 2;
  }
  try {
    torch::set_num_threads(1);
    const int64_t baseline_kb = status_kb("VmRSS");
    const tb::LoadedModel loaded = tb::load_model(argv[1]);
    const int64_t after_load_kb = status_kb("VmHWM");
    torch::NoGradGuard no_grad;
    tb::ModelBatch batch;
    batch.input_ids = torch::arange(8, torch::kInt64).unsqueeze(0);
    const float checksum = loaded.model->forward(batch).logits.sum().item<float>();
    std::cout << nlohmann::json{{"vm_hwm_kb", status_kb("VmHWM")},
                                {"vm_hwm_after_load_kb", after_load_kb},
                                {"baseline_rss_kb", baseline_kb},
                                {"weight_bytes", loaded.weight_bytes},
                                {"zero_copy", loaded.report.zero_copy},
                                {"finite", std::isfinite(checksum)}}
                     .dump()
              << "\n";
    return 0;
  } catch (const tb::Error& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  }
}
