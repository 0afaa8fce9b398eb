// `tunebench-cli export SOURCE`: a trained adapter or model in the formats other tools load
// (PEFT adapter, merged Hugging Face folder, GGUF model, GGUF LoRA adapter for llama.cpp).
#include <cstdio>
#include <iostream>
#include <memory>

#include "app/cli/command.h"
#include "core/export/export_job.h"
#include "core/export/merged_model.h"
#include "core/util/runtime.h"

namespace tb::cli {

Command add_export_command(CLI::App& app, const LossPlotRenderer& render_plot) {
  CLI::App* command = app.add_subcommand(
      "export", "Export a run's adapter or model as PEFT, a merged Hugging Face folder or GGUF");
  struct Args {
    std::string source;
    ExportOptions options;
    std::string max_shard_size = "5GB";
  };
  auto a = std::make_shared<Args>();
  command
      ->add_option("source", a->source,
                   "Run id, a run's output or checkpoint-N folder, an adapter folder, or a model "
                   "folder")
      ->required();
  command->add_option("--format", a->options.format, "peft | merged | gguf | gguf-lora")
      ->check(CLI::IsMember(export_formats()));
  command
      ->add_option("--dtype", a->options.dtype,
                   "f32 (default) | f16 | bf16 | q8_0 (q8_0: gguf only)")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0"}));
  command->add_option("--out", a->options.out,
                      "Folder (peft, merged) or .gguf file to write (default: "
                      "SOURCE/exports/...)");
  command->add_flag("--force", a->options.force, "Replace --out if it exists");
  command
      ->add_option("--adapter", a->options.adapter,
                   "PEFT adapter folder to apply when SOURCE is a model folder")
      ->check(CLI::ExistingDirectory);
  command
      ->add_option("--base", a->options.base_model,
                   "Base model folder of an adapter SOURCE (default: from its run config)")
      ->check(CLI::ExistingDirectory);
  command->add_option("--max-shard-size", a->max_shard_size,
                      "merged: largest safetensors shard, as transformers (default 5GB)");
  command->footer(
      "Examples:\n"
      "  tunebench-cli export 12                                  # run 12's adapter (PEFT)\n"
      "  tunebench-cli export 12 --format merged --dtype bf16 --out merged/\n"
      "  tunebench-cli export out-lora --format gguf --dtype q8_0 --out model.gguf\n"
      "  tunebench-cli export out-lora --format gguf-lora --out adapter.gguf   # llama.cpp --lora\n"
      "  tunebench-cli export models/base --adapter out-lora --format merged --out merged/\n"
      "Exports are written to a temporary path and renamed into place; free disk space is "
      "checked first; nothing is replaced without --force. QLoRA bases are dequantised before "
      "merging.");
  return {command, [a, render_plot]() -> int {
            init_runtime();
            a->options.max_shard_size = parse_byte_size(a->max_shard_size);
            const RunStoreOptions store;
            const ExportSource source = resolve_export_source(a->source, a->options, store);
            const ExportResult result =
                run_export(source, a->options, store, render_plot,
                           [](const std::string& line) { std::cerr << line << "\n"; });
            for (const std::string& note : result.notes) std::cerr << "note: " << note << "\n";
            if (!result.verification.empty()) std::cerr << result.verification << "\n";
            const double kib = static_cast<double>(result.bytes) / 1024;
            char size[32];
            std::snprintf(size, sizeof(size), kib < 1024 ? "%.0f KiB" : "%.1f MiB",
                          kib < 1024 ? kib : kib / 1024);
            std::cout << "exported " << source.description << " as " << a->options.format << " to "
                      << result.path.string() << " (" << size << ")\n";
            return kExitOk;
          }};
}

}  // namespace tb::cli
