// core/io/hf_folder: config.json access with typed errors, tokenizer vocabulary sizes,
// eos ids, label maps, and which weight files a folder offers.
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/io/hf_folder.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
QString error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const tb::Error& error) {
    return QString::fromUtf8(error.what());
  }
  return {};
}
}  // namespace

class TestHfFolder : public QObject {
  Q_OBJECT
 private slots:
  void configFieldsAreTyped() {
    const json config = json::parse(
        R"({"hidden_size": 64, "rope_theta": 10000, "tie_word_embeddings": true,
            "hidden_act": "silu", "sliding_window": null, "rms_norm_eps": "1e-6"})");
    QCOMPARE(tb::config_int(config, "hidden_size", 0, "c.json"), int64_t(64));
    QCOMPARE(tb::config_double(config, "rope_theta", 0, "c.json"), 10000.0);  // int accepted
    QCOMPARE(tb::config_bool(config, "tie_word_embeddings", false, "c.json"), true);
    QCOMPARE(tb::config_string(config, "hidden_act", "", "c.json"), std::string("silu"));
    QCOMPARE(tb::config_int(config, "sliding_window", 7, "c.json"), int64_t(7));  // null
    QCOMPARE(tb::config_int(config, "absent", 3, "c.json"), int64_t(3));
    const QString message =
        error_of([&] { tb::config_double(config, "rms_norm_eps", 0, "c.json"); });
    QCOMPARE(message, QString("c.json: field \"rms_norm_eps\" must be a number, got \"1e-6\". "
                              "Fix config.json."));
  }

  void configFileErrorsNameTheFile() {
    QTemporaryDir dir;
    const fs::path folder = dir.path().toStdString();
    QVERIFY(error_of([&] { tb::read_config_json(folder); }).contains("no config.json"));
    tb::write_file_atomic(folder / "config.json", "{\"a\": 1,}");
    const QString message = error_of([&] { tb::read_config_json(folder); });
    QVERIFY2(message.contains("config.json:1:9: invalid JSON"), qPrintable(message));
    // A number beyond 64 bits (found by fuzz_tokenizer_json) is refused, not a crash.
    tb::write_file_atomic(folder / "config.json",
                          "{\"vocab_size\": " + std::string(400, '4') + "}");
    const QString overflow = error_of([&] { tb::read_config_json(folder); });
    QVERIFY2(overflow.contains("config.json: invalid JSON: number overflow"), qPrintable(overflow));
    tb::write_json_file(folder / "config.json", {{"model_type", "llama"}});
    QCOMPARE(tb::read_config_json(folder)["model_type"].get<std::string>(), std::string("llama"));
  }

  void tokenizerVocabularySizes() {
    QTemporaryDir dir;
    const fs::path file = fs::path(dir.path().toStdString()) / "tokenizer.json";
    tb::write_file_atomic(file, R"({"model": {"type": "WordPiece", "vocab": {"[PAD]": 0,
        "[UNK]": 1, "a": 2}}, "added_tokens": [{"id": 0, "content": "[PAD]"}]})");
    QCOMPARE(tb::tokenizer_vocab_size(file), int64_t(3));  // added token inside the vocab
    tb::write_file_atomic(file, R"({"model": {"type": "Unigram", "vocab": [["<unk>", 0],
        ["a", -1.5], ["b", -2.0], ["c", -2.5]]}, "added_tokens": [{"id": 9, "content": "<x>"}]})");
    QCOMPARE(tb::tokenizer_vocab_size(file), int64_t(10));  // added id 9 extends it
    tb::write_file_atomic(file, R"({"model": {"type": "BPE"}})");
    QVERIFY(error_of([&] { tb::tokenizer_vocab_size(file); }).contains("has no model.vocab"));
  }

  void eosIdsAndLabels() {
    QCOMPARE(tb::eos_token_ids(json::parse(R"({"eos_token_id": 2})")), std::vector<int64_t>{2});
    QCOMPARE(tb::eos_token_ids(json::parse(R"({"eos_token_id": [128001, 128009]})")),
             (std::vector<int64_t>{128001, 128009}));
    QVERIFY(tb::eos_token_ids(json::object()).empty());
    json config = json::object();
    QCOMPARE(tb::config_num_labels(config, "c"), int64_t(2));
    tb::set_num_labels(config, 3);
    QCOMPARE(config["id2label"]["2"].get<std::string>(), std::string("LABEL_2"));
    QCOMPARE(config["label2id"]["LABEL_1"].get<int64_t>(), int64_t(1));
    QCOMPARE(tb::config_num_labels(config, "c"), int64_t(3));
    config = json::parse(R"({"id2label": {"0": "negative", "1": "positive"}})");
    tb::set_num_labels(config, 2);  // names given by the user are kept
    QCOMPARE(config["id2label"]["1"].get<std::string>(), std::string("positive"));
  }

  void weightFilesOfAFolder() {
    QTemporaryDir dir;
    const fs::path folder = dir.path().toStdString();
    QVERIFY(error_of([&] { tb::find_safetensors_weights(folder); }).contains("no weights"));
    tb::write_file_atomic(folder / "consolidated.safetensors", "x");
    QVERIFY(error_of([&] {
              tb::find_safetensors_weights(folder);
            }).contains("found consolidated.safetensors but no model.safetensors"));
    tb::write_file_atomic(folder / "model.safetensors.index.json", "{}");
    QCOMPARE(tb::find_safetensors_weights(folder), folder / "model.safetensors.index.json");
    tb::write_file_atomic(folder / "model.safetensors", "x");
    QCOMPARE(tb::find_safetensors_weights(folder), folder / "model.safetensors");
    QVERIFY(error_of([&] {
              tb::find_safetensors_weights(folder / "nope");
            }).contains("no such folder"));
  }
};

QTEST_GUILESS_MAIN(TestHfFolder)
#include "test_hf_folder.moc"
