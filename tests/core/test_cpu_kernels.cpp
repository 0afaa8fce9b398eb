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
};

QTEST_GUILESS_MAIN(TestCpuKernels)
#include "test_cpu_kernels.moc"
