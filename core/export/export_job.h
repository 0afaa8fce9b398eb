#pragma once
// One export as the user asks for it: resolve the source (a run id, a run's output folder, a
// checkpoint, a model folder with an optional adapter), build the result in the requested
// format (PEFT adapter, merged Hugging Face folder, GGUF model, GGUF LoRA adapter), check the
// free disk space first, write into a temporary path and rename it into place, refusing to
// replace anything without `force`. The CLI and the GUI's Export page both call this.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/config/run_config.h"
#include "core/runs/run_store.h"

namespace tb {

/// The export formats, in the order menus list them.
const std::vector<std::string>& export_formats();

/// What to export and where.
struct ExportOptions {
  std::string format = "peft";              // peft | merged | gguf | gguf-lora
  std::string dtype;                        // f32 | f16 | bf16 | q8_0 (gguf only); "" = f32
  std::filesystem::path out;                // folder (peft, merged) or file (gguf*); "" = default
  bool force = false;                       // replace an existing `out`
  uint64_t max_shard_size = 5'000'000'000;  // merged: bytes per safetensors shard
  std::filesystem::path adapter;            // a PEFT adapter to apply to a model-folder source
  std::filesystem::path base_model;         // base of an adapter source ("" = from its run config)
};

/// A resolved source: the config that loads it (model_name_or_path = the base or the trained
/// model, adapter_name_or_path = the adapter, if any).
struct ExportSource {
  RunConfig config;              // loads the model (and adapter) to export
  std::filesystem::path folder;  // the folder the source names (run output, checkpoint, model)
  int64_t run_id = 0;            // the run that produced it (0 = none known)
  std::string description;       // e.g. "run 12 (lora tiny-llama mail)" for messages
};

/// Resolves `source` (run id, output/checkpoint/adapter folder, model folder); tb::Error
/// saying what was expected when it is none of them.
ExportSource resolve_export_source(const std::string& source, const ExportOptions& options,
                                   const RunStoreOptions& store);

/// Renders a loss plot as PNG bytes for the model card (the apps pass one; core has no
/// drawing). Arguments: the series (train/loss, eval/loss …) and the image title.
using LossPlotRenderer =
    std::function<std::string(const std::vector<MetricSeries>& series, const std::string& title)>;

/// What an export produced.
struct ExportResult {
  std::filesystem::path path;      // the written folder or file
  uint64_t bytes = 0;              // its size
  std::vector<std::string> notes;  // what the user should know (e.g. QLoRA dequantised)
  std::string verification;        // how the written files were read back and compared
};

/// Runs the export; `progress` (optional) receives short status lines.
ExportResult run_export(const ExportSource& source, const ExportOptions& options,
                        const RunStoreOptions& store, const LossPlotRenderer& render_plot = {},
                        const std::function<void(const std::string&)>& progress = {});

}  // namespace tb
