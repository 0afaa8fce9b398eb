// An independent, deliberately naive re-implementation of the Llama-family forward pass, in
// float64, one position and one head at a time, reading weights straight from the
// safetensors file by their transformers names. It shares no code with core/nn or
// core/models, so it catches wrong head grouping (GQA), rotary pairing, norm placement,
// biases and tying. (The llama.cpp cross-check lands with the GGUF writer.)
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

struct Reference {
  const tb::SafetensorsFile& file;
  const json& config;

  Tensor w(const std::string& name) const { return file.tensor(name).to(torch::kFloat64); }
  bool has(const std::string& name) const { return file.contains(name); }
  int64_t get(const char* key) const { return config.at(key).get<int64_t>(); }

  Tensor rms_norm(const Tensor& x, const Tensor& weight) const {
    const double eps = config.value("rms_norm_eps", 1e-6);
    return x / std::sqrt((x * x).mean().item<double>() + eps) * weight;
  }

  Tensor linear(const std::string& name, const Tensor& x) const {
    Tensor y = torch::mv(w(name + ".weight"), x);
    if (has(name + ".bias")) y = y + w(name + ".bias");
    return y;
  }

  // Rotates dimension i together with i + D/2 by position × theta^(-2i/D).
  Tensor rope(const Tensor& x, int64_t position) const {
    const int64_t dim = x.size(0), half = dim / 2;
    const double theta = config.value("rope_theta", 10000.0);
    Tensor out = x.clone();
    for (int64_t i = 0; i < half; ++i) {
      const double angle = double(position) * std::pow(theta, -2.0 * double(i) / double(dim));
      const double a = x[i].item<double>(), b = x[i + half].item<double>();
      out[i] = a * std::cos(angle) - b * std::sin(angle);
      out[i + half] = b * std::cos(angle) + a * std::sin(angle);
    }
    return out;
  }

  Tensor logits(const std::vector<int64_t>& ids) const {
    const int64_t heads = get("num_attention_heads"), kv_heads = get("num_key_value_heads");
    const int64_t dim = get("head_dim"), length = int64_t(ids.size());
    const int64_t window = config.value("sliding_window", json()).is_number_integer()
                               ? config["sliding_window"].get<int64_t>()
                               : 0;
    const Tensor embedding = w("model.embed_tokens.weight");
    std::vector<Tensor> x;
    for (int64_t id : ids) x.push_back(embedding[id].clone());
    for (int64_t layer = 0; layer < get("num_hidden_layers"); ++layer) {
      const std::string p = "model.layers." + std::to_string(layer) + ".";
      std::vector<std::vector<Tensor>> q(length), k(length), v(length);
      for (int64_t t = 0; t < length; ++t) {
        const Tensor h = rms_norm(x[t], w(p + "input_layernorm.weight"));
        const Tensor qt = linear(p + "self_attn.q_proj", h);
        const Tensor kt = linear(p + "self_attn.k_proj", h);
        const Tensor vt = linear(p + "self_attn.v_proj", h);
        for (int64_t head = 0; head < heads; ++head) {
          Tensor part = qt.slice(0, head * dim, (head + 1) * dim);
          if (has(p + "self_attn.q_norm.weight")) {
            part = rms_norm(part, w(p + "self_attn.q_norm.weight"));
          }
          q[t].push_back(rope(part, t));
        }
        for (int64_t head = 0; head < kv_heads; ++head) {
          Tensor part = kt.slice(0, head * dim, (head + 1) * dim);
          if (has(p + "self_attn.k_norm.weight")) {
            part = rms_norm(part, w(p + "self_attn.k_norm.weight"));
          }
          k[t].push_back(rope(part, t));
          v[t].push_back(vt.slice(0, head * dim, (head + 1) * dim));
        }
      }
      std::vector<Tensor> next;
      for (int64_t t = 0; t < length; ++t) {
        std::vector<Tensor> outputs;
        for (int64_t head = 0; head < heads; ++head) {
          const int64_t group = head / (heads / kv_heads);  // query heads share kv heads in runs
          const int64_t first = window > 0 ? std::max<int64_t>(0, t - window + 1) : 0;
          std::vector<double> scores;
          for (int64_t j = first; j <= t; ++j) {
            scores.push_back(torch::dot(q[t][head], k[j][group]).item<double>() /
                             std::sqrt(double(dim)));
          }
          const double top = *std::max_element(scores.begin(), scores.end());
          double total = 0;
          for (double& s : scores) total += (s = std::exp(s - top));
          Tensor out = torch::zeros({dim}, torch::kFloat64);
          for (int64_t j = first; j <= t; ++j) out += scores[j - first] / total * v[j][group];
          outputs.push_back(out);
        }
        Tensor h = x[t] + linear(p + "self_attn.o_proj", torch::cat(outputs));
        const Tensor n = rms_norm(h, w(p + "post_attention_layernorm.weight"));
        const Tensor gate = linear(p + "mlp.gate_proj", n);
        const Tensor up = linear(p + "mlp.up_proj", n);
        h = h + linear(p + "mlp.down_proj", gate / (1 + torch::exp(-gate)) * up);
        next.push_back(h);
      }
      x = next;
    }
    const Tensor head = has("lm_head.weight") ? w("lm_head.weight") : embedding;
    std::vector<Tensor> rows;
    for (const Tensor& xt : x)
      rows.push_back(torch::mv(head, rms_norm(xt, w("model.norm.weight"))));
    return torch::stack(rows);
  }
};

}  // namespace

class TestLlamaReference : public QObject {
  Q_OBJECT
 private slots:
  void forwardMatchesNaiveFloat64Reference_data() {
    QTest::addColumn<QString>("arch");
    QTest::addColumn<int>("kv_heads");
    QTest::addColumn<bool>("tied");
    QTest::newRow("llama GQA tied") << "llama" << 2 << true;
    QTest::newRow("llama MQA") << "llama" << 1 << false;
    QTest::newRow("mistral window") << "mistral" << 2 << false;
    QTest::newRow("qwen2 bias") << "qwen2" << 2 << false;
    QTest::newRow("qwen3 qk-norm") << "qwen3" << 4 << true;
  }
  void forwardMatchesNaiveFloat64Reference() {
    QFETCH(QString, arch);
    QFETCH(int, kv_heads);
    QFETCH(bool, tied);
    QTemporaryDir dir;
    // Shapes go through a --config file so qwen3 can have head_dim ≠ hidden / heads.
    const fs::path start = fs::path(dir.path().toStdString()) / "start.json";
    json shape = {{"model_type", arch.toStdString()},
                  {"hidden_size", 24},
                  {"num_hidden_layers", 2},
                  {"num_attention_heads", 4},
                  {"num_key_value_heads", kv_heads},
                  {"intermediate_size", 40},
                  {"rope_theta", 1000.0},
                  {"tie_word_embeddings", tied}};
    if (arch == "qwen3") shape["head_dim"] = 8;
    if (arch == "mistral") shape["sliding_window"] = 3;  // shorter than the prompt
    std::ofstream(start) << shape.dump();
    tb::InitModelOptions init;
    init.config = start;
    init.out = fs::path(dir.path().toStdString()) / "model";
    init.vocab_size = 37;
    init.seed = 11;
    tb::init_model(init);
    const json config = json::parse(std::ifstream(init.out / "config.json"));
    QCOMPARE(config["head_dim"].get<int64_t>(), arch == "qwen3" ? int64_t(8) : int64_t(6));
    // Random weights at std 0.02 barely move the residual stream; scale them up so every
    // component visibly shapes the logits.
    {
      const tb::SafetensorsFile file(init.out / "model.safetensors");
      std::vector<std::pair<std::string, Tensor>> scaled;
      for (const std::string& name : file.names()) {
        const bool norm = name.find("norm") != std::string::npos;
        Tensor t = file.tensor(name).clone();
        scaled.emplace_back(name, norm ? 1 + t.uniform_(-0.5, 0.5) : t * 15);
      }
      tb::save_safetensors(init.out / "model.safetensors", scaled);
    }

    const tb::LoadedModel loaded = tb::load_model(init.out);
    const std::vector<int64_t> ids = {3, 14, 15, 9, 26, 5, 35};
    tb::ModelBatch batch;
    batch.input_ids = torch::tensor(ids).unsqueeze(0);
    const Tensor ours = loaded.model->forward(batch).logits[0].to(torch::kFloat64);
    const tb::SafetensorsFile file(init.out / "model.safetensors");
    const Tensor reference = Reference{file, config}.logits(ids);
    const double diff = (ours - reference).abs().max().item<double>();
    const double scale = reference.abs().max().item<double>();
    qInfo("%s: max |ours - float64 reference| = %.3g (logits up to %.3g)", qPrintable(arch), diff,
          scale);
    QVERIFY(scale > 0.5);  // the logits are far from trivial
    QVERIFY2(diff <= 1e-4, qPrintable(QString::number(diff)));
  }
};

QTEST_GUILESS_MAIN(TestLlamaReference)
#include "test_llama_reference.moc"
