#include "core/train/shard_source.h"

namespace tb {

std::pair<int64_t, int64_t> shard_rows(int64_t rows, int rank, int world_size) {
  const int64_t base = rows / world_size;
  const int64_t extra = rows % world_size;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

ModelBatch shard_batch(const ModelBatch& batch, int rank, int world_size) {
  const auto [begin, end] = shard_rows(batch.input_ids.size(0), rank, world_size);
  auto rows = [&](const torch::Tensor& tensor) {
    return tensor.defined() ? tensor.slice(0, begin, end) : tensor;
  };
  ModelBatch share;
  share.input_ids = rows(batch.input_ids);
  share.attention_mask = rows(batch.attention_mask);
  share.position_ids = rows(batch.position_ids);
  share.token_type_ids = rows(batch.token_type_ids);
  share.labels = rows(batch.labels);
  share.mask_positions = rows(batch.mask_positions);
  if (end == begin || !share.attention_mask.defined() || share.attention_mask.dim() != 2 ||
      share.attention_mask.size(1) != share.input_ids.size(1)) {
    return share;
  }
  // Right padding the global batch needed for a longer row of another rank: drop the columns
  // no row here uses (labels there are ignored too), so a share costs what its rows need.
  const torch::Tensor used_columns = share.attention_mask.ne(0).any(0);
  const int64_t columns = share.input_ids.size(1);
  const torch::Tensor used_indices = used_columns.nonzero();
  const int64_t used = used_indices.numel() == 0 ? 0 : used_indices.max().item<int64_t>() + 1;
  if (used == 0 || used == columns) return share;
  const bool labels_ignored_there = !share.labels.defined() || share.labels.dim() != 2 ||
                                    share.labels.slice(1, used).eq(-100).all().item<bool>();
  if (!labels_ignored_there) return share;
  auto columns_kept = [&](const torch::Tensor& tensor) {
    return tensor.defined() && tensor.dim() == 2 ? tensor.slice(1, 0, used) : tensor;
  };
  share.input_ids = columns_kept(share.input_ids);
  share.attention_mask = columns_kept(share.attention_mask);
  share.position_ids = columns_kept(share.position_ids);
  share.token_type_ids = columns_kept(share.token_type_ids);
  share.labels = columns_kept(share.labels);
  return share;
}

ShardedBatchSource::ShardedBatchSource(std::unique_ptr<BatchSource> global, int rank,
                                       int world_size)
    : global_(std::move(global)), rank_(rank), world_size_(world_size) {}

ModelBatch ShardedBatchSource::batch(int64_t epoch, int64_t index) {
  return shard_batch(global_->batch(epoch, index), rank_, world_size_);
}

}  // namespace tb
