#include "core/nn/attention_cpu.h"

#include <ATen/Parallel.h>

// at::parallel_for splits work over threads only in files compiled with OpenMP.
#ifndef _OPENMP
#error "compile this file with OpenMP (core/CMakeLists.txt): without it at::parallel_for is serial"
#endif

#include <algorithm>
#include <vector>

#include "core/nn/blas_cpu.h"
#include "core/nn/cpu_vector_math.h"

namespace tb {

namespace {

// Scores → probabilities in place: the first `cols` entries of row i of `scores` plus those of
// row i of `mask` (may be null), softmax over them; rows are `stride` apart in both.
TB_CPU_CLONES void softmax_rows(float* scores, const float* mask, int64_t rows, int64_t cols,
                                int64_t stride) {
  for (int64_t i = 0; i < rows; ++i) {
    float* __restrict row = scores + i * stride;
    if (mask != nullptr) {
      const float* __restrict add = mask + i * stride;
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j) row[j] += add[j];
    }
    float max;
    const float inverse = 1.0f / exp_minus_max(row, row, cols, max);
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) row[j] *= inverse;
  }
}

// Gradient of the scores from the probabilities' gradient, in place: dS = P ⊙ (dP − Σ dP ⊙ P).
TB_CPU_CLONES void softmax_backward_rows(const float* probs, float* grad, int64_t rows,
                                         int64_t cols, int64_t stride) {
  for (int64_t i = 0; i < rows; ++i) {
    const float* __restrict p = probs + i * stride;
    float* __restrict g = grad + i * stride;
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < cols; ++j) dot += g[j] * p[j];
#pragma omp simd
    for (int64_t j = 0; j < cols; ++j) g[j] = p[j] * (g[j] - dot);
  }
}

// Query rows per block, and the mask value at or below which a key is blocked: its score plus
// the mask (float's lowest, as causal_mask() writes) gives exp(…) = 0 exactly in any row that
// sees some key.
constexpr int64_t kQueryBlock = 32;
constexpr float kBlocked = -1e30f;

// A run of query rows and how many keys, from the first, any of them sees.
struct QueryBlock {
  int64_t first, rows, keys;
};

// Per mask row set (one per sequence, or one shared): the query rows in blocks of kQueryBlock,
// each with the keys after the last one its rows see left out of its products (a causal
// mask's upper triangle, right padding). A block with a row that sees no key keeps them all:
// that row's softmax is uniform over every key, as in the reference.
std::vector<std::vector<QueryBlock>> query_blocks(const torch::Tensor& mask, int64_t q_len,
                                                  int64_t k_len) {
  if (!mask.defined()) return {{QueryBlock{0, q_len, k_len}}};
  std::vector<std::vector<QueryBlock>> blocks(static_cast<size_t>(mask.size(0)));
  const float* data = mask.data_ptr<float>();
  for (int64_t b = 0; b < mask.size(0); ++b) {
    for (int64_t first = 0; first < q_len; first += kQueryBlock) {
      const int64_t rows = std::min(kQueryBlock, q_len - first);
      int64_t keys = 0;
      for (int64_t i = first; i < first + rows; ++i) {
        const float* row = data + (b * q_len + i) * k_len;
        int64_t seen = k_len;
        while (seen > 0 && row[seen - 1] <= kBlocked) --seen;
        keys = std::max(keys, seen == 0 ? k_len : seen);
      }
      blocks[static_cast<size_t>(b)].push_back({first, rows, keys});
    }
  }
  return blocks;
}

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

class FusedAttention final : public torch::autograd::Function<FusedAttention> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, const torch::Tensor& mask, double scale) {
    RECORD_FUNCTION("tb::fused_attention_cpu", std::vector<c10::IValue>());
    const int64_t batch = q.size(0), heads = q.size(1), q_len = q.size(2), dim = q.size(3);
    const int64_t kv_heads = k.size(1), k_len = k.size(2), groups = heads / kv_heads;
    const torch::Tensor out = torch::empty({batch, q_len, heads, dim}, q.options());
    const torch::Tensor probs = torch::empty({batch, heads, q_len, k_len}, q.options());
    const torch::Tensor mask_rows = mask.numel() > 0 ? mask.contiguous() : torch::Tensor();
    const float* mask_data = mask_rows.defined() ? mask_rows.data_ptr<float>() : nullptr;
    const int64_t mask_batch_stride =
        mask_rows.defined() && mask_rows.size(0) > 1 ? q_len * k_len : 0;
    const auto blocks = query_blocks(mask_rows, q_len, k_len);
    const float* qd = q.data_ptr<float>();
    const float* kd = k.data_ptr<float>();
    const float* vd = v.data_ptr<float>();
    float* od = out.data_ptr<float>();
    float* pd = probs.data_ptr<float>();
    at::parallel_for(0, batch * heads, 1, [&](int64_t begin, int64_t end) {
      for (int64_t index = begin; index < end; ++index) {
        const int64_t b = index / heads, h = index % heads, g = h / groups;
        const float* qp = qd + b * q.stride(0) + h * q.stride(1);
        const float* kp = kd + b * k.stride(0) + g * k.stride(1);
        const float* vp = vd + b * v.stride(0) + g * v.stride(1);
        float* p = pd + index * q_len * k_len;
        const float* mp = mask_data ? mask_data + b * mask_batch_stride : nullptr;
        for (const QueryBlock& block : blocks[mask_batch_stride > 0 ? b : 0]) {
          float* pb = p + block.first * k_len;
          gemm_rows(false, true, block.rows, block.keys, dim, static_cast<float>(scale),
                    qp + block.first * q.stride(2), q.stride(2), kp, k.stride(2), 0.0f, pb, k_len);
          softmax_rows(pb, mp ? mp + block.first * k_len : nullptr, block.rows, block.keys, k_len);
          gemm_rows(false, false, block.rows, dim, block.keys, 1.0f, pb, k_len, vp, v.stride(2),
                    0.0f, od + (b * q_len + block.first) * heads * dim + h * dim, heads * dim);
        }
      }
    });
    ctx->save_for_backward({q, k, v});
    // Each row's probabilities past its block's keys are never written nor read.
    ctx->saved_data["probs"] = probs;
    // Backward skips the same keys (found again from the mask: a scan of Tq·Tk floats).
    ctx->saved_data["mask"] = mask_rows.defined() ? mask_rows : torch::empty({0});
    ctx->saved_data["scale"] = scale;
    return out.transpose(1, 2);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const tensor_list saved = ctx->get_saved_variables();
    const torch::Tensor &q = saved[0], &k = saved[1], &v = saved[2];
    const torch::Tensor probs = ctx->saved_data["probs"].toTensor();
    const float scale = static_cast<float>(ctx->saved_data["scale"].toDouble());
    torch::Tensor grad_out = grad_outputs[0];
    if (grad_out.stride(3) != 1) grad_out = grad_out.contiguous();
    const int64_t batch = q.size(0), heads = q.size(1), q_len = q.size(2), dim = q.size(3);
    const int64_t kv_heads = k.size(1), k_len = k.size(2), groups = heads / kv_heads;
    // The gradients are laid out as the projections' outputs, [batch, seq, heads, head_dim],
    // and returned as [batch, heads, seq, head_dim] views: the rotary and view backward of the
    // projections then take them without a transposing copy.
    const torch::Tensor grad_q = torch::empty({batch, q_len, heads, dim}, q.options());
    const torch::Tensor grad_k = torch::empty({batch, k_len, kv_heads, dim}, k.options());
    const torch::Tensor grad_v = torch::empty({batch, k_len, kv_heads, dim}, v.options());
    const int64_t ldq = heads * dim, ldkv = kv_heads * dim;
    const float* qd = q.data_ptr<float>();
    const float* kd = k.data_ptr<float>();
    const float* vd = v.data_ptr<float>();
    const float* pd = probs.data_ptr<float>();
    const float* dod = grad_out.data_ptr<float>();
    float* dqd = grad_q.data_ptr<float>();
    float* dkd = grad_k.data_ptr<float>();
    float* dvd = grad_v.data_ptr<float>();
    const torch::Tensor mask = ctx->saved_data["mask"].toTensor();
    const auto blocks = query_blocks(mask.numel() > 0 ? mask : torch::Tensor(), q_len, k_len);
    const bool mask_per_sequence = mask.numel() > 0 && mask.size(0) > 1;
    // One task per shared k/v head: its query heads and query blocks add into the same dK, dV.
    at::parallel_for(0, batch * kv_heads, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> grad_scores(static_cast<size_t>(q_len * k_len));
      for (int64_t index = begin; index < end; ++index) {
        const int64_t b = index / kv_heads, g = index % kv_heads;
        const float* kp = kd + b * k.stride(0) + g * k.stride(1);
        const float* vp = vd + b * v.stride(0) + g * v.stride(1);
        float* dk = dkd + b * k_len * ldkv + g * dim;
        float* dv = dvd + b * k_len * ldkv + g * dim;
        for (int64_t key = 0; key < k_len; ++key) {
          std::fill(dk + key * ldkv, dk + key * ldkv + dim, 0.0f);
          std::fill(dv + key * ldkv, dv + key * ldkv + dim, 0.0f);
        }
        for (int64_t member = 0; member < groups; ++member) {
          const int64_t h = g * groups + member;
          const int64_t ldo = grad_out.stride(2);
          for (const QueryBlock& block : blocks[mask_per_sequence ? b : 0]) {
            const float* qp = qd + b * q.stride(0) + h * q.stride(1) + block.first * q.stride(2);
            const float* p = pd + ((b * heads + h) * q_len + block.first) * k_len;
            const float* dop =
                dod + b * grad_out.stride(0) + h * grad_out.stride(1) + block.first * ldo;
            float* grad_p = grad_scores.data() + block.first * k_len;
            const int64_t rows = block.rows, keys = block.keys;
            gemm_rows(true, false, keys, dim, rows, 1.0f, p, k_len, dop, ldo, 1.0f, dv, ldkv);
            gemm_rows(false, true, rows, keys, dim, 1.0f, dop, ldo, vp, v.stride(2), 0.0f, grad_p,
                      k_len);
            softmax_backward_rows(p, grad_p, rows, keys, k_len);
            gemm_rows(false, false, rows, dim, keys, scale, grad_p, k_len, kp, k.stride(2), 0.0f,
                      dqd + (b * q_len + block.first) * ldq + h * dim, ldq);
            gemm_rows(true, false, keys, dim, rows, scale, grad_p, k_len, qp, q.stride(2), 1.0f, dk,
                      ldkv);
          }
        }
      }
    });
    return {grad_q.transpose(1, 2), grad_k.transpose(1, 2), grad_v.transpose(1, 2), torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

bool fused_attention_cpu_applies(const torch::Tensor& q, const torch::Tensor& k,
                                 const torch::Tensor& v, const torch::Tensor& mask, double dropout,
                                 bool training) {
  if (training && dropout > 0) return false;
  if (!blas_sgemm_available()) return false;
  for (const torch::Tensor* t : {&q, &k, &v}) {
    if (!t->device().is_cpu() || t->scalar_type() != torch::kFloat32 || t->dim() != 4 ||
        t->stride(3) != 1) {
      return false;
    }
  }
  if (q.size(1) % k.size(1) != 0 || k.sizes() != v.sizes() || q.size(3) != k.size(3)) {
    return false;
  }
  if (mask.defined()) {
    return mask.device().is_cpu() && mask.scalar_type() == torch::kFloat32 && mask.dim() == 4 &&
           (mask.size(0) == 1 || mask.size(0) == q.size(0)) && mask.size(1) == 1 &&
           mask.size(2) == q.size(2) && mask.size(3) == k.size(2);
  }
  return true;
}

torch::Tensor fused_attention_cpu(const torch::Tensor& q, const torch::Tensor& k,
                                  const torch::Tensor& v, const torch::Tensor& mask, double scale) {
  TORCH_CHECK(fused_attention_cpu_applies(q, k, v, mask, 0.0, false),
              "fused_attention_cpu: inputs it does not take (see fused_attention_cpu_applies)");
  // LibTorch 1.13's Function::apply takes defined tensors only: no mask is an empty one.
  return FusedAttention::apply(q, k, v, mask.defined() ? mask : torch::empty({0}), scale);
}

}  // namespace tb
