// core/io/gguf and core/export: the GGUF container (round trip, q8_0 as ggml rounds, corrupt
// files refused), llama.cpp's tensor layout and metadata, merged Hugging Face folders (sharded,
// reloading with the logits of base + adapter), PEFT adapter files, and the export job's
// refusal to overwrite. llama.cpp itself checks our GGUF files in tests/interop/gguf_interop.js.
// LibTorch before Qt: Qt's `slots` macro would break torch's headers.
#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/export/export_job.h"
#include "core/export/gguf_model.h"
#include "core/export/merged_model.h"
#include "core/io/gguf.h"
#include "core/io/hf_folder.h"
#include "core/io/safetensors.h"
#include "core/methods/registry.h"
#include "core/models/init_model.h"
#include "core/models/loader.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace fs = std::filesystem;

namespace {

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat32) - b.to(torch::kFloat32)).abs().max().item<double>();
}

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const tb::Error& error) {
    return error.what();
  }
  return "";
}

tb::ModelBatch sample_batch(int64_t vocab) {
  tb::ModelBatch batch;
  batch.input_ids = torch::randint(vocab, {2, 12}, at::detail::createCPUGenerator(7));
  return batch;
}

}  // namespace

class TestExport : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    at::set_num_threads(1);
    QVERIFY(dir_.isValid());
    root_ = dir_.path().toStdString();
    tb::InitModelOptions init;
    init.arch = "llama";
    init.out = root_ / "base";
    init.tokenizer = fs::path(TB_SOURCE_DIR) / "resources/demo/models/tiny-llama/tokenizer.json";
    init.hidden_size = 64;
    init.num_layers = 2;
    init.num_heads = 4;
    init.num_kv_heads = 2;
    init.tie_word_embeddings = false;
    init.seed = 3;
    tb::init_model(init);
    store_.path = root_ / "runs.db";

    // A LoRA adapter with non-zero B on every linear layer, saved as PEFT writes it.
    auto model = tb::load_model(root_ / "base").model;
    tb::RunConfig config;
    config.model.model_name_or_path = (root_ / "base").string();
    config.method.finetuning_type = "lora";
    config.method.lora_rank = 4;
    config.method.lora_alpha = 8;
    auto method = tb::apply_method(model, config);
    torch::NoGradGuard no_grad;
    for (auto& [name, tensor] : method->trainable()) {
      if (name.find("lora_B") != std::string::npos) {
        tensor.copy_(torch::randn(tensor.sizes(), at::detail::createCPUGenerator(11)) * 0.05);
      }
    }
    model->eval();
    adapted_logits_ = model->forward(sample_batch(model->vocab_size())).logits.detach();
    method->save(root_ / "adapter");
  }

  void ggufRoundTripsMetadataAndTensors() {
    tb::GgufWriter writer;
    writer.set("general.architecture", tb::GgufValue::string("llama"));
    writer.set("a.u32", tb::GgufValue::u32(4000000000u));
    writer.set("a.i32", tb::GgufValue::i32(-7));
    writer.set("a.u64", tb::GgufValue::u64(1ull << 40));
    writer.set("a.f32", tb::GgufValue::f32(1e-5f));
    writer.set("a.bool", tb::GgufValue::boolean(true));
    writer.set("a.strings", tb::GgufValue::strings_array({"Ġthe", "", "<|end|>", "ü 字"}));
    writer.set("a.ints", tb::GgufValue::i32_array({1, 3, -4}));
    writer.set("a.floats", tb::GgufValue::f32_array({0.5f, -2.25f}));
    const torch::Tensor matrix = torch::randn({5, 64}, at::detail::createCPUGenerator(1));
    const torch::Tensor vector = torch::randn({7}, at::detail::createCPUGenerator(2));
    writer.add_tensor("m.f32", matrix, tb::GgmlType::kF32);
    writer.add_tensor("v.f32", vector, tb::GgmlType::kF32);
    writer.add_tensor("m.f16", matrix, tb::GgmlType::kF16);
    writer.add_tensor("m.bf16", matrix, tb::GgmlType::kBF16);
    writer.add_tensor("m.q8_0", matrix, tb::GgmlType::kQ8_0);
    const fs::path path = root_ / "roundtrip.gguf";
    writer.write(path);
    QCOMPARE(fs::file_size(path), writer.file_bytes());

    const tb::GgufFile file(path);
    QCOMPARE(file.version(), 3u);
    QCOMPARE(file.metadata().size(), size_t(9));
    QVERIFY(file.value("a.strings") ==
            tb::GgufValue::strings_array({"Ġthe", "", "<|end|>", "ü 字"}));
    QVERIFY(file.value("a.u32") == tb::GgufValue::u32(4000000000u));
    QVERIFY(file.value("a.u64") == tb::GgufValue::u64(1ull << 40));
    QVERIFY(file.value("a.f32") == tb::GgufValue::f32(1e-5f));
    QVERIFY(file.value("a.ints") == tb::GgufValue::i32_array({1, 3, -4}));
    // ggml order: dims[0] is the row length (torch's last dimension); offsets 32-aligned.
    QCOMPARE(file.tensor_info("m.f32").dims, (std::vector<int64_t>{64, 5}));
    for (const auto& info : file.tensors()) QCOMPARE(info.offset % 32, uint64_t(0));
    QCOMPARE(max_diff(file.tensor("m.f32"), matrix), 0.0);
    QCOMPARE(max_diff(file.tensor("v.f32"), vector), 0.0);
    QCOMPARE(max_diff(file.tensor("m.f16"), matrix.to(torch::kHalf)), 0.0);
    QCOMPARE(max_diff(file.tensor("m.bf16"), matrix.to(torch::kBFloat16)), 0.0);
    // q8_0: each block of 32 is off by at most half a step (absmax/127/2) plus fp16 rounding.
    const torch::Tensor blocks = matrix.reshape({-1, 32});
    const torch::Tensor step = blocks.abs().amax(1, true) / 127;
    const torch::Tensor error = (file.tensor("m.q8_0").reshape({-1, 32}) - blocks).abs();
    QVERIFY((error <= step * 0.5 + blocks.abs() * 1e-3 + 1e-7).all().item<bool>());
  }

  void q8RoundsHalfAwayFromZeroLikeGgml() {
    // absmax 127 → d = 1: 2.5 and -2.5 are codes 3 and -3 (roundf), not 2 and -2 (banker's).
    torch::Tensor block = torch::zeros({32});
    block[0] = 127;
    block[1] = 2.5;
    block[2] = -2.5;
    block[3] = 0.49;
    const std::string bytes = tb::encode_ggml(block, tb::GgmlType::kQ8_0);
    QCOMPARE(bytes.size(), size_t(34));
    QCOMPARE(int(int8_t(bytes[2 + 1])), 3);
    QCOMPARE(int(int8_t(bytes[2 + 2])), -3);
    QCOMPARE(int(int8_t(bytes[2 + 3])), 0);
    QCOMPARE(int(uint8_t(bytes[0])) | (int(uint8_t(bytes[1])) << 8), 0x3C00);  // fp16 1.0
    QCOMPARE(tb::encode_ggml(torch::zeros({32}), tb::GgmlType::kQ8_0), std::string(34, '\0'));
    QVERIFY(error_of([] {
              tb::GgufWriter writer;
              writer.add_tensor("odd", torch::zeros({4, 48}), tb::GgmlType::kQ8_0);
            }).find("multiple of 32") != std::string::npos);
  }

  void corruptGgufFilesAreRefusedWithTheirName() {
    const fs::path good = root_ / "roundtrip.gguf";
    const std::string bytes = tb::read_file(good);
    const fs::path truncated = root_ / "truncated.gguf";
    tb::write_file_atomic(truncated, bytes.substr(0, bytes.size() / 3));
    const std::string message = error_of([&] { tb::GgufFile{truncated}; });
    QVERIFY2(message.find("truncated.gguf") != std::string::npos, message.c_str());
    const fs::path magic = root_ / "magic.gguf";
    tb::write_file_atomic(magic, "GGML" + bytes.substr(4));
    QVERIFY(error_of([&] { tb::GgufFile{magic}; }).find("not a GGUF file") != std::string::npos);
    std::string huge = bytes;
    huge[8] = '\xff';  // tensor count far beyond the file
    const fs::path count = root_ / "count.gguf";
    tb::write_file_atomic(count, huge);
    QVERIFY(error_of([&] { tb::GgufFile{count}; }).find("cannot fit") != std::string::npos);
  }

  void ropePermutationInterleavesEachHeadsHalves() {
    // transformers rotates (i, i + d/2); llama.cpp rotates (2i, 2i + 1) within each head.
    const int64_t heads = 2, dim = 8;
    const torch::Tensor rows = torch::arange(heads * dim).to(torch::kFloat32).unsqueeze(1);
    const torch::Tensor permuted = tb::permute_for_llama_rope(rows, heads);
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t i = 0; i < dim / 2; ++i) {
        QCOMPARE(permuted[h * dim + 2 * i][0].item<float>(), float(h * dim + i));
        QCOMPARE(permuted[h * dim + 2 * i + 1][0].item<float>(), float(h * dim + dim / 2 + i));
      }
    }
  }

  void ggufModelHasLlamaCppNamesAndMetadata() {
    tb::ExportOptions options;
    options.format = "gguf";
    options.dtype = "q8_0";
    options.out = root_ / "model-q8_0.gguf";
    const tb::ExportSource source =
        tb::resolve_export_source((root_ / "base").string(), options, store_);
    const tb::ExportResult result = tb::run_export(source, options, store_);
    QVERIFY2(result.verification.find("within its type's rounding") != std::string::npos,
             result.verification.c_str());
    const tb::GgufFile file(options.out);
    QVERIFY(file.value("general.architecture") == tb::GgufValue::string("llama"));
    QVERIFY(file.value("llama.block_count") == tb::GgufValue::u32(2));
    QVERIFY(file.value("llama.attention.head_count_kv") == tb::GgufValue::u32(2));
    QVERIFY(file.value("tokenizer.ggml.model") == tb::GgufValue::string("gpt2"));
    QVERIFY(file.value("tokenizer.ggml.pre") == tb::GgufValue::string("gpt-2"));
    QCOMPARE(file.value("tokenizer.ggml.tokens").strings.size(), size_t(4096));
    QVERIFY(file.has("tokenizer.chat_template"));
    const auto base = tb::load_model(root_ / "base").model;
    auto weights = base->named_parameters();
    QCOMPARE(file.tensor_info("blk.1.attn_q.weight").type, tb::GgmlType::kQ8_0);
    QCOMPARE(file.tensor_info("blk.1.attn_norm.weight").type, tb::GgmlType::kF32);
    QVERIFY(file.tensors().size() == size_t(3 + 2 * 9));  // embd, norm, output + 9 per layer
    const torch::Tensor k = weights["model.layers.1.self_attn.k_proj.weight"];
    QVERIFY(max_diff(file.tensor("blk.1.attn_k.weight"), tb::permute_for_llama_rope(k, 2)) <
            k.abs().max().item<double>() / 127);
    const torch::Tensor v = weights["model.layers.1.self_attn.v_proj.weight"];
    QVERIFY(max_diff(file.tensor("blk.1.attn_v.weight"), v) < v.abs().max().item<double>() / 127);
  }

  void qwen2BiasesAndTiedHeadReachTheGguf() {
    // init-model leaves biases at zero; random ones show that each lands under its own name,
    // unpermuted (qwen2 rotates halves in llama.cpp too), and that a tied head writes no output.
    tb::InitModelOptions init;
    init.arch = "qwen2";
    init.out = root_ / "qwen2";
    init.tokenizer = fs::path(TB_SOURCE_DIR) / "resources/demo/models/tiny-llama/tokenizer.json";
    init.tie_word_embeddings = true;
    auto model = tb::init_model(init);
    {
      torch::NoGradGuard no_grad;
      for (auto& item : model->named_parameters()) {
        if (item.key().find(".bias") != std::string::npos) item.value().normal_(0, 0.5);
      }
    }
    tb::save_model(*model, init.out);
    tb::ExportOptions options;
    options.format = "gguf";
    options.out = root_ / "qwen2.gguf";
    tb::run_export(tb::resolve_export_source(init.out.string(), options, store_), options, store_);
    const tb::GgufFile file(options.out);
    QVERIFY(file.value("general.architecture") == tb::GgufValue::string("qwen2"));
    auto weights = model->named_parameters();
    for (const char* name : {"q", "k", "v"}) {
      const std::string bias = "model.layers.1.self_attn." + std::string(name) + "_proj.bias";
      QCOMPARE(max_diff(file.tensor("blk.1.attn_" + std::string(name) + ".bias"), weights[bias]),
               0.0);
      QCOMPARE(max_diff(file.tensor("blk.1.attn_" + std::string(name) + ".weight"),
                        weights["model.layers.1.self_attn." + std::string(name) + "_proj.weight"]),
               0.0);
    }
    QVERIFY(
        std::none_of(file.tensors().begin(), file.tensors().end(),
                     [](const tb::GgufTensorInfo& info) { return info.name == "output.weight"; }));
  }

  void mergedFolderReloadsWithTheAdapterLogits() {
    tb::ExportOptions options;
    options.format = "merged";
    options.out = root_ / "merged";
    options.max_shard_size = tb::parse_byte_size("300KB");
    const tb::ExportSource source =
        tb::resolve_export_source((root_ / "adapter").string(), options, store_);
    QCOMPARE(source.config.model.model_name_or_path, (root_ / "base").string());
    const tb::ExportResult result = tb::run_export(source, options, store_);
    QVERIFY2(result.verification.find("bit-identical") != std::string::npos,
             result.verification.c_str());
    const nlohmann::json index =
        nlohmann::json::parse(tb::read_file(options.out / "model.safetensors.index.json"));
    std::set<std::string> shards;
    for (const auto& [name, file] : index["weight_map"].items()) {
      QVERIFY2(name.find("lora") == std::string::npos, name.c_str());
      shards.insert(file.get<std::string>());
    }
    QVERIFY(shards.size() > 1);
    QVERIFY(shards.count("model-00001-of-0000" + std::to_string(shards.size()) + ".safetensors"));
    QVERIFY(fs::exists(options.out / "tokenizer.json"));
    QVERIFY(tb::read_file(options.out / "README.md").find("library_name: transformers") !=
            std::string::npos);
    auto merged = tb::load_model(options.out).model;
    const double diff =
        max_diff(merged->forward(sample_batch(merged->vocab_size())).logits, adapted_logits_);
    qInfo("merged folder vs base + adapter: max abs logit diff %.3g", diff);
    QVERIFY(diff <= 1e-5);

    options.out = root_ / "merged-bf16";
    options.dtype = "bf16";
    options.max_shard_size = tb::parse_byte_size("5GB");
    tb::run_export(source, options, store_);
    QCOMPARE(tb::read_config_json(options.out)["torch_dtype"].get<std::string>(),
             std::string("bfloat16"));
    const tb::SafetensorsFile bf16(options.out / "model.safetensors");
    QCOMPARE(bf16.entry("model.norm.weight").dtype, std::string("BF16"));
  }

  void peftExportHasPeftsFilesAndACard() {
    tb::ExportOptions options;
    options.out = root_ / "peft";
    const tb::ExportSource source =
        tb::resolve_export_source((root_ / "adapter").string(), options, store_);
    tb::run_export(source, options, store_);
    const nlohmann::json config =
        nlohmann::json::parse(tb::read_file(options.out / "adapter_config.json"));
    for (const char* field :
         {"peft_type", "task_type", "base_model_name_or_path", "revision", "r", "lora_alpha",
          "lora_dropout", "target_modules", "bias", "fan_in_fan_out", "use_rslora", "use_dora",
          "modules_to_save", "init_lora_weights", "layers_to_transform", "inference_mode"}) {
      QVERIFY2(config.contains(field), field);
    }
    QCOMPARE(config["peft_type"].get<std::string>(), std::string("LORA"));
    QCOMPARE(config["task_type"].get<std::string>(), std::string("CAUSAL_LM"));
    const tb::SafetensorsFile file(options.out / "adapter_model.safetensors");
    QCOMPARE(file.metadata().at("format"), std::string("pt"));
    const auto base = tb::load_model(root_ / "base").model;
    auto modules = base->named_parameters();
    int64_t pairs = 0;
    for (const std::string& key : file.names()) {
      const bool a = key.find(".lora_A.weight") != std::string::npos;
      QVERIFY2(key.rfind("base_model.model.model.layers.", 0) == 0, key.c_str());
      QVERIFY2(a || key.find(".lora_B.weight") != std::string::npos, key.c_str());
      const std::string module = key.substr(17, key.size() - 17 - 14);
      const torch::Tensor weight = modules[module + ".weight"];
      const auto shape = file.entry(key).shape;
      if (a) {
        QCOMPARE(shape, (std::vector<int64_t>{4, weight.size(1)}));
        ++pairs;
      } else {
        QCOMPARE(shape, (std::vector<int64_t>{weight.size(0), 4}));
      }
    }
    QCOMPARE(pairs, int64_t(2 * 7));  // q k v o gate up down in 2 layers
    const std::string card = tb::read_file(options.out / "README.md");
    QVERIFY(card.find("library_name: peft") != std::string::npos);
    QVERIFY(card.find("PeftModel.from_pretrained") != std::string::npos);
    QVERIFY(fs::exists(options.out / "tokenizer.json"));
  }

  void exportNeverReplacesWithoutForceAndLeavesNoTemp() {
    tb::ExportOptions options;
    options.out = root_ / "keep";
    fs::create_directories(options.out);
    tb::write_file_atomic(options.out / "mine.txt", "user data");
    const tb::ExportSource source =
        tb::resolve_export_source((root_ / "adapter").string(), options, store_);
    const std::string refused = error_of([&] { tb::run_export(source, options, store_); });
    QVERIFY2(refused.find("already exists") != std::string::npos &&
                 refused.find("--force") != std::string::npos,
             refused.c_str());
    QCOMPARE(tb::read_file(options.out / "mine.txt"), std::string("user data"));
    options.force = true;
    tb::run_export(source, options, store_);
    QVERIFY(!fs::exists(options.out / "mine.txt"));
    QVERIFY(fs::exists(options.out / "adapter_model.safetensors"));
    for (const auto& entry : fs::directory_iterator(root_)) {
      const std::string name = entry.path().filename().string();
      QVERIFY2(name.find(".tmp-") == std::string::npos && name.find(".old-") == std::string::npos,
               name.c_str());
    }
  }

  void prefixAndDoraAdaptersExportWhereTheyCan() {
    // P-tuning v2: a PEFT PREFIX_TUNING adapter, never merged (its prompts are not weights).
    tb::RunConfig config;
    config.model.model_name_or_path = (root_ / "base").string();
    config.method.finetuning_type = "ptuning";
    config.method.pre_seq_len = 4;
    tb::apply_method(tb::load_model(root_ / "base").model, config)->save(root_ / "prefix");
    tb::ExportOptions options;
    options.out = root_ / "prefix-peft";
    const tb::ExportSource prefix =
        tb::resolve_export_source((root_ / "prefix").string(), options, store_);
    tb::run_export(prefix, options, store_);
    const nlohmann::json saved =
        nlohmann::json::parse(tb::read_file(options.out / "adapter_config.json"));
    QCOMPARE(saved["peft_type"].get<std::string>(), std::string("PREFIX_TUNING"));
    QCOMPARE(saved["num_virtual_tokens"].get<int64_t>(), int64_t(4));
    QVERIFY(tb::SafetensorsFile(options.out / "adapter_model.safetensors")
                .contains("prompt_embeddings"));
    options.format = "merged";
    options.out = root_ / "prefix-merged";
    QVERIFY(error_of([&] { tb::run_export(prefix, options, store_); }).find("P-tuning") !=
            std::string::npos);
    QVERIFY(!fs::exists(options.out));

    // DoRA merges (its magnitude folds into the weights) but has no llama.cpp adapter form.
    config.method.finetuning_type = "lora";
    config.method.use_dora = true;
    config.method.lora_rank = 2;
    tb::apply_method(tb::load_model(root_ / "base").model, config)->save(root_ / "dora");
    options.format = "gguf-lora";
    options.out = root_ / "dora.gguf";
    const tb::ExportSource dora =
        tb::resolve_export_source((root_ / "dora").string(), options, store_);
    QVERIFY(error_of([&] { tb::run_export(dora, options, store_); }).find("DoRA") !=
            std::string::npos);
    options.format = "gguf";
    tb::run_export(dora, options, store_);
    QVERIFY(tb::GgufFile(options.out).has("general.architecture"));
  }

  void unsupportedExportsSayWhatToDoInstead() {
    tb::ExportOptions options;
    options.format = "peft";
    options.out = root_ / "nothing";
    const tb::ExportSource whole =
        tb::resolve_export_source((root_ / "base").string(), options, store_);
    QVERIFY(error_of([&] { tb::run_export(whole, options, store_); }).find("--format merged") !=
            std::string::npos);
    tb::InitModelOptions bert;
    bert.arch = "bert";
    bert.out = root_ / "bert";
    bert.tokenizer = fs::path(TB_SOURCE_DIR) / "resources/demo/models/tiny-bert/tokenizer.json";
    tb::init_model(bert);
    options.format = "gguf";
    const tb::ExportSource encoder =
        tb::resolve_export_source((root_ / "bert").string(), options, store_);
    const std::string message = error_of([&] { tb::run_export(encoder, options, store_); });
    QVERIFY2(message.find("cannot be written to GGUF") != std::string::npos, message.c_str());
    QVERIFY(!fs::exists(options.out));
    QVERIFY(error_of([&] { tb::resolve_export_source("4711", options, store_); }).find("4711") !=
            std::string::npos);
    QVERIFY(error_of([&] {
              tb::resolve_export_source((root_ / "nope").string(), options, store_);
            }).find("not a run id and not a folder") != std::string::npos);
  }

 private:
  QTemporaryDir dir_;
  fs::path root_;
  tb::RunStoreOptions store_;
  torch::Tensor adapted_logits_;
};

QTEST_GUILESS_MAIN(TestExport)
#include "test_export.moc"
