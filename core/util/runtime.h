#pragma once
// Process-wide LibTorch setup shared by the GUI and the CLI: thread count and a one-time
// measurement of BLAS speed, because a slow BLAS silently makes training ~20x slower.

#include <string>
#include <vector>

namespace tb {

/// Options of init_runtime().
struct RuntimeOptions {
  int threads = 0;                // 0 = $TB_THREADS if set, else every core this process may use
  bool probe_blas = true;         // true = time a 512x512 fp32 matmul once to report GFLOP/s
  bool keep_freed_memory = true;  // true = freed tensor memory stays in the heap for reuse
};

/// What init_runtime() set up and measured.
struct RuntimeInfo {
  int threads = 0;                    // intra-op threads LibTorch now uses
  std::string threads_source;         // "TB_THREADS", "option" or "cores"
  int usable_cores = 0;               // cores in this process's affinity mask
  std::string blas_backend;           // e.g. "OpenBLAS 0.3.21 (openmp, SAPPHIRERAPIDS)"
  double blas_gflops = 0.0;           // measured fp32 matmul speed, 0 when not probed
  std::vector<std::string> warnings;  // plain-language problems found (slow BLAS, bad env)
};

/// GFLOP/s below which BLAS is reported as too slow (Debian's reference BLAS gives ~5).
inline constexpr double kSlowBlasGflops = 20.0;

/// Sets threads and probes BLAS once per process; later calls return the first result.
/// OpenMP thread counts are per thread: worker threads call apply_runtime_threads() first.
const RuntimeInfo& init_runtime(const RuntimeOptions& options = {});

/// Applies init_runtime()'s thread count to the calling thread (for training threads).
void apply_runtime_threads();

/// Makes freed heap memory stay with the process instead of going back to the system:
/// glibc otherwise unmaps or trims the activations a training step frees, and the next step
/// touches them again as fresh pages (measured: 114k page faults per step of the 1.4M Llama,
/// a fifth of its time). Blocks up to 32 MiB (glibc's limit) come from the heap.
void keep_freed_memory();

/// Gives memory the heap holds but no tensor uses back to the system (after a run).
void release_unused_memory();

/// Decides the thread count from the option, $TB_THREADS's text (may be null) and the cores;
/// fills info.threads/threads_source and adds a warning when the variable is unusable.
void resolve_threads(const RuntimeOptions& options, const char* env_threads, int cores,
                     RuntimeInfo& info);

/// Number of cores this process may run on (sched_getaffinity), at least 1.
int usable_cores();

/// Best fp32 GFLOP/s of an n x n matmul over repeated runs within a time budget.
double measure_matmul_gflops(int n = 512, double budget_seconds = 0.25);

/// Names the BLAS library LibTorch calls at run time (loaded library, else build config).
std::string detect_blas_backend();

/// LibTorch's version string, e.g. "1.13.0".
std::string libtorch_version();

}  // namespace tb
