#include <iostream>
#include <memory>

#include "app/cli/command.h"
#include "core/util/runtime.h"
#include "core/util/system_info.h"

namespace tb::cli {

Command add_doctor_command(CLI::App& app) {
  CLI::App* doctor = app.add_subcommand(
      "doctor", "Check this machine: LibTorch, BLAS speed, threads, CUDA, bf16, folders");
  auto as_json = std::make_shared<bool>(false);
  doctor->add_flag("--json", *as_json, "Print the report as JSON");
  doctor->footer("Example:\n  tunebench-cli doctor --json | jq .blas_gflops");
  return {doctor, [as_json] {
            const DoctorReport report = collect_doctor_report(init_runtime());
            std::cout << (*as_json ? format_doctor_json(report) : format_doctor_text(report));
            bool all_writable = true;
            for (const DirCheck& dir : report.dirs) all_writable = all_writable && dir.writable;
            // Non-zero when something would stop training, so scripts can gate on it.
            return all_writable ? kExitOk : kExitEnvironment;
          }};
}

}  // namespace tb::cli
