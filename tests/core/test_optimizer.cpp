// Our optimizers against LibTorch's own (an independent implementation in the same process):
// identical updates step after step, and state that restores exactly.
// LibTorch before Qt: Qt's `slots` macro would break torch's headers.
#include <torch/torch.h>

#include <QtTest>

#include <algorithm>

#include "core/train/optimizer.h"

namespace {

std::vector<tb::NamedParameter> make_parameters(uint64_t seed) {
  torch::manual_seed(seed);
  return {{"layers.0.self_attn.q_proj.weight", torch::randn({8, 16}).requires_grad_()},
          {"layers.0.self_attn.q_proj.bias", torch::randn({8}).requires_grad_()},
          {"layers.0.input_layernorm.weight", torch::randn({16}).requires_grad_()},
          {"classifier.weight", torch::randn({2, 16}).requires_grad_()}};
}

std::vector<tb::NamedParameter> clone(const std::vector<tb::NamedParameter>& parameters) {
  std::vector<tb::NamedParameter> copy;
  for (const auto& [name, tensor] : parameters) {
    copy.emplace_back(name, tensor.detach().clone().requires_grad_());
  }
  return copy;
}

void set_gradients(std::vector<tb::NamedParameter>& parameters, int step) {
  torch::manual_seed(1000 + step);
  for (auto& [name, tensor] : parameters) tensor.mutable_grad() = torch::randn_like(tensor);
}

bool same(const std::vector<tb::NamedParameter>& a, const std::vector<tb::NamedParameter>& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (!torch::equal(a[i].second, b[i].second)) return false;
  }
  return true;
}

}  // namespace

class TestOptimizer : public QObject {
  Q_OBJECT
 private slots:
  void noDecayForBiasesAndNorms() {
    QVERIFY(tb::is_no_decay_parameter("bert.encoder.layer.0.output.dense.bias"));
    QVERIFY(tb::is_no_decay_parameter("bert.encoder.layer.0.output.LayerNorm.weight"));
    QVERIFY(tb::is_no_decay_parameter("model.layers.3.post_attention_layernorm.weight"));
    QVERIFY(tb::is_no_decay_parameter("model.norm.weight"));
    QVERIFY(tb::is_no_decay_parameter("model.layers.0.self_attn.q_norm.weight"));
    QVERIFY(!tb::is_no_decay_parameter("model.layers.0.mlp.down_proj.weight"));
    QVERIFY(!tb::is_no_decay_parameter("lm_head.weight"));
  }

  // The fused one-pass AdamW (fp32) against LibTorch's AdamW: the same formulas, rounded in
  // another order (LibTorch's vector kernels use FMA), so within a few float ulps per step. A
  // 60k-element weight spreads over several threads' chunks. Double parameters take the
  // tensor-operation path, which is LibTorch's exact sequence: bit for bit.
  void adamwMatchesLibTorch_data() {
    QTest::addColumn<bool>("fp64");
    QTest::newRow("fp32, fused kernel") << false;
    QTest::newRow("fp64, tensor operations") << true;
  }

  void adamwMatchesLibTorch() {
    QFETCH(bool, fp64);
    auto ours = make_parameters(1);
    ours.emplace_back("layers.1.mlp.up_proj.weight", torch::randn({300, 200}).requires_grad_());
    if (fp64) {
      for (auto& [name, tensor] : ours)
        tensor = tensor.detach().to(torch::kFloat64).requires_grad_();
    }
    auto theirs = clone(ours);
    tb::OptimizerOptions options;
    options.weight_decay = 0.01;
    options.beta2 = 0.98;
    auto optimizer = tb::make_optimizer(ours, options);
    // LibTorch's AdamW with transformers' grouping: decay on weights, none on bias/norm.
    std::vector<torch::Tensor> decay{theirs[0].second, theirs[3].second, theirs[4].second};
    std::vector<torch::Tensor> no_decay{theirs[1].second, theirs[2].second};
    auto adamw_options = [&](double wd) {
      return std::make_unique<torch::optim::AdamWOptions>(
          torch::optim::AdamWOptions(1e-3).betas({0.9, 0.98}).eps(1e-8).weight_decay(wd));
    };
    torch::optim::AdamW reference({torch::optim::OptimizerParamGroup(decay, adamw_options(0.01)),
                                   torch::optim::OptimizerParamGroup(no_decay, adamw_options(0.0))},
                                  torch::optim::AdamWOptions(1e-3));
    double worst = 0;
    for (int step = 0; step < 25; ++step) {
      const double lr = 1e-3 * (1.0 - step / 50.0);
      set_gradients(ours, step);
      set_gradients(theirs, step);
      for (auto& group : reference.param_groups()) group.options().set_lr(lr);
      optimizer->step(lr);
      reference.step();
      if (fp64) {
        QVERIFY2(same(ours, theirs), qPrintable(QString("differs after step %1").arg(step)));
      }
      for (size_t i = 0; i < ours.size(); ++i) {
        worst = std::max(worst, (ours[i].second - theirs[i].second).abs().max().item<double>());
      }
    }
    // 25 updates of ~1e-3 each: a few ulps of the update per step at most.
    QVERIFY2(worst < 1e-6, qPrintable(QString("max |difference| %1").arg(worst)));
  }

  // step(lr, s) equals scaling the gradients by s first (how the trainer applies clipping).
  void gradientScaleEqualsScaledGradients() {
    auto ours = make_parameters(3);
    auto theirs = clone(ours);
    auto scaled = tb::make_optimizer(ours, {});
    auto plain = tb::make_optimizer(theirs, {});
    for (int step = 0; step < 5; ++step) {
      set_gradients(ours, step);
      set_gradients(theirs, step);
      for (auto& [name, tensor] : theirs) tensor.mutable_grad().mul_(0.25);
      scaled->step(1e-2, 0.25);
      plain->step(1e-2);
      for (size_t i = 0; i < ours.size(); ++i) {
        QVERIFY((ours[i].second - theirs[i].second).abs().max().item<double>() < 1e-7);
      }
    }
  }

  void sgdMomentumEqualsLibTorch() {
    auto ours = make_parameters(2);
    auto theirs = clone(ours);
    tb::OptimizerOptions options;
    options.type = "sgd";
    options.beta1 = 0.9;  // momentum
    auto optimizer = tb::make_optimizer(ours, options);
    std::vector<torch::Tensor> tensors;
    for (auto& [name, tensor] : theirs) tensors.push_back(tensor);
    torch::optim::SGD reference(tensors, torch::optim::SGDOptions(0.05).momentum(0.9));
    for (int step = 0; step < 10; ++step) {
      set_gradients(ours, step);
      set_gradients(theirs, step);
      optimizer->step(0.05);
      reference.step();
      QVERIFY(same(ours, theirs));
    }
  }

  void stateRestoresExactly() {
    auto a = make_parameters(3);
    tb::OptimizerOptions options;
    options.weight_decay = 0.1;
    auto first = tb::make_optimizer(a, options);
    for (int step = 0; step < 5; ++step) {
      set_gradients(a, step);
      first->step(1e-2);
    }
    // A second optimizer over a copy, loaded from the first's state, continues identically.
    auto b = clone(a);
    auto second = tb::make_optimizer(b, options);
    std::vector<tb::NamedParameter> saved;
    for (const auto& [name, tensor] : first->state()) saved.emplace_back(name, tensor.clone());
    second->load_state(saved);
    for (int step = 5; step < 10; ++step) {
      set_gradients(a, step);
      set_gradients(b, step);
      first->step(1e-2);
      second->step(1e-2);
    }
    QVERIFY(same(a, b));
    QCOMPARE(first->state_bytes(), int64_t(2 * (128 + 8 + 16 + 32) * 4 + 8));
    saved.erase(saved.begin() + 1);
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, second->load_state(saved));
  }

  void clippingMatchesTorchFormula() {
    auto parameters = make_parameters(4);
    set_gradients(parameters, 0);
    double expected_sq = 0;
    for (auto& [name, tensor] : parameters)
      expected_sq += tensor.grad().pow(2).sum().item<double>();
    const double norm = tb::clip_grad_norm(parameters, 1.0);
    QVERIFY(std::abs(norm - std::sqrt(expected_sq)) < 1e-4);
    double after_sq = 0;
    for (auto& [name, tensor] : parameters) after_sq += tensor.grad().pow(2).sum().item<double>();
    QVERIFY(std::abs(std::sqrt(after_sq) - 1.0) < 1e-4);
    // Below the limit nothing changes.
    const double again = tb::clip_grad_norm(parameters, 5.0);
    QVERIFY(std::abs(again - 1.0) < 1e-4);
  }
};

QTEST_APPLESS_MAIN(TestOptimizer)
#include "test_optimizer.moc"
