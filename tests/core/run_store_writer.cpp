// Helper process for the run-store crash tests: a trainer-style writer that can be killed.
// Usage: run_store_writer DB record|exit-running|hang
//   record        logs metrics forever through a RunRecorder, printing "flushed N" after each
//                 synchronous flush (N = rows committed so far)
//   exit-running  marks a run running, logs a few metrics, exits without finishing it
//   hang          marks a run running, prints "ready" and sleeps without heartbeats
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "core/runs/run_recorder.h"
#include "core/runs/run_store.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: run_store_writer DB record|exit-running|hang\n");
    return 2;
  }
  tb::RunStoreOptions options;
  options.path = argv[1];
  const std::string mode = argv[2];
  tb::RunStore store(options);
  tb::NewRun run;
  run.name = "writer " + mode;
  run.method = "lora";
  run.config_yaml = "finetuning_type: lora\n";
  const int64_t id = store.create_run(run);
  std::printf("run %lld\n", static_cast<long long>(id));
  std::fflush(stdout);

  if (mode == "record") {
    tb::RecorderOptions recorder_options;
    recorder_options.flush_interval_seconds = 0.01;
    tb::RunRecorder recorder(options, id, recorder_options);
    for (int64_t step = 1;; ++step) {
      recorder.log_metric("train/loss", {step, step / 1000.0, step * 512, step * 0.01,
                                         1.0 / static_cast<double>(step)});
      recorder.log_metric("train/lr", {step, step / 1000.0, step * 512, step * 0.01, 1e-4});
      if (step % 100 == 0) {
        recorder.flush();
        std::printf("flushed %lld\n", static_cast<long long>(recorder.committed_rows()));
        std::fflush(stdout);
      }
    }
  }
  store.mark_started(id);
  tb::WriteBatch batch;
  for (int64_t step = 1; step <= 10; ++step) batch.metrics.push_back({"train/loss", {step}});
  batch.last_checkpoint = "/tmp/checkpoint-10";
  store.write(id, batch);
  if (mode == "hang") {
    std::printf("ready\n");
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(60));
  }
  return 0;  // exit-running: the run stays "running" with a dead pid
}
