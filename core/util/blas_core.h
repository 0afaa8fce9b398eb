#pragma once
// OpenBLAS picks its matrix kernels from the CPU model at load time. A CPU newer than the
// OpenBLAS build knows (Debian 12's 0.3.21 on Sapphire/Emerald Rapids, model 143/207) falls
// back to the generic Prescott (SSE3) kernels: about a fifth of the AVX-512 speed
// (69 vs 346 GFLOP/s for a 1024² fp32 matmul on two cores of the reference machine).
// OpenBLAS honours OPENBLAS_CORETYPE only when it loads, before main(), so the programs check
// first thing and, when the kernels are below what the CPU supports, set it and re-execute
// themselves (same pid, same arguments). A user-set OPENBLAS_CORETYPE is never overridden —
// it is also the way to keep the detected kernels.

#include <string>

namespace tb {

/// The OpenBLAS kernel family this CPU supports best ("SkylakeX" for AVX-512, "Haswell" for
/// AVX2 + FMA), or "" when that is not known to beat what OpenBLAS chose (`loaded_core`,
/// lower case as openblas_get_corename reports it).
std::string better_blas_core(const std::string& loaded_core);

/// The core OpenBLAS loaded with ("prescott", "skylakex", …), or "" when the BLAS is not
/// OpenBLAS.
std::string loaded_blas_core();

/// Call at the top of main(): when OpenBLAS runs kernels below this CPU's and the user did not
/// set OPENBLAS_CORETYPE, sets it and re-executes the program with `argv` (does not return
/// then). Returns normally in every other case, including when re-executing fails.
void use_best_blas_kernels(char** argv);

}  // namespace tb
