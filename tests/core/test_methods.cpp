// core/methods: full fine-tuning, Freeze (layers, modules, head only) and memory estimates.
// LibTorch before Qt: Qt's `slots` macro would break torch's headers.
#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/io/safetensors.h"
#include "core/methods/registry.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "method_fixtures.h"

namespace fs = std::filesystem;
using namespace method_fixtures;

class TestMethods : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { at::set_num_threads(1); }

  void fullTrainsEverything() {
    auto model = tiny_llama(tb::ModelTask::kCausalLm);
    auto method = tb::apply_method(model, method_config("full"));
    const tb::TrainableReport report = method->report();
    QCOMPARE(report.trainable, report.total);
    QCOMPARE(method->trainable().size(), model->parameters().size());
    check_training(*method, ToySource::Kind::kCausalLm, 3e-3);
  }

  void freezeSelectsLayersAndModules() {
    tb::RunConfig config = method_config("freeze");
    config.method.freeze_trainable_layers = 1;  // the last layer
    auto method = tb::apply_method(tiny_llama(tb::ModelTask::kCausalLm), config);
    for (const std::string& name : trainable_names(*method)) {
      QVERIFY2(name.rfind("model.layers.2.", 0) == 0, name.c_str());
    }
    QCOMPARE(trainable_names(*method).size(), size_t(9));  // 7 linears + 2 norms

    config.method.freeze_trainable_layers = -2;  // the first two
    config.method.freeze_trainable_modules = {"mlp"};
    config.method.freeze_extra_modules = {"lm_head"};
    method = tb::apply_method(tiny_llama(tb::ModelTask::kCausalLm), config);
    QCOMPARE(trainable_names(*method),
             (std::vector<std::string>{
                 "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight",
                 "model.layers.0.mlp.down_proj.weight", "model.layers.1.mlp.gate_proj.weight",
                 "model.layers.1.mlp.up_proj.weight", "model.layers.1.mlp.down_proj.weight",
                 "lm_head.weight"}));

    config.method.freeze_trainable_modules = {"feed_forward"};
    try {
      tb::apply_method(tiny_llama(tb::ModelTask::kCausalLm), config);
      QFAIL("an unknown module was accepted");
    } catch (const tb::Error& error) {
      QVERIFY2(QString(error.what()).contains("self_attn"), error.what());
      QVERIFY2(QString(error.what()).contains("feed_forward"), error.what());
    }
  }

  void freezeHeadOnlyTrains() {
    // Recipe A.4: the whole encoder frozen, only the classifier trains.
    tb::RunConfig config = method_config("freeze");
    config.method.freeze_trainable_layers = 0;
    config.method.freeze_extra_modules = {"classifier"};
    auto method = tb::apply_method(tiny_bert(tb::ModelTask::kSequenceClassification), config);
    QCOMPARE(trainable_names(*method),
             (std::vector<std::string>{"classifier.weight", "classifier.bias"}));
    QCOMPARE(method->report().trainable, int64_t(32 * 2 + 2));
    check_training(*method, ToySource::Kind::kClassify, 1e-1);

    config.method.freeze_trainable_layers = 1;
    config.method.freeze_extra_modules = {"classifier"};
    auto last = tb::apply_method(tiny_bert(tb::ModelTask::kSequenceClassification), config);
    for (const std::string& name : trainable_names(*last)) {
      QVERIFY2(name.rfind("bert.encoder.layer.1.", 0) == 0 || name.rfind("classifier.", 0) == 0,
               name.c_str());
    }
    // Only the last layer keeps activations: less than training everything.
    QVERIFY(
        last->estimate_memory(8, 32).activations <
        tb::apply_method(tiny_bert(tb::ModelTask::kSequenceClassification), method_config("full"))
            ->estimate_memory(8, 32)
            .activations);
  }

  void memoryEstimateAddsUp() {
    auto model = tiny_llama(tb::ModelTask::kCausalLm);
    auto full = tb::apply_method(model, method_config("full"));
    const tb::MemoryEstimate one = full->estimate_memory(1, 16);
    const tb::MemoryEstimate four = full->estimate_memory(4, 16);
    const tb::TrainableReport report = full->report();
    QCOMPARE(one.weights, 4 * report.total);  // fp32 weights, no buffers in this model
    QCOMPARE(one.gradients, 4 * report.total);
    QCOMPARE(one.optimizer, 8 * report.total);
    QVERIFY(one.activations > 0);
    QCOMPARE(four.activations, 4 * one.activations);
    QCOMPARE(one.total(), one.weights + one.gradients + one.optimizer + one.activations);
    QVERIFY(QString::fromStdString(one.text()).contains("activations"));
  }
};

QTEST_GUILESS_MAIN(TestMethods)
#include "test_methods.moc"
