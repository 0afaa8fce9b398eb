// core/methods: P-tuning v2 prefixes (counts, PEFT layout, padding, Llama GQA and BERT) and the
// prompt+verbalizer wrapper trained with full, LoRA and prefix methods.
// LibTorch before Qt: Qt's `slots` macro would break torch's headers.
#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/io/safetensors.h"
#include "core/methods/adapter_load.h"
#include "core/methods/registry.h"
#include "core/methods/verbalizer.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "method_fixtures.h"

namespace fs = std::filesystem;
using namespace method_fixtures;

class TestPrefix : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { at::set_num_threads(1); }

  void prefixCountsAndLayout() {
    tb::RunConfig config = method_config("ptuning");
    config.method.pre_seq_len = 5;
    auto method = tb::apply_method(tiny_llama(tb::ModelTask::kCausalLm), config);
    // pre_seq_len × layers × 2 × kv_heads × head_dim (GQA: 2 kv heads of 8).
    QCOMPARE(method->report().trainable, int64_t(5 * 3 * 2 * 2 * 8));
    auto bert = tb::apply_method(tiny_bert(tb::ModelTask::kSequenceClassification), config);
    QCOMPARE(bert->report().trainable, int64_t(5 * 2 * 2 * 4 * 8 + 32 * 2 + 2));

    config.method.prefix_projection = true;
    config.method.prefix_hidden_size = 16;
    auto projected = tb::apply_method(tiny_llama(tb::ModelTask::kCausalLm), config);
    QCOMPARE(projected->report().trainable, int64_t(5 * 32 + 32 * 16 + 16 + 16 * 96 + 96));
    QTemporaryDir dir;
    projected->save(dir.path().toStdString());
    tb::SafetensorsFile file(fs::path(dir.path().toStdString()) / "adapter_model.safetensors");
    QCOMPARE(file.names(), std::vector<std::string>{"prompt_embeddings"});
    QCOMPARE(file.entry("prompt_embeddings").shape, (std::vector<int64_t>{5, 96}));
    const auto adapter_config = nlohmann::json::parse(
        tb::read_file(fs::path(dir.path().toStdString()) / "adapter_config.json"));
    QCOMPARE(adapter_config["peft_type"].get<std::string>(), std::string("PREFIX_TUNING"));
    QCOMPARE(adapter_config["num_virtual_tokens"].get<int>(), 5);
    QCOMPARE(adapter_config["num_layers"].get<int>(), 3);
    QCOMPARE(adapter_config["task_type"].get<std::string>(), std::string("CAUSAL_LM"));
  }

  void prefixAdapterRoundTrips() {
    // Trained with the projection MLP, saved as PEFT does (the projected prompt), loaded as
    // PEFT's inference mode does (the prompt as a plain embedding): same outputs.
    QTemporaryDir dir;
    const fs::path folder = dir.path().toStdString();
    tb::RunConfig config = method_config("ptuning");
    config.method.pre_seq_len = 6;
    config.method.prefix_projection = true;
    config.method.prefix_hidden_size = 24;
    auto method = tb::apply_method(tiny_bert(tb::ModelTask::kSequenceClassification), config);
    method->model()->eval();
    {
      torch::NoGradGuard no_grad;
      for (auto& [name, tensor] : method->trainable()) tensor.add_(torch::randn_like(tensor) * 0.1);
    }
    method->save(folder);
    const auto adapter_config =
        nlohmann::json::parse(tb::read_file(folder / "adapter_config.json"));
    QCOMPARE(adapter_config["modules_to_save"], nlohmann::json({"classifier"}));
    tb::ModelBatch batch = ToySource(ToySource::Kind::kClassify, 1).batch(0, 0);
    const torch::Tensor expected = method->model()->forward(batch).logits.detach();
    auto loaded = tb::load_adapter(tiny_bert(tb::ModelTask::kSequenceClassification), folder,
                                   method_config("ptuning"));
    loaded->model()->eval();
    const double diff = max_diff(loaded->model()->forward(batch).logits, expected);
    qInfo("prefix adapter reloaded: max abs diff %.3g", diff);
    QVERIFY(diff < 1e-5);
    QCOMPARE(loaded->report().trainable, int64_t(6 * 2 * 2 * 4 * 8 + 32 * 2 + 2));
  }

  void prefixIsSeenByEveryTokenAndPaddingStaysMasked() {
    tb::RunConfig config = method_config("ptuning");
    config.method.pre_seq_len = 4;
    const torch::Tensor row = torch::tensor({5, 9, 13, 2, 30, 7}, torch::kInt64);
    for (const bool decoder : {true, false}) {
      auto method = tb::apply_method(
          decoder ? tiny_llama(tb::ModelTask::kCausalLm) : tiny_bert(tb::ModelTask::kBase), config);
      auto model = method->model();
      model->eval();
      tb::ModelBatch alone;
      alone.input_ids = row.unsqueeze(0);
      const torch::Tensor expected = model->forward(alone).logits.detach()[0];
      // Right padding (and left padding for the decoder): real positions are unchanged.
      for (const bool left : decoder ? std::vector<bool>{false, true} : std::vector<bool>{false}) {
        tb::ModelBatch padded;
        const torch::Tensor pads = torch::zeros({3}, torch::kInt64);
        const torch::Tensor ones = torch::ones({6}, torch::kInt64);
        padded.input_ids = (left ? torch::cat({pads, row}) : torch::cat({row, pads})).unsqueeze(0);
        padded.attention_mask =
            (left ? torch::cat({pads, ones}) : torch::cat({ones, pads})).unsqueeze(0);
        const torch::Tensor out = model->forward(padded).logits.detach()[0];
        const torch::Tensor real = left ? out.slice(0, 3, 9) : out.slice(0, 0, 6);
        const double diff = max_diff(real, expected);
        qInfo("%s prefix, %s padding: max abs diff %.3g", decoder ? "llama" : "bert",
              left ? "left" : "right", diff);
        QVERIFY(diff < 1e-5);
      }
      // Every position attends to the prefix: changing it changes every output row.
      {
        torch::NoGradGuard no_grad;
        for (auto& [name, tensor] : method->trainable()) tensor.add_(1.0);
      }
      const torch::Tensor changed = model->forward(alone).logits.detach()[0];
      QVERIFY(((changed - expected).abs().amax(1) > 1e-4).all().item<bool>());
    }
  }

  void prefixTrains() {
    tb::RunConfig config = method_config("ptuning");
    config.method.pre_seq_len = 8;
    auto method = tb::apply_method(tiny_llama(tb::ModelTask::kCausalLm), config);
    check_training(*method, ToySource::Kind::kCausalLm, 3e-2);
    auto bert = tb::apply_method(tiny_bert(tb::ModelTask::kSequenceClassification), config);
    check_training(*bert, ToySource::Kind::kClassify, 3e-2);
  }

  void verbalizerReadsLabelWordsAtTheMask() {
    auto mlm = tiny_bert(tb::ModelTask::kMaskedLm);
    mlm->eval();
    tb::ModelBatch batch = ToySource(ToySource::Kind::kVerbalize, 1).batch(0, 0);
    tb::ModelBatch unlabelled = batch;
    unlabelled.labels = torch::Tensor();
    const torch::Tensor token_logits = mlm->forward(unlabelled).logits.detach();
    auto single = tb::make_verbalizer_model(mlm, {{10}, {20}});
    const tb::ModelOutput output = single->forward(batch);
    QCOMPARE(output.logits.sizes(), (torch::IntArrayRef{8, 2}));
    const torch::Tensor at_mask = token_logits.select(1, 9);
    QCOMPARE(max_diff(output.logits.select(1, 0), at_mask.select(1, 10)), 0.0);
    QCOMPARE(max_diff(output.logits.select(1, 1), at_mask.select(1, 20)), 0.0);
    QVERIFY(max_diff(output.loss,
                     torch::nn::functional::cross_entropy(output.logits, batch.labels)) < 1e-6);
    // Several words per class: mean log-probability over the label words (ManualVerbalizer).
    auto multi = tb::make_verbalizer_model(mlm, {{10, 11}, {20}});
    const torch::Tensor log_probs =
        torch::log_softmax(at_mask.index_select(1, torch::tensor({10, 11, 20})), 1);
    QVERIFY(max_diff(multi->forward(batch).logits.select(1, 0),
                     (log_probs.select(1, 0) + log_probs.select(1, 1)) / 2) < 1e-6);
    QVERIFY_EXCEPTION_THROWN(
        tb::make_verbalizer_model(tiny_bert(tb::ModelTask::kSequenceClassification), {{1}, {2}}),
        tb::Error);
    QVERIFY_EXCEPTION_THROWN(tb::make_verbalizer_model(mlm, {{1}, {kVocab}}), tb::Error);
  }

  void verbalizerTrainsWithFullLoraAndPrefix() {
    for (const std::string type : {"full", "lora", "ptuning"}) {
      tb::RunConfig config = method_config(type);
      config.method.lora_target = {"query", "value"};
      config.method.pre_seq_len = 8;
      auto model = tb::make_verbalizer_model(tiny_bert(tb::ModelTask::kMaskedLm), {{10}, {20}});
      auto method = tb::apply_method(model, config);
      check_training(*method, ToySource::Kind::kVerbalize, type == "full" ? 1e-3 : 3e-2);
    }
  }
};

QTEST_GUILESS_MAIN(TestPrefix)
#include "test_prefix.moc"
