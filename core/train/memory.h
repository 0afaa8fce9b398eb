#pragma once
// Memory probes for StepMetrics: process RSS from /proc, tensor bytes, CUDA allocator stats.

#include <cstdint>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "core/train/train_types.h"

namespace tb {

/// Fills rss_bytes and peak_rss_bytes from /proc/self/status (0 when unavailable).
void read_process_memory(MemoryStats& stats);

/// Restarts the peak (VmHWM) at the current resident size, so the next read_process_memory
/// reports the peak of what follows (Linux /proc/self/clear_refs; a no-op elsewhere).
void reset_peak_rss();

/// Bytes held by these tensors (numel × element size).
int64_t tensor_bytes(const std::vector<torch::Tensor>& tensors);

/// Fills the CUDA fields for `device` (nothing without CUDA; see cuda_info.cpp).
void read_cuda_memory(MemoryStats& stats, int device);

}  // namespace tb
