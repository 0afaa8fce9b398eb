// The row-block matrix products (core/nn/blas_cpu) and the linear layer built on them
// (core/nn/linear_cpu), against fp64 torch and torch's own linear autograd.
#include <torch/torch.h>

#include <QtTest>

#include <cmath>
#include <vector>

#include "core/nn/blas_cpu.h"
#include "core/nn/linear.h"
#include "core/nn/linear_cpu.h"

namespace {

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// The operand layouts a caller may pass: row-major, a transposed view, and a strided view with
// neither unit stride on the inner dimension (copied inside).
torch::Tensor in_layout(const torch::Tensor& x, int layout) {
  if (layout == 1) return x.t().contiguous().t();
  if (layout == 2) {
    return torch::zeros({x.size(0), x.size(1) * 2})
        .index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 2)},
                    x)
        .index({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 2)});
  }
  return x;
}

}  // namespace

class TestLinearCpu : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    QVERIFY2(tb::blas_sgemm_available(), "LibTorch's BLAS (sgemm_) is not in this process");
  }

  void rowBlocksMatchFp64() {
    // Row counts around the 32-row alignment and the 64-row minimum block (which decide
    // whether and where the rows split), every operand layout, accumulate on and off, with 1,
    // 2 and 3 threads; a second call with the same threads gives the same bits.
    torch::manual_seed(5);
    struct Shape {
      int64_t m, k, n;
    };
    for (const Shape shape : {Shape{1, 1, 1}, Shape{63, 7, 5}, Shape{64, 33, 17},
                              Shape{129, 64, 31}, Shape{300, 48, 96}, Shape{2048, 64, 80}}) {
      for (const int layout_a : {0, 1, 2}) {
        for (const int layout_b : {0, 1, 2}) {
          const torch::Tensor a = torch::randn({shape.m, shape.k});
          const torch::Tensor b = torch::randn({shape.k, shape.n});
          const torch::Tensor start = torch::randn({shape.m, shape.n});
          const torch::Tensor product = a.to(torch::kFloat64).mm(b.to(torch::kFloat64));
          std::vector<torch::Tensor> fresh, accumulated;
          for (const int threads : {1, 1, 2, 2, 3, 3}) {
            torch::set_num_threads(threads);
            fresh.push_back(tb::mm_row_blocks(in_layout(a, layout_a), in_layout(b, layout_b)));
            torch::Tensor sum = start.clone();
            tb::mm_row_blocks(sum, in_layout(a, layout_a), in_layout(b, layout_b), true);
            accumulated.push_back(sum);
          }
          torch::set_num_threads(1);
          const QString where = QString("m %1 k %2 n %3, layouts %4/%5")
                                    .arg(shape.m)
                                    .arg(shape.k)
                                    .arg(shape.n)
                                    .arg(layout_a)
                                    .arg(layout_b);
          const double tolerance = 2e-6 * shape.k + 1e-5;
          for (size_t i = 0; i < fresh.size(); ++i) {
            QVERIFY2(max_diff(fresh[i], product) < tolerance, qPrintable(where));
            QVERIFY2(max_diff(accumulated[i], product + start.to(torch::kFloat64)) < tolerance,
                     qPrintable(where));
            const size_t first = i - i % 2;  // the same thread count's first call
            QVERIFY2(torch::equal(fresh[i], fresh[first]), qPrintable(where + ", repeat differs"));
            QVERIFY2(torch::equal(accumulated[i], accumulated[first]),
                     qPrintable(where + ", repeat differs"));
          }
        }
      }
    }
  }

  void rowBlocksRejectAWrongOutput() {
    const torch::Tensor a = torch::randn({4, 3}), b = torch::randn({3, 5});
    torch::Tensor wrong = torch::empty({5, 4});
    QVERIFY_THROWS_EXCEPTION(c10::Error, tb::mm_row_blocks(wrong, a, b));
    torch::Tensor column_major = torch::empty({5, 4}).t();
    QVERIFY_THROWS_EXCEPTION(c10::Error, tb::mm_row_blocks(column_major, a, b));
    QVERIFY(!tb::mm_row_blocks_applies(a.to(torch::kFloat64), b.to(torch::kFloat64)));
    QVERIFY(!tb::mm_row_blocks_applies(a, b.t()));
  }

  void linearMatchesTorchForwardAndBackward() {
    // Output and the gradients of x, weight and bias against torch's linear, 3-D input as the
    // models pass it; with the weight frozen (Freeze, prompt methods) only x's gradient is
    // asked for, and with x frozen (the first layer's input) only the weight's.
    torch::manual_seed(9);
    for (const bool with_bias : {false, true}) {
      for (const int frozen : {0, 1, 2}) {  // 0 none, 1 weight, 2 input
        for (const int threads : {1, 2}) {
          torch::set_num_threads(threads);
          const torch::Tensor x0 = torch::randn({3, 70, 40}), w0 = torch::randn({24, 40}) * 0.2,
                              b0 = torch::randn({24});
          const torch::Tensor upstream = torch::randn({3, 70, 24});
          std::vector<torch::Tensor> grads[2];
          torch::Tensor outputs[2];
          for (const int ours : {0, 1}) {
            const torch::Tensor x = x0.clone().requires_grad_(frozen != 2);
            const torch::Tensor w = w0.clone().requires_grad_(frozen != 1);
            const torch::Tensor b = with_bias ? b0.clone().requires_grad_(true) : torch::Tensor();
            QVERIFY(tb::linear_cpu_applies(x, w, b));
            outputs[ours] = ours ? tb::linear_cpu(x, w, b) : torch::nn::functional::linear(x, w, b);
            (outputs[ours] * upstream).sum().backward();
            for (const torch::Tensor& t : {x, w, b}) {
              grads[ours].push_back(t.defined() && t.grad().defined() ? t.grad() : torch::Tensor());
            }
          }
          const QString where =
              QString("bias %1, frozen %2, threads %3").arg(with_bias).arg(frozen).arg(threads);
          QCOMPARE(outputs[1].sizes(), outputs[0].sizes());
          QVERIFY2(max_diff(outputs[1], outputs[0]) < 1e-4, qPrintable(where));
          for (size_t i = 0; i < 3; ++i) {
            QVERIFY2(grads[1][i].defined() == grads[0][i].defined(), qPrintable(where));
            if (grads[0][i].defined()) {
              QVERIFY2(max_diff(grads[1][i], grads[0][i]) < 1e-3, qPrintable(where));
            }
          }
        }
      }
    }
    torch::set_num_threads(1);
  }

  void linearTakesOnlyWhatItCanAndFallsBackOtherwise() {
    const torch::Tensor x = torch::randn({2, 6, 8}), w = torch::randn({5, 8});
    QVERIFY(!tb::linear_cpu_applies(x.to(torch::kBFloat16), w, {}));
    QVERIFY(!tb::linear_cpu_applies(x, w.to(torch::kFloat64), {}));
    QVERIFY(!tb::linear_cpu_applies(x, torch::randn({5, 7}), {}));
    QVERIFY(!tb::linear_cpu_applies(x, w, torch::randn({4})));
    QVERIFY(!tb::linear_cpu_applies(torch::randn({8}), w, {}));
    // tb::linear() gives torch's result for what linear_cpu does not take.
    const torch::Tensor half = x.to(torch::kBFloat16), w_half = w.to(torch::kBFloat16);
    QVERIFY(torch::equal(tb::linear(half, w_half), torch::nn::functional::linear(half, w_half)));
    QVERIFY(max_diff(tb::linear(x, w), torch::nn::functional::linear(x, w)) < 1e-5);
  }
};

QTEST_GUILESS_MAIN(TestLinearCpu)
#include "test_linear_cpu.moc"
