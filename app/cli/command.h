#pragma once
// One `tunebench-cli` subcommand per file in app/cli/; main_cli.cpp lists them explicitly.

#include <CLI/CLI.hpp>

#include <functional>
#include <vector>

namespace tb::cli {

/// A registered subcommand: its CLI11 node and what runs when it was given.
struct Command {
  CLI::App* app = nullptr;   // the subcommand (parsed() tells whether it was chosen)
  std::function<int()> run;  // returns the process exit code; may throw tb::Error
};

/// Exit codes shared by every command (documented in `tunebench-cli --help`).
enum ExitCode : int {
  kExitOk = 0,           // success
  kExitError = 1,        // bad input or a failed operation (message on stderr)
  kExitUsage = 2,        // unknown command or bad arguments
  kExitEnvironment = 3,  // this machine cannot run tunebench as configured (see doctor)
  kExitInternal = 70,    // a bug in tunebench
};

/// `doctor`: machine and build report.
Command add_doctor_command(CLI::App& app);
/// `preview-data DATA`: a data set's format, columns, first rows and seeded subsets.
Command add_preview_data_command(CLI::App& app);
/// `runs list|show|compare|delete|export|rename|tag|note|check`: the run history.
Command add_runs_command(CLI::App& app);

}  // namespace tb::cli
