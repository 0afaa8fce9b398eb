// Compiled only when LibTorch has CUDA (TB_WITH_CUDA); the CPU build uses cuda_none.cpp.
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#include <torch/cuda.h>

#include "core/util/system_info.h"

namespace tb {

std::vector<CudaDevice> list_cuda_devices() {
  std::vector<CudaDevice> devices;
  if (!torch::cuda::is_available()) return devices;
  const int count = static_cast<int>(torch::cuda::device_count());
  for (int index = 0; index < count; ++index) {
    const cudaDeviceProp* props = at::cuda::getDeviceProperties(index);
    CudaDevice device;
    device.index = index;
    device.name = props->name;
    device.total_bytes = static_cast<int64_t>(props->totalGlobalMem);
    device.capability_major = props->major;
    device.capability_minor = props->minor;
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(index));
    size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
      device.free_bytes = static_cast<int64_t>(free_bytes);
    }
    devices.push_back(device);
  }
  return devices;
}

}  // namespace tb

#include <c10/cuda/CUDACachingAllocator.h>

#include "core/train/memory.h"

namespace tb {

void read_cuda_memory(MemoryStats& stats, int device) {
  const auto totals = c10::cuda::CUDACachingAllocator::getDeviceStats(device);
  // StatType::AGGREGATE is index 0 in every LibTorch; the enum moved namespaces in 2.x
  // (c10::CachingAllocator), so it is not named here.
  constexpr size_t kAggregate = 0;
  stats.cuda_allocated_bytes = totals.allocated_bytes[kAggregate].current;
  stats.cuda_reserved_bytes = totals.reserved_bytes[kAggregate].current;
  stats.cuda_peak_bytes = totals.allocated_bytes[kAggregate].peak;
}

}  // namespace tb
