// RunConfig: YAML round trip, LLaMA-Factory compatibility, --set, every validation message.
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/config/config_fields.h"
#include "core/config/config_validation.h"
#include "core/config/config_yaml.h"
#include "core/config/presets.h"
#include "core/util/error.h"
#include "core/util/text.h"

namespace fs = std::filesystem;

namespace {

QString load_error(const std::string& yaml) {
  try {
    tb::load_config_string(yaml, "cfg.yaml", "/base");
  } catch (const tb::Error& error) {
    return QString::fromUtf8(error.what());
  }
  return "no error";
}

tb::RunConfig minimal() {
  tb::RunConfig config;
  config.model.model_name_or_path = "/models/bert";
  config.data.dataset = {"/data/imdb.jsonl"};
  config.output.output_dir = "/out";
  return config;
}

QStringList errors_of(const tb::RunConfig& config) {
  QStringList errors;
  for (const std::string& error : tb::validate_config(config).errors) {
    errors << QString::fromStdString(error);
  }
  return errors;
}

void write(const fs::path& file, const std::string& text) { std::ofstream(file) << text; }

}  // namespace

class TestConfig : public QObject {
  Q_OBJECT
 private slots:
  void defaultsRoundTrip() {
    // Loading anchors default paths (dataset_dir) at the YAML's folder, then round-trips.
    const tb::RunConfig defaults = tb::load_config_string("", "x", "/project").config;
    QCOMPARE(defaults.data.dataset_dir, std::string("/project/data"));
    const std::string yaml = tb::config_to_yaml(defaults);
    QVERIFY(tb::load_config_string(yaml, "x", "/elsewhere").config == defaults);
  }

  void everyFieldTypeRoundTripsExactly() {
    tb::RunConfig config = minimal();
    config.data.dataset_dir = "/data";
    config.method.finetuning_type = "ptuning";
    config.method.lora_target = {"q_proj", "v_proj"};
    config.method.lora_dropout = 0.1;
    config.training.learning_rate = 3e-4;
    config.training.num_train_epochs = 0.5;
    config.training.adam_epsilon = 1.0 / 3.0;  // needs all 17 digits
    config.training.weight_decay = 100.0;
    config.task.prompt_template = "Review: {text}\n# It was {mask}: \"really\"";
    config.task.label_words = {"bad", "good"};
    config.task.label_names = {"neg: 0", "pos, 1"};
    config.output.run_name = "true";  // text that looks like a bool stays text
    config.training.bf16 = true;
    config.method.freeze_trainable_layers = -3;
    config.data.eval_dataset = {};
    const std::string yaml = tb::config_to_yaml(config);
    const tb::RunConfig back = tb::load_config_string(yaml, "x", "/").config;
    QVERIFY2(back == config, yaml.c_str());
    QCOMPARE(tb::config_to_yaml(back), yaml);
  }

  void unknownKeySaysWhereAndSuggests() {
    const QString error = load_error("learning_rate: 2e-5\nlora_rank: 8\nlora_rnak: 16\n");
    QVERIFY2(error.contains("cfg.yaml:3:1: unknown key 'lora_rnak' (did you mean 'lora_rank'?)"),
             qPrintable(error));
  }

  void wrongTypesAndRangesAreAllReported() {
    const QString error = load_error(
        "lora_rank: eight\nlearning_rate: 0\nlora_dropout: 1.5\nbf16: maybe\n"
        "lora_target: {q: 1}\nfinetuning_type: qlora\n");
    QVERIFY2(error.contains("cfg.yaml:1:12: lora_rank must be a whole number, got 'eight'"),
             qPrintable(error));
    QVERIFY2(error.contains("cfg.yaml:2:16: learning_rate must be greater than 0, got 0"),
             qPrintable(error));
    QVERIFY2(error.contains("cfg.yaml:3:15: lora_dropout must be between 0 and 0.999, got 1.5"),
             qPrintable(error));
    QVERIFY2(error.contains("cfg.yaml:4:7: bf16 must be true or false, got 'maybe'"),
             qPrintable(error));
    QVERIFY2(error.contains("lora_target must be a list or comma-separated text"),
             qPrintable(error));
    QVERIFY2(error.contains("finetuning_type 'qlora' is not one of full, freeze, lora, ptuning "
                            "(did you mean 'lora'?)"),
             qPrintable(error));
  }

  void syntaxErrorHasLineAndColumn() {
    const QString error = load_error("lora_rank: 8\nlora_target: [q_proj, v_proj\nbf16: true\n");
    QVERIFY2(error.startsWith("cfg.yaml:"), qPrintable(error));
    QVERIFY2(error.contains("not valid YAML"), qPrintable(error));
  }

  void bytesThatAreNotUtf8AreLocated() {
    // Found by fuzz_config_yaml: such bytes did not survive a save and reload.
    const QString error = load_error(
        "lora_rank: 8\nmodel_name_or_path: deepse\xff\xfe"
        "ek\n");  // split: \xfe then plain "ek"
    QVERIFY2(error.startsWith("cfg.yaml:2:27: not valid UTF-8 (byte 0xFF)"), qPrintable(error));
    QVERIFY2(error.contains("Save the file as UTF-8"), qPrintable(error));
  }

  void duplicateKeysAndAliasesCollide() {
    const QString error = load_error("eval_strategy: steps\nevaluation_strategy: epoch\n");
    QVERIFY2(error.contains("cfg.yaml:2:1: evaluation_strategy is given twice (first at "
                            "cfg.yaml:1:1)"),
             qPrintable(error));
  }

  void llamaFactorySftYamlLoads() {
    QTemporaryDir dir;
    const fs::path yaml = fs::path(dir.path().toStdString()) / "llama3_lora_sft.yaml";
    write(yaml,
          "### model\nmodel_name_or_path: meta-llama/Meta-Llama-3-8B-Instruct\n"
          "trust_remote_code: true\n\n### method\nstage: sft\ndo_train: true\n"
          "finetuning_type: lora\nlora_rank: 8\nlora_target: all\n\n### dataset\n"
          "dataset: identity,alpaca_en_demo\ntemplate: llama3\ncutoff_len: 2048\n"
          "max_samples: 1000\noverwrite_cache: true\npreprocessing_num_workers: 16\n\n"
          "### output\noutput_dir: saves/llama3-8b/lora/sft\nlogging_steps: 10\n"
          "save_steps: 500\nplot_loss: true\noverwrite_output_dir: true\n\n### train\n"
          "per_device_train_batch_size: 1\ngradient_accumulation_steps: 8\n"
          "learning_rate: 1.0e-4\nnum_train_epochs: 3.0\nlr_scheduler_type: cosine\n"
          "warmup_ratio: 0.1\nbf16: true\nddp_timeout: 180000000\n\n### eval\nval_size: 0.1\n"
          "per_device_eval_batch_size: 1\neval_strategy: steps\neval_steps: 500\n");
    const tb::LoadedConfig loaded = tb::load_config_file(yaml);
    const tb::RunConfig& c = loaded.config;
    QCOMPARE(c.method.finetuning_type, std::string("lora"));
    QCOMPARE(c.method.lora_target, std::vector<std::string>{"all"});
    QCOMPARE(c.data.dataset, (std::vector<std::string>{"identity", "alpaca_en_demo"}));
    QCOMPARE(c.model.chat_template, std::string("llama3"));
    QCOMPARE(c.training.learning_rate, 1e-4);
    QCOMPARE(c.training.gradient_accumulation_steps, int64_t(8));
    QCOMPARE(c.data.val_size, 0.1);
    QCOMPARE(tb::effective_lora_alpha(c), 16.0);
    // Hub ids stay names; output paths are anchored at the YAML's folder.
    QCOMPARE(c.model.model_name_or_path, std::string("meta-llama/Meta-Llama-3-8B-Instruct"));
    QCOMPARE(c.output.output_dir, (yaml.parent_path() / "saves/llama3-8b/lora/sft").string());
    QStringList warnings;
    for (const std::string& w : loaded.warnings) warnings << QString::fromStdString(w);
    QCOMPARE(warnings.size(), 5);  // trust_remote_code, do_train, overwrite_cache, workers, plot
    QVERIFY2(warnings[0].contains(":3:1: trust_remote_code is ignored: tunebench never runs code "
                                  "from a model folder"),
             qPrintable(warnings[0]));
    QVERIFY(tb::validate_config(c).errors.empty());
  }

  void relativeDataAndModelResolveWhenPresent() {
    QTemporaryDir dir;
    const fs::path base = dir.path().toStdString();
    fs::create_directories(base / "models/tiny");
    write(base / "train.jsonl", "{}\n");
    write(base / "run.yaml",
          "model_name_or_path: models/tiny\ndataset: train.jsonl, alpaca_en\noutput_dir: out\n");
    const tb::RunConfig c = tb::load_config_file(base / "run.yaml").config;
    QCOMPARE(c.model.model_name_or_path, (base / "models/tiny").string());
    QCOMPARE(c.data.dataset,
             (std::vector<std::string>{(base / "train.jsonl").string(), "alpaca_en"}));
    QCOMPARE(c.output.output_dir, (base / "out").string());
  }

  void setOverridesApplyAndFailClearly() {
    tb::LoadedConfig loaded = tb::load_config_string("lora_rank: 8\n", "x", "/yaml-dir");
    tb::apply_override(loaded, "learning_rate=1e-4", "/cwd");
    tb::apply_override(loaded, "lora_target=[q_proj, k_proj]", "/cwd");
    tb::apply_override(loaded, "output_dir=runs/a", "/cwd");
    QCOMPARE(loaded.config.training.learning_rate, 1e-4);
    QCOMPARE(loaded.config.method.lora_target, (std::vector<std::string>{"q_proj", "k_proj"}));
    QCOMPARE(loaded.config.output.output_dir, std::string("/cwd/runs/a"));
    QVERIFY_THROWS_EXCEPTION(tb::Error, tb::apply_override(loaded, "lora_rnak=4", "/"));
    try {
      tb::apply_override(loaded, "lora_rank=-1", "/");
      QFAIL("expected an error");
    } catch (const tb::Error& error) {
      QCOMPARE(QString(error.what()),
               QString("--set: lora_rank must be between 1 and 65536, got -1"));
    }
    try {
      tb::apply_override(loaded, "learning_rate", "/");
      QFAIL("expected an error");
    } catch (const tb::Error& error) {
      QVERIFY(QString(error.what()).contains("is not key=value"));
    }
  }

  void incompatibleCombinationsAreNamed() {
    tb::RunConfig c = minimal();
    QVERIFY(errors_of(c).isEmpty());

    c.method.finetuning_type = "full";
    c.method.quantization_bit = 4;
    QVERIFY(
        errors_of(c).join("\n").contains("quantization_bit 4 (QLoRA) needs finetuning_type: lora"));
    c = minimal();
    c.method.quantization_bit = 8;
    QVERIFY(errors_of(c).join("\n").contains("quantization_bit 8 is not supported"));
    c = minimal();
    c.training.bf16 = c.training.fp16 = true;
    QVERIFY(errors_of(c).join("\n").contains("bf16 and fp16 are both true"));
    c = minimal();
    c.task.task = "verbalizer";
    c.task.prompt_template = "{text} It was";
    QVERIFY(errors_of(c).join("\n").contains("must contain {text} and {mask}"));
    c.task.prompt_template = "{text} It was {mask}";
    c.task.label_words = {"bad", "good", "great"};
    QVERIFY(errors_of(c).join("\n").contains("label_words has 3 words but num_labels is 2"));
    c = minimal();
    c.output.eval_strategy = "epoch";
    QVERIFY(errors_of(c).join("\n").contains("needs evaluation data"));
    c.data.val_size = 0.1;
    QVERIFY(errors_of(c).isEmpty());
    c = minimal();
    c.task.stage = "pt";
    c.task.task = "classification";
    QVERIFY(errors_of(c).join("\n").contains("stage pt"));
    const QStringList missing = errors_of(tb::RunConfig{});
    QCOMPARE(missing.size(), 2);  // model and dataset (output_dir has a default)
  }

  void modelFolderDecidesPrefixAndVerbalizer() {
    QTemporaryDir dir;
    const fs::path gpt2 = fs::path(dir.path().toStdString()) / "gpt2";
    const fs::path bert = fs::path(dir.path().toStdString()) / "bert";
    fs::create_directories(gpt2);
    fs::create_directories(bert);
    write(gpt2 / "config.json", R"({"model_type": "gpt2"})");
    write(gpt2 / "tokenizer.json", R"({"added_tokens": [{"id": 0, "content": "<|endoftext|>"}]})");
    write(bert / "config.json", R"({"model_type": "bert"})");
    write(bert / "tokenizer.json", R"({"added_tokens": [{"id": 103, "content": "[MASK]"}]})");

    tb::RunConfig c = minimal();
    c.model.model_name_or_path = gpt2.string();
    c.method.finetuning_type = "ptuning";
    c.task.task = "verbalizer";
    tb::ValidationResult result;
    tb::check_model_compatibility(c, result);
    QCOMPARE(result.errors.size(), size_t(2));
    QVERIFY(
        QString::fromStdString(result.errors[0]).contains("not available for model_type 'gpt2'"));
    QVERIFY(QString::fromStdString(result.errors[1]).contains("needs a mask token"));

    c.model.model_name_or_path = bert.string();
    result = {};
    tb::check_model_compatibility(c, result);
    QVERIFY(result.errors.empty());
  }

  void recipePresetsLoadAndValidate() {
    const std::vector<tb::PresetInfo> presets = tb::list_presets();
    QStringList names;
    for (const tb::PresetInfo& preset : presets) {
      names << QString::fromStdString(preset.name);
      const tb::LoadedConfig loaded = tb::load_run_config(preset.name, {});
      const tb::ValidationResult result = tb::validate_config(loaded.config);
      QVERIFY2(result.errors.empty(), (preset.name + ": " + tb::join(result.errors, "; ")).c_str());
      QVERIFY2(!preset.title.empty(), preset.name.c_str());
    }
    QCOMPARE(names, (QStringList{"A-freeze", "A-full", "A-lora", "A-ptuning-v2", "B-qlora"}));

    // The recipe's own values, as used with the real model (any existing folder stands in).
    const std::string real_model =
        "model_name_or_path=" + std::filesystem::temp_directory_path().string();
    const tb::RunConfig b = tb::load_run_config("B-qlora", {real_model}).config;
    QCOMPARE(b.method.quantization_bit, int64_t(4));
    QCOMPARE(b.method.lora_target, (std::vector<std::string>{"q_proj", "v_proj"}));
    QCOMPARE(tb::effective_lora_alpha(b), 32.0);
    QCOMPARE(b.data.max_samples, int64_t(500));
    QCOMPARE(b.data.max_eval_samples, int64_t(100));
    QCOMPARE(b.training.gradient_accumulation_steps, int64_t(8));
    QCOMPARE(b.training.num_train_epochs, 0.5);
    QCOMPARE(b.training.learning_rate, 3.0e-4);
    QVERIFY(b.data.train_on_prompt);  // plain causal-LM loss: labels = input_ids
    QCOMPARE(tb::effective_task(b), std::string("sft"));
    // Without the real model: the bundled demo with the preset's fallback_set, except what
    // the user set (--set wins), and a warning that says so.
    const tb::LoadedConfig demo = tb::load_run_config("B-qlora", {"num_train_epochs=1"});
    QVERIFY(demo.config.model.model_name_or_path.find("tiny-llama") != std::string::npos);
    QCOMPARE(demo.config.training.learning_rate, 1.0e-2);
    QVERIFY(!demo.config.data.train_on_prompt);
    QCOMPARE(demo.config.training.num_train_epochs, 1.0);
    const std::string warnings = tb::join(demo.warnings, "\n");
    QVERIFY2(warnings.find("fallback_set") != std::string::npos, warnings.c_str());
    QVERIFY(warnings.find("num_train_epochs=4") == std::string::npos);
    const tb::RunConfig a = tb::load_run_config("A-lora", {"lora_rank=4"}).config;
    QCOMPARE(a.method.lora_rank, int64_t(4));
    // The recipe's modules_to_save, plus the pooler the demo's masked-LM checkpoint lacks.
    QCOMPARE(a.method.additional_target, (std::vector<std::string>{"classifier", "pooler"}));
    QCOMPARE(tb::effective_task(tb::load_run_config("A-ptuning-v2", {}).config),
             std::string("verbalizer"));
    QVERIFY_THROWS_EXCEPTION(tb::Error, tb::find_config_file("A-lroa"));
  }

  void everyKeyIsDocumented() {
    tb::RunConfig config;
    std::set<std::string> keys;
    tb::visit_fields(config, [&](const auto&, const tb::FieldMeta& meta) {
      QVERIFY2(std::string(meta.help).size() > 5, meta.key);
      QVERIFY2(keys.insert(meta.key).second, meta.key);  // unique
    });
    QVERIFY(keys.size() > 60);
  }
};

QTEST_APPLESS_MAIN(TestConfig)
#include "test_config.moc"
