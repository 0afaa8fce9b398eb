#include "core/models/loader.h"

#include <c10/core/DefaultDtype.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <map>
#include <set>

#include "core/io/hf_folder.h"
#include "core/models/registry.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string shape_text(torch::IntArrayRef shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

// Old TensorFlow-era BERT checkpoints call LayerNorm parameters gamma/beta; transformers
// renames them on load, so do we.
std::string modern_name(const std::string& name) {
  if (ends_with(name, ".gamma")) return name.substr(0, name.size() - 6) + ".weight";
  if (ends_with(name, ".beta")) return name.substr(0, name.size() - 5) + ".bias";
  return name;
}

std::string list_some(const std::vector<std::string>& names) {
  std::vector<std::string> shown(names.begin(), names.begin() + std::min<size_t>(names.size(), 8));
  return join(shown, ", ") + (names.size() > shown.size()
                                  ? " and " + std::to_string(names.size() - shown.size()) + " more"
                                  : "");
}

void init_tensor(const std::string& name, torch::Tensor& tensor, double std) {
  torch::NoGradGuard no_grad;
  if (!tensor.is_floating_point()) return;
  if (ends_with(name, "bias")) {
    tensor.zero_();
  } else if (name.find("norm") != std::string::npos ||
             name.find("LayerNorm") != std::string::npos) {
    tensor.fill_(1.0);
  } else {
    tensor.normal_(0.0, std);
  }
}

// Building modules allocates every weight in the default dtype; building directly in the
// compute dtype keeps a bf16 load from first allocating the model in fp32. The default dtype
// is process-wide: models are built on one thread at a time.
class DefaultDtypeScope {
 public:
  explicit DefaultDtypeScope(torch::ScalarType dtype) : old_(c10::get_default_dtype()) {
    c10::set_default_dtype(c10::scalarTypeToTypeMeta(dtype));
  }
  ~DefaultDtypeScope() { c10::set_default_dtype(old_); }

 private:
  caffe2::TypeMeta old_;
};

}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> model_state(const LanguageModel& model) {
  std::vector<std::pair<std::string, torch::Tensor>> state;
  for (const auto& item : model.named_parameters(true))
    state.emplace_back(item.key(), item.value());
  for (const auto& item : model.named_buffers(true)) state.emplace_back(item.key(), item.value());
  return state;
}

void init_weights(LanguageModel& model, uint64_t seed) {
  torch::manual_seed(seed);
  for (auto& [name, tensor] : model_state(model))
    init_tensor(name, tensor, model.initializer_range());
}

LoadReport load_weights(LanguageModel& model, const SafetensorsCheckpoint& checkpoint,
                        const LoadOptions& options) {
  LoadReport report;
  std::map<std::string, torch::Tensor> expected;
  for (auto& [name, tensor] : model_state(model)) expected.emplace(name, tensor);
  const std::vector<std::string> names = checkpoint.names();

  // transformers loads a backbone checkpoint into a task model and vice versa by adding or
  // removing the base prefix ("model.", "bert.") when only one side uses it.
  const std::string prefix = model.base_prefix() + ".";
  const bool model_prefixed = std::any_of(expected.begin(), expected.end(), [&](const auto& e) {
    return starts_with(e.first, prefix);
  });
  const bool file_prefixed = std::any_of(names.begin(), names.end(),
                                         [&](const auto& n) { return starts_with(n, prefix); });

  const std::string where = checkpoint.files().front()->path().string();
  std::set<std::string> loaded;
  for (const std::string& file_name : names) {
    std::string name = modern_name(file_name);
    if (model_prefixed && !file_prefixed) name = prefix + name;
    if (!model_prefixed && file_prefixed && starts_with(name, prefix)) {
      name = name.substr(prefix.size());
    }
    const auto target = expected.find(name);
    if (target == expected.end()) {
      if (!model.ignores_tensor(name)) report.unexpected.push_back(file_name);
      continue;
    }
    const SafetensorsFile& file = checkpoint.file_of(file_name);
    const SafetensorsEntry& entry = file.entry(file_name);
    if (torch::IntArrayRef(entry.shape) != target->second.sizes()) {
      throw make_error("tensor '" + file_name + "' has shape " + shape_text(entry.shape) +
                           " but config.json implies " + shape_text(target->second.sizes()),
                       file.path().string(),
                       "config.json and the weights do not belong together; check the folder.");
    }
    torch::Tensor source = file.tensor(file_name);
    torch::Tensor& destination = target->second;
    const torch::ScalarType wanted =
        destination.is_floating_point() ? options.dtype : destination.scalar_type();
    if (source.scalar_type() == wanted && options.device.is_cpu()) {
      destination.set_data(source);  // shares the memory map: no copy, no extra resident memory
      ++report.zero_copy;
    } else {
      destination.set_data(source.to(options.device, wanted));
      source = torch::Tensor();
      file.release(file_name);  // the bytes now live in the converted copy
      ++report.converted;
    }
    loaded.insert(name);
  }

#if defined(__GLIBC__)
  // The randomly initialised weights just replaced may sit in malloc's heap rather than in
  // their own mappings; hand those pages back so loading does not hold the model twice.
  malloc_trim(0);
#endif
  const std::vector<std::string> heads = model.head_prefixes();
  for (auto& [name, tensor] : expected) {
    if (loaded.count(name)) continue;
    const bool head = std::any_of(heads.begin(), heads.end(),
                                  [&](const std::string& h) { return starts_with(name, h); });
    if (head) {
      init_tensor(name, tensor, model.initializer_range());
      report.initialised.push_back(name);
    } else {
      report.missing.push_back(name);
    }
  }
  if (options.strict && !report.missing.empty()) {
    std::string hint;
    if (!report.unexpected.empty()) {
      const std::string guess = closest_match(report.missing.front(), report.unexpected);
      if (!guess.empty()) hint = " The checkpoint has '" + guess + "' instead.";
    }
    throw make_error(std::to_string(report.missing.size()) + " tensor(s) that " +
                         model.architecture() + " needs are missing: " + list_some(report.missing) +
                         "." + hint,
                     where, "Check that config.json matches the weights.");
  }
  return report;
}

LoadedModel load_model(const fs::path& folder, const LoadOptions& options) {
  if (options.dtype != torch::kFloat32 && options.dtype != torch::kBFloat16) {
    throw make_error(
        std::string("compute dtype ") + c10::toString(options.dtype) + " is not supported",
        folder.string(), "Use float32 or bfloat16.");
  }
  LoadedModel loaded;
  loaded.folder = folder;
  const fs::path weights = find_safetensors_weights(folder);
  loaded.config = read_config_json(folder);
  const std::string where = (folder / "config.json").string();
  json config = loaded.config;
  if (options.num_labels > 0) {
    config["num_labels"] = options.num_labels;
    if (config.contains("id2label") && int64_t(config["id2label"].size()) != options.num_labels) {
      config.erase("id2label");
      config.erase("label2id");
    }
  }
  const ModelTask task = options.task ? *options.task : task_from_config(config, where);
  const SafetensorsCheckpoint checkpoint(weights);
  {
    DefaultDtypeScope scope(options.dtype);
    loaded.model = build_model(config, task, where);
  }
  loaded.report = load_weights(*loaded.model, checkpoint, options);
  loaded.model->to(options.device);
  loaded.model->eval();
  loaded.weight_bytes = checkpoint.total_bytes();
  std::set<std::string> dtypes;
  for (const std::string& name : checkpoint.names()) {
    dtypes.insert(checkpoint.file_of(name).entry(name).dtype);
  }
  loaded.weight_dtype = join(std::vector<std::string>(dtypes.begin(), dtypes.end()), "+");
  return loaded;
}

void save_model(const LanguageModel& model, const fs::path& folder) {
  std::error_code error;
  fs::create_directories(folder, error);
  if (error) {
    throw make_error("cannot create the folder (" + error.message() + ")", folder.string());
  }
  const auto state = model_state(model);
  json config = model.config_json();
  if (!state.empty()) {
    const torch::ScalarType dtype = state.front().second.scalar_type();
    config["torch_dtype"] = dtype == torch::kBFloat16  ? "bfloat16"
                            : dtype == torch::kFloat16 ? "float16"
                                                       : "float32";
  }
  // Weights first: a folder whose config.json exists is taken as complete by other tools.
  save_safetensors(folder / "model.safetensors", state);
  write_json_file(folder / "config.json", config);
}

}  // namespace tb
