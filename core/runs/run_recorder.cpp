#include "core/runs/run_recorder.h"

#include <chrono>
#include <optional>

#include "core/util/error.h"

namespace tb {

RunRecorder::RunRecorder(const RunStoreOptions& store, int64_t run_id, RecorderOptions options)
    : run_id_(run_id), options_(options), store_([&store] {
        RunStoreOptions own = store;
        own.recover_interrupted = false;  // the opener of the GUI/CLI store does that
        return own;
      }()) {
  store_.mark_started(run_id_);
  flusher_ = std::thread([this] { flusher_loop(); });
}

RunRecorder::~RunRecorder() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    ++requested_;
  }
  wake_.notify_one();
  flusher_.join();
}

void RunRecorder::log_metric(const std::string& name, const MetricPoint& point) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_.metrics.emplace_back(name, point);
    wake = pending_.metrics.size() >= options_.flush_at_rows;
    if (wake) ++requested_;
  }
  if (wake) wake_.notify_one();
}

void RunRecorder::log_event(const std::string& level, const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  pending_.events.push_back({unix_now(), level, message});
}

void RunRecorder::add_artifact(const RunArtifact& artifact) {
  std::lock_guard<std::mutex> lock(mutex_);
  pending_.artifacts.push_back(artifact);
  if (artifact.kind == "checkpoint") pending_.last_checkpoint = artifact.path;
}

void RunRecorder::flush() { request_and_wait(std::nullopt); }

void RunRecorder::finish(RunStatus status, const std::string& summary_json,
                         const std::string& error_text) {
  request_and_wait(FinishRequest{status, summary_json, error_text});
}

void RunRecorder::request_and_wait(std::optional<FinishRequest> finish) {
  std::unique_lock<std::mutex> lock(mutex_);
  const uint64_t ticket = ++requested_;
  if (finish) finish_ = std::move(finish);
  error_.clear();
  wake_.notify_one();
  flushed_.wait(lock, [&] { return completed_ >= ticket || !error_.empty(); });
  if (!error_.empty()) throw Error(error_);
}

int64_t RunRecorder::committed_rows() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return committed_rows_;
}

void RunRecorder::flusher_loop() {
  const auto interval = std::chrono::duration<double>(options_.flush_interval_seconds);
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait_for(lock, interval, [&] { return stop_ || requested_ > completed_; });
    WriteBatch batch = std::move(pending_);
    pending_ = {};
    std::optional<FinishRequest> finish = std::move(finish_);
    finish_.reset();
    const uint64_t target = requested_;
    const bool stopping = stop_;
    lock.unlock();
    // All database work happens here, on this thread's connection, in request order.
    std::string failure;
    try {
      store_.write(run_id_, batch);  // an empty batch still refreshes the heartbeat
      if (finish)
        store_.finish_run(run_id_, finish->status, finish->summary_json, finish->error_text);
    } catch (const std::exception& error) {
      failure = error.what();
    }
    lock.lock();
    if (failure.empty()) {
      committed_rows_ += static_cast<int64_t>(batch.metrics.size());
      completed_ = std::max(completed_, target);
    } else {
      // Keep the rows for the next attempt (e.g. the file was locked past the timeout).
      batch.metrics.insert(batch.metrics.end(), pending_.metrics.begin(), pending_.metrics.end());
      batch.events.insert(batch.events.end(), pending_.events.begin(), pending_.events.end());
      batch.artifacts.insert(batch.artifacts.end(), pending_.artifacts.begin(),
                             pending_.artifacts.end());
      if (pending_.last_checkpoint) batch.last_checkpoint = pending_.last_checkpoint;
      pending_ = std::move(batch);
      if (finish && !finish_) finish_ = std::move(finish);
      error_ = failure;
    }
    flushed_.notify_all();
    if (stopping) return;
  }
}

}  // namespace tb
