// core/methods: LoRA (init, PEFT counts, merge/unmerge, rsLoRA, DoRA, PEFT adapter files), NF4
// quantisation and QLoRA, each method trained with tb::train on a tiny model.
// LibTorch before Qt: Qt's `slots` macro would break torch's headers.
#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest>

#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/io/safetensors.h"
#include "core/methods/adapter_load.h"
#include "core/methods/lora_linear.h"
#include "core/methods/nf4.h"
#include "core/methods/registry.h"
#include "core/nn/linear.h"
#include "core/train/memory.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"
#include "method_fixtures.h"

namespace fs = std::filesystem;
using namespace method_fixtures;

class TestLora : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { at::set_num_threads(1); }

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

    QVERIFY_EXCEPTION_THROWN(tb::apply_method(model, config), tb::Error);  // applied twice

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

  void doraStartsAtBaseMergesAndTrains() {
    auto model = tiny_llama(tb::ModelTask::kCausalLm);
    model->eval();
    tb::ModelBatch batch = ToySource(ToySource::Kind::kCausalLm, 1).batch(0, 0);
    const torch::Tensor base = model->forward(batch).logits.detach();
    tb::RunConfig config = method_config("lora");
    config.method.lora_target = {"q_proj", "v_proj"};
    config.method.lora_rank = 4;
    config.method.use_dora = true;
    auto method = tb::apply_method(model, config);
    QVERIFY(max_diff(model->forward(batch).logits, base) < 1e-5);  // m = ‖W‖, B = 0
    // r·(in + out) + out per target (the magnitude vector).
    QCOMPARE(method->report().trainable, int64_t(3 * (4 * 64 + 32 + 4 * 48 + 16)));
    auto layer = model->named_modules()["model.layers.1.self_attn.v_proj"]->as<tb::LinearImpl>();
    const torch::Tensor weight = layer->weight.detach().clone();
    {
      torch::NoGradGuard no_grad;
      for (auto& [name, tensor] : method->trainable()) tensor.add_(torch::randn_like(tensor) * 0.1);
    }
    // DoRA's output is x·W'ᵀ with W' = m/‖W + s·B·A‖ ⊙ (W + s·B·A) (s = alpha/r = 8/4).
    const torch::Tensor x = torch::randn({3, 32});
    const auto parameters = layer->named_parameters();
    const torch::Tensor updated =
        weight + 2.0 * torch::matmul(parameters["lora_B.weight"], parameters["lora_A.weight"]);
    const torch::Tensor expected = torch::matmul(
        x,
        (updated * (parameters["lora_magnitude_vector.weight"] / updated.norm(2, 1)).unsqueeze(1))
            .t());
    QVERIFY(max_diff(layer->forward(x), expected) < 1e-5);
    const torch::Tensor adapted = model->forward(batch).logits.detach();
    method->merge();
    QVERIFY(max_diff(model->forward(batch).logits, adapted) < 1e-4);
    method->unmerge();
    QVERIFY(max_diff(layer->weight, weight) < 1e-6);
    QTemporaryDir dir;
    method->save(dir.path().toStdString());
    tb::SafetensorsFile file(fs::path(dir.path().toStdString()) / "adapter_model.safetensors");
    QCOMPARE(
        file.entry("base_model.model.model.layers.2.self_attn.q_proj.lora_magnitude_vector.weight")
            .shape,
        (std::vector<int64_t>{32}));

    auto fresh = tb::apply_method(tiny_llama(tb::ModelTask::kCausalLm), config);
    check_training(*fresh, ToySource::Kind::kCausalLm, 3e-2);
  }

  void loraAdapterRoundTrips() {
    // Save a trained-looking rsLoRA + DoRA adapter with a classifier, load it onto a fresh
    // copy of the base: same outputs. A config that disagrees with the tensors is refused.
    QTemporaryDir dir;
    const fs::path folder = dir.path().toStdString();
    tb::RunConfig config = method_config("lora");
    config.method.lora_target = {"query", "value"};
    config.method.lora_rank = 4;
    config.method.use_rslora = true;
    config.method.use_dora = true;
    auto model = tiny_bert(tb::ModelTask::kSequenceClassification);
    model->eval();
    auto method = tb::apply_method(model, config);
    {
      torch::NoGradGuard no_grad;
      for (auto& [name, tensor] : method->trainable()) tensor.add_(torch::randn_like(tensor) * 0.1);
    }
    method->save(folder);
    tb::ModelBatch batch = ToySource(ToySource::Kind::kClassify, 1).batch(0, 0);
    const torch::Tensor expected = model->forward(batch).logits.detach();

    auto fresh = tiny_bert(tb::ModelTask::kSequenceClassification);
    fresh->eval();
    QVERIFY(max_diff(fresh->forward(batch).logits, expected) > 1e-3);
    auto loaded = tb::load_adapter(fresh, folder, method_config("lora"));
    QCOMPARE(loaded->report().trainable, method->report().trainable);
    QCOMPARE(max_diff(fresh->forward(batch).logits, expected), 0.0);

    auto adapter_config = nlohmann::json::parse(tb::read_file(folder / "adapter_config.json"));
    adapter_config["r"] = 8;
    tb::write_file_atomic(folder / "adapter_config.json", adapter_config.dump());
    try {
      tb::load_adapter(tiny_bert(tb::ModelTask::kSequenceClassification), folder,
                       method_config("lora"));
      QFAIL("a rank mismatch was accepted");
    } catch (const tb::Error& error) {
      QVERIFY2(QString(error.what()).contains("lora_A.weight") &&
                   QString(error.what()).contains("shape"),
               error.what());
    }
  }

  // The folded form x·(W + s·B·A)ᵀ + b the adapters train with matches PEFT's unfolded
  // x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ in value and in the gradients of x, A and B (fp64 reference), for a
  // dense and an NF4 base, with and without an input gradient and without a graph.
  void foldedLoraLinearMatchesPeftsForm() {
    torch::manual_seed(3);
    const int64_t in = 24, out = 40, rank = 4;
    const double scale = 2.5;
    const torch::Tensor dense = torch::randn({out, in}) * 0.2;
    const tb::Nf4Tensor nf4 = tb::nf4_quantize(dense, /*double_quantization=*/true);
    const torch::Tensor bias = torch::randn({out});
    for (const bool quantized : {false, true}) {
      for (const bool x_grad : {true, false}) {
        const tb::LoraBaseWeight base{quantized ? torch::Tensor() : dense,
                                      quantized ? &nf4 : nullptr};
        const torch::Tensor weight = quantized ? tb::nf4_dequantize(nf4, torch::kFloat32) : dense;
        torch::Tensor x = torch::randn({2, 7, in}).requires_grad_(x_grad);
        torch::Tensor a = (torch::randn({rank, in}) * 0.3).requires_grad_(true);
        torch::Tensor b = (torch::randn({out, rank}) * 0.3).requires_grad_(true);
        const torch::Tensor grad = torch::randn({2, 7, out});
        QVERIFY(tb::merged_lora_linear_applies(x, base, bias, a, b, /*dropout_active=*/false));
        const torch::Tensor y = tb::merged_lora_linear(x, base, bias, a, b, scale);
        y.backward(grad);

        const auto f64 = [](const torch::Tensor& t) {
          return t.detach().to(torch::kFloat64).requires_grad_(t.requires_grad());
        };
        torch::Tensor x64 = f64(x), a64 = f64(a), b64 = f64(b);
        const torch::Tensor y64 = torch::nn::functional::linear(x64, f64(weight), f64(bias)) +
                                  scale * torch::matmul(torch::matmul(x64, a64.t()), b64.t());
        y64.backward(grad.to(torch::kFloat64));
        QCOMPARE(y.sizes(), y64.sizes());
        QVERIFY(max_diff(y, y64) < 1e-5);
        QVERIFY(max_diff(a.grad(), a64.grad()) < 1e-4);
        QVERIFY(max_diff(b.grad(), b64.grad()) < 1e-4);
        QCOMPARE(x.grad().defined(), x_grad);
        if (x_grad) QVERIFY(max_diff(x.grad(), x64.grad()) < 1e-5);
        torch::NoGradGuard no_grad;
        QVERIFY(max_diff(tb::merged_lora_linear(x, base, bias, a, b, scale), y64) < 1e-5);
      }
    }
    // Where the folded sum would round the update away (bf16) or the two products would see
    // different inputs (dropout), the adapter keeps PEFT's form.
    const tb::LoraBaseWeight base{dense, nullptr};
    const torch::Tensor x = torch::randn({3, in}), a = torch::randn({rank, in}),
                        b = torch::randn({out, rank});
    QVERIFY(!tb::merged_lora_linear_applies(x, base, bias, a, b, /*dropout_active=*/true));
    QVERIFY(!tb::merged_lora_linear_applies(x.to(torch::kBFloat16), base, bias, a, b, false));
    QVERIFY(!tb::merged_lora_linear_applies(x, tb::LoraBaseWeight{dense.to(torch::kBFloat16)}, bias,
                                            a, b, false));
    QVERIFY(
        !tb::merged_lora_linear_applies(x, base, bias.clone().requires_grad_(true), a, b, false));
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

  void nf4DoubleQuantisationUsesTheDynamicMap() {
    const auto& map = tb::nf4_scale_code();
    QCOMPARE(map.size(), size_t(256));
    QVERIFY(std::is_sorted(map.begin(), map.end()));
    QCOMPARE(map[255], 1.0f);
    QCOMPARE(map[254], 0.99296875f);  // (0.1 + 0.9·63/64 + 1) / 2
    QCOMPARE(map[0], -0.99296875f);
    QCOMPARE(map[128], 5.5e-7f);  // 10⁻⁶ · (0.1 + 1) / 2, the smallest positive
    QCOMPARE(map[127], 0.0f);
    // 300 blocks of 64 (2 blocks of 256 scales); one block of each kind holds an exact
    // multiple of the map: its scale comes back exactly.
    torch::Tensor weights = torch::zeros({300 * 64});
    for (int64_t b = 0; b < 300; ++b) weights[b * 64] = 1.0 + 0.01 * double(b % 7);
    const tb::Nf4Tensor q = tb::nf4_quantize(weights, true);
    QCOMPARE(q.absmax_codes.numel(), int64_t(300));
    QCOMPARE(q.absmax_scales.numel(), int64_t(2));
    const torch::Tensor true_scales = weights.view({300, 64}).amax(1);
    const torch::Tensor scales = tb::nf4_block_scales(q);
    QCOMPARE(q.absmax_offset, true_scales.mean().item<float>());
    // The error is at most half a step of the map near 1 (0.9/64/2) times the block of scales'
    // largest deviation from the mean.
    const double spread = (true_scales - q.absmax_offset).abs().max().item<double>();
    QVERIFY(max_diff(scales, true_scales) <= 0.9 / 64 / 2 * spread * 1.0001);
    QVERIFY(max_diff(scales, true_scales) > 0);  // really 8-bit, not a copy
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
      // Compute dtype bf16: the weights are dequantised straight to the input's dtype.
      const torch::Tensor x = torch::randn({4, 1024}, at::detail::createCPUGenerator(4));
      const torch::Tensor exact = torch::matmul(x, back.t());
      const torch::Tensor bf16 = tb::nf4_linear(x.to(torch::kBFloat16), q, torch::Tensor());
      QCOMPARE(bf16.scalar_type(), torch::kBFloat16);
      QVERIFY(max_diff(bf16, exact) < 0.02 * exact.abs().max().item<double>());
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
    QVERIFY(method->can_merge());
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
    // Merging dequantises the NF4 bases first: the merged full-precision model computes what
    // the trained QLoRA model computes, and every linear weight is back in full precision.
    model->eval();
    const torch::Tensor trained = model->forward(batch).logits.detach();
    method->merge();
    const double merged_diff = max_diff(model->forward(batch).logits, trained);
    qInfo("QLoRA merged vs adapter forward: max abs diff %.3g", merged_diff);
    QVERIFY(merged_diff <= 1e-4);
    QCOMPARE(layer->weight.sizes(), ref_layer->weight.sizes());
    QCOMPARE(method->report().total - method->report().trainable,
             tb::count_parameters(*reference).total);
  }

  void qloraWeightMemoryByRss() {
    // A ~50M-parameter Llama: the resident-set growth of the QLoRA model (NF4 linears, fp32
    // embeddings, LoRA q/v as recipe B) is below 0.3× that of the fp32 model.
    const nlohmann::json shape = {{"model_type", "llama"},        {"vocab_size", 1000},
                                  {"hidden_size", 768},           {"intermediate_size", 2048},
                                  {"num_hidden_layers", 7},       {"num_attention_heads", 12},
                                  {"max_position_embeddings", 64}};
    const auto rss = [] {
      malloc_trim(0);
      tb::MemoryStats stats;
      tb::read_process_memory(stats);
      return stats.rss_bytes;
    };
    const int64_t before = rss();
    auto model = tb::build_model(shape, tb::ModelTask::kCausalLm, "rss-test");
    tb::init_weights(*model, 5);
    const int64_t fp32 = rss() - before;
    const int64_t parameters = tb::count_parameters(*model).total;
    tb::RunConfig config = method_config("lora");
    config.method.quantization_bit = 4;
    config.method.lora_target = {"q_proj", "v_proj"};
    auto method = tb::apply_method(model, config);
    const int64_t quantised = rss() - before;
    qInfo("%lld parameters: fp32 model +%.1f MB RSS, QLoRA model +%.1f MB (%.3f); %s",
          (long long)parameters, fp32 / 1e6, quantised / 1e6, double(quantised) / double(fp32),
          method->report().text().c_str());
    QVERIFY(parameters > 45'000'000);
    QVERIFY(fp32 > 0.9 * 4 * parameters);
    QVERIFY(quantised <= 0.3 * double(fp32));
  }
};

QTEST_GUILESS_MAIN(TestLora)
#include "test_lora.moc"
