#pragma once
// Averages gradients across ranks as DDP does: the trainable tensors are grouped into buckets
// of ~25 MiB in reverse order (the order backward produces them); while backward runs, each
// gradient is copied into its bucket as it is produced, and a full bucket is all-reduced in the
// background while backward goes on. finish() reduces whatever backward did not produce,
// waits, and writes the averages into .grad().

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/train/distributed.h"

namespace tb {

/// Options of GradientSync.
struct GradientSyncOptions {
  int64_t bucket_bytes = 25 << 20;  // a bucket is reduced once this many bytes are ready
};

/// Gradient averaging for one set of trainable tensors; hooks removed on destruction.
class GradientSync {
 public:
  GradientSync(Distributed& group, std::vector<torch::Tensor> parameters,
               const GradientSyncOptions& options = {});
  ~GradientSync();
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  /// The next backward is the last before the update: reduce buckets as they fill.
  void arm();
  /// After that backward: reduces the rest, waits, and sets every .grad() to the mean over
  /// ranks. `what` names the step in errors.
  void finish(const std::string& what);
  /// Buckets the tensors fall into (for tests and the log).
  int64_t bucket_count() const { return static_cast<int64_t>(buckets_.size()); }

 private:
  struct Slot {
    int64_t bucket = 0;  // which bucket
    int64_t offset = 0;  // element offset in its flat buffer
    bool ready = false;  // its gradient is in the buffer for this step
  };
  struct Bucket {
    torch::Tensor flat;                      // the gradients, back to back
    std::vector<int64_t> members;            // indices into parameters_
    int64_t waiting = 0;                     // members not yet ready this step
    std::unique_ptr<PendingReduce> pending;  // launched reduction
  };

  void on_gradient(int64_t index, const torch::Tensor& gradient);
  void fill_slot(int64_t index, const torch::Tensor& gradient);
  void launch_ready_buckets(const std::string& what);

  Distributed& group_;
  std::vector<torch::Tensor> parameters_;
  std::vector<unsigned> hook_handles_;
  std::vector<Slot> slots_;
  std::vector<Bucket> buckets_;
  int64_t next_launch_ = 0;  // buckets are launched strictly in order, the same on every rank
  bool armed_ = false;
};

}  // namespace tb
