#include "core/nn/swiglu_cpu.h"

#include <ATen/Parallel.h>

// at::parallel_for splits work over threads only in files compiled with OpenMP.
#ifndef _OPENMP
#error "compile this file with OpenMP (core/CMakeLists.txt): without it at::parallel_for is serial"
#endif

#include "core/nn/cpu_vector_math.h"

namespace tb {

namespace {

// sigmoid(x) from an exp of a non-positive argument only: e = exp(−|x|) never overflows, and
// sigmoid(x) = 1 / (1 + e) for x ≥ 0, e / (1 + e) below.
inline float sigmoid(float x) {
  const float e = exp_of_nonpositive(x < 0.0f ? x : -x);
  const float inverse = 1.0f / (1.0f + e);
  return x < 0.0f ? e * inverse : inverse;
}

TB_CPU_CLONES void forward_range(const float* __restrict gate, const float* __restrict up,
                                 float* __restrict out, int64_t begin, int64_t end) {
#pragma omp simd
  for (int64_t i = begin; i < end; ++i) out[i] = gate[i] * sigmoid(gate[i]) * up[i];
}

TB_CPU_CLONES void backward_range(const float* __restrict gate, const float* __restrict up,
                                  const float* __restrict grad_out, float* __restrict grad_gate,
                                  float* __restrict grad_up, int64_t begin, int64_t end) {
#pragma omp simd
  for (int64_t i = begin; i < end; ++i) {
    const float g = gate[i], s = sigmoid(g), d = grad_out[i];
    grad_up[i] = d * g * s;
    grad_gate[i] = d * up[i] * s * (1.0f + g * (1.0f - s));  // silu'(g) = s·(1 + g·(1 − s))
  }
}

// Elements per task: enough to amortise the hand-off, small enough to split a small model.
constexpr int64_t kGrain = 16384;

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

class SiluTimes final : public torch::autograd::Function<SiluTimes> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& gate,
                               const torch::Tensor& up) {
    RECORD_FUNCTION("tb::silu_times_cpu", std::vector<c10::IValue>());
    const torch::Tensor g = gate.contiguous(), u = up.contiguous();
    torch::Tensor out = torch::empty_like(g);
    silu_times_forward(g.data_ptr<float>(), u.data_ptr<float>(), out.data_ptr<float>(), g.numel());
    ctx->save_for_backward({g, u});
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const tensor_list saved = ctx->get_saved_variables();
    const torch::Tensor grad_out = grad_outputs[0].contiguous();
    torch::Tensor grad_gate = torch::empty_like(saved[0]), grad_up = torch::empty_like(saved[1]);
    silu_times_backward(saved[0].data_ptr<float>(), saved[1].data_ptr<float>(),
                        grad_out.data_ptr<float>(), grad_gate.data_ptr<float>(),
                        grad_up.data_ptr<float>(), saved[0].numel());
    return {grad_gate, grad_up};
  }
};

}  // namespace

void silu_times_forward(const float* gate, const float* up, float* out, int64_t count) {
  at::parallel_for(0, count, kGrain,
                   [&](int64_t begin, int64_t end) { forward_range(gate, up, out, begin, end); });
}

void silu_times_backward(const float* gate, const float* up, const float* grad_out,
                         float* grad_gate, float* grad_up, int64_t count) {
  at::parallel_for(0, count, kGrain, [&](int64_t begin, int64_t end) {
    backward_range(gate, up, grad_out, grad_gate, grad_up, begin, end);
  });
}

bool silu_times_cpu_applies(const torch::Tensor& gate, const torch::Tensor& up) {
  return gate.device().is_cpu() && up.device().is_cpu() && gate.scalar_type() == torch::kFloat32 &&
         up.scalar_type() == torch::kFloat32 && gate.sizes() == up.sizes();
}

torch::Tensor silu_times_cpu(const torch::Tensor& gate, const torch::Tensor& up) {
  TORCH_CHECK(silu_times_cpu_applies(gate, up), "silu_times_cpu: fp32 CPU tensors of one shape");
  return SiluTimes::apply(gate, up);
}

}  // namespace tb
