#include "core/models/inspect.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include "core/io/hf_folder.h"
#include "core/io/safetensors.h"
#include "core/models/model.h"
#include "core/models/registry.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace tb {
namespace fs = std::filesystem;
using nlohmann::json;

ModelSummary inspect_model(const fs::path& folder) {
  ModelSummary summary;
  summary.folder = folder;
  const fs::path weights = find_safetensors_weights(folder);
  summary.config = read_config_json(folder);
  const std::string where = (folder / "config.json").string();
  summary.model_type = config_string(summary.config, "model_type", "", where);
  const auto types = supported_model_types();
  summary.supported = std::find(types.begin(), types.end(), summary.model_type) != types.end();
  const auto archs = summary.config.find("architectures");
  if (archs != summary.config.end() && archs->is_array() && !archs->empty() &&
      archs->front().is_string()) {
    summary.architecture = archs->front().get<std::string>();
  }
  try {
    summary.task = task_name(task_from_config(summary.config, where));
  } catch (const Error&) {
    summary.task = "unknown";  // inspect describes; it does not reject
  }
  const SafetensorsCheckpoint checkpoint(weights);
  summary.bytes = checkpoint.total_bytes();
  for (const auto& file : checkpoint.files()) {
    summary.files.push_back(file->path().filename().string());
  }
  std::set<std::string> dtypes;
  for (const std::string& name : checkpoint.names()) {
    const SafetensorsEntry& entry = checkpoint.file_of(name).entry(name);
    int64_t elements = 1;
    for (int64_t dim : entry.shape) elements *= dim;
    summary.parameters += elements;
    dtypes.insert(entry.dtype);
    summary.tensors.push_back({name, entry.dtype, entry.shape});
  }
  summary.dtype = join(std::vector<std::string>(dtypes.begin(), dtypes.end()), "+");
  return summary;
}

json summary_to_json(const ModelSummary& s) {
  json tensors = json::array();
  for (const TensorSummary& t : s.tensors) {
    tensors.push_back({{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}});
  }
  return {{"folder", s.folder.string()},
          {"model_type", s.model_type},
          {"architecture", s.architecture},
          {"task", s.task},
          {"supported", s.supported},
          {"parameters", s.parameters},
          {"bytes", s.bytes},
          {"dtype", s.dtype},
          {"files", s.files},
          {"config", s.config},
          {"tensors", tensors}};
}

std::string summary_to_text(const ModelSummary& s, bool with_tensors) {
  std::ostringstream out;
  const auto row = [&](const char* label, const std::string& value) {
    char padded[32];
    std::snprintf(padded, sizeof padded, "%-25s", label);
    out << padded << value << "\n";
  };
  const auto human = [](double value, const char* const* units) {
    int unit = 0;
    while (value >= 1000 && units[unit + 1]) value /= 1000, ++unit;
    char text[32];
    std::snprintf(text, sizeof text, unit ? "%.2f %s" : "%.0f%s", value, units[unit]);
    return std::string(text);
  };
  static const char* const kCounts[] = {"", "K", "M", "B", "T", nullptr};
  static const char* const kBytes[] = {" B", "kB", "MB", "GB", "TB", nullptr};
  row("folder", s.folder.string());
  row("model_type",
      s.model_type +
          (s.supported ? "" : " (not supported: " + join(supported_model_types(), ", ") + ")"));
  row("architecture", s.architecture.empty() ? "(none)" : s.architecture);
  row("task", s.task);
  row("parameters",
      human(double(s.parameters), kCounts) + " (" + std::to_string(s.parameters) + ")");
  row("dtype", s.dtype);
  row("size", human(double(s.bytes), kBytes) + " in " + join(s.files, ", "));
  row("tensors", std::to_string(s.tensors.size()));
  for (const char* key : {"hidden_size", "num_hidden_layers", "num_attention_heads",
                          "num_key_value_heads", "vocab_size", "max_position_embeddings"}) {
    if (s.config.contains(key)) row(key, s.config[key].dump());
  }
  if (with_tensors) {
    for (const TensorSummary& t : s.tensors) {
      out << "  " << t.name << "  " << t.dtype << " " << json(t.shape).dump() << "\n";
    }
  }
  return out.str();
}

}  // namespace tb
