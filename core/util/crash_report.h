#pragma once
// A fatal signal (segmentation fault, bus error, illegal instruction, abort) in a tunebench
// program ends with a report on stderr — what happened, the stack, where to send it — instead
// of a bare "Segmentation fault": a crash inside a library (LibTorch, BLAS) is then
// diagnosable from a user's terminal capture.

namespace tb {

/// Installs the report for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT. `program` names the
/// program in the report (a string literal: it is read from inside the signal handler). The
/// signal is then re-raised with its default action, so the exit status and core dumps are
/// what they would have been.
void install_crash_report(const char* program);

}  // namespace tb
