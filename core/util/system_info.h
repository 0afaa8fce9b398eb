#pragma once
// Everything `tunebench-cli doctor` and the About dialog report about this machine and build.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/util/paths.h"
#include "core/util/runtime.h"

namespace tb {

/// One CUDA device as LibTorch sees it.
struct CudaDevice {
  int index = 0;             // device ordinal
  std::string name;          // marketing name, e.g. "NVIDIA H100 80GB HBM3"
  int64_t total_bytes = 0;   // device memory
  int64_t free_bytes = 0;    // memory free right now
  int capability_major = 0;  // compute capability, e.g. 9 for Hopper
  int capability_minor = 0;  // compute capability minor
};

/// A third-party library and the version this binary runs with.
using LibraryVersion = std::pair<std::string, std::string>;

/// The doctor report: versions, BLAS speed, threads, devices, paths.
struct DoctorReport {
  std::string tunebench_version;          // "0.1.0 (commit abc1234, Release)"
  std::string libtorch_version;           // LibTorch version
  std::string cpu_model;                  // /proc/cpuinfo model name
  RuntimeInfo runtime;                    // threads, BLAS backend and GFLOP/s, warnings
  bool cpu_bf16 = false;                  // CPU has native bf16 instructions
  std::string cpu_bf16_detail;            // which instructions, or why not
  bool cuda_compiled = false;             // this build has CUDA code paths
  bool cuda_available = false;            // LibTorch sees at least one CUDA device
  std::vector<CudaDevice> cuda_devices;   // every visible device
  std::string run_store_path;             // the SQLite run history file
  std::filesystem::path resources_dir;    // presets, demo models, icons
  std::vector<DirCheck> dirs;             // data/cache/temp folders and their write access
  std::vector<LibraryVersion> libraries;  // core's third-party libraries
};

/// Versions of the libraries core links (LibTorch, BLAS, SQLite, yaml-cpp, json, regex…).
std::vector<LibraryVersion> core_library_versions();

/// Collects the report; `runtime` is init_runtime()'s result.
DoctorReport collect_doctor_report(const RuntimeInfo& runtime);

/// Human-readable multi-line report, warnings last.
std::string format_doctor_text(const DoctorReport& report);

/// The report as a JSON document (stable keys, for scripts and tests).
std::string format_doctor_json(const DoctorReport& report);

/// CUDA devices, empty without CUDA (implemented per build: cuda_info.cpp / cuda_none.cpp).
std::vector<CudaDevice> list_cuda_devices();

}  // namespace tb
