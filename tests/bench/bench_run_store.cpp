// Run-store benchmark (on demand, CTest label "bench"): insert rate of batched metric rows,
// listing runs, and one downsampled series, on a history the size of years of use.
// Usage: bench_run_store [DB] [--runs N] [--rows-per-run N] [--long-series N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "core/runs/run_store.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path db = std::filesystem::temp_directory_path() / "tunebench-bench-runs.db";
  int runs = 1000;
  int64_t rows_per_run = 1000;
  int64_t long_series = 100000;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--runs") && i + 1 < argc)
      runs = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--rows-per-run") && i + 1 < argc)
      rows_per_run = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--long-series") && i + 1 < argc)
      long_series = std::atoll(argv[++i]);
    else
      db = argv[i];
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db.string() + suffix);

  tb::RunStoreOptions options;
  options.path = db;
  tb::RunStore store(options);
  const auto insert_start = std::chrono::steady_clock::now();
  int64_t rows = 0;
  int64_t long_run = 0;
  for (int r = 0; r < runs; ++r) {
    tb::NewRun run;
    run.name = "run " + std::to_string(r);
    run.method = r % 3 == 0 ? "lora" : (r % 3 == 1 ? "full" : "freeze");
    run.config_yaml = "learning_rate: " + std::to_string(1e-5 * (r + 1)) + "\nlora_rank: 8\n";
    const int64_t id = store.create_run(run);
    const int64_t count = r == 0 ? long_series : rows_per_run;
    if (r == 0) long_run = id;
    // One flush per ~1 s of a real trainer is a few hundred rows; batches of 5,000 here.
    tb::WriteBatch batch;
    for (int64_t step = 1; step <= count; ++step) {
      batch.metrics.push_back(
          {"train/loss", {step, step / 1e4, step * 256, step * 0.1, 2.0 / (1.0 + step * 1e-3)}});
      if (batch.metrics.size() == 5000 || step == count) {
        store.write(id, batch);
        rows += static_cast<int64_t>(batch.metrics.size());
        batch.metrics.clear();
      }
    }
    store.finish_run(id, tb::RunStatus::kCompleted);
  }
  const double insert_seconds = seconds_since(insert_start);

  auto list_start = std::chrono::steady_clock::now();
  size_t listed = 0;
  for (int i = 0; i < 10; ++i) listed = store.list_runs().size();
  const double list_ms = seconds_since(list_start) * 1000 / 10;

  tb::RunFilter filter;
  filter.search = "run 99";
  list_start = std::chrono::steady_clock::now();
  size_t found = 0;
  for (int i = 0; i < 10; ++i) found = store.list_runs(filter).size();
  const double search_ms = seconds_since(list_start) * 1000 / 10;

  const auto series_start = std::chrono::steady_clock::now();
  size_t points = 0;
  for (int i = 0; i < 10; ++i) {
    points = store.series({long_run}, {"train/loss"}, 1000).at(0).points.size();
  }
  const double series_ms = seconds_since(series_start) * 1000 / 10;

  std::printf("run store benchmark: %d runs, %lld metric rows (%lld in the long series)\n", runs,
              static_cast<long long>(rows), static_cast<long long>(long_series));
  std::printf(
      "  insert (batched, one transaction per 5,000 rows): %.0f rows/s   (goal >= 200,000)\n",
      rows / insert_seconds);
  std::printf("  list all runs (%zu):                               %.2f ms      (goal < 50 ms)\n",
              listed, list_ms);
  std::printf("  search runs (%zu found):                           %.2f ms\n", found, search_ms);
  std::printf("  series of %lld points downsampled to %zu:       %.2f ms      (goal < 100 ms)\n",
              static_cast<long long>(long_series), points, series_ms);
  std::printf("  database size: %.1f MB\n",
              static_cast<double>(std::filesystem::file_size(db)) / 1e6);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db.string() + suffix);
  return 0;
}
