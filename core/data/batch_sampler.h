#pragma once
// Which rows form each batch, epoch after epoch: a deterministic order from the seed (numpy's
// default_rng([seed, epoch]).permutation), optional length bucketing, and a cursor
// (epoch, position) that resumes exactly where a stopped run left off.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tb::data {

/// Options of the batch sampler.
struct SamplerOptions {
  int64_t batch_size = 8;      // rows per batch
  uint64_t seed = 42;          // order seed; epoch e uses default_rng([seed, e])
  bool shuffle = true;         // false = rows in subset order every epoch
  bool drop_last = false;      // true = a last, smaller batch is left out
  int64_t bucket_batches = 0;  // 0 = no bucketing; k = within each window of k batches rows are
                               // sorted by length (longest first) so batches pad little, then
                               // the batches of the epoch are shuffled
};

/// Where training stands: `position` batches of epoch `epoch` were consumed.
struct Cursor {
  int64_t epoch = 0;     // 0-based epoch
  int64_t position = 0;  // batches of that epoch already served
  /// "epoch:position", e.g. "2:17" (what checkpoints store).
  std::string to_string() const;
  /// Parses to_string's form; throws tb::Error on anything else.
  static Cursor parse(std::string_view text);
  /// Equality (for tests and resume checks).
  bool operator==(const Cursor& other) const {
    return epoch == other.epoch && position == other.position;
  }
};

/// Batches of row positions 0..size-1 (positions into the train subset).
class BatchSampler {
 public:
  /// `lengths` (one per row, e.g. token counts) is needed only for bucketing.
  BatchSampler(int64_t size, const SamplerOptions& options, std::vector<int64_t> lengths = {});
  /// Number of batches in every epoch.
  int64_t batches_per_epoch() const;
  /// Every batch of `epoch`, in order. Same epoch and seed → same batches.
  std::vector<std::vector<int64_t>> epoch_batches(int64_t epoch) const;
  /// The batch at `cursor`, then advances it (to the next epoch after the last batch).
  std::vector<int64_t> next(Cursor& cursor) const;

 private:
  int64_t size_;
  SamplerOptions options_;
  std::vector<int64_t> lengths_;
  // The last epoch's batches, so next() does not rebuild them per batch (not thread-safe:
  // one sampler per training thread).
  mutable int64_t cached_epoch_ = -1;
  mutable std::vector<std::vector<int64_t>> cached_;
};

}  // namespace tb::data
