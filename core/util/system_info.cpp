#include "core/util/system_info.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <oniguruma.h>
#include <sqlite3.h>
#include <torch/cuda.h>
#include <utf8proc.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iomanip>
#include <sstream>

#include "core/version.h"

namespace tb {

namespace {

std::string cpu_info_field(const std::string& field) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind(field, 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return {};
}

bool has_flag(const std::string& flags, const std::string& flag) {
  return (" " + flags + " ").find(" " + flag + " ") != std::string::npos;
}

std::string gib(int64_t bytes) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / (1 << 30) << " GiB";
  return text.str();
}

}  // namespace

std::vector<LibraryVersion> core_library_versions() {
  return {
      {"LibTorch", libtorch_version()},
      {"BLAS", detect_blas_backend()},
      {"SQLite", sqlite3_libversion()},
      {"SQLiteCpp", SQLITECPP_VERSION},
      {"yaml-cpp", kYamlCppVersion},
      {"nlohmann-json", std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                            std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                            std::to_string(NLOHMANN_JSON_VERSION_PATCH)},
      {"oniguruma", onig_version()},
      {"utf8proc", utf8proc_version()},
  };
}

DoctorReport collect_doctor_report(const RuntimeInfo& runtime) {
  DoctorReport report;
  report.tunebench_version =
      std::string(kVersion) + " (commit " + kGitCommit + ", " + kBuildType + ")";
  report.libtorch_version = libtorch_version();
  report.cpu_model = cpu_info_field("model name");
  report.runtime = runtime;
  const std::string flags = cpu_info_field("flags");
  if (has_flag(flags, "amx_bf16") || has_flag(flags, "avx512_bf16")) {
    report.cpu_bf16 = true;
    report.cpu_bf16_detail =
        has_flag(flags, "amx_bf16") ? "AMX-BF16 and AVX512-BF16" : "AVX512-BF16";
  } else {
    report.cpu_bf16_detail = "no bf16 instructions: bf16 would be emulated, use fp32";
  }
  report.cuda_compiled = kWithCuda;
  report.cuda_available = torch::cuda::is_available();
  report.cuda_devices = list_cuda_devices();
  report.run_store_path = run_store_path().string();
  report.resources_dir = resources_dir();
  report.dirs = check_writable_dirs();
  report.libraries = core_library_versions();
  return report;
}

std::string format_doctor_text(const DoctorReport& r) {
  std::ostringstream out;
  const auto row = [&out](const std::string& key, const std::string& value) {
    out << std::left << std::setw(14) << key << value << "\n";
  };
  row("tunebench", r.tunebench_version);
  row("LibTorch", r.libtorch_version);
  row("CPU", r.cpu_model.empty() ? "unknown" : r.cpu_model);
  row("threads", std::to_string(r.runtime.threads) + " (" + r.runtime.threads_source + "; " +
                     std::to_string(r.runtime.usable_cores) + " usable cores)");
  row("BLAS", r.runtime.blas_backend);
  if (r.runtime.blas_gflops > 0) {
    std::ostringstream speed;
    speed << std::fixed << std::setprecision(1) << r.runtime.blas_gflops
          << " GFLOP/s (fp32 512x512 matmul)";
    row("BLAS speed", speed.str());
  }
  row("bf16 (CPU)", std::string(r.cpu_bf16 ? "yes, " : "no, ") + r.cpu_bf16_detail);
  if (!r.cuda_compiled) {
    row("CUDA", "not compiled in (CPU-only LibTorch)");
  } else if (!r.cuda_available) {
    row("CUDA", "compiled in, no device visible");
  }
  for (const CudaDevice& device : r.cuda_devices) {
    row("CUDA " + std::to_string(device.index),
        device.name + ", " + gib(device.total_bytes) + " (" + gib(device.free_bytes) +
            " free), sm_" + std::to_string(device.capability_major) +
            std::to_string(device.capability_minor) +
            (device.capability_major >= 8 ? ", bf16" : ", no bf16"));
  }
  row("run store", r.run_store_path);
  row("resources", r.resources_dir.string());
  for (const DirCheck& dir : r.dirs) {
    row(dir.label + " dir",
        dir.path.string() + (dir.writable ? " (writable)" : " (NOT writable: " + dir.detail + ")"));
  }
  std::string libraries;
  for (const auto& [name, version] : r.libraries) {
    if (name == "LibTorch" || name == "BLAS") continue;  // already shown above
    libraries += (libraries.empty() ? "" : ", ") + name + " " + version;
  }
  row("libraries", libraries);
  for (const std::string& warning : r.runtime.warnings) out << "warning: " << warning << "\n";
  for (const DirCheck& dir : r.dirs) {
    if (!dir.writable) {
      out << "warning: the " << dir.label << " folder " << dir.path
          << " is not writable; set TB_DATA_DIR / TB_CACHE_DIR to a writable folder.\n";
    }
  }
  return out.str();
}

std::string format_doctor_json(const DoctorReport& r) {
  nlohmann::json doc;
  doc["tunebench_version"] = r.tunebench_version;
  doc["libtorch_version"] = r.libtorch_version;
  doc["cpu_model"] = r.cpu_model;
  doc["threads"] = r.runtime.threads;
  doc["threads_source"] = r.runtime.threads_source;
  doc["usable_cores"] = r.runtime.usable_cores;
  doc["blas_backend"] = r.runtime.blas_backend;
  doc["blas_gflops"] = r.runtime.blas_gflops;
  doc["cpu_bf16"] = r.cpu_bf16;
  doc["cuda_compiled"] = r.cuda_compiled;
  doc["cuda_available"] = r.cuda_available;
  doc["cuda_devices"] = nlohmann::json::array();
  for (const CudaDevice& d : r.cuda_devices) {
    doc["cuda_devices"].push_back({{"index", d.index},
                                   {"name", d.name},
                                   {"total_bytes", d.total_bytes},
                                   {"free_bytes", d.free_bytes},
                                   {"capability", std::to_string(d.capability_major) + "." +
                                                      std::to_string(d.capability_minor)}});
  }
  doc["run_store"] = r.run_store_path;
  doc["resources_dir"] = r.resources_dir.string();
  doc["dirs"] = nlohmann::json::array();
  for (const DirCheck& dir : r.dirs) {
    doc["dirs"].push_back({{"label", dir.label},
                           {"path", dir.path.string()},
                           {"writable", dir.writable},
                           {"detail", dir.detail}});
  }
  doc["libraries"] = nlohmann::json::object();
  for (const auto& [name, version] : r.libraries) doc["libraries"][name] = version;
  doc["warnings"] = r.runtime.warnings;
  return doc.dump(2) + "\n";
}

}  // namespace tb
