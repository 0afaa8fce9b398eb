#pragma once
// The distributed sampler: every rank reads the same global batch (epoch, index) of the seeded
// subset — built with per-rank batch × world size rows — and keeps its own contiguous share
// of the rows. The shares never overlap, together they are exactly the batch one process
// would train on, and the shuffle, seed and resume semantics stay those of one process.

#include <memory>

#include "core/train/batch_source.h"

namespace tb {

/// Rows [begin, end) of a batch of `rows` rows that `rank` of `world_size` keeps: as even as
/// possible, the first ranks taking one more when it does not divide.
std::pair<int64_t, int64_t> shard_rows(int64_t rows, int rank, int world_size);

/// `rank`'s share of `batch` (see shard_rows), with padding columns that no row of the share
/// uses trimmed from the right. A share may be empty (0 rows) at the end of an epoch.
ModelBatch shard_batch(const ModelBatch& batch, int rank, int world_size);

/// A BatchSource that yields one rank's share of another source's batches.
class ShardedBatchSource final : public BatchSource {
 public:
  ShardedBatchSource(std::unique_ptr<BatchSource> global, int rank, int world_size);
  int64_t batches_per_epoch() const override { return global_->batches_per_epoch(); }
  ModelBatch batch(int64_t epoch, int64_t index) override;

 private:
  std::unique_ptr<BatchSource> global_;
  int rank_;
  int world_size_;
};

}  // namespace tb
