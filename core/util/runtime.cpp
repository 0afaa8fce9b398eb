#include "core/util/runtime.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <dlfcn.h>
#include <malloc.h>
#include <sched.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <mutex>
#include <sstream>
#include <thread>

namespace tb {

namespace {

// Parses a positive thread count; returns 0 when the text is not one.
int parse_positive(const char* text) {
  if (text == nullptr || *text == '\0') return 0;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value <= 0 || value > 4096) return 0;
  return static_cast<int>(value);
}

// The BLAS actually mapped into this process: Debian selects libblas.so.3 through
// update-alternatives, so the build-time config cannot tell reference BLAS from OpenBLAS.
std::string loaded_blas_library() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    const std::string name = path.substr(path.rfind('/') + 1);
    if (name.rfind("libblas.so", 0) == 0 || name.rfind("libopenblas", 0) == 0 ||
        name.rfind("libmkl", 0) == 0 || name.rfind("libblis", 0) == 0) {
      return path;
    }
  }
  return {};
}

std::string build_config_value(const std::string& key) {
  const std::string config = at::show_config();
  const auto at = config.find(key + "=");
  if (at == std::string::npos) return {};
  const auto begin = at + key.size() + 1;
  const auto end = config.find_first_of(",\n", begin);
  return config.substr(begin, end - begin);
}

}  // namespace

int usable_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

std::string libtorch_version() { return TORCH_VERSION; }

std::string detect_blas_backend() {
  using ConfigFn = char* (*)();
  if (auto config = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) {
    std::string text = config();
    if (auto core = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"))) {
      text += std::string(" core=") + core();
    }
    return text;
  }
  const std::string library = loaded_blas_library();
  if (library.find("/blas/libblas") != std::string::npos) {
    return "reference BLAS (" + library + ")";
  }
  if (!library.empty()) return library;
  const std::string built_with = build_config_value("BLAS_INFO");
  return built_with.empty() ? std::string("unknown") : built_with + " (from LibTorch build config)";
}

double measure_matmul_gflops(int n, double budget_seconds) {
  at::NoGradGuard no_grad;
  const at::Tensor a = at::rand({n, n});
  const at::Tensor b = at::rand({n, n});
  at::Tensor c = at::mm(a, b);  // warm-up: thread pool start, BLAS buffers
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  double best_seconds = 1e30;
  for (int run = 0; run < 50; ++run) {
    const auto t0 = clock::now();
    at::mm_out(c, a, b);
    const std::chrono::duration<double> took = clock::now() - t0;
    best_seconds = std::min(best_seconds, took.count());
    if (std::chrono::duration<double>(clock::now() - start).count() > budget_seconds) break;
  }
  return 2.0 * n * n * static_cast<double>(n) / best_seconds / 1e9;
}

void resolve_threads(const RuntimeOptions& options, const char* env_threads, int cores,
                     RuntimeInfo& info) {
  if (options.threads > 0) {
    info.threads = options.threads;
    info.threads_source = "option";
  } else if (const int from_env = parse_positive(env_threads); from_env > 0) {
    info.threads = from_env;
    info.threads_source = "TB_THREADS";
  } else {
    if (env_threads != nullptr && *env_threads != '\0') {
      info.warnings.push_back(std::string("TB_THREADS='") + env_threads +
                              "' is not a whole number from 1 to 4096; using all " +
                              std::to_string(cores) + " cores. Unset it or set e.g. TB_THREADS=4.");
    }
    info.threads = cores;
    info.threads_source = "cores";
  }
}

namespace {
RuntimeInfo& runtime_info() {
  static RuntimeInfo info;
  return info;
}
}  // namespace

void apply_runtime_threads() {
  const int threads = runtime_info().threads;
  if (threads > 0 && at::get_num_threads() != threads) at::set_num_threads(threads);
}

void keep_freed_memory() {
  // A fixed mmap threshold also stops glibc from moving it per free, which is what lets large
  // blocks come and go as fresh mappings; trimming waits for release_unused_memory().
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
  mallopt(M_TOP_PAD, 64 << 20);
}

void release_unused_memory() { malloc_trim(0); }

const RuntimeInfo& init_runtime(const RuntimeOptions& options) {
  RuntimeInfo& info = runtime_info();
  static std::once_flag once;
  std::call_once(once, [&] {
    if (options.keep_freed_memory) keep_freed_memory();
    info.usable_cores = usable_cores();
    resolve_threads(options, std::getenv("TB_THREADS"), info.usable_cores, info);
    at::set_num_threads(info.threads);
    info.blas_backend = detect_blas_backend();
    if (options.probe_blas) {
      info.blas_gflops = measure_matmul_gflops();
      if (info.blas_gflops < kSlowBlasGflops) {
        std::ostringstream text;
        text.precision(1);
        text << std::fixed << "Matrix multiplication runs at only " << info.blas_gflops
             << " GFLOP/s (BLAS: " << info.blas_backend
             << "), so training will be very slow. Install OpenBLAS: "
                "sudo apt install libopenblas0-openmp";
        info.warnings.push_back(text.str());
      }
    }
  });
  return info;
}

}  // namespace tb
