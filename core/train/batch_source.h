#pragma once
// What the training loop reads batches from. The data layer implements it; tests use small
// in-memory sources. Batches depend only on (epoch, index), which makes resume exact.

#include <cstdint>

#include "core/models/model.h"

namespace tb {

/// Deterministic batches: the same (epoch, index) always gives the same batch.
class BatchSource {
 public:
  virtual ~BatchSource() = default;
  /// Batches in one epoch.
  virtual int64_t batches_per_epoch() const = 0;
  /// Batch `index` (0-based) of `epoch` (0-based), order shuffled per epoch from the seed.
  virtual ModelBatch batch(int64_t epoch, int64_t index) = 0;
};

}  // namespace tb
