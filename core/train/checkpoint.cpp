#include "core/train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <mutex>

#include "core/io/safetensors.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace tb {
namespace fs = std::filesystem;

namespace {

constexpr const char* kFormat = "tunebench-checkpoint-1";

int64_t step_of(const fs::path& folder) {
  const std::string name = folder.filename().string();
  const std::string prefix = "checkpoint-";
  if (name.rfind(prefix, 0) != 0) return -1;
  try {
    size_t used = 0;
    const int64_t step = std::stoll(name.substr(prefix.size()), &used);
    return used == name.size() - prefix.size() ? step : -1;
  } catch (const std::exception&) {
    return -1;
  }
}

std::vector<std::pair<std::string, torch::Tensor>> read_all(const fs::path& file) {
  SafetensorsFile tensors(file);
  std::vector<std::pair<std::string, torch::Tensor>> result;
  for (const std::string& name : tensors.names()) {
    result.emplace_back(name, tensors.tensor(name).clone());  // own memory: the file may go
  }
  return result;
}

}  // namespace

fs::path save_checkpoint(const fs::path& output_dir, const TrainerState& state,
                         const std::vector<NamedParameter>& trainable, const Optimizer& optimizer,
                         const std::function<void(const fs::path&)>& extra) {
  const fs::path final_dir = output_dir / ("checkpoint-" + std::to_string(state.step));
  const fs::path temp_dir = output_dir / (".checkpoint-" + std::to_string(state.step) + ".tmp");
  fs::remove_all(temp_dir);
  fs::create_directories(temp_dir);
  try {
    std::vector<std::pair<std::string, torch::Tensor>> parameters;
    for (const auto& [name, tensor] : trainable) {
      parameters.emplace_back(name, tensor.detach().to(torch::kCPU).contiguous());
    }
    save_safetensors(temp_dir / "trainable.safetensors", parameters);
    std::vector<std::pair<std::string, torch::Tensor>> optimizer_state;
    for (const auto& [name, tensor] : optimizer.state()) {
      optimizer_state.emplace_back(name, tensor.detach().to(torch::kCPU).contiguous());
    }
    save_safetensors(temp_dir / "optimizer.safetensors", optimizer_state);
    // Dropout masks come from the default CPU generator: its state makes resume exact.
    const torch::Tensor rng = at::detail::getDefaultCPUGenerator().get_state();
    save_safetensors(temp_dir / "rng_state.safetensors", {{"cpu", rng}});
    const nlohmann::json json = {{"format", kFormat},
                                 {"global_step", state.step},
                                 {"max_steps", state.total_steps},
                                 {"cursor", {{"epoch", state.epoch}, {"batch", state.batch}}},
                                 {"tokens", state.tokens},
                                 {"samples", state.samples},
                                 {"last_loss", state.last_loss},
                                 {"world_size", state.world_size}};
    write_file_atomic(temp_dir / "trainer_state.json", json.dump(2) + "\n");
    if (extra) extra(temp_dir);
    fs::remove_all(final_dir);  // an older run's checkpoint of the same step
    fs::rename(temp_dir, final_dir);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(temp_dir, ignored);
    throw;
  }
  return final_dir;
}

TrainerState load_checkpoint(const fs::path& folder, const std::vector<NamedParameter>& trainable,
                             Optimizer& optimizer) {
  const fs::path state_file = folder / "trainer_state.json";
  if (!fs::exists(state_file)) {
    throw make_error("not a tunebench checkpoint (no trainer_state.json)", folder.string(),
                     "Resume from an output_dir/checkpoint-<step> folder written by tunebench.");
  }
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(read_file(state_file));
  } catch (const nlohmann::json::exception& error) {
    throw make_error(std::string("unreadable trainer state: ") + error.what(), state_file.string());
  }
  if (json.value("format", "") != kFormat) {
    throw make_error("unknown checkpoint format '" + json.value("format", "") + "'",
                     state_file.string(), "This tunebench reads " + std::string(kFormat) + ".");
  }
  const auto parameters = read_all(folder / "trainable.safetensors");
  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : trainable) {
    const auto saved =
        std::find_if(parameters.begin(), parameters.end(),
                     [&name = name](const auto& entry) { return entry.first == name; });
    if (saved == parameters.end()) {
      throw make_error("trainable tensor '" + name + "' is not in the checkpoint", folder.string(),
                       "Resume with the method and model the run started with.");
    }
    if (!saved->second.sizes().equals(tensor.sizes())) {
      throw make_error("trainable tensor '" + name + "' has another shape in the checkpoint",
                       folder.string(), "Resume with the method and model the run started with.");
    }
    tensor.copy_(saved->second);
  }
  optimizer.load_state(read_all(folder / "optimizer.safetensors"));
  for (const auto& [name, tensor] : read_all(folder / "rng_state.safetensors")) {
    if (name == "cpu") {
      at::Generator generator = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(generator.mutex());
      generator.set_state(tensor);
    }
  }
  TrainerState state;
  state.step = json.at("global_step").get<int64_t>();
  state.total_steps = json.value("max_steps", int64_t{0});
  state.epoch = json.at("cursor").at("epoch").get<int64_t>();
  state.batch = json.at("cursor").at("batch").get<int64_t>();
  state.tokens = json.value("tokens", int64_t{0});
  state.samples = json.value("samples", int64_t{0});
  state.last_loss = json.value("last_loss", 0.0);
  state.world_size = json.value("world_size", int64_t{1});
  return state;
}

std::vector<fs::path> list_checkpoints(const fs::path& output_dir) {
  std::vector<std::pair<int64_t, fs::path>> found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(output_dir, error)) {
    if (const int64_t step = step_of(entry.path()); step >= 0 && entry.is_directory()) {
      found.emplace_back(step, entry.path());
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<fs::path> folders;
  for (auto& [step, path] : found) folders.push_back(std::move(path));
  return folders;
}

void rotate_checkpoints(const fs::path& output_dir, int64_t keep) {
  if (keep <= 0) return;
  const std::vector<fs::path> all = list_checkpoints(output_dir);
  for (size_t i = 0; i + static_cast<size_t>(keep) < all.size(); ++i) fs::remove_all(all[i]);
}

}  // namespace tb
