// core/methods: Freeze, LoRA (+ merge, rsLoRA, PEFT files), NF4 / QLoRA, P-tuning v2 and the
// prompt+verbalizer wrapper on tiny Llama and BERT models; each method trains with tb::train.
// LibTorch before Qt: Qt's `slots` macro would break torch's headers.
#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/io/safetensors.h"
#include "core/methods/lora.h"
#include "core/methods/nf4.h"
#include "core/methods/registry.h"
#include "core/methods/verbalizer.h"
#include "core/models/loader.h"
#include "core/models/registry.h"
#include "core/nn/linear.h"
#include "core/train/trainer.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace fs = std::filesystem;

namespace {

constexpr int64_t kVocab = 40;

std::shared_ptr<tb::LanguageModel> tiny_llama(tb::ModelTask task, uint64_t seed = 1) {
  const nlohmann::json config = {
      {"model_type", "llama"},         {"vocab_size", kVocab},    {"hidden_size", 32},
      {"intermediate_size", 48},       {"num_hidden_layers", 3},  {"num_attention_heads", 4},
      {"num_key_value_heads", 2},      {"rms_norm_eps", 1e-5},    {"num_labels", 2},
      {"max_position_embeddings", 64}, {"initializer_range", 0.2}};
  auto model = tb::build_model(config, task, "tiny-llama");
  tb::init_weights(*model, seed);
  return model;
}

std::shared_ptr<tb::LanguageModel> tiny_bert(tb::ModelTask task, uint64_t seed = 2) {
  const nlohmann::json config = {{"model_type", "bert"},
                                 {"vocab_size", kVocab},
                                 {"hidden_size", 32},
                                 {"num_hidden_layers", 2},
                                 {"num_attention_heads", 4},
                                 {"intermediate_size", 64},
                                 {"max_position_embeddings", 64},
                                 {"num_labels", 2},
                                 {"hidden_dropout_prob", 0.0},
                                 {"attention_probs_dropout_prob", 0.0},
                                 {"initializer_range", 0.2}};
  auto model = tb::build_model(config, task, "tiny-bert");
  tb::init_weights(*model, seed);
  return model;
}

tb::RunConfig method_config(const std::string& type) {
  tb::RunConfig config;
  config.method.finetuning_type = type;
  config.model.model_name_or_path = "models/tiny";
  return config;
}

std::map<std::string, torch::Tensor> snapshot(const tb::LanguageModel& model) {
  std::map<std::string, torch::Tensor> copy;
  for (const auto& item : model.named_parameters())
    copy[item.key()] = item.value().detach().clone();
  return copy;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// Rows of tokens; the class (or next-token pattern) is learnable from them.
class ToySource : public tb::BatchSource {
 public:
  enum class Kind { kCausalLm, kClassify, kVerbalize };
  ToySource(Kind kind, int64_t batches) : kind_(kind), batches_(batches) {}
  int64_t batches_per_epoch() const override { return batches_; }
  tb::ModelBatch batch(int64_t epoch, int64_t index) override {
    const auto generator = at::detail::createCPUGenerator(uint64_t(7 + 100 * epoch + index));
    const int64_t size = 8, length = 10;
    torch::Tensor ids = torch::randint(4, kVocab, {size, length}, generator, torch::kInt64);
    tb::ModelBatch batch;
    if (kind_ == Kind::kCausalLm) {
      // Counting in a cycle of 9 tokens (4..12): the unigram shift alone is learnable by a
      // frozen backbone's adapters, the counting by full fine-tuning.
      const torch::Tensor start = ids.select(1, 0).unsqueeze(1);
      ids = (start + torch::arange(length)).remainder(9) + 4;
      batch.input_ids = ids;
      batch.labels = ids.clone();
      return batch;
    }
    // Class 1 rows use tokens 4..7, class 0 rows 30..33: learnable even from a frozen
    // encoder's pooled output.
    const torch::Tensor labels = torch::randint(0, 2, {size}, generator, torch::kInt64);
    ids = torch::randint(4, 8, {size, length}, generator, torch::kInt64) +
          26 * (1 - labels).unsqueeze(1);
    ids.select(1, 0).fill_(1);                                          // [CLS]
    if (kind_ == Kind::kVerbalize) ids.select(1, length - 1).fill_(3);  // [MASK] at the end
    batch.input_ids = ids;
    batch.labels = labels;
    batch.attention_mask = torch::ones({size, length}, torch::kInt64);
    if (kind_ == Kind::kVerbalize)
      batch.mask_positions = torch::full({size}, length - 1, torch::kInt64);
    return batch;
  }

 private:
  Kind kind_;
  int64_t batches_;
};

// Trains `method` for a few epochs; returns the mean loss of the first and the last 3 steps.
std::pair<double, double> train_steps(tb::AppliedMethod& method, ToySource::Kind kind, double lr,
                                      double epochs = 3) {
  QTemporaryDir dir;
  ToySource source(kind, 8);
  tb::TrainingJob job;
  job.model = method.model().get();
  job.trainable = method.trainable();
  job.train = &source;
  job.training.learning_rate = lr;
  job.training.num_train_epochs = epochs;
  job.training.lr_scheduler_type = "constant";
  job.training.per_device_train_batch_size = 8;
  job.output.output_dir = dir.path().toStdString();
  job.output.save_strategy = "no";
  job.output.logging_steps = 1;
  std::vector<double> losses;
  tb::train(job, {[&](const tb::StepMetrics& m) { losses.push_back(m.loss); }});
  const size_t n = losses.size();
  return {(losses[0] + losses[1] + losses[2]) / 3,
          (losses[n - 1] + losses[n - 2] + losses[n - 3]) / 3};
}

// Trains, then checks the loss fell, frozen parameters are bitwise unchanged and have no
// gradient, and every trainable one changed.
void check_training(tb::AppliedMethod& method, ToySource::Kind kind, double lr) {
  const auto before = snapshot(*method.model());
  std::set<std::string> trainable;
  for (const auto& [name, tensor] : method.trainable()) trainable.insert(name);
  const auto [first, last] = train_steps(method, kind, lr);
  qInfo("%s: loss %.4f -> %.4f", method.name().c_str(), first, last);
  QVERIFY2(last < 0.8 * first, qPrintable(QString("loss %1 -> %2").arg(first).arg(last)));
  for (const auto& item : method.model()->named_parameters()) {
    const bool trains = trainable.count(item.key()) > 0;
    QCOMPARE(item.value().requires_grad(), trains);
    if (trains) {
      QVERIFY2(!torch::equal(item.value(), before.at(item.key())), item.key().c_str());
    } else {
      QVERIFY2(!item.value().grad().defined(), item.key().c_str());
      QVERIFY2(torch::equal(item.value(), before.at(item.key())), item.key().c_str());
    }
  }
}

std::vector<std::string> trainable_names(const tb::AppliedMethod& method) {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : method.trainable()) names.push_back(name);
  return names;
}

}  // namespace

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

  void loraStartsAtBaseAndCountsLikePeft() {
    auto model = tiny_llama(tb::ModelTask::kCausalLm);
    tb::ModelBatch batch = ToySource(ToySource::Kind::kCausalLm, 1).batch(0, 0);
    model->eval();
    const torch::Tensor base = model->forward(batch).logits.detach();
    const int64_t base_total = tb::count_parameters(*model).total;
    tb::RunConfig config = method_config("lora");
    config.method.lora_target = {"q_proj", "v_proj"};
    config.method.lora_rank = 4;
    auto method = tb::apply_method(model, config);
    // B = 0: the adapter changes nothing yet.
    QCOMPARE(max_diff(method->model()->forward(batch).logits, base), 0.0);
    // PEFT: r·(in + out) per target; q_proj 32→32, v_proj 32→16 (2 kv heads × 8).
    const int64_t expected = 3 * (4 * (32 + 32) + 4 * (32 + 16));
    QCOMPARE(method->report().trainable, expected);
    QCOMPARE(method->report().total, base_total + expected);
    QCOMPARE(method->trainable().front().first,
             std::string("model.layers.0.self_attn.q_proj.lora_A.weight"));

    config.method.lora_target = {"all"};
    auto all = tb::apply_method(tiny_llama(tb::ModelTask::kCausalLm), config);
    // Every linear but lm_head: q,o 32→32; k,v 32→16; gate,up 32→48; down 48→32.
    const int64_t per_layer = 4 * (64 + 64 + 48 + 48 + 80 + 80 + 80);
    QCOMPARE(all->report().trainable, 3 * per_layer);

    config.method.lora_target = {"query"};
    try {
      tb::apply_method(tiny_llama(tb::ModelTask::kCausalLm), config);
      QFAIL("a target matching nothing was accepted");
    } catch (const tb::Error& error) {
      QVERIFY2(QString(error.what()).contains("q_proj") && QString(error.what()).contains("query"),
               error.what());
    }
  }

  void loraMergeIsExactAndRsLoraScales() {
    auto model = tiny_llama(tb::ModelTask::kCausalLm);
    model->eval();
    tb::RunConfig config = method_config("lora");
    config.method.lora_rank = 4;
    config.method.lora_alpha = 8;
    auto method = tb::apply_method(model, config);
    {
      torch::NoGradGuard no_grad;
      for (auto& [name, tensor] : method->trainable()) tensor.normal_(0, 0.1);  // B ≠ 0
    }
    const auto base_weights = snapshot(*model);
    tb::ModelBatch batch = ToySource(ToySource::Kind::kCausalLm, 1).batch(0, 0);
    const torch::Tensor adapted = model->forward(batch).logits.detach();
    QVERIFY(method->can_merge());
    method->merge();
    const double merged_diff = max_diff(model->forward(batch).logits, adapted);
    qInfo("merged vs adapter forward: max abs diff %.3g", merged_diff);
    QVERIFY(merged_diff <= 1e-5);
    method->unmerge();
    double restored = 0;
    for (const auto& item : model->named_parameters()) {
      restored = std::max(restored, max_diff(item.value(), base_weights.at(item.key())));
    }
    qInfo("unmerge vs original weights: max abs diff %.3g", restored);
    QVERIFY(restored <= 1e-6);
    QVERIFY_EXCEPTION_THROWN(method->unmerge(), tb::Error);

    // rsLoRA: alpha/√r instead of alpha/r, so the update is √r times larger (r = 4 → 2×).
    auto layer = model->named_modules()["model.layers.0.self_attn.q_proj"]->as<tb::LinearImpl>();
    const torch::Tensor x = torch::randn({3, 32});
    const torch::Tensor plain = (layer->forward(x) - layer->base_forward(x)).detach();
    config.method.use_rslora = true;
    auto rs_model = tiny_llama(tb::ModelTask::kCausalLm);
    auto rs = tb::apply_method(rs_model, config);
    auto rs_layer =
        rs_model->named_modules()["model.layers.0.self_attn.q_proj"]->as<tb::LinearImpl>();
    {
      torch::NoGradGuard no_grad;
      for (const char* part : {"lora_A", "lora_B"}) {
        rs_layer->named_parameters()[std::string(part) + ".weight"].copy_(
            layer->named_parameters()[std::string(part) + ".weight"]);
      }
    }
    const torch::Tensor scaled = (rs_layer->forward(x) - rs_layer->base_forward(x)).detach();
    QVERIFY(max_diff(scaled, 2 * plain) <= 1e-5);
  }

  void loraSavesPeftAdapter() {
    QTemporaryDir dir;
    tb::RunConfig config = method_config("lora");
    config.method.lora_target = {"query", "value"};
    config.method.lora_rank = 8;
    config.method.lora_alpha = 32;
    config.method.lora_dropout = 0.1;
    auto method = tb::apply_method(tiny_bert(tb::ModelTask::kSequenceClassification), config);
    // The classifier trains fully (PEFT modules_to_save for SEQ_CLS).
    QCOMPARE(method->report().trainable, 2 * 2 * 8 * (32 + 32) + 32 * 2 + 2);
    const fs::path folder = dir.path().toStdString();
    method->save(folder);
    const auto adapter_config =
        nlohmann::json::parse(tb::read_file(folder / "adapter_config.json"));
    QCOMPARE(adapter_config["peft_type"].get<std::string>(), std::string("LORA"));
    QCOMPARE(adapter_config["task_type"].get<std::string>(), std::string("SEQ_CLS"));
    QCOMPARE(adapter_config["r"].get<int>(), 8);
    QCOMPARE(adapter_config["lora_alpha"].get<double>(), 32.0);
    QCOMPARE(adapter_config["lora_dropout"].get<double>(), 0.1);
    QCOMPARE(adapter_config["target_modules"], nlohmann::json({"query", "value"}));
    QCOMPARE(adapter_config["modules_to_save"], nlohmann::json({"classifier"}));
    QCOMPARE(adapter_config["base_model_name_or_path"].get<std::string>(),
             std::string("models/tiny"));
    for (const char* key : {"bias", "fan_in_fan_out", "use_rslora", "use_dora", "init_lora_weights",
                            "inference_mode"}) {
      QVERIFY2(adapter_config.contains(key), key);
    }
    tb::SafetensorsFile file(folder / "adapter_model.safetensors");
    QCOMPARE(file.names().size(), size_t(2 * 2 * 2 + 2));
    QCOMPARE(file.entry("base_model.model.bert.encoder.layer.1.attention.self.query.lora_A.weight")
                 .shape,
             (std::vector<int64_t>{8, 32}));
    QCOMPARE(file.entry("base_model.model.bert.encoder.layer.0.attention.self.value.lora_B.weight")
                 .shape,
             (std::vector<int64_t>{32, 8}));
    QCOMPARE(file.entry("base_model.model.classifier.weight").shape, (std::vector<int64_t>{2, 32}));
    QVERIFY(file.contains("base_model.model.classifier.bias"));
  }

  void loraTrains() {
    tb::RunConfig config = method_config("lora");
    config.method.lora_target = {"all"};
    auto method = tb::apply_method(tiny_llama(tb::ModelTask::kCausalLm), config);
    check_training(*method, ToySource::Kind::kCausalLm, 3e-2);
    QVERIFY(method->estimate_memory(8, 32).optimizer <
            tb::apply_method(tiny_llama(tb::ModelTask::kCausalLm), method_config("full"))
                ->estimate_memory(8, 32)
                .optimizer);
  }

  void nf4MatchesTableAndLayout() {
    const auto& code = tb::nf4_code();
    QCOMPARE(code[0], -1.0f);
    QCOMPARE(code[7], 0.0f);
    QCOMPARE(code[15], 1.0f);
    QCOMPARE(code[8], 0.07958029955625534f);
    // One block of 64 holding every code value ×2 four times: dequantises exactly.
    torch::Tensor values = torch::from_blob(const_cast<float*>(code.data()), {16}).clone() * 2;
    values = values.repeat({4});
    tb::Nf4Tensor q = tb::nf4_quantize(values, /*double_quantization=*/false);
    QCOMPARE(q.packed.numel(), int64_t(32));
    QCOMPARE(int(q.packed[0].item<uint8_t>()), 0x01);  // codes 0 and 1: first in the high nibble
    QCOMPARE(int(q.packed[1].item<uint8_t>()), 0x23);
    QCOMPARE(q.absmax.item<float>(), 2.0f);
    QCOMPARE(max_diff(tb::nf4_dequantize(q, torch::kFloat32), values), 0.0);
    // Nearest code: 0.03 → 0 (code 7), 0.04 → 0.0796 (code 8; the midpoint is 0.0398),
    // -0.7 → -0.696 (code 1); 70 values = 2 blocks, the second padded.
    torch::Tensor mixed = torch::zeros({70});
    mixed[0] = 1.0, mixed[1] = 0.03, mixed[2] = 0.04, mixed[3] = -0.7, mixed[64] = -4.0;
    q = tb::nf4_quantize(mixed, false);
    QCOMPARE(q.absmax.numel(), int64_t(2));
    QCOMPARE(int(q.packed[0].item<uint8_t>()), 0xF7);
    QCOMPARE(int(q.packed[1].item<uint8_t>()), 0x81);
    const torch::Tensor back = tb::nf4_dequantize(q, torch::kFloat32);
    QCOMPARE(back.sizes(), mixed.sizes());
    QCOMPARE(back[2].item<float>(), code[8]);
    QCOMPARE(back[64].item<float>(), -4.0f);
    QCOMPARE(back[65].item<float>(), 0.0f);
  }

  void nf4ErrorAndBitsPerWeight() {
    const torch::Tensor weights =
        torch::randn({1024, 1024}, at::detail::createCPUGenerator(3), torch::kFloat32) * 0.02;
    for (const bool double_quant : {false, true}) {
      const tb::Nf4Tensor q = tb::nf4_quantize(weights, double_quant);
      const torch::Tensor back = tb::nf4_dequantize(q, torch::kFloat32);
      // Per block the error is at most half the widest gap between codes (-1 … -0.6962) times
      // the block's absmax, plus the absmax's own 8-bit error when double-quantised.
      const torch::Tensor absmax = weights.view({-1, 64}).abs().amax(1, true);
      const torch::Tensor error = (back - weights).view({-1, 64}).abs();
      const double bound = (1.0 - 0.6961928009986877) / 2 + (double_quant ? 0.01 : 1e-6);
      QVERIFY((error <= absmax * bound).all().item<bool>());
      const double rms = (back - weights).pow(2).mean().sqrt().item<double>();
      qInfo("NF4 double_quant=%d: %.4f bits/weight, rms error %.3g (weights std 0.02)",
            int(double_quant), q.bits_per_element(), rms);
      QVERIFY(rms < 0.1 * 0.02);
      QVERIFY(std::abs(q.bits_per_element() - (double_quant ? 4.127 : 4.5)) < 0.01);
    }
  }

  void qloraQuantisesTheBaseAndTrains() {
    const nlohmann::json shape = {{"model_type", "llama"},        {"vocab_size", kVocab},
                                  {"hidden_size", 256},           {"intermediate_size", 768},
                                  {"num_hidden_layers", 2},       {"num_attention_heads", 4},
                                  {"max_position_embeddings", 64}};
    auto model = tb::build_model(shape, tb::ModelTask::kCausalLm, "qlora-test");
    tb::init_weights(*model, 4);
    model->eval();
    int64_t fp32_bytes = 0;
    for (const auto& tensor : model->parameters()) fp32_bytes += tensor.nbytes();
    // The reference: the same model with every linear weight replaced by its NF4 round trip.
    auto reference = tb::build_model(shape, tb::ModelTask::kCausalLm, "qlora-reference");
    {
      torch::NoGradGuard no_grad;
      auto source = model->named_parameters();
      for (auto& item : reference->named_parameters()) {
        const torch::Tensor& weight = source[item.key()];
        const bool linear = item.key().find("proj") != std::string::npos;
        item.value().copy_(
            linear ? tb::nf4_dequantize(tb::nf4_quantize(weight, true), torch::kFloat32) : weight);
      }
    }
    reference->eval();
    tb::RunConfig config = method_config("lora");
    config.method.quantization_bit = 4;
    auto method = tb::apply_method(model, config);
    QVERIFY(!method->can_merge());
    tb::ModelBatch batch = ToySource(ToySource::Kind::kCausalLm, 1).batch(0, 0);
    QVERIFY(max_diff(model->forward(batch).logits, reference->forward(batch).logits) < 1e-4);
    const tb::MemoryEstimate memory = method->estimate_memory(1, 16);
    qInfo("QLoRA weights %lld bytes vs fp32 %lld (%.3f)", (long long)memory.weights,
          (long long)fp32_bytes, double(memory.weights) / double(fp32_bytes));
    QVERIFY(memory.weights <= 0.3 * double(fp32_bytes));
    // Every linear weight is gone from full precision; the report still counts it.
    for (const auto& item : model->named_parameters()) {
      if (item.key().find("proj.weight") != std::string::npos)
        QCOMPARE(item.value().numel(), int64_t(0));
    }
    QCOMPARE(method->report().total - method->report().trainable,
             tb::count_parameters(*reference).total);
    // Gradients reach the input through the NF4 weights (the custom backward).
    auto layer = model->named_modules()["model.layers.0.mlp.down_proj"]->as<tb::LinearImpl>();
    const torch::Tensor x = torch::randn({2, 768}, torch::requires_grad());
    layer->forward(x).sum().backward();
    auto ref_layer =
        reference->named_modules()["model.layers.0.mlp.down_proj"]->as<tb::LinearImpl>();
    QVERIFY(max_diff(x.grad(), ref_layer->weight.sum(0).expand({2, 768})) < 1e-5);
    for (auto& [name, tensor] : method->trainable()) tensor.mutable_grad() = torch::Tensor();
    check_training(*method, ToySource::Kind::kCausalLm, 1e-2);
  }

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

QTEST_GUILESS_MAIN(TestMethods)
#include "test_methods.moc"
