// CPU-only builds: no CUDA runtime to ask. The CUDA build compiles cuda_info.cpp instead.
#include "core/util/system_info.h"

namespace tb {

std::vector<CudaDevice> list_cuda_devices() { return {}; }

}  // namespace tb

#include "core/train/memory.h"

namespace tb {

void read_cuda_memory(MemoryStats&, int) {}  // no CUDA in this build: the fields stay 0

}  // namespace tb
