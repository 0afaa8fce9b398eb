// core/methods: full fine-tuning, Freeze (layers, modules, head only), memory estimates, and
// recipes A (four methods on a BERT) and B (QLoRA on a Llama) on init-model folders.
// LibTorch before Qt: Qt's `slots` macro would break torch's headers.
#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/io/safetensors.h"
#include "core/methods/registry.h"
#include "core/methods/verbalizer.h"
#include "core/models/init_model.h"
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

  void recipeAFourMethodsOnInitModel() {
    // Recipe A on a tiny BERT written by init-model and loaded back like a real folder:
    // full, LoRA (r 8, alpha 32, dropout 0.1, query/value, classifier saved), P-tuning v2 with
    // the prompt template + verbalizer, and Freeze (head only). Each learns and saves.
    QTemporaryDir dir;
    const fs::path root = dir.path().toStdString();
    tb::write_file_atomic(root / "config.json",
                          nlohmann::json{{"initializer_range", 0.2},
                                         {"hidden_dropout_prob", 0.0},
                                         {"attention_probs_dropout_prob", 0.0}}
                              .dump());
    tb::InitModelOptions init;
    init.arch = "bert";
    init.out = root / "bert";
    init.config = root / "config.json";
    init.vocab_size = kVocab;
    init.hidden_size = 32;
    init.num_layers = 2;
    init.num_heads = 4;
    init.intermediate_size = 64;
    init.max_position_embeddings = 64;
    init.seed = 3;
    tb::init_model(init);
    for (const std::string type : {"full", "lora", "ptuning", "freeze"}) {
      const bool verbalizer = type == "ptuning";
      tb::LoadOptions load;
      load.task = verbalizer ? tb::ModelTask::kMaskedLm : tb::ModelTask::kSequenceClassification;
      load.num_labels = 2;
      std::shared_ptr<tb::LanguageModel> model = tb::load_model(init.out, load).model;
      if (verbalizer) model = tb::make_verbalizer_model(model, {{10}, {20}});
      tb::RunConfig config = method_config(type);
      config.model.model_name_or_path = init.out.string();
      config.method.lora_rank = 8;
      config.method.lora_alpha = 32;
      config.method.lora_dropout = 0.1;
      config.method.lora_target = {"query", "value"};
      config.method.pre_seq_len = 8;
      config.method.freeze_trainable_layers = 0;
      config.method.freeze_extra_modules = {"classifier"};
      auto method = tb::apply_method(model, config);
      qInfo("recipe A, %s: %s", type.c_str(), method->report().text().c_str());
      check_training(*method, verbalizer ? ToySource::Kind::kVerbalize : ToySource::Kind::kClassify,
                     type == "full"     ? 1e-3
                     : type == "freeze" ? 1e-1
                                        : 3e-2);
      const fs::path out = root / ("out-" + type);
      method->save(out);
      const bool adapter = type == "lora" || type == "ptuning";
      QVERIFY(fs::exists(out / (adapter ? "adapter_model.safetensors" : "model.safetensors")));
      QVERIFY(fs::exists(out / (adapter ? "adapter_config.json" : "config.json")));
    }
  }

  void recipeBQloraOnInitModel() {
    // Recipe B's method on a tiny Llama from init-model: 4-bit NF4 base, LoRA r 8, alpha 32,
    // q_proj/v_proj, dropout 0.05 (the toy batches and learning rate are the test's own).
    QTemporaryDir dir;
    const fs::path root = dir.path().toStdString();
    tb::write_file_atomic(root / "config.json", nlohmann::json{{"initializer_range", 0.2}}.dump());
    tb::InitModelOptions init;
    init.arch = "llama";
    init.out = root / "llama";
    init.config = root / "config.json";
    init.vocab_size = kVocab;
    init.hidden_size = 64;
    init.num_layers = 2;
    init.num_heads = 4;
    init.seed = 4;
    tb::init_model(init);
    tb::RunConfig config = method_config("lora");
    config.model.model_name_or_path = init.out.string();
    config.method.quantization_bit = 4;
    config.method.lora_rank = 8;
    config.method.lora_alpha = 32;
    config.method.lora_dropout = 0.05;
    config.method.lora_target = {"q_proj", "v_proj"};
    auto method = tb::apply_method(tb::load_model(init.out).model, config);
    qInfo("recipe B: %s", method->report().text().c_str());
    QCOMPARE(method->report().trainable, int64_t(2 * 2 * 8 * (64 + 64)));
    check_training(*method, ToySource::Kind::kCausalLm, 3e-2);
    method->save(root / "adapter");
    tb::SafetensorsFile file(root / "adapter" / "adapter_model.safetensors");
    QCOMPARE(file.names().size(), size_t(2 * 2 * 2));
  }
};

QTEST_GUILESS_MAIN(TestMethods)
#include "test_methods.moc"
