// tunebench-cli: the command-line face of tunebench. Thin: parse arguments, call core, print.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "core/util/error.h"
#include "core/util/runtime.h"
#include "core/util/system_info.h"
#include "core/util/text.h"
#include "core/version.h"

namespace {

int run_doctor(bool as_json) {
  const tb::RuntimeInfo& runtime = tb::init_runtime();
  const tb::DoctorReport report = tb::collect_doctor_report(runtime);
  std::cout << (as_json ? tb::format_doctor_json(report) : tb::format_doctor_text(report));
  bool all_writable = true;
  for (const tb::DirCheck& dir : report.dirs) all_writable = all_writable && dir.writable;
  // Non-zero when something would stop training from working, so scripts can gate on it.
  return all_writable ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "tunebench-cli: fine-tune language models from a YAML file (same engine as the "
      "tunebench desktop app)",
      "tunebench-cli"};
  app.set_version_flag("--version", std::string("tunebench ") + tb::kVersion + " (LibTorch " +
                                        tb::libtorch_version() + ")");
  app.require_subcommand(1);

  bool doctor_json = false;
  CLI::App* doctor = app.add_subcommand(
      "doctor", "Check this machine: LibTorch, BLAS speed, threads, CUDA, bf16, folders");
  doctor->add_flag("--json", doctor_json, "Print the report as JSON");

  // CLI11 only says "a subcommand is required" for a mistyped command; name it instead.
  if (argc >= 2 && argv[1][0] != '-') {
    std::vector<std::string> commands;
    for (const CLI::App* command : app.get_subcommands({})) commands.push_back(command->get_name());
    if (std::find(commands.begin(), commands.end(), argv[1]) == commands.end()) {
      const std::string suggestion = tb::closest_match(argv[1], commands);
      std::cerr << "tunebench-cli: unknown command '" << argv[1] << "'."
                << (suggestion.empty() ? "" : " Did you mean '" + suggestion + "'?")
                << " Commands: " << tb::join(commands, ", ") << " (see --help).\n";
      return 2;
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }

  try {
    if (doctor->parsed()) return run_doctor(doctor_json);
  } catch (const tb::Error& error) {
    std::cerr << "error: " << error.what() << "\n";
    return 1;
  } catch (const std::exception& error) {
    // Anything else is a bug in tunebench, not bad input: say so plainly.
    std::cerr << "internal error: " << error.what()
              << "\nPlease report this with the command line that caused it.\n";
    return 2;
  }
  return 0;
}
