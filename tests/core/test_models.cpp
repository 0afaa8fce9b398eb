// core/models: config parsing, tensor names, load/save round trips, padding and KV-cache
// invariances, heads, losses, generation and the errors users see. Tiny random models only.
#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/io/hf_folder.h"
#include "core/models/generate.h"
#include "core/models/heads.h"
#include "core/models/loader.h"
#include "core/models/registry.h"
#include "core/nn/attention.h"
#include "core/nn/rotary.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json tiny_config(const std::string& type) {
  if (type == "bert") {
    return {{"model_type", "bert"},       {"architectures", {"BertForMaskedLM"}},
            {"vocab_size", 40},           {"hidden_size", 32},
            {"num_hidden_layers", 2},     {"num_attention_heads", 4},
            {"intermediate_size", 64},    {"max_position_embeddings", 32},
            {"hidden_dropout_prob", 0.1}, {"attention_probs_dropout_prob", 0.1}};
  }
  json config = {{"model_type", type},
                 {"architectures", {"LlamaForCausalLM"}},
                 {"vocab_size", 50},
                 {"hidden_size", 32},
                 {"intermediate_size", 48},
                 {"num_hidden_layers", 2},
                 {"num_attention_heads", 4},
                 {"num_key_value_heads", 2},
                 {"max_position_embeddings", 64},
                 {"rope_theta", 10000.0},
                 {"rms_norm_eps", 1e-5}};
  if (type == "qwen3") config["head_dim"] = 16;  // explicit head_dim ≠ hidden/heads
  if (type == "mistral") config["sliding_window"] = 4;
  return config;
}

// A random model of `config`, saved as a HF folder in `dir`; returns the built model.
std::shared_ptr<tb::LanguageModel> make_folder(const json& config, const fs::path& dir,
                                               uint64_t seed = 7) {
  auto model = tb::build_model(config, tb::task_from_config(config, "test"), "test");
  tb::init_weights(*model, seed);
  tb::save_model(*model, dir);
  return model;
}

float max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat32) - b.to(torch::kFloat32)).abs().max().item<float>();
}

QString error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const tb::Error& error) {
    return QString::fromUtf8(error.what());
  }
  return {};
}

// Logits of each row alone, unpadded (the reference padded batches must reproduce).
std::vector<torch::Tensor> row_logits(tb::LanguageModel& model,
                                      const std::vector<std::vector<int64_t>>& rows) {
  std::vector<torch::Tensor> out;
  for (const auto& row : rows) {
    tb::ModelBatch batch;
    batch.input_ids = torch::tensor(row).unsqueeze(0);
    out.push_back(model.forward(batch).logits[0]);
  }
  return out;
}

// Builds a padded batch (pad id 0) and returns the largest difference at real positions
// against each row run alone.
float padding_diff(tb::LanguageModel& model, const std::vector<std::vector<int64_t>>& rows,
                   bool left) {
  const std::vector<torch::Tensor> alone = row_logits(model, rows);
  size_t longest = 0;
  for (const auto& row : rows) longest = std::max(longest, row.size());
  torch::Tensor ids = torch::zeros({int64_t(rows.size()), int64_t(longest)}, torch::kInt64);
  torch::Tensor mask = torch::zeros_like(ids);
  for (size_t r = 0; r < rows.size(); ++r) {
    const int64_t start = left ? int64_t(longest - rows[r].size()) : 0;
    ids[r].slice(0, start, start + rows[r].size()).copy_(torch::tensor(rows[r]));
    mask[r].slice(0, start, start + rows[r].size()).fill_(1);
  }
  tb::ModelBatch batch;
  batch.input_ids = ids;
  batch.attention_mask = mask;
  const torch::Tensor logits = model.forward(batch).logits;
  float worst = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    const int64_t start = left ? int64_t(longest - rows[r].size()) : 0;
    if (model.task() == tb::ModelTask::kSequenceClassification) {
      worst = std::max(worst, max_diff(logits[r], alone[r]));
    } else {
      worst =
          std::max(worst, max_diff(logits[r].slice(0, start, start + rows[r].size()), alone[r]));
    }
  }
  return worst;
}

const std::vector<std::vector<int64_t>> kRows = {{5, 9, 2, 33, 17, 4, 8}, {11, 3, 30}, {7}};

}  // namespace

class TestModels : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { torch::set_num_threads(1); }

  void tensorNamesMatchTransformers() {
    auto qwen2 = tb::build_model(tiny_config("qwen2"), tb::ModelTask::kCausalLm, "test");
    std::set<std::string> names;
    for (const auto& [name, tensor] : tb::model_state(*qwen2)) names.insert(name);
    for (const char* expected :
         {"model.embed_tokens.weight", "model.layers.1.self_attn.q_proj.weight",
          "model.layers.1.self_attn.q_proj.bias", "model.layers.0.self_attn.k_proj.bias",
          "model.layers.0.self_attn.o_proj.weight", "model.layers.0.mlp.gate_proj.weight",
          "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight",
          "model.layers.0.input_layernorm.weight", "model.layers.0.post_attention_layernorm.weight",
          "model.norm.weight", "lm_head.weight"}) {
      QVERIFY2(names.count(expected), expected);
    }
    QVERIFY(!names.count("model.layers.0.self_attn.o_proj.bias"));  // qwen2: q/k/v bias only
    QCOMPARE(names.size(), size_t(1 + 2 * 12 + 1 + 1));             // 7 attention + 3 MLP + 2 norms

    auto qwen3 = tb::build_model(tiny_config("qwen3"), tb::ModelTask::kCausalLm, "test");
    std::map<std::string, torch::Tensor> q3;
    for (const auto& [name, tensor] : tb::model_state(*qwen3)) q3[name] = tensor;
    QCOMPARE(q3.at("model.layers.0.self_attn.q_norm.weight").size(0), int64_t(16));
    QCOMPARE(q3.at("model.layers.0.self_attn.q_proj.weight").sizes().vec(),
             (std::vector<int64_t>{64, 32}));  // 4 heads × head_dim 16
    QCOMPARE(q3.at("model.layers.0.self_attn.k_proj.weight").sizes().vec(),
             (std::vector<int64_t>{32, 32}));  // 2 kv heads × 16

    json tied = tiny_config("llama");
    tied["tie_word_embeddings"] = true;
    auto llama = tb::build_model(tied, tb::ModelTask::kCausalLm, "test");
    for (const auto& [name, tensor] : tb::model_state(*llama)) QVERIFY(name != "lm_head.weight");

    auto bert = tb::build_model(tiny_config("bert"), tb::ModelTask::kSequenceClassification, "t");
    std::set<std::string> bert_names;
    for (const auto& [name, tensor] : tb::model_state(*bert)) bert_names.insert(name);
    for (const char* expected :
         {"bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
          "bert.embeddings.token_type_embeddings.weight", "bert.embeddings.LayerNorm.weight",
          "bert.encoder.layer.1.attention.self.query.weight",
          "bert.encoder.layer.1.attention.self.value.bias",
          "bert.encoder.layer.0.attention.output.dense.weight",
          "bert.encoder.layer.0.attention.output.LayerNorm.bias",
          "bert.encoder.layer.0.intermediate.dense.weight",
          "bert.encoder.layer.0.output.dense.weight",
          "bert.encoder.layer.0.output.LayerNorm.weight", "bert.pooler.dense.weight",
          "classifier.weight", "classifier.bias"}) {
      QVERIFY2(bert_names.count(expected), expected);
    }
  }

  void saveThenLoadReproducesLogits_data() {
    QTest::addColumn<QString>("type");
    for (const char* type : {"llama", "mistral", "qwen2", "qwen3", "bert"}) {
      QTest::newRow(type) << type;
    }
  }
  void saveThenLoadReproducesLogits() {
    QFETCH(QString, type);
    QTemporaryDir dir;
    auto original = make_folder(tiny_config(type.toStdString()), dir.path().toStdString());
    original->eval();
    const tb::LoadedModel loaded = tb::load_model(dir.path().toStdString());
    QVERIFY(loaded.report.missing.empty());
    QCOMPARE(loaded.report.unexpected, std::vector<std::string>{});
    QVERIFY(loaded.report.zero_copy > 0);
    QCOMPARE(loaded.report.converted, int64_t(0));
    QCOMPARE(loaded.weight_dtype, std::string("F32"));
    tb::ModelBatch batch;
    batch.input_ids = torch::tensor({{3, 1, 4, 1, 5, 9, 2, 6}});
    const torch::Tensor expected = original->forward(batch).logits;
    const torch::Tensor got = loaded.model->forward(batch).logits;
    QCOMPARE(got.sizes().vec(), expected.sizes().vec());
    QCOMPARE(max_diff(got, expected), 0.0f);
    QVERIFY(loaded.config.contains("architectures"));
  }

  void shardedAndBf16CheckpointsLoad() {
    QTemporaryDir dir;
    const fs::path folder = dir.path().toStdString();
    auto original = make_folder(tiny_config("llama"), folder);
    original->eval();
    // Re-save as two shards plus an index, the layout of large Hub checkpoints.
    fs::remove(folder / "model.safetensors");
    std::vector<std::pair<std::string, torch::Tensor>> first, second;
    json weight_map = json::object();
    for (const auto& [name, tensor] : tb::model_state(*original)) {
      const bool in_first = name.find("layers.1.") == std::string::npos;
      (in_first ? first : second).emplace_back(name, tensor);
      weight_map[name] =
          in_first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
    }
    tb::save_safetensors(folder / "model-00001-of-00002.safetensors", first);
    tb::save_safetensors(folder / "model-00002-of-00002.safetensors", second);
    tb::write_json_file(folder / "model.safetensors.index.json", {{"weight_map", weight_map}});
    const tb::LoadedModel sharded = tb::load_model(folder);
    tb::ModelBatch batch;
    batch.input_ids = torch::tensor({{2, 7, 1, 8}});
    QCOMPARE(max_diff(sharded.model->forward(batch).logits, original->forward(batch).logits), 0.0f);

    // A bf16 checkpoint loaded in bf16 is used in place (zero copy).
    QTemporaryDir bf16_dir;
    original->to(torch::kBFloat16);
    tb::save_model(*original, bf16_dir.path().toStdString());
    tb::LoadOptions options;
    options.dtype = torch::kBFloat16;
    const tb::LoadedModel bf16 = tb::load_model(bf16_dir.path().toStdString(), options);
    QCOMPARE(bf16.weight_dtype, std::string("BF16"));
    QCOMPARE(bf16.report.converted, int64_t(0));
    QCOMPARE(bf16.config["torch_dtype"].get<std::string>(), std::string("bfloat16"));
    QCOMPARE(max_diff(bf16.model->forward(batch).logits, original->forward(batch).logits), 0.0f);
  }

  void kvCacheGenerationEqualsFullForward_data() {
    QTest::addColumn<QString>("type");
    QTest::addColumn<QString>("variant");
    for (const char* type : {"llama", "mistral", "qwen2", "qwen3"}) {
      QTest::newRow(type) << type << "";
    }
    QTest::newRow("llama MQA, tied, llama3 rope") << "llama"
                                                  << "mqa";
    QTest::newRow("llama linear rope, bias") << "llama"
                                             << "linear";
  }
  void kvCacheGenerationEqualsFullForward() {
    QFETCH(QString, type);
    QFETCH(QString, variant);
    json config = tiny_config(type.toStdString());
    if (variant == "mqa") {
      config["num_key_value_heads"] = 1;
      config["tie_word_embeddings"] = true;
      config["rope_scaling"] = {{"rope_type", "llama3"},
                                {"factor", 8.0},
                                {"low_freq_factor", 1.0},
                                {"high_freq_factor", 4.0},
                                {"original_max_position_embeddings", 16}};
    }
    if (variant == "linear") {
      config["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
      config["attention_bias"] = true;
      config["mlp_bias"] = true;
    }
    auto model = tb::build_model(config, tb::ModelTask::kCausalLm, "test");
    tb::init_weights(*model, 3);
    model->eval();
    torch::NoGradGuard no_grad;
    const std::vector<int64_t> prompt = {4, 8, 15, 16, 23, 42};
    std::vector<torch::Tensor> step_logits;
    tb::GenerateOptions options;
    options.max_new_tokens = 10;
    options.on_token = [&](int64_t, const torch::Tensor& logits) {
      step_logits.push_back(logits.clone());
      return true;
    };
    const tb::GenerateResult result = tb::generate(*model, prompt, options);
    QCOMPARE(result.tokens.size(), size_t(10));
    QCOMPARE(result.stop_reason, std::string("max_new_tokens"));
    std::vector<int64_t> all = prompt;
    all.insert(all.end(), result.tokens.begin(), result.tokens.end());
    tb::ModelBatch batch;
    batch.input_ids = torch::tensor(all).unsqueeze(0);
    const torch::Tensor full = model->forward(batch).logits[0];
    float worst = 0;
    for (size_t i = 0; i < step_logits.size(); ++i) {
      const torch::Tensor reference = full[int64_t(prompt.size() + i - 1)];
      worst = std::max(worst, max_diff(step_logits[i], reference));
      QCOMPARE(result.tokens[i], reference.argmax().item<int64_t>());  // greedy
    }
    qInfo("%s %s: KV-cache vs full forward max abs diff %.3g", qPrintable(type),
          qPrintable(variant), worst);
    QVERIFY2(worst <= 1e-5f, qPrintable(QString::number(worst)));
  }

  void paddedBatchesMatchUnpaddedRows_data() {
    QTest::addColumn<QString>("type");
    QTest::addColumn<int>("task");
    for (const char* type : {"llama", "mistral", "qwen2", "qwen3"}) {
      QTest::newRow(type) << type << int(tb::ModelTask::kCausalLm);
    }
    QTest::newRow("llama classification") << "llama" << int(tb::ModelTask::kSequenceClassification);
    QTest::newRow("bert classification") << "bert" << int(tb::ModelTask::kSequenceClassification);
    QTest::newRow("bert mlm") << "bert" << int(tb::ModelTask::kMaskedLm);
  }
  void paddedBatchesMatchUnpaddedRows() {
    QFETCH(QString, type);
    QFETCH(int, task);
    auto model = tb::build_model(tiny_config(type.toStdString()), tb::ModelTask(task), "test");
    tb::init_weights(*model, 5);
    model->eval();
    torch::NoGradGuard no_grad;
    const float right = padding_diff(*model, kRows, false);
    qInfo("%s: right padding max abs diff %.3g", qPrintable(QTest::currentDataTag()), right);
    QVERIFY2(right <= 1e-5f, qPrintable(QString::number(right)));
    if (type != "bert") {  // BERT has absolute positions from 0: left padding shifts them
      const float left = padding_diff(*model, kRows, true);
      qInfo("%s: left padding max abs diff %.3g", qPrintable(QTest::currentDataTag()), left);
      QVERIFY2(left <= 1e-5f, qPrintable(QString::number(left)));
    }
  }

  void slidingWindowLimitsAttention() {
    // Mistral with window 4: what each position may depend on is bounded.
    auto model = tb::build_model(tiny_config("mistral"), tb::ModelTask::kCausalLm, "test");
    tb::init_weights(*model, 2);
    model->eval();
    torch::NoGradGuard no_grad;
    tb::ModelBatch a, b;
    a.input_ids = torch::tensor({{1, 2, 3, 4, 5, 6, 7, 8}});
    b.input_ids = torch::tensor({{9, 2, 3, 4, 5, 6, 7, 8}});
    // Two stacked layers of window 4 reach back 2 × 3 = 6 positions: position 6 still depends
    // on token 0, position 7 no longer does.
    QVERIFY(max_diff(model->forward(a).logits[0][7], model->forward(b).logits[0][7]) == 0.0f);
    QVERIFY(max_diff(model->forward(a).logits[0][6], model->forward(b).logits[0][6]) > 0.0f);
  }

  void causalLmLossIgnoresMinus100() {
    auto model = tb::build_model(tiny_config("llama"), tb::ModelTask::kCausalLm, "test");
    tb::init_weights(*model, 1);
    model->eval();
    tb::ModelBatch batch;
    batch.input_ids = torch::tensor({{3, 7, 9, 11, 13}});
    batch.labels = torch::tensor({{-100, -100, 9, 11, -100}});
    const tb::ModelOutput output = model->forward(batch);
    // Positions 1 and 2 predict labels 9 and 11; the rest are ignored.
    const torch::Tensor log_probs = output.logits[0].log_softmax(-1);
    const float expected = -(log_probs[1][9].item<float>() + log_probs[2][11].item<float>()) / 2.0f;
    QVERIFY(std::abs(output.loss.item<float>() - expected) < 1e-5f);
    output.loss.backward();  // trainable end to end
    QVERIFY(model->named_parameters()["model.embed_tokens.weight"].grad().defined());

    // With a pad token the pad row gets no gradient, as transformers' padding_idx does.
    json config = tiny_config("llama");
    config["pad_token_id"] = 3;
    auto padded = tb::build_model(config, tb::ModelTask::kCausalLm, "test");
    padded->forward(batch).loss.backward();
    const torch::Tensor grad = padded->named_parameters()["model.embed_tokens.weight"].grad();
    QCOMPARE(grad[3].abs().sum().item<float>(), 0.0f);
    QVERIFY(grad[7].abs().sum().item<float>() > 0.0f);
  }

  void zeroCopyWeightsTrainInPlaceWithoutTouchingTheFile() {
    QTemporaryDir dir;
    const fs::path folder = dir.path().toStdString();
    make_folder(tiny_config("qwen3"), folder);
    const std::string before = tb::read_file(folder / "model.safetensors");
    tb::LoadedModel loaded = tb::load_model(folder);
    QVERIFY(loaded.report.zero_copy > 0);
    loaded.model->train();
    torch::optim::Adam optimizer(loaded.model->parameters(), torch::optim::AdamOptions(1e-2));
    tb::ModelBatch batch;
    batch.input_ids = torch::tensor({{4, 9, 16, 25, 36, 49, 1, 4, 9, 16}});
    batch.labels = batch.input_ids.clone();
    float first = 0, last = 0;
    for (int step = 0; step < 30; ++step) {
      optimizer.zero_grad();
      const torch::Tensor loss = loaded.model->forward(batch).loss;
      loss.backward();
      optimizer.step();  // in place on memory-mapped (copy-on-write) weights
      (step == 0 ? first : last) = loss.item<float>();
    }
    QVERIFY2(last < 0.5f * first, qPrintable(QString("%1 -> %2").arg(first).arg(last)));
    QVERIFY(tb::read_file(folder / "model.safetensors") == before);  // private pages only
  }

  void classificationHeadIsInitialisedAndReported() {
    QTemporaryDir dir;
    const fs::path folder = dir.path().toStdString();
    make_folder(tiny_config("llama"), folder);
    tb::LoadOptions options;
    options.task = tb::ModelTask::kSequenceClassification;
    options.num_labels = 3;
    const tb::LoadedModel loaded = tb::load_model(folder, options);
    QCOMPARE(loaded.report.initialised, std::vector<std::string>{"score.weight"});
    QCOMPARE(loaded.report.unexpected, std::vector<std::string>{"lm_head.weight"});
    tb::ModelBatch batch;
    batch.input_ids = torch::tensor({{1, 2, 3}, {4, 5, 6}});
    batch.labels = torch::tensor({0, 2});
    const tb::ModelOutput output = loaded.model->forward(batch);
    QCOMPARE(output.logits.sizes().vec(), (std::vector<int64_t>{2, 3}));
    QVERIFY(output.loss.item<float>() > 0);

    // BERT: an MLM checkpoint loaded for classification gets pooler + classifier initialised.
    QTemporaryDir bert_dir;
    make_folder(tiny_config("bert"), bert_dir.path().toStdString());
    options.num_labels = 2;
    const tb::LoadedModel bert = tb::load_model(bert_dir.path().toStdString(), options);
    const std::set<std::string> initialised(bert.report.initialised.begin(),
                                            bert.report.initialised.end());
    QCOMPARE(initialised,
             (std::set<std::string>{"bert.pooler.dense.weight", "bert.pooler.dense.bias",
                                    "classifier.weight", "classifier.bias"}));
    QVERIFY(!bert.report.unexpected.empty());  // the cls.predictions.* MLM head
  }

  void backboneCheckpointsLoadIntoTaskModelsAndLegacyNames() {
    // A BertModel checkpoint (no "bert." prefix, old gamma/beta names, saved position_ids)
    // loads into BertForMaskedLM; the MLM head is initialised.
    QTemporaryDir dir;
    const fs::path folder = dir.path().toStdString();
    json config = tiny_config("bert");
    config["architectures"] = {"BertModel"};
    auto base = tb::build_model(config, tb::ModelTask::kBase, "test");
    tb::init_weights(*base, 4);
    std::vector<std::pair<std::string, torch::Tensor>> renamed;
    for (const auto& [name, tensor] : tb::model_state(*base)) {
      std::string legacy = name;
      if (legacy.size() > 17 && legacy.substr(legacy.size() - 17) == ".LayerNorm.weight") {
        legacy = legacy.substr(0, legacy.size() - 7) + ".gamma";
      }
      renamed.emplace_back(legacy, tensor);
    }
    renamed.emplace_back("embeddings.position_ids", torch::arange(32).unsqueeze(0));
    tb::save_safetensors(folder / "model.safetensors", renamed);
    tb::write_json_file(folder / "config.json", config);
    tb::LoadOptions options;
    options.task = tb::ModelTask::kMaskedLm;
    const tb::LoadedModel loaded = tb::load_model(folder, options);
    // BertForMaskedLM is built without a pooler, so the backbone's pooler is reported.
    QCOMPARE(loaded.report.unexpected,
             (std::vector<std::string>{"pooler.dense.bias", "pooler.dense.weight"}));
    QVERIFY(!loaded.report.initialised.empty());
    for (const std::string& name : loaded.report.initialised) QVERIFY(name.rfind("cls.", 0) == 0);
  }

  void errorsNameTheProblem() {
    QTemporaryDir dir;
    const fs::path folder = dir.path().toStdString();
    json config = tiny_config("llama");
    config["model_type"] = "gpt_neox";
    tb::write_json_file(folder / "config.json", config);
    tb::write_file_atomic(folder / "pytorch_model.bin", "not really");
    QString message = error_of([&] { tb::load_model(folder); });
    QVERIFY2(message.contains("pickle") && message.contains("runs arbitrary code") &&
                 message.contains("safe_serialization=True"),
             qPrintable(message));

    tb::save_safetensors(folder / "model.safetensors", {{"x", torch::zeros({1})}});
    message = error_of([&] { tb::load_model(folder); });
    QVERIFY2(message.contains("model_type 'gpt_neox' is not supported") &&
                 message.contains("llama, mistral, qwen2, qwen3, bert"),
             qPrintable(message));

    // Weights that do not fit the config: one clear error naming the tensor.
    make_folder(tiny_config("llama"), folder);
    config = tiny_config("llama");
    config["intermediate_size"] = 40;
    tb::write_json_file(folder / "config.json", config);
    message = error_of([&] { tb::load_model(folder); });
    QVERIFY2(message.contains("tensor 'model.layers.0.mlp.down_proj.weight' has shape [32, 48] "
                              "but config.json implies [32, 40]"),
             qPrintable(message));

    // A backbone tensor missing is an error (not silently random).
    auto model = tb::build_model(tiny_config("llama"), tb::ModelTask::kCausalLm, "test");
    auto state = tb::model_state(*model);
    state.erase(std::remove_if(state.begin(), state.end(),
                               [](const auto& e) { return e.first == "model.norm.weight"; }),
                state.end());
    tb::save_safetensors(folder / "model.safetensors", state);
    tb::write_json_file(folder / "config.json", tiny_config("llama"));
    message = error_of([&] { tb::load_model(folder); });
    QVERIFY2(message.contains("missing: model.norm.weight"), qPrintable(message));

    config = tiny_config("llama");
    config["num_key_value_heads"] = 3;
    message = error_of([&] { tb::build_model(config, tb::ModelTask::kCausalLm, "c.json"); });
    QVERIFY2(message.startsWith("c.json") && message.contains("multiple of"), qPrintable(message));
    config = tiny_config("llama");
    config["hidden_size"] = "32";
    message = error_of([&] { tb::build_model(config, tb::ModelTask::kCausalLm, "c.json"); });
    QVERIFY2(message.contains("\"hidden_size\" must be an integer"), qPrintable(message));
    config = tiny_config("llama");
    config["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
    message = error_of([&] { tb::build_model(config, tb::ModelTask::kCausalLm, "c.json"); });
    QVERIFY2(message.contains("rope_scaling type 'yarn'"), qPrintable(message));
    message =
        error_of([&] { tb::build_model(tiny_config("bert"), tb::ModelTask::kCausalLm, "c.json"); });
    QVERIFY2(message.contains("cannot be a causal LM"), qPrintable(message));
  }

  void bf16LoadConvertsOnceAndStaysClose() {
    QTemporaryDir dir;
    auto original = make_folder(tiny_config("qwen2"), dir.path().toStdString());
    original->eval();
    tb::LoadOptions options;
    options.dtype = torch::kBFloat16;
    const tb::LoadedModel loaded = tb::load_model(dir.path().toStdString(), options);
    QCOMPARE(loaded.report.zero_copy, int64_t(0));
    QVERIFY(loaded.report.converted > 0);
    for (const auto& [name, tensor] : tb::model_state(*loaded.model)) {
      QCOMPARE(tensor.scalar_type(), torch::kBFloat16);
    }
    tb::ModelBatch batch;
    batch.input_ids = torch::tensor({{3, 1, 4, 1, 5}});
    const torch::Tensor reference = original->forward(batch).logits;
    const float diff = max_diff(loaded.model->forward(batch).logits, reference);
    QVERIFY2(diff < 0.05f * reference.abs().max().item<float>() + 0.02f,
             qPrintable(QString::number(diff)));
  }

  void generationStopsAndSamplesReproducibly() {
    auto model = tb::build_model(tiny_config("llama"), tb::ModelTask::kCausalLm, "test");
    tb::init_weights(*model, 9);
    model->eval();
    tb::GenerateOptions greedy;
    greedy.max_new_tokens = 8;
    const auto first = tb::generate(*model, {1, 2, 3}, greedy);
    tb::GenerateOptions stop = greedy;
    stop.stop_token_ids = {first.tokens[2]};
    const auto stopped = tb::generate(*model, {1, 2, 3}, stop);
    QCOMPARE(stopped.stop_reason, std::string("stop_token"));
    QVERIFY(stopped.tokens.size() <= 3 && stopped.tokens.back() == first.tokens[2]);
    tb::GenerateOptions callback = greedy;
    int calls = 0;
    callback.on_token = [&](int64_t, const torch::Tensor&) { return ++calls < 2; };
    QCOMPARE(tb::generate(*model, {1, 2, 3}, callback).tokens.size(), size_t(2));

    tb::GenerateOptions sample = greedy;
    sample.temperature = 1.5;
    sample.top_p = 0.9;
    sample.seed = 42;
    const auto a = tb::generate(*model, {1, 2, 3}, sample);
    const auto b = tb::generate(*model, {1, 2, 3}, sample);
    QCOMPARE(a.tokens, b.tokens);  // same seed, same tokens
    tb::GenerateOptions top1 = sample;
    top1.top_k = 1;
    QCOMPARE(tb::generate(*model, {1, 2, 3}, top1).tokens, first.tokens);  // top-1 = greedy

    // Processors on hand-made logits.
    torch::Generator generator = at::detail::getDefaultCPUGenerator();
    const torch::Tensor logits = torch::tensor({2.0f, 1.0f, -1.0f, 0.5f});
    tb::GenerateOptions penalty;
    penalty.repetition_penalty = 3.0;
    QCOMPARE(tb::choose_next_token(logits, {0}, penalty, generator), int64_t(1));  // 2/3 < 1
    tb::GenerateOptions nucleus;
    nucleus.temperature = 1.0;
    nucleus.top_p = 0.5;  // token 0 alone has ~0.57 of the mass
    for (int i = 0; i < 20; ++i) {
      QCOMPARE(tb::choose_next_token(logits, {}, nucleus, generator), int64_t(0));
    }
    QVERIFY(!error_of([&] {
               tb::generate(*tb::build_model(tiny_config("bert"), tb::ModelTask::kMaskedLm, "t"),
                            {1}, greedy);
             }).isEmpty());
  }

  void ropeScalingVariants() {
    tb::RotaryOptions options;
    options.head_dim = 128;
    options.theta = 500000;
    options.max_position_embeddings = 131072;
    const torch::Tensor plain = tb::Rotary(options).inv_freq();
    QCOMPARE(plain[0].item<float>(), 1.0f);
    QVERIFY(std::abs(plain[1].item<float>() - std::pow(500000.0f, -2.0f / 128)) < 1e-7f);

    options.scaling = {"linear", 4.0};
    QVERIFY(max_diff(tb::Rotary(options).inv_freq(), plain / 4) == 0.0f);

    // Llama 3.1: short wavelengths kept, wavelengths past 8192/1 divided by 8, a smooth band
    // between 8192/4 and 8192.
    options.scaling = {"llama3", 8.0, 1.0, 4.0, 8192};
    const torch::Tensor llama3 = tb::Rotary(options).inv_freq();
    const torch::Tensor wavelen = 2 * M_PI / plain;
    const torch::Tensor high = wavelen<8192 / 4.0, low = wavelen> 8192;
    QVERIFY(torch::equal(llama3.masked_select(high), plain.masked_select(high)));
    QVERIFY(max_diff(llama3.masked_select(low), plain.masked_select(low) / 8) == 0.0f);
    const torch::Tensor band = high.logical_not().logical_and(low.logical_not());
    QVERIFY(band.any().item<bool>());
    QVERIFY((llama3.masked_select(band) < plain.masked_select(band)).all().item<bool>());
    QVERIFY((llama3.masked_select(band) > plain.masked_select(band) / 8).all().item<bool>());

    // Dynamic NTK: unchanged inside the trained context, a larger base past it.
    options.max_position_embeddings = 16;
    options.scaling = {"dynamic", 2.0};
    const tb::Rotary dynamic(options);
    options.scaling = {};
    const tb::Rotary fixed(options);
    const torch::Tensor inside = torch::arange(16).unsqueeze(0);
    QVERIFY(max_diff(dynamic.cos_sin(inside, torch::kFloat32).first,
                     fixed.cos_sin(inside, torch::kFloat32).first) == 0.0f);
    const torch::Tensor beyond = torch::arange(32).unsqueeze(0);
    QVERIFY(max_diff(dynamic.cos_sin(beyond, torch::kFloat32).first,
                     fixed.cos_sin(beyond, torch::kFloat32).first) > 1e-3f);
  }

  void attentionMaskHelpers() {
    const torch::Tensor mask =
        tb::causal_mask(torch::tensor({{0, 1, 1}}), 1, 2, 1, torch::kFloat32, torch::kCPU);
    // Query at absolute position 1 sees key 1; position 2 sees keys 1 and 2; key 0 is padding.
    const torch::Tensor allowed = mask[0][0] == 0;
    QVERIFY(torch::equal(allowed, torch::tensor({{false, true, false}, {false, true, true}})));
    const torch::Tensor positions =
        tb::default_position_ids(torch::tensor({{0, 0, 1, 1, 1}}), 1, 3, 0, torch::kCPU);
    QVERIFY(torch::equal(positions, torch::tensor({{0, 1, 2}})));
    torch::manual_seed(0);
    const torch::Tensor q = torch::randn({2, 4, 5, 8}), k = torch::randn({2, 2, 5, 8}),
                        v = torch::randn({2, 2, 5, 8});
    const torch::Tensor m = tb::causal_mask({}, 2, 5, 0, torch::kFloat32, torch::kCPU);
    // The dispatching entry point and the matmul/softmax reference agree (identical on 1.13,
    // where the reference is the only path; the fused kernel on LibTorch ≥ 2.1).
    QVERIFY(max_diff(tb::attention(q, k, v, m, 0.35), tb::attention_reference(q, k, v, m, 0.35)) <
            1e-5f);
    QVERIFY(torch::equal(tb::last_token_index(torch::tensor({{0, 0, 5, 6}, {5, 6, 0, 0}}),
                                              torch::tensor({{0, 0, 1, 1}, {1, 1, 0, 0}}), -1),
                         torch::tensor({3, 1})));
    QVERIFY(torch::equal(tb::last_token_index(torch::tensor({{0, 0, 5, 6}, {5, 6, 0, 0}}), {}, 0),
                         torch::tensor({3, 1})));
  }
};

QTEST_GUILESS_MAIN(TestModels)
#include "test_models.moc"
