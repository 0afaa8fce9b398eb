// An independent, naive float64 BERT (post-LayerNorm encoder, exact GELU, tanh pooler on
// [CLS], MLM transform with the decoder tied to the word embeddings), one token and one head
// at a time, reading weights by their transformers names from the safetensors file. Shares
// no code with core/models/bert.cpp.
#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/io/safetensors.h"
#include "core/models/init_model.h"
#include "core/models/loader.h"

namespace fs = std::filesystem;
using nlohmann::json;
using torch::Tensor;

namespace {

struct BertReference {
  const tb::SafetensorsFile& file;
  const json& config;

  Tensor w(const std::string& name) const { return file.tensor(name).to(torch::kFloat64); }

  Tensor linear(const std::string& name, const Tensor& x) const {
    return torch::mv(w(name + ".weight"), x) + w(name + ".bias");
  }

  Tensor layer_norm(const std::string& name, const Tensor& x) const {
    const double eps = config.value("layer_norm_eps", 1e-12);
    const Tensor centred = x - x.mean();
    return centred / std::sqrt((centred * centred).mean().item<double>() + eps) *
               w(name + ".weight") +
           w(name + ".bias");
  }

  static Tensor gelu(const Tensor& x) { return 0.5 * x * (1 + torch::erf(x / std::sqrt(2.0))); }

  // Hidden states of every token; padding (mask 0) is never attended to.
  std::vector<Tensor> encode(const std::vector<int64_t>& ids, const std::vector<int64_t>& types,
                             const std::vector<int>& mask) const {
    const int64_t length = int64_t(ids.size()), heads = config["num_attention_heads"];
    const int64_t hidden = config["hidden_size"], dim = hidden / heads;
    std::vector<Tensor> x;
    for (int64_t t = 0; t < length; ++t) {
      x.push_back(layer_norm("bert.embeddings.LayerNorm",
                             w("bert.embeddings.word_embeddings.weight")[ids[t]] +
                                 w("bert.embeddings.position_embeddings.weight")[t] +
                                 w("bert.embeddings.token_type_embeddings.weight")[types[t]]));
    }
    for (int64_t layer = 0; layer < config["num_hidden_layers"].get<int64_t>(); ++layer) {
      const std::string p = "bert.encoder.layer." + std::to_string(layer) + ".";
      std::vector<Tensor> q, k, v;
      for (const Tensor& xt : x) {
        q.push_back(linear(p + "attention.self.query", xt));
        k.push_back(linear(p + "attention.self.key", xt));
        v.push_back(linear(p + "attention.self.value", xt));
      }
      std::vector<Tensor> next;
      for (int64_t t = 0; t < length; ++t) {
        Tensor context = torch::zeros({hidden}, torch::kFloat64);
        for (int64_t h = 0; h < heads; ++h) {
          const auto slice = [&](const Tensor& vec) {
            return vec.slice(0, h * dim, (h + 1) * dim);
          };
          std::vector<double> weights(length, 0.0);
          double top = -1e300, total = 0;
          for (int64_t j = 0; j < length; ++j) {
            if (!mask[j]) continue;
            weights[j] =
                torch::dot(slice(q[t]), slice(k[j])).item<double>() / std::sqrt(double(dim));
            top = std::max(top, weights[j]);
          }
          for (int64_t j = 0; j < length; ++j) {
            total += mask[j] ? (weights[j] = std::exp(weights[j] - top)) : 0.0;
          }
          for (int64_t j = 0; j < length; ++j) {
            if (mask[j])
              context.slice(0, h * dim, (h + 1) * dim) += weights[j] / total * slice(v[j]);
          }
        }
        const Tensor attended = layer_norm(p + "attention.output.LayerNorm",
                                           linear(p + "attention.output.dense", context) + x[t]);
        const Tensor inner = gelu(linear(p + "intermediate.dense", attended));
        next.push_back(
            layer_norm(p + "output.LayerNorm", linear(p + "output.dense", inner) + attended));
      }
      x = next;
    }
    return x;
  }
};

tb::LoadedModel tiny_bert(const fs::path& dir, const std::string& architecture) {
  const fs::path start = dir / "start.json";
  std::ofstream(start) << json{
      {"model_type", "bert"},
      {"architectures", {architecture}},
      {"hidden_size", 24},
      {"num_hidden_layers", 2},
      {"num_attention_heads", 3},
      {"intermediate_size", 40},
      {"max_position_embeddings", 16},
      {"type_vocab_size", 2},
      {"num_labels", 3}}.dump();
  tb::InitModelOptions init;
  init.config = start;
  init.out = dir / architecture;
  init.vocab_size = 29;
  init.seed = 5;
  tb::init_model(init);
  {  // scale the std-0.02 weights up so every part shapes the output; LayerNorm scales near 1
    const tb::SafetensorsFile file(init.out / "model.safetensors");
    std::vector<std::pair<std::string, Tensor>> scaled;
    for (const std::string& name : file.names()) {
      Tensor t = file.tensor(name).clone();
      const bool norm = name.find("LayerNorm.weight") != std::string::npos;
      scaled.emplace_back(name, norm ? 1 + t.uniform_(-0.5, 0.5) : t * 20 + 0.01);
    }
    tb::save_safetensors(init.out / "model.safetensors", scaled);
  }
  return tb::load_model(init.out);
}

double max_abs(const Tensor& a, const Tensor& b) {
  return (a.to(torch::kFloat64) - b).abs().max().item<double>();
}

}  // namespace

class TestBertReference : public QObject {
  Q_OBJECT
 private slots:
  void classificationAndMaskedLmMatchNaiveFloat64Reference() {
    QTemporaryDir dir;
    const std::vector<int64_t> ids = {2, 17, 8, 25, 3, 0, 0};
    const std::vector<int64_t> types = {0, 0, 0, 1, 1, 0, 0};
    const std::vector<int> mask = {1, 1, 1, 1, 1, 0, 0};
    tb::ModelBatch batch;
    batch.input_ids = torch::tensor(ids).unsqueeze(0);
    batch.token_type_ids = torch::tensor(types).unsqueeze(0);
    batch.attention_mask =
        torch::tensor(std::vector<int64_t>(mask.begin(), mask.end())).unsqueeze(0);

    const tb::LoadedModel classifier =
        tiny_bert(dir.path().toStdString(), "BertForSequenceClassification");
    const tb::SafetensorsFile cls_file(classifier.folder / "model.safetensors");
    const BertReference cls_ref{cls_file, classifier.config};
    const std::vector<Tensor> hidden = cls_ref.encode(ids, types, mask);
    const Tensor pooled = torch::tanh(cls_ref.linear("bert.pooler.dense", hidden[0]));
    const Tensor expected = cls_ref.linear("classifier", pooled);
    const Tensor got = classifier.model->forward(batch).logits[0];
    const double cls_diff = max_abs(got, expected);
    qInfo("classification: max diff %.3g (logits up to %.3g)", cls_diff,
          expected.abs().max().item<double>());
    QVERIFY(expected.abs().max().item<double>() > 0.1);
    QVERIFY2(cls_diff <= 1e-4, qPrintable(QString::number(cls_diff)));

    const tb::LoadedModel mlm = tiny_bert(dir.path().toStdString(), "BertForMaskedLM");
    const tb::SafetensorsFile mlm_file(mlm.folder / "model.safetensors");
    const BertReference mlm_ref{mlm_file, mlm.config};
    const std::vector<Tensor> states = mlm_ref.encode(ids, types, mask);
    const Tensor logits = mlm.model->forward(batch).logits[0];
    double mlm_diff = 0;
    for (int64_t t = 0; t < 5; ++t) {  // real tokens only
      const Tensor transformed = mlm_ref.layer_norm(
          "cls.predictions.transform.LayerNorm",
          BertReference::gelu(mlm_ref.linear("cls.predictions.transform.dense", states[t])));
      const Tensor row =
          torch::mv(mlm_ref.w("bert.embeddings.word_embeddings.weight"), transformed) +
          mlm_ref.w("cls.predictions.bias");
      mlm_diff = std::max(mlm_diff, max_abs(logits[t], row));
    }
    qInfo("masked LM: max diff %.3g", mlm_diff);
    QVERIFY2(mlm_diff <= 1e-4, qPrintable(QString::number(mlm_diff)));
  }
};

QTEST_GUILESS_MAIN(TestBertReference)
#include "test_bert_reference.moc"
