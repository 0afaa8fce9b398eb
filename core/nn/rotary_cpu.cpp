#include "core/nn/rotary_cpu.h"

#include <ATen/Parallel.h>

// at::parallel_for splits work over threads only in files compiled with OpenMP.
#ifndef _OPENMP
#error "compile this file with OpenMP (core/CMakeLists.txt): without it at::parallel_for is serial"
#endif

#include <algorithm>
#include <vector>

#include "core/nn/cpu_vector_math.h"

namespace tb {

namespace {

// Where the head_dim rows of a [batch, heads, seq, head_dim] tensor and of the [batch, seq,
// head_dim] cos/sin tables lie (element strides; batch stride 0 for a table shared by all rows).
struct RotaryLayout {
  int64_t batch, heads, seq, dim;     // sizes
  int64_t in_batch, in_head, in_seq;  // strides of the rotated input
  int64_t cos_batch, cos_seq;         // strides of cos
  int64_t sin_batch, sin_seq;         // strides of sin
};

// Rows in output order (batch, seq, head). With a = input halves, c/s = cos/sin halves:
// forward  out₁ = a₁·c₁ − a₂·s₁, out₂ = a₂·c₂ + a₁·s₂ (x·cos + [−x₂, x₁]·sin);
// backward out₁ = a₁·c₁ + a₂·s₂, out₂ = a₂·c₂ − a₁·s₁ (its transpose applied to the gradient).
// Both are out₁ = a₁·c₁ ± a₂·(one sin half), out₂ = a₂·c₂ ± a₁·(the other); the signs (exact
// factors ±1) and the halves swap between the two.
TB_CPU_CLONES void rotate_rows(const float* in, const float* cos, const float* sin,
                               const RotaryLayout& l, bool backward, float* out, int64_t begin,
                               int64_t end) {
  const int64_t half = l.dim / 2;
  const float first_sign = backward ? 1.0f : -1.0f;
  const int64_t first_sin = backward ? half : 0, second_sin = backward ? 0 : half;
  for (int64_t row = begin; row < end; ++row) {
    const int64_t head = row % l.heads, position = (row / l.heads) % l.seq,
                  b = row / (l.heads * l.seq);
    const float* __restrict a = in + b * l.in_batch + head * l.in_head + position * l.in_seq;
    const float* __restrict c = cos + b * l.cos_batch + position * l.cos_seq;
    const float* __restrict s = sin + b * l.sin_batch + position * l.sin_seq;
    const float* __restrict s1 = s + first_sin;
    const float* __restrict s2 = s + second_sin;
    float* __restrict y = out + row * l.dim;
#pragma omp simd
    for (int64_t j = 0; j < half; ++j) {
      const float a1 = a[j], a2 = a[half + j];
      y[j] = a1 * c[j] + first_sign * (a2 * s1[j]);
      y[half + j] = a2 * c[half + j] - first_sign * (a1 * s2[j]);
    }
  }
}

void rotate(const torch::Tensor& in, const torch::Tensor& cos, const torch::Tensor& sin,
            bool backward, float* out) {
  const torch::Tensor c = cos.expand({in.size(0), in.size(2), in.size(3)});
  const torch::Tensor s = sin.expand({in.size(0), in.size(2), in.size(3)});
  const RotaryLayout layout{in.size(0),   in.size(1),   in.size(2),   in.size(3),
                            in.stride(0), in.stride(1), in.stride(2), c.stride(0),
                            c.stride(1),  s.stride(0),  s.stride(1)};
  const int64_t rows = layout.batch * layout.heads * layout.seq;
  const int64_t grain = rows_per_task(layout.dim);
  const float *in_data = in.data_ptr<float>(), *cos_data = c.data_ptr<float>(),
              *sin_data = s.data_ptr<float>();
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    rotate_rows(in_data, cos_data, sin_data, layout, backward, out, begin, end);
  });
}

// A [batch, heads, seq, head_dim] result stored as [batch, seq, heads, head_dim].
torch::Tensor empty_seq_major(const torch::Tensor& like) {
  return torch::empty({like.size(0), like.size(2), like.size(1), like.size(3)}, like.options())
      .transpose(1, 2);
}

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

class RotaryFunction final : public torch::autograd::Function<RotaryFunction> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& cos, const torch::Tensor& sin) {
    RECORD_FUNCTION("tb::rotary_cpu", std::vector<c10::IValue>());
    torch::Tensor out = empty_seq_major(x);
    rotate(x, cos, sin, false, out.data_ptr<float>());
    ctx->save_for_backward({cos, sin});
    return out;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const tensor_list saved = ctx->get_saved_variables();
    torch::Tensor grad = grad_outputs[0];
    if (grad.stride(3) != 1) grad = grad.contiguous();
    torch::Tensor grad_x = empty_seq_major(grad);
    rotate(grad, saved[0], saved[1], true, grad_x.data_ptr<float>());
    return {grad_x, torch::Tensor(), torch::Tensor()};
  }
};

bool is_table_for(const torch::Tensor& table, const torch::Tensor& x) {
  return table.device().is_cpu() && table.scalar_type() == torch::kFloat32 && table.dim() == 3 &&
         (table.size(0) == x.size(0) || table.size(0) == 1) && table.size(1) == x.size(2) &&
         table.size(2) == x.size(3) && table.stride(2) == 1 && !table.requires_grad();
}

}  // namespace

bool rotary_cpu_applies(const torch::Tensor& x, const torch::Tensor& cos,
                        const torch::Tensor& sin) {
  return x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && x.dim() == 4 &&
         x.size(3) % 2 == 0 && x.stride(3) == 1 && is_table_for(cos, x) && is_table_for(sin, x);
}

torch::Tensor rotary_cpu(const torch::Tensor& x, const torch::Tensor& cos,
                         const torch::Tensor& sin) {
  TORCH_CHECK(rotary_cpu_applies(x, cos, sin),
              "rotary_cpu: fp32 CPU x [batch, heads, seq, even head_dim], cos/sin [batch, seq, "
              "head_dim] without gradient");
  return RotaryFunction::apply(x, cos, sin);
}

}  // namespace tb
