#include "core/util/crash_report.h"

#include <execinfo.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "core/version.h"

namespace tb {

namespace {

const char* program_name = "tunebench";

// Only async-signal-safe calls from here on: write(2), not stdio.
void say(const char* text) {
  size_t left = strlen(text);
  while (left > 0) {
    const ssize_t written = write(STDERR_FILENO, text, left);
    if (written <= 0) return;
    text += written;
    left -= static_cast<size_t>(written);
  }
}

void report_and_reraise(int signal_number) {
  say("\n");
  say(program_name);
  say(": internal error: ");
  say(strsignal(signal_number));
  say(" (tunebench ");
  say(kVersion);
  say(", commit ");
  say(kGitCommit);
  say("). Files are written under a temporary name and renamed when complete, so no file "
      "you had was damaged. Please report this with the command line and the stack below.\n"
      "stack:\n");
  void* frames[64];
  const int depth = backtrace(frames, 64);
  backtrace_symbols_fd(frames, depth, STDERR_FILENO);
  signal(signal_number, SIG_DFL);
  raise(signal_number);
}

}  // namespace

void install_crash_report(const char* program) {
  program_name = program;
  // backtrace() loads libgcc on its first call, which allocates: do that now, not in the
  // handler.
  void* warm_up[1];
  backtrace(warm_up, 1);
  struct sigaction action {};
  action.sa_handler = report_and_reraise;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND | SA_NODEFER;
  for (const int signal_number : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) {
    sigaction(signal_number, &action, nullptr);
  }
}

}  // namespace tb
