#pragma once
// Shared fixtures of the method tests: tiny Llama/BERT models, learnable toy batches, and a
// training check (loss falls, frozen tensors untouched, held-out accuracy beats the majority).
// Include <torch/torch.h> and <QtTest> first (torch before Qt).

#include <QTemporaryDir>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/methods/registry.h"
#include "core/models/loader.h"
#include "core/models/registry.h"
#include "core/train/trainer.h"

namespace method_fixtures {

inline constexpr int64_t kVocab = 40;

inline std::shared_ptr<tb::LanguageModel> tiny_llama(tb::ModelTask task, uint64_t seed = 1) {
  const nlohmann::json config = {
      {"model_type", "llama"},         {"vocab_size", kVocab},    {"hidden_size", 32},
      {"intermediate_size", 48},       {"num_hidden_layers", 3},  {"num_attention_heads", 4},
      {"num_key_value_heads", 2},      {"rms_norm_eps", 1e-5},    {"num_labels", 2},
      {"max_position_embeddings", 64}, {"initializer_range", 0.2}};
  auto model = tb::build_model(config, task, "tiny-llama");
  tb::init_weights(*model, seed);
  return model;
}

inline std::shared_ptr<tb::LanguageModel> tiny_bert(tb::ModelTask task, uint64_t seed = 2) {
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

inline tb::RunConfig method_config(const std::string& type) {
  tb::RunConfig config;
  config.method.finetuning_type = type;
  config.model.model_name_or_path = "models/tiny";
  return config;
}

inline std::map<std::string, torch::Tensor> snapshot(const tb::LanguageModel& model) {
  std::map<std::string, torch::Tensor> copy;
  for (const auto& item : model.named_parameters())
    copy[item.key()] = item.value().detach().clone();
  return copy;
}

inline double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// Rows of tokens; the class (or next-token pattern) is learnable from them.
class ToySource : public tb::BatchSource {
 public:
  enum class Kind { kCausalLm, kClassify, kVerbalize };
  ToySource(Kind kind, int64_t batches, uint64_t seed = 7)
      : kind_(kind), batches_(batches), seed_(seed) {}
  int64_t batches_per_epoch() const override { return batches_; }
  tb::ModelBatch batch(int64_t epoch, int64_t index) override {
    const auto generator = at::detail::createCPUGenerator(seed_ + uint64_t(100 * epoch + index));
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
  uint64_t seed_;
};

// Trains `method` for a few epochs; returns the mean loss of the first and the last 3 steps.
inline std::pair<double, double> train_steps(tb::AppliedMethod& method, ToySource::Kind kind,
                                             double lr, double epochs = 3) {
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
inline void check_training(tb::AppliedMethod& method, ToySource::Kind kind, double lr) {
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
  if (kind != ToySource::Kind::kCausalLm) {
    // Held-out rows (other seeds): accuracy beats the majority class.
    ToySource held_out(kind, 4, 5000);
    int64_t positives = 0, rows = 0;
    for (int64_t i = 0; i < 4; ++i) {
      const torch::Tensor labels = held_out.batch(0, i).labels;
      positives += labels.sum().item<int64_t>(), rows += labels.numel();
    }
    const double majority = double(std::max(positives, rows - positives)) / double(rows);
    const tb::EvalMetrics metrics = tb::evaluate(*method.model(), held_out);
    qInfo("%s: eval accuracy %.3f (majority class %.3f)", method.name().c_str(), metrics.accuracy,
          majority);
    QVERIFY(metrics.accuracy > majority + 0.1);
  }
}

inline std::vector<std::string> trainable_names(const tb::AppliedMethod& method) {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : method.trainable()) names.push_back(name);
  return names;
}

}  // namespace method_fixtures
