#include "core/export/export_job.h"
#include "core/tokenizer/json_util.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/config/config_fields.h"
#include "core/config/config_yaml.h"
#include "core/export/gguf_lora.h"
#include "core/export/gguf_model.h"
#include "core/export/merged_model.h"
#include "core/export/model_card.h"
#include "core/io/hf_folder.h"
#include "core/io/safetensors.h"
#include "core/models/registry.h"
#include "core/train/run_setup.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace tb {

namespace fs = std::filesystem;

namespace {

using json = nlohmann::json;

constexpr uint64_t kSpaceMargin = 64ull << 20;  // never fill a disk to the last byte

bool all_digits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), ::isdigit);
}

std::string mib(uint64_t bytes) { return std::to_string((bytes + (1 << 19)) >> 20) + " MiB"; }

// The run id in an output folder's marker (the folder itself or a checkpoint's parent).
int64_t run_id_of(const fs::path& folder) {
  for (const fs::path& dir : {folder, folder.parent_path()}) {
    const fs::path marker = dir / kOutputDirMarker;
    if (!fs::exists(marker)) continue;
    const std::string text = read_file(marker);
    if (text.rfind("run ", 0) == 0) return std::atoll(text.c_str() + 4);
  }
  return 0;
}

// tunebench_config.yaml beside a run's result, or beside its checkpoints.
std::optional<RunConfig> run_config_near(const fs::path& folder) {
  for (const fs::path& dir : {folder, folder.parent_path()}) {
    if (fs::exists(dir / "tunebench_config.yaml")) {
      return load_config_file(dir / "tunebench_config.yaml").config;
    }
  }
  return std::nullopt;
}

// The task a bare model folder is for, from its config.json.
void set_task_from_model(RunConfig& config, const fs::path& model_folder) {
  const json model = read_config_json(model_folder);
  const std::string where = (model_folder / "config.json").string();
  switch (task_from_config(model, where)) {
    case ModelTask::kCausalLm:
      config.task.task = "lm";
      break;
    case ModelTask::kMaskedLm:
      config.task.task = "mlm";
      break;
    case ModelTask::kSequenceClassification:
      config.task.task = "classification";
      config.task.num_labels = config_num_labels(model, where);
      break;
    case ModelTask::kBase:
      throw make_error("a bare backbone (no task head) has nothing to export", where,
                       "Export a ...ForCausalLM, ...ForMaskedLM or ...ForSequenceClassification "
                       "model.");
  }
}

uint64_t size_on_disk(const fs::path& path) {
  if (fs::is_regular_file(path)) return fs::file_size(path);
  uint64_t bytes = 0;
  for (const auto& entry : fs::recursive_directory_iterator(path)) {
    if (entry.is_regular_file()) bytes += entry.file_size();
  }
  return bytes;
}

void check_space(const fs::path& out, uint64_t needed) {
  fs::path dir = out.parent_path().empty() ? fs::current_path() : out.parent_path();
  while (!fs::exists(dir) && dir.has_parent_path() && dir != dir.parent_path()) {
    dir = dir.parent_path();
  }
  const fs::space_info space = fs::space(dir);
  if (space.available < needed + kSpaceMargin) {
    throw make_error(
        "the export needs about " + mib(needed) + " but only " + mib(space.available) + " are free",
        dir.string(), "Free disk space or choose another --out.");
  }
}

// Moves a finished temp folder into place; an existing `out` (with force) is moved aside
// first and deleted only once the new one is in place.
void publish_folder(const fs::path& temp, const fs::path& out) {
  const fs::path old = out.string() + ".old-" + std::to_string(::getpid());
  const bool replace = fs::exists(out);
  if (replace) fs::rename(out, old);
  try {
    fs::rename(temp, out);
  } catch (...) {
    if (replace) fs::rename(old, out);
    throw;
  }
  if (replace) fs::remove_all(old);
}

// Reads the written safetensors back and compares every tensor bit for bit with what was meant
// to be written (converted to `dtype` when given).
std::string verify_safetensors(const fs::path& written, const TensorList& expected,
                               std::optional<torch::ScalarType> dtype) {
  const SafetensorsCheckpoint checkpoint(written);
  for (const auto& [name, tensor] : expected) {
    if (!checkpoint.contains(name)) {
      throw make_error("tensor " + name + " is missing from the written files", written.string(),
                       "The disk may be failing; export again.");
    }
    const torch::Tensor want =
        tensor.detach().to(torch::kCPU, dtype.value_or(tensor.scalar_type()));
    if (!torch::equal(checkpoint.tensor(name), want)) {
      throw make_error("tensor " + name + " reads back different from what was written",
                       written.string(), "The disk may be failing; export again.");
    }
  }
  return "read back: all " + std::to_string(expected.size()) + " tensors bit-identical";
}

std::string verify_gguf(const GgufWriter& writer, const fs::path& written) {
  const double error = writer.verify(written);
  char text[96];
  std::snprintf(text, sizeof(text), "read back: every tensor within its type's rounding (max %.2g)",
                error);
  return text;
}

fs::path default_out(const ExportSource& source, const std::string& format,
                     const std::string& dtype) {
  const fs::path dir = source.folder / "exports";
  if (format == "peft") return dir / "adapter";
  if (format == "merged") return dir / ("merged-" + dtype);
  if (format == "gguf") return dir / ("model-" + dtype + ".gguf");
  return dir / ("adapter-" + dtype + ".gguf");
}

}  // namespace

const std::vector<std::string>& export_formats() {
  static const std::vector<std::string> formats = {"peft", "merged", "gguf", "gguf-lora"};
  return formats;
}

ExportSource resolve_export_source(const std::string& text, const ExportOptions& options,
                                   const RunStoreOptions& store) {
  ExportSource source;
  if (all_digits(text)) {
    const RunRecord run = RunStore(store).get_run(std::stoll(text));
    if (run.output_dir.empty() || !fs::exists(run.output_dir)) {
      throw make_error("run " + text + " has no output folder on this machine",
                       run.output_dir.empty() ? "run " + text : run.output_dir,
                       "Export from a checkpoint folder, or run the training again.");
    }
    source.folder = run.output_dir;
    source.run_id = run.id;
    source.description = "run " + text + " (" + run.name + ")";
  } else {
    source.folder = text;
    if (!fs::is_directory(source.folder)) {
      throw make_error("not a run id and not a folder", text,
                       "Give a run id (tunebench-cli runs list), a run's output or checkpoint "
                       "folder, or a Hugging Face model folder.");
    }
    source.run_id = run_id_of(source.folder);
    source.description = source.folder.string();
  }
  source.folder = fs::absolute(source.folder).lexically_normal();
  const std::optional<RunConfig> run_config = run_config_near(source.folder);
  RunConfig& config = source.config;
  if (run_config) config = *run_config;
  config.model.adapter_name_or_path.clear();

  if (fs::exists(source.folder / "adapter_config.json")) {
    config.model.adapter_name_or_path = source.folder.string();
    if (!options.base_model.empty()) {
      config.model.model_name_or_path = options.base_model.string();
    } else if (!run_config) {
      const fs::path file = source.folder / "adapter_config.json";
      const json adapter = tokenizer_json::parse(read_file(file), file.string());
      config.model.model_name_or_path = adapter.value("base_model_name_or_path", std::string());
    }
    if (config.model.model_name_or_path.empty() ||
        !fs::is_directory(config.model.model_name_or_path)) {
      throw make_error(
          "the adapter's base model folder \"" + config.model.model_name_or_path + "\" is not here",
          source.folder.string(), "Name the base model folder with --base.");
    }
    if (!run_config) set_task_from_model(config, config.model.model_name_or_path);
  } else if (fs::exists(source.folder / "config.json")) {
    // A whole model (a full or freeze run's result, or any Hugging Face folder).
    config.model.model_name_or_path = source.folder.string();
    config.method.finetuning_type = "full";
    config.method.quantization_bit = 0;
    if (!run_config) set_task_from_model(config, source.folder);
    if (!options.adapter.empty()) {
      config.model.adapter_name_or_path = fs::absolute(options.adapter).string();
      if (const auto adapter_run = run_config_near(options.adapter)) {
        config.method.quantization_bit = adapter_run->method.quantization_bit;
        config.task = adapter_run->task;
      }
    }
  } else {
    throw make_error(
        "the folder holds neither a model (config.json) nor an adapter "
        "(adapter_config.json)",
        source.folder.string(),
        "Point at a run's output folder, one of its checkpoint-N folders, or a model "
        "folder.");
  }
  if (!options.adapter.empty() && fs::exists(source.folder / "adapter_config.json")) {
    throw make_error("--adapter is for a model folder; this source already is an adapter",
                     source.folder.string(), "Drop --adapter, or give the base model folder.");
  }
  return source;
}

ExportResult run_export(const ExportSource& source, const ExportOptions& options,
                        const RunStoreOptions& store, const LossPlotRenderer& render_plot,
                        const std::function<void(const std::string&)>& progress) {
  const auto& formats = export_formats();
  if (std::find(formats.begin(), formats.end(), options.format) == formats.end()) {
    throw make_error("unknown export format \"" + options.format + "\"", "--format",
                     "Use peft, merged, gguf or gguf-lora.");
  }
  const std::string& format = options.format;
  const std::string dtype = options.dtype.empty() ? "f32" : options.dtype;
  const RunConfig& config = source.config;
  const bool has_adapter = !config.model.adapter_name_or_path.empty();
  if ((format == "peft" || format == "gguf-lora") && !has_adapter) {
    throw make_error(source.description + " is a whole model, not an adapter", "--format " + format,
                     "Use --format merged or gguf (or give --adapter with a model folder).");
  }
  if (format == "merged") parse_weight_dtype(dtype);
  if (format == "gguf-lora" && dtype == "q8_0") {
    throw make_error("LoRA matrices are too narrow for q8_0", "--dtype",
                     "Use f32, f16 or bf16 for a gguf-lora adapter.");
  }
  const GgmlType ggml_type =
      format.rfind("gguf", 0) == 0 ? parse_gguf_dtype(dtype) : GgmlType::kF32;
  // llama.cpp runs few architectures: say so before anything is loaded.
  if (format.rfind("gguf", 0) == 0) {
    gguf_architecture(read_config_json(config.model.model_name_or_path));
  }
  ExportResult result;
  result.path = options.out.empty() ? default_out(source, format, dtype) : options.out;
  result.path = fs::absolute(result.path).lexically_normal();
  if (fs::exists(result.path) && !options.force) {
    throw make_error("the output already exists", result.path.string(),
                     "Choose another output, or allow replacing it (--force; in the app: \"Replace "
                     "the output if it exists\").");
  }
  fs::create_directories(result.path.parent_path());
  auto say = [&](const std::string& line) {
    if (progress) progress(line);
  };

  if (format == "gguf-lora") {
    say("converting the adapter " + config.model.adapter_name_or_path);
    const GgufWriter writer = gguf_for_lora(read_config_json(config.model.model_name_or_path),
                                            config.model.adapter_name_or_path, ggml_type);
    check_space(result.path, writer.file_bytes());
    writer.write(result.path);
    result.verification = verify_gguf(writer, result.path);
  } else {
    say("loading " + config.model.model_name_or_path +
        (has_adapter ? " with the adapter " + config.model.adapter_name_or_path : ""));
    PreparedModel prepared = prepare_model(config);
    const std::string trainable = prepared.method->report().text();
    if (config.method.quantization_bit == 4 && format != "peft") {
      result.notes.push_back(
          "the NF4 base was dequantised before merging, so the merged model "
          "computes what the QLoRA model computed");
    }
    if (format == "gguf") {
      const TensorList state = merged_state(*prepared.method);
      GgufModelOptions gguf;
      gguf.matrix_type = ggml_type;
      gguf.name = fs::path(config.model.model_name_or_path).filename().string();
      const GgufWriter writer = gguf_for_model(prepared.model->config_json(), state,
                                               config.model.model_name_or_path, gguf);
      check_space(result.path, writer.file_bytes());
      say("writing " + result.path.string());
      writer.write(result.path);
      say("reading it back");
      result.verification = verify_gguf(writer, result.path);
    } else {
      const fs::path temp = result.path.string() + ".tmp-" + std::to_string(::getpid());
      fs::remove_all(temp);
      try {
        ModelCardInputs card;
        card.config = config;
        card.format = format;
        card.trainable_text = trainable;
        if (source.run_id > 0) card.run = RunStore(store).get_run(source.run_id);
        if (format == "merged") {
          const TensorList state = merged_state(*prepared.method);
          MergedModelOptions merged;
          merged.dtype = parse_weight_dtype(dtype);
          merged.max_shard_size = options.max_shard_size;
          uint64_t bytes = 0;
          for (const auto& item : state) {
            bytes += item.second.numel() * torch::elementSize(merged.dtype);
          }
          check_space(result.path, bytes);
          say("writing " + result.path.string());
          save_hf_model(prepared.model->config_json(), state, temp, merged);
          result.verification = verify_safetensors(temp, state, merged.dtype);
        } else {
          check_space(result.path, size_on_disk(config.model.adapter_name_or_path));
          prepared.method->save(temp);
          result.verification = verify_safetensors(temp / "adapter_model.safetensors",
                                                   prepared.method->saved_state(), std::nullopt);
        }
        copy_tokenizer_files(config.model.model_name_or_path, temp);
        if (source.run_id > 0 && render_plot) {
          const std::vector<MetricSeries> series =
              RunStore(store).series({source.run_id}, {"train/loss", "eval/loss"}, 2000);
          const std::string png = render_plot(series, card.run ? card.run->name : "loss");
          if (!png.empty()) {
            write_file_atomic(temp / "loss.png", png);
            card.plot_file = "loss.png";
          }
        }
        write_file_atomic(temp / "README.md", model_card_markdown(card));
        publish_folder(temp, result.path);
      } catch (...) {
        std::error_code ignored;
        fs::remove_all(temp, ignored);
        throw;
      }
    }
  }
  result.bytes = size_on_disk(result.path);
  if (source.run_id > 0) {
    WriteBatch batch;
    const std::string kind = format == "peft" ? "adapter" : format == "merged" ? "merged" : "gguf";
    batch.artifacts.push_back(
        {kind, result.path.string(), static_cast<int64_t>(result.bytes), unix_now()});
    RunStore(store).write(source.run_id, batch);
  }
  return result;
}

}  // namespace tb
