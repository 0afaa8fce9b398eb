// Bad input, table-driven, through the real tunebench-cli: broken models, tokenizers, data,
// configs, run histories and exports. Each case must fail with exit code 1 (2 for usage) and
// a message that says what and where; nothing may crash, no file the user had may change, and
// no half-written file may be left behind.
#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <functional>

namespace {

struct Case {
  QString name;                            // what is wrong
  std::function<void(const QDir&)> setup;  // writes the user's files into the case folder
  QStringList args;                        // tunebench-cli arguments (run in that folder)
  QStringList expect;                      // every fragment must appear in stderr
  int exit_code = 1;                       // 1 = bad input, 2 = usage
};

QString demo(const QString& path) { return QString(TB_SOURCE_DIR) + "/resources/demo/" + path; }

void write(const QDir& dir, const QString& name, const QByteArray& bytes) {
  QDir().mkpath(QFileInfo(dir.filePath(name)).absolutePath());
  QFile file(dir.filePath(name));
  QVERIFY(file.open(QIODevice::WriteOnly));
  file.write(bytes);
}

QByteArray read(const QString& path) {
  QFile file(path);
  return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// Copies a demo model folder to `name`, then lets `change` edit it.
void copy_model(const QDir& dir, const QString& model, const QString& name) {
  QDir().mkpath(dir.filePath(name));
  for (const QString& file : QDir(demo("models/" + model)).entryList(QDir::Files)) {
    QFile::copy(demo("models/" + model) + "/" + file, dir.filePath(name + "/" + file));
  }
}

// Every file below `root` with its content hash (what the user had).
QMap<QString, QByteArray> snapshot(const QString& root) {
  QMap<QString, QByteArray> files;
  QDirIterator it(root, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
  while (it.hasNext()) {
    const QString path = it.next();
    files[QDir(root).relativeFilePath(path)] =
        QCryptographicHash::hash(read(path), QCryptographicHash::Sha256);
  }
  return files;
}

QByteArray config_yaml(const QString& extra) {
  return ("model_name_or_path: " + demo("models/tiny-bert") +
          "\ntask: classification\nfinetuning_type: lora\nlora_target: [query, value]\n"
          "dataset: " +
          demo("data/spam/train.jsonl") + "\nmax_samples: 32\n" + extra)
      .toUtf8();
}

QList<Case> cases() {
  QList<Case> all;
  // --- models ---
  all << Case{"model folder without config.json",
              [](const QDir& d) { QDir().mkpath(d.filePath("m")); },
              {"inspect", "m"},
              {"config.json"}};
  all << Case{"config.json is not JSON",
              [](const QDir& d) {
                copy_model(d, "tiny-llama", "m");
                write(d, "m/config.json", "{\"model_type\": \"llama\",\n  \"hidden_size\": 12,,}");
              },
              {"inspect", "m"},
              {"m/config.json:2:"}};
  all << Case{"only a pickle checkpoint",
              [](const QDir& d) {
                copy_model(d, "tiny-llama", "m");
                QFile::remove(d.filePath("m/model.safetensors"));
                write(d, "m/pytorch_model.bin", "PK\x03\x04 not really");
              },
              {"inspect", "m"},
              {"pytorch_model.bin"}};
  all << Case{"truncated safetensors",
              [](const QDir& d) {
                copy_model(d, "tiny-llama", "m");
                const QByteArray bytes = read(d.filePath("m/model.safetensors"));
                write(d, "m/model.safetensors", bytes.left(bytes.size() / 2));
              },
              {"logits", "m", "--ids", "1,2"},
              {"model.safetensors"}};
  all << Case{"safetensors header length beyond the file",
              [](const QDir& d) {
                copy_model(d, "tiny-llama", "m");
                QByteArray bytes = read(d.filePath("m/model.safetensors"));
                bytes[5] = '\x7f';
                write(d, "m/model.safetensors", bytes);
              },
              {"inspect", "m"},
              {"model.safetensors", "header"}};
  all << Case{"config.json does not match the weights",
              [](const QDir& d) {
                copy_model(d, "tiny-llama", "m");
                QByteArray config = read(d.filePath("m/config.json"));
                config.replace("\"intermediate_size\": 512", "\"intermediate_size\": 640");
                write(d, "m/config.json", config);
              },
              {"logits", "m", "--ids", "1,2"},
              {"mlp", "shape"}};
  all << Case{"unknown model_type",
              [](const QDir& d) {
                copy_model(d, "tiny-llama", "m");
                QByteArray config = read(d.filePath("m/config.json"));
                config.replace("\"model_type\": \"llama\"", "\"model_type\": \"gpt_neox\"");
                write(d, "m/config.json", config);
              },
              {"logits", "m", "--ids", "1,2"},
              {"gpt_neox"}};
  all << Case{"token id outside the vocabulary",
              [](const QDir& d) { copy_model(d, "tiny-llama", "m"); },
              {"logits", "m", "--ids", "1,99999"},
              {"99999"}};
  // --- tokenizers ---
  all << Case{"tokenizer.json is not JSON",
              [](const QDir& d) { write(d, "tok/tokenizer.json", "{\n \"model\": [1, 2\n"); },
              {"tokenize", "tok/tokenizer.json", "hello"},
              {"tok/tokenizer.json:3:"}};
  all << Case{"tokenizer model type unknown",
              [](const QDir& d) {
                write(d, "tok/tokenizer.json", R"({"model": {"type": "Sentencepiece2"}})");
              },
              {"tokenize", "tok/tokenizer.json", "hello"},
              {"Sentencepiece2"}};
  all << Case{"no tokenizer in the folder",
              [](const QDir& d) { QDir().mkpath(d.filePath("tok")); },
              {"tokenize", "tok", "hello"},
              {"tokenizer.json"}};
  // (Ids outside the vocabulary decode to nothing, as in Hugging Face tokenizers: not an error.)
  all << Case{"ids file that is not JSON",
              [](const QDir& d) { write(d, "ids.jsonl", "[1, 2\n"); },
              {"tokenize", demo("models/tiny-bert"), "--decode-ids", "ids.jsonl"},
              {"ids.jsonl"}};
  // --- data ---
  all << Case{
      "JSON Lines with a broken row",
      [](const QDir& d) {
        write(
            d, "data.jsonl",
            "{\"text\": \"a\", \"label\": 0}\n{\"text\": \"b\", \"label\": 1}\n{\"text\": oops}\n");
      },
      {"preview-data", "data.jsonl"},
      {"data.jsonl", "3"}};
  all << Case{"CSV with an unterminated quote",
              [](const QDir& d) { write(d, "data.csv", "text,label\n\"open quote,1\nnext,0\n"); },
              {"preview-data", "data.csv"},
              {"data.csv", "quote"}};
  all << Case{
      "data that is not UTF-8",
      [](const QDir& d) { write(d, "data.jsonl", "{\"text\": \"caf\xe9\", \"label\": 0}\n"); },
      {"preview-data", "data.jsonl"},
      {"UTF-8"}};
  all << Case{"empty data file",
              [](const QDir& d) { write(d, "data.jsonl", ""); },
              {"preview-data", "data.jsonl"},
              {"data.jsonl"}};
  all << Case{
      "missing data file", [](const QDir&) {}, {"preview-data", "nope.jsonl"}, {"nope.jsonl"}};
  all << Case{"classification data without labels",
              [](const QDir& d) {
                write(d, "data.jsonl", "{\"text\": \"a\"}\n{\"text\": \"b\"}\n");
                write(
                    d, "c.yaml",
                    config_yaml("").replace(demo("data/spam/train.jsonl").toUtf8(), "data.jsonl"));
              },
              {"train", "c.yaml", "--set", "output_dir=out"},
              {"label"}};
  // --- configs ---
  all << Case{"unknown key with a near miss",
              [](const QDir& d) { write(d, "c.yaml", config_yaml("lerning_rate: 1e-4\n")); },
              {"config", "check", "c.yaml"},
              {"c.yaml", "lerning_rate", "learning_rate"}};
  all << Case{"wrong type",
              [](const QDir& d) { write(d, "c.yaml", config_yaml("lora_rank: eight\n")); },
              {"config", "check", "c.yaml"},
              {"c.yaml", "lora_rank", "eight"}};
  all << Case{"rank out of range",
              [](const QDir& d) { write(d, "c.yaml", config_yaml("lora_rank: 0\n")); },
              {"config", "check", "c.yaml"},
              {"lora_rank", "between 1"}};
  all << Case{"negative learning rate",
              [](const QDir& d) { write(d, "c.yaml", config_yaml("learning_rate: -0.1\n")); },
              {"config", "check", "c.yaml"},
              {"learning_rate"}};
  all << Case{"QLoRA with full fine-tuning",
              [](const QDir& d) {
                write(d, "c.yaml",
                      config_yaml("quantization_bit: 4\n")
                          .replace("finetuning_type: lora", "finetuning_type: full"));
              },
              {"config", "check", "c.yaml"},
              {"quantization_bit"}};
  all << Case{
      "YAML syntax error",
      [](const QDir& d) { write(d, "c.yaml", "model_name_or_path: [unclosed\nlora_rank: 8\n"); },
      {"config", "check", "c.yaml"},
      {"c.yaml:2:"}};
  all << Case{
      "verbalizer with a multi-token label word",
      [](const QDir& d) {
        write(d, "c.yaml",
              config_yaml("task: verbalizer\nlabel_words: [good, antidisestablishmentarianism]\n")
                  .replace("task: classification\n", ""));
      },
      {"train", "c.yaml", "--set", "output_dir=out"},
      {"antidisestablishmentarianism"}};
  all << Case{"unknown preset", [](const QDir&) {}, {"train", "A-lorra", "--dry-run"}, {"A-lorra"}};
  all << Case{"a CUDA device this machine does not have",
              [](const QDir& d) { write(d, "c.yaml", config_yaml("device: cuda:7\n")); },
              {"train", "c.yaml", "--set", "output_dir=out"},
              {"training.device", "cuda:7", "CUDA device"}};
  all << Case{"resume from a folder that is no checkpoint",
              [](const QDir& d) {
                write(d, "c.yaml", config_yaml(""));
                QDir().mkpath(d.filePath("not-a-checkpoint"));
              },
              {"train", "c.yaml", "--resume", "not-a-checkpoint", "--set", "output_dir=out"},
              {"not-a-checkpoint"}};
  // --- run history ---
  all << Case{"unknown run", [](const QDir&) {}, {"runs", "show", "424242"}, {"424242"}};
  all << Case{"run history file that is not SQLite",
              [](const QDir& d) { write(d, "history.db", "these are my notes, not a database\n"); },
              {"--db", "history.db", "runs", "list"},
              {"history.db"}};
  // --- exports ---
  all << Case{"export of an unknown run", [](const QDir&) {}, {"export", "424242"}, {"424242"}};
  all << Case{"export over an existing folder without --force",
              [](const QDir& d) {
                copy_model(d, "tiny-llama", "m");
                write(d, "out/keep.txt", "mine");
              },
              {"export", "m", "--format", "merged", "--out", "out"},
              {"already exists", "--force"}};
  all << Case{"GGUF of an encoder",
              [](const QDir& d) { copy_model(d, "tiny-bert", "m"); },
              {"export", "m", "--format", "gguf", "--out", "m.gguf"},
              {"cannot be written to GGUF"}};
  all << Case{"PEFT export of a whole model",
              [](const QDir& d) { copy_model(d, "tiny-llama", "m"); },
              {"export", "m", "--format", "peft", "--out", "p"},
              {"not an adapter"}};
  all << Case{"export of a folder that is neither model nor adapter",
              [](const QDir& d) { write(d, "stuff/readme.txt", "hello"); },
              {"export", "stuff"},
              {"neither a model"}};
  all << Case{"adapter_config.json that is not JSON",
              [](const QDir& d) {
                write(d, "adapter/adapter_config.json", "{peft_type: LORA");
                write(d, "adapter/adapter_model.safetensors", "");
              },
              {"chat", demo("models/tiny-llama"), "--adapter", "adapter", "--message", "hi"},
              {"adapter_config.json"}};
  all << Case{"unknown export format (usage)",
              [](const QDir& d) { copy_model(d, "tiny-llama", "m"); },
              {"export", "m", "--format", "onnx"},
              {"onnx"},
              2};
  return all;
}

}  // namespace

class TestBadInputs : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void everyBadInputGetsASpecificErrorAndChangesNothing() {
    QTemporaryDir root;
    QVERIFY(root.isValid());
    const QList<Case> table = cases();
    QVERIFY(table.size() >= 30);
    QStringList failures;
    int index = 0;
    for (const Case& c : table) {
      const QString folder = root.filePath(QString("case-%1").arg(index++));
      QDir().mkpath(folder);
      c.setup(QDir(folder));
      const QMap<QString, QByteArray> before = snapshot(folder);
      QProcess process;
      QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
      env.insert("TB_DB", root.filePath("history-of-the-test.db"));
      process.setProcessEnvironment(env);
      process.setWorkingDirectory(folder);
      process.start(TB_CLI_PATH, c.args);
      const bool finished = process.waitForFinished(120000);
      const QString err = QString::fromUtf8(process.readAllStandardError());
      const int code = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
      QString problem;
      if (!finished)
        problem = "did not finish";
      else if (code != c.exit_code)
        problem = QString("exit code %1").arg(code);
      for (const QString& fragment : c.expect) {
        if (problem.isEmpty() && !err.contains(fragment, Qt::CaseInsensitive)) {
          problem = "message lacks '" + fragment + "'";
        }
      }
      const QMap<QString, QByteArray> after = snapshot(folder);
      for (auto it = before.begin(); problem.isEmpty() && it != before.end(); ++it) {
        if (after.value(it.key()) != it.value()) problem = it.key() + " was changed";
      }
      for (auto it = after.begin(); problem.isEmpty() && it != after.end(); ++it) {
        if (it.key().contains(".tmp")) problem = "left " + it.key();
      }
      qInfo().noquote() << (problem.isEmpty() ? "ok  " : "FAIL") << c.name << "->"
                        << err.trimmed().left(200).replace('\n', ' ');
      if (!problem.isEmpty())
        failures << c.name + ": " + problem + " (stderr: " + err.trimmed() + ")";
    }
    QVERIFY2(failures.isEmpty(), qPrintable(failures.join("\n")));
  }
};

QTEST_GUILESS_MAIN(TestBadInputs)
#include "test_bad_inputs.moc"
