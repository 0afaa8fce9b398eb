// The fp32 CPU kernels of core/nn (*_cpu.cpp) and the cross-entropy built on one, each
// against LibTorch's own operators or an fp64 reference: values, gradients, threads, edge cases.
#include <torch/torch.h>

#include <QtTest>

#include <cmath>
#include <string>
#include <vector>

#include "core/models/heads.h"
#include "core/nn/attention.h"
#include "core/nn/attention_cpu.h"
#include "core/nn/cross_entropy.h"
#include "core/nn/cross_entropy_cpu.h"
#include "core/nn/rms_norm_cpu.h"
#include "core/nn/rotary.h"
#include "core/nn/rotary_cpu.h"
#include "core/nn/swiglu_cpu.h"
#include "core/nn/thin_matmul_cpu.h"

namespace {

float max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat32) - b.to(torch::kFloat32)).abs().max().item<float>();
}

}  // namespace

class TestCpuKernels : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { torch::set_num_threads(1); }

  void tokenCrossEntropyMatchesTorch() {
    // Value and gradient against torch's cross_entropy, skipped rows included; large logits
    // (a confident model) stay finite.
    torch::manual_seed(3);
    const torch::Tensor logits = (torch::randn({37, 301}) * 30).requires_grad_(true);
    torch::Tensor targets = torch::randint(0, 301, {37}, torch::kInt64);
    targets.index_put_({torch::arange(0, 37, 4)}, tb::kIgnoreIndex);
    const torch::Tensor ours = tb::token_cross_entropy(logits, targets);
    const torch::Tensor our_grad = torch::autograd::grad({ours * 1.7}, {logits})[0];
    const torch::Tensor theirs = torch::nn::functional::cross_entropy(
        logits, targets,
        torch::nn::functional::CrossEntropyFuncOptions().ignore_index(tb::kIgnoreIndex));
    const torch::Tensor their_grad = torch::autograd::grad({theirs * 1.7}, {logits})[0];
    QVERIFY(std::isfinite(ours.item<double>()));
    QVERIFY2(std::abs(ours.item<double>() - theirs.item<double>()) < 1e-5 * theirs.item<double>(),
             qPrintable(QString("%1 vs %2").arg(ours.item<double>()).arg(theirs.item<double>())));
    const double worst = (our_grad - their_grad).abs().max().item<double>();
    QVERIFY2(worst < 1e-7, qPrintable(QString::number(worst)));
    QCOMPARE(our_grad.index({0}).abs().sum().item<double>(), 0.0);  // a skipped row
    // Every target skipped: NaN, as torch gives.
    const torch::Tensor none = torch::full({3}, tb::kIgnoreIndex, torch::kInt64);
    QVERIFY(
        std::isnan(tb::token_cross_entropy(logits.detach().slice(0, 0, 3), none).item<double>()));
  }

  void fusedCrossEntropyEdgeCases() {
    torch::manual_seed(4);
    const torch::Tensor logits = torch::randn({64, 4096}) * 4;
    const torch::Tensor targets = torch::randint(0, 4096, {64}, torch::kInt64);
    auto torch_loss = [&](const torch::Tensor& x) {
      return torch::nn::functional::cross_entropy(x.to(torch::kFloat64), targets).item<double>();
    };
    // Two threads split the rows; the sum stays in row order, so the value is the same.
    const double one_thread = tb::token_cross_entropy(logits, targets).item<double>();
    torch::set_num_threads(2);
    const double two_threads = tb::token_cross_entropy(logits, targets).item<double>();
    torch::set_num_threads(1);
    QCOMPARE(two_threads, one_thread);
    QVERIFY(std::abs(one_thread - torch_loss(logits)) < 1e-6 * torch_loss(logits));
    // fp64 takes LibTorch's operators and agrees.
    QVERIFY(std::abs(tb::token_cross_entropy(logits.to(torch::kFloat64), targets).item<double>() -
                     torch_loss(logits)) < 1e-12);
    // −inf is a class that cannot be chosen; NaN or +inf anywhere makes the loss non-finite,
    // so the trainer's non-finite check still fires.
    torch::Tensor x = logits.clone();
    x.index_put_({0, (targets[0].item<int64_t>() + 1) % 4096}, -INFINITY);
    QVERIFY(std::abs(tb::token_cross_entropy(x, targets).item<double>() - torch_loss(x)) < 1e-5);
    for (float bad : {NAN, INFINITY}) {
      x = logits.clone();
      x.index_put_({5, 17}, bad);
      QVERIFY(!std::isfinite(tb::token_cross_entropy(x, targets).item<double>()));
    }
    // A target beyond the vocabulary is an error that names the row, not a silent skip.
    torch::Tensor wrong = targets.clone();
    wrong.index_put_({9}, 4096);
    try {
      tb::token_cross_entropy(logits, wrong);
      QFAIL("accepted target 4096 of 4096 classes");
    } catch (const std::exception& e) {
      QVERIFY2(std::string(e.what()).find("target 4096 of row 9") != std::string::npos, e.what());
    }
  }

  void fusedExpIsWithinTwoUlpOfStdExp() {
    std::vector<float> x, out;
    for (float v = 0.0f; v > -87.0f; v -= 0.00123f) x.push_back(v);
    x.push_back(-0.0f);
    x.push_back(-1e-30f);
    out.resize(x.size());
    tb::exp_nonpositive(x.data(), out.data(), static_cast<int64_t>(x.size()));
    double worst = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const double exact = std::exp(static_cast<double>(x[i]));
      worst = std::max(worst, std::abs(out[i] - exact) / exact);
    }
    QVERIFY2(worst < 2.4e-7, qPrintable(QString("relative error %1").arg(worst)));  // 2 ulp
    const float nan = NAN;
    float result = 0;
    tb::exp_nonpositive(&nan, &result, 1);
    QVERIFY(std::isnan(result));
  }

  void fusedCpuAttentionMatchesTheReference() {
    // Values and gradients of q, k, v against the matmul/softmax path: grouped-query heads,
    // q as the transposed view the models pass, causal + padding masks per row, a mask shared
    // by the batch, no mask, and one new query against a longer cache; two threads. Sequences
    // over several 32-row query blocks check the keys each block leaves out: the causal triangle,
    // right padding, left padding (rows that see no key), a sliding window.
    torch::set_num_threads(2);
    torch::manual_seed(5);
    struct Case {
      int64_t q_len, k_len;
      const char* mask;
    };
    for (const Case c :
         {Case{7, 7, "causal+padding"}, Case{7, 7, "shared"}, Case{7, 7, "none"},
          Case{1, 9, "causal+padding"}, Case{150, 150, "causal+padding"}, Case{150, 150, "shared"},
          Case{150, 150, "window"}, Case{1, 150, "causal+padding"}}) {
      const torch::Tensor q_rows = torch::randn({3, c.q_len, 4, 16}).requires_grad_(true);
      const torch::Tensor k = torch::randn({3, 2, c.k_len, 16}).requires_grad_(true);
      const torch::Tensor v = torch::randn({3, 2, c.k_len, 16}).requires_grad_(true);
      const torch::Tensor q = q_rows.transpose(1, 2);
      torch::Tensor mask;
      const int64_t past = c.k_len - c.q_len;
      if (std::string(c.mask) == "causal+padding") {
        torch::Tensor keep = torch::ones({3, c.k_len}, torch::kInt64);
        keep.index_put_({1, 0}, 0);
        keep.index_put_({2, torch::indexing::Slice(0, 3)}, 0);
        if (c.k_len > 100) keep.index_put_({1, torch::indexing::Slice(100, c.k_len)}, 0);
        mask = tb::causal_mask(keep, 3, c.q_len, past, torch::kFloat32, torch::kCPU);
      } else if (std::string(c.mask) == "shared") {
        mask = tb::causal_mask({}, 1, c.q_len, past, torch::kFloat32, torch::kCPU);
      } else if (std::string(c.mask) == "window") {
        mask = tb::causal_mask({}, 3, c.q_len, past, torch::kFloat32, torch::kCPU, 40);
      }
      QVERIFY(tb::fused_attention_cpu_applies(q, k, v, mask, 0.0, true));
      const torch::Tensor weights = torch::randn({3, 4, c.q_len, 16});
      auto run = [&](bool fused) {
        const torch::Tensor out = fused ? tb::fused_attention_cpu(q, k, v, mask, 0.25)
                                        : tb::attention_reference(q, k, v, mask, 0.25);
        const auto grads = torch::autograd::grad({(out * weights).sum()}, {q_rows, k, v});
        return std::vector<torch::Tensor>{out, grads[0], grads[1], grads[2]};
      };
      const auto fused = run(true), reference = run(false);
      for (size_t i = 0; i < fused.size(); ++i) {
        const double diff = max_diff(fused[i], reference[i]);
        QVERIFY2(diff < 2e-5, qPrintable(QString("%1 (%2 queries), tensor %3: %4")
                                             .arg(c.mask)
                                             .arg(c.q_len)
                                             .arg(i)
                                             .arg(diff)));
      }
    }
    torch::set_num_threads(1);
    // What it does not take goes to the reference path.
    const torch::Tensor x = torch::randn({1, 2, 3, 4});
    QVERIFY(!tb::fused_attention_cpu_applies(x.to(torch::kFloat64), x, x, {}, 0.0, false));
    QVERIFY(!tb::fused_attention_cpu_applies(x, x, x, {}, 0.1, true));  // dropout
    QVERIFY(!tb::fused_attention_cpu_applies(x, x, x, torch::zeros({1, 1, 1, 3}), 0.0, false));
  }

  void fusedSwigluMatchesTorch() {
    // Value and both gradients against torch::silu(gate) * up, with gate values far into both
    // tails (where a naive exp(−x) overflows) and a size that splits over two threads.
    torch::set_num_threads(2);
    torch::manual_seed(6);
    const torch::Tensor gate = (torch::randn({3, 70001}) * 6)
                                   .index_put_({0, 0}, -200.0f)
                                   .index_put_({0, 1}, 200.0f)
                                   .requires_grad_(true);
    const torch::Tensor up = torch::randn({3, 70001}).requires_grad_(true);
    const torch::Tensor weights = torch::randn({3, 70001});
    QVERIFY(tb::silu_times_cpu_applies(gate, up));
    const torch::Tensor ours = tb::silu_times_cpu(gate, up);
    const auto our_grads = torch::autograd::grad({(ours * weights).sum()}, {gate, up});
    const torch::Tensor theirs = torch::silu(gate.to(torch::kFloat64)) * up.to(torch::kFloat64);
    const auto their_grads = torch::autograd::grad({(theirs * weights).sum()}, {gate, up});
    torch::set_num_threads(1);
    // Error against the fp64 reference, relative to the tensor's largest value (near silu's
    // zero slope single elements have no meaningful relative error, for torch's fp32 either).
    auto error = [](const torch::Tensor& a, const torch::Tensor& b) {
      return ((a.to(torch::kFloat64) - b).abs().max() / b.abs().max()).item<double>();
    };
    QVERIFY2(error(ours, theirs) < 1e-6, qPrintable(QString::number(error(ours, theirs))));
    for (int i = 0; i < 2; ++i) {
      const double worst = error(our_grads[i], their_grads[i]);
      QVERIFY2(worst < 1e-6, qPrintable(QString("gradient %1: %2").arg(i).arg(worst)));
    }
    float nan_gate = NAN, one = 1.0f, out = 0.0f;
    tb::silu_times_forward(&nan_gate, &one, &out, 1);
    QVERIFY(std::isnan(out));
    QVERIFY(!tb::silu_times_cpu_applies(gate, up.slice(1, 1)));
  }

  void fusedRmsNormMatchesFp64() {
    // Value and both gradients against the fp64 formula, for row counts below, at and past the
    // weight gradient's 64-row blocks and its 64-block cap (4500 rows), widths around the
    // 16-lane vectors, a row of zeros (eps keeps it finite); one and two threads give the same
    // bits; and each gradient alone when the other input is frozen.
    torch::manual_seed(8);
    struct Shape {
      int64_t rows, dim;
    };
    for (const Shape shape :
         {Shape{1, 1}, Shape{3, 15}, Shape{64, 17}, Shape{210, 512}, Shape{4500, 33}}) {
      const QString where = QString("rows %1, dim %2").arg(shape.rows).arg(shape.dim);
      const torch::Tensor x = (torch::randn({shape.rows, shape.dim}) * 3).index_put_({0}, 0.0f);
      const torch::Tensor weight = torch::randn({shape.dim});
      const torch::Tensor upstream = torch::randn({shape.rows, shape.dim});
      const torch::Tensor x64 = x.to(torch::kFloat64).requires_grad_(true);
      const torch::Tensor w64 = weight.to(torch::kFloat64).requires_grad_(true);
      const torch::Tensor reference = w64 * x64 * torch::rsqrt(x64.pow(2).mean(-1, true) + 1e-6);
      const auto reference_grads =
          torch::autograd::grad({(reference * upstream).sum()}, {x64, w64});
      std::vector<torch::Tensor> results;
      for (const int threads : {1, 2}) {
        torch::set_num_threads(threads);
        const torch::Tensor xg = x.clone().requires_grad_(true);
        const torch::Tensor wg = weight.clone().requires_grad_(true);
        QVERIFY(tb::rms_norm_cpu_applies(xg, wg));
        const torch::Tensor out = tb::rms_norm_cpu(xg, wg, 1e-6);
        const auto grads = torch::autograd::grad({(out * upstream).sum()}, {xg, wg});
        results.insert(results.end(), {out, grads[0], grads[1]});
      }
      // Each output or input gradient element depends on a sum over the row (fp32 error grows
      // like √dim·ε), each weight gradient element on a sum over the rows.
      const double row_tolerance = 2e-5 * std::sqrt(double(shape.dim));
      const double column_tolerance = 2e-5 * std::sqrt(double(shape.rows));
      // The zero row's input gradient is w·g/√eps (~1000): errors relative to |value| + 1.
      auto error = [](const torch::Tensor& ours, const torch::Tensor& reference) {
        return ((ours.to(torch::kFloat64) - reference).abs() / (reference.abs() + 1))
            .max()
            .item<double>();
      };
      QVERIFY2(error(results[0], reference) < row_tolerance, qPrintable(where));
      QVERIFY2(error(results[1], reference_grads[0]) < row_tolerance, qPrintable(where));
      QVERIFY2(error(results[2], reference_grads[1]) < column_tolerance, qPrintable(where));
      for (int i = 0; i < 3; ++i)
        QVERIFY2(torch::equal(results[i], results[i + 3]), qPrintable(where));
      QVERIFY2(results[0].isfinite().all().item<bool>() && results[1].isfinite().all().item<bool>(),
               qPrintable(where));
      // Frozen weight (LoRA, Freeze): only the input's gradient; input without gradient (the
      // first layer of a frozen stack): only the weight's.
      const torch::Tensor frozen_x = x.clone().requires_grad_(true);
      const torch::Tensor only_x = torch::autograd::grad(
          {(tb::rms_norm_cpu(frozen_x, weight, 1e-6) * upstream).sum()}, {frozen_x})[0];
      QVERIFY2(torch::equal(only_x, results[4]), qPrintable(where));
      const torch::Tensor trained_w = weight.clone().requires_grad_(true);
      const torch::Tensor only_w = torch::autograd::grad(
          {(tb::rms_norm_cpu(x, trained_w, 1e-6) * upstream).sum()}, {trained_w})[0];
      QVERIFY2(torch::equal(only_w, results[5]), qPrintable(where));
    }
    torch::set_num_threads(1);
    QVERIFY(!tb::rms_norm_cpu_applies(torch::randn({2, 4}), torch::randn({5})));
    QVERIFY(!tb::rms_norm_cpu_applies(torch::randn({2, 4}, torch::kFloat64), torch::randn({4})));
  }

  void fusedRotaryMatchesTheUnfusedForm() {
    // The projections' [batch, seq, heads, head_dim] output seen as [batch, heads, seq,
    // head_dim], rotated by real cos/sin tables (per-row positions, and one table shared by
    // the batch) and by random ones (real tables repeat their halves, which would hide a
    // kernel reading the wrong half), against the unfused form in fp64 (LibTorch's
    // slice/cat/mul path); the result keeps the projection layout; one and two threads give
    // the same bits.
    torch::manual_seed(9);
    const tb::Rotary rotary(tb::RotaryOptions{16, 10000.0, 512, {}});
    for (const int tables : {0, 1, 2}) {
      const int64_t batch = 3, seq = 37, heads = 5, dim = 16;
      const torch::Tensor positions = tables == 1
                                          ? torch::arange(seq).view({1, seq})
                                          : torch::randint(0, 500, {batch, seq}, torch::kInt64);
      auto [cos, sin] = rotary.cos_sin(positions, torch::kFloat32);
      if (tables == 2) cos = torch::randn_like(cos), sin = torch::randn_like(sin);
      const torch::Tensor projected = torch::randn({batch, seq, heads * dim});
      const torch::Tensor upstream = torch::randn({batch, heads, seq, dim});
      const torch::Tensor p64 = projected.to(torch::kFloat64).requires_grad_(true);
      const torch::Tensor reference =
          tb::apply_rotary(p64.view({batch, seq, heads, dim}).transpose(1, 2),
                           cos.to(torch::kFloat64), sin.to(torch::kFloat64));
      const torch::Tensor reference_grad =
          torch::autograd::grad({(reference * upstream).sum()}, {p64})[0];
      std::vector<torch::Tensor> results;
      for (const int threads : {1, 2}) {
        torch::set_num_threads(threads);
        const torch::Tensor p = projected.clone().requires_grad_(true);
        const torch::Tensor x = p.view({batch, seq, heads, dim}).transpose(1, 2);
        QVERIFY(tb::rotary_cpu_applies(x, cos, sin));
        const torch::Tensor out = tb::apply_rotary(x, cos, sin);
        QVERIFY(out.transpose(1, 2).is_contiguous());
        // A gradient arriving contiguous in [batch, heads, seq, head_dim] (as attention's).
        const torch::Tensor grad = torch::autograd::grad({(out * upstream).sum()}, {p})[0];
        results.insert(results.end(), {out, grad});
      }
      torch::set_num_threads(1);
      QVERIFY(max_diff(results[0], reference) < 1e-5);
      QVERIFY(max_diff(results[1], reference_grad) < 1e-5);
      QVERIFY(torch::equal(results[0], results[2]) && torch::equal(results[1], results[3]));
    }
    const torch::Tensor x = torch::randn({1, 2, 3, 4});
    const torch::Tensor table = torch::randn({1, 3, 4});
    QVERIFY(tb::rotary_cpu_applies(x, table, table));
    QVERIFY(!tb::rotary_cpu_applies(torch::randn({1, 2, 3, 5}), torch::randn({1, 3, 5}),
                                    torch::randn({1, 3, 5})));
    QVERIFY(!tb::rotary_cpu_applies(x, table.clone().requires_grad_(true), table));
    QVERIFY(!tb::rotary_cpu_applies(x.to(torch::kFloat64), table, table));
  }

  void thinMatmulsMatchFp64() {
    // x·wᵀ and cᵀ·x for thin ranks, against fp64 torch: ranks around the kernel's blocks of 8,
    // widths around its 16-lane vectors and 256-column blocks, row counts around its 256-row
    // blocks and past its 16 partial sums; the results do not change with the thread count.
    torch::manual_seed(7);
    struct Shape {
      int64_t rows, n, rank;
    };
    for (const Shape shape : {Shape{1, 1, 1}, Shape{3, 15, 3}, Shape{255, 16, 8}, Shape{257, 17, 9},
                              Shape{600, 300, 17}, Shape{4500, 513, 8}, Shape{70, 40, 64}}) {
      const torch::Tensor x = torch::randn({shape.rows, shape.n});
      const torch::Tensor w = torch::randn({shape.rank, shape.n});
      const torch::Tensor c = torch::randn({shape.rows, shape.rank});
      const torch::Tensor x64 = x.to(torch::kFloat64);
      const torch::Tensor projected = torch::mm(x64, w.to(torch::kFloat64).t());
      const torch::Tensor accumulated = torch::mm(c.to(torch::kFloat64).t(), x64);
      std::vector<torch::Tensor> results;
      for (const int threads : {1, 2}) {
        torch::set_num_threads(threads);
        torch::Tensor project = torch::empty({shape.rows, shape.rank});
        torch::Tensor accumulate = torch::empty({shape.rank, shape.n});
        torch::Tensor fused_project = torch::empty({shape.rows, shape.rank});
        torch::Tensor fused_accumulate = torch::empty({shape.rank, shape.n});
        tb::thin_project(x.data_ptr<float>(), shape.rows, shape.n, w.data_ptr<float>(), shape.rank,
                         project.data_ptr<float>());
        tb::thin_accumulate(c.data_ptr<float>(), x.data_ptr<float>(), shape.rows, shape.n,
                            shape.rank, accumulate.data_ptr<float>());
        tb::thin_project_and_accumulate(
            x.data_ptr<float>(), shape.rows, shape.n, w.data_ptr<float>(), c.data_ptr<float>(),
            shape.rank, fused_project.data_ptr<float>(), fused_accumulate.data_ptr<float>());
        results.insert(results.end(), {project, accumulate, fused_project, fused_accumulate});
      }
      torch::set_num_threads(1);
      const QString where =
          QString("rows %1, n %2, rank %3").arg(shape.rows).arg(shape.n).arg(shape.rank);
      // Sums of n (or rows) products of unit normals: fp32 error grows like √terms·ε.
      const double project_tolerance = 1e-5 * std::sqrt(double(shape.n)) + 1e-6;
      const double accumulate_tolerance = 1e-5 * std::sqrt(double(shape.rows)) + 1e-6;
      for (int i : {0, 2}) {
        QVERIFY2(max_diff(results[i], projected) < project_tolerance, qPrintable(where));
        QVERIFY2(max_diff(results[i + 1], accumulated) < accumulate_tolerance, qPrintable(where));
      }
      for (int i = 0; i < 4; ++i)
        QVERIFY2(torch::equal(results[i], results[i + 4]), qPrintable(where));
    }
  }

  void thinExpandMatchesFp64() {
    // base + s·c·w (a LoRA fold W + s·B·A), against fp64 torch: widths around the 16-lane
    // vectors, row counts around the kernel's four rows at once, ranks up to the thin limit;
    // in place (out = base) as for a dequantised NF4 weight; the same with 1 and 2 threads.
    torch::manual_seed(11);
    struct Shape {
      int64_t rows, n, rank;
    };
    const float scale = 2.5f;
    for (const Shape shape : {Shape{1, 1, 1}, Shape{3, 15, 3}, Shape{5, 16, 8}, Shape{7, 17, 9},
                              Shape{1664, 512, 8}, Shape{512, 1664, 16}, Shape{70, 40, 64}}) {
      const torch::Tensor c = torch::randn({shape.rows, shape.rank});
      const torch::Tensor w = torch::randn({shape.rank, shape.n});
      const torch::Tensor base = torch::randn({shape.rows, shape.n});
      const torch::Tensor expected = torch::addmm(base.to(torch::kFloat64), c.to(torch::kFloat64),
                                                  w.to(torch::kFloat64), 1.0, double(scale));
      std::vector<torch::Tensor> results;
      for (const int threads : {1, 2}) {
        torch::set_num_threads(threads);
        torch::Tensor out = torch::empty_like(base);
        tb::thin_expand(c.data_ptr<float>(), shape.rows, shape.rank, w.data_ptr<float>(), shape.n,
                        scale, base.data_ptr<float>(), out.data_ptr<float>());
        torch::Tensor in_place = base.clone();
        tb::thin_expand(c.data_ptr<float>(), shape.rows, shape.rank, w.data_ptr<float>(), shape.n,
                        scale, in_place.data_ptr<float>(), in_place.data_ptr<float>());
        results.insert(results.end(), {out, in_place});
      }
      torch::set_num_threads(1);
      const QString where =
          QString("rows %1, n %2, rank %3").arg(shape.rows).arg(shape.n).arg(shape.rank);
      const double tolerance = 1e-5 * scale * std::sqrt(double(shape.rank)) + 1e-5;
      for (const torch::Tensor& result : results) {
        QVERIFY2(max_diff(result, expected) < tolerance, qPrintable(where));
        QVERIFY2(torch::equal(result, results[0]), qPrintable(where));
      }
    }
  }
};

QTEST_GUILESS_MAIN(TestCpuKernels)
#include "test_cpu_kernels.moc"
