#include "core/util/blas_core.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <set>

namespace tb {

std::string better_blas_core(const std::string& loaded_core) {
  // Kernel families below AVX2 that OpenBLAS falls back to for CPUs it does not recognise.
  static const std::set<std::string> generic = {"prescott",  "core2",  "penryn",      "dunnington",
                                                "nehalem",   "atom",   "sandybridge", "katmai",
                                                "northwood", "banias", "coppermine"};
  if (generic.count(loaded_core) == 0) return "";
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  // libgcc's checks include the OS saving the wide registers (XCR0), not only the CPUID bits.
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
    return "SkylakeX";
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
  return "";
}

std::string loaded_blas_core() {
  using CoreFn = char* (*)();
  const auto core = reinterpret_cast<CoreFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (core == nullptr) return "";
  std::string name = core();
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

void use_best_blas_kernels(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;  // the user's (or our earlier) choice
  const std::string better = better_blas_core(loaded_blas_core());
  if (better.empty()) return;
  if (setenv("OPENBLAS_CORETYPE", better.c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);
  // Still here: exec failed (no /proc?). Run on with the detected kernels.
}

}  // namespace tb
