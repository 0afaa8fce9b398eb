// tunebench-cli as a black box: run the real binary and check what it prints and returns.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <signal.h>

namespace {

struct CliResult {
  int exit_code = -1;
  QString out;
  QString err;
};

CliResult run_cli(const QStringList& arguments,
                  const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
  QProcess process;
  process.setProcessEnvironment(env);
  process.start(TB_CLI_PATH, arguments);
  if (!process.waitForFinished(60000)) {
    process.kill();
    return {};
  }
  return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
          QString::fromUtf8(process.readAllStandardOutput()),
          QString::fromUtf8(process.readAllStandardError())};
}

}  // namespace

class TestCli : public QObject {
  Q_OBJECT
 private slots:
  void versionPrintsVersionAndLibTorch() {
    const CliResult result = run_cli({"--version"});
    QCOMPARE(result.exit_code, 0);
    QVERIFY2(QRegularExpression(R"(^tunebench \d+\.\d+\.\d+ \(LibTorch \d+\.\d+)")
                 .match(result.out)
                 .hasMatch(),
             qPrintable(result.out));
  }

  void doctorJsonReportsTheMachine() {
    const CliResult result = run_cli({"doctor", "--json"});
    QCOMPARE(result.exit_code, 0);
    QJsonParseError parse_error;
    const QJsonObject json = QJsonDocument::fromJson(result.out.toUtf8(), &parse_error).object();
    QVERIFY2(parse_error.error == QJsonParseError::NoError, qPrintable(result.out));
    QVERIFY(json["threads"].toInt() >= 1);
    QVERIFY(json["blas_gflops"].toDouble() > 0);
    QVERIFY(!json["blas_backend"].toString().isEmpty());
    QVERIFY(json["run_store"].toString().endsWith("runs.db"));
    for (const QJsonValue& dir : json["dirs"].toArray()) {
      QVERIFY2(dir.toObject()["writable"].toBool(), qPrintable(dir.toObject()["path"].toString()));
    }
  }

  void doctorTextShowsEachSection() {
    const CliResult result = run_cli({"doctor"});
    QCOMPARE(result.exit_code, 0);
    for (const char* label : {"tunebench", "LibTorch", "threads", "BLAS speed", "bf16 (CPU)",
                              "CUDA", "run store", "data dir", "libraries"}) {
      QVERIFY2(result.out.contains(label), label);
    }
  }

  void doctorFailsWhenDataFolderIsUnusable() {
    QTemporaryDir dir;
    QFile file(dir.path() + "/plain-file");
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.close();
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("TB_DATA_DIR", file.fileName() + "/data");
    const CliResult result = run_cli({"doctor"}, env);
    QCOMPARE(result.exit_code, 3);
    QVERIFY2(result.out.contains("not writable"), qPrintable(result.out));
    QVERIFY(result.out.contains("TB_DATA_DIR"));
  }

  void unknownCommandIsRejectedClearly() {
    const CliResult result = run_cli({"docter"});
    QCOMPARE(result.exit_code, 2);
    QVERIFY2(result.err.contains("unknown command 'docter'. Did you mean 'doctor'?"),
             qPrintable(result.err));
  }

  void unknownSubcommandIsNamed() {
    const CliResult result = run_cli({"runs", "lst"});
    QCOMPARE(result.exit_code, 2);
    QVERIFY2(result.err.contains("unknown command 'lst'. Did you mean 'list'?"),
             qPrintable(result.err));
  }

  void runsCommandsReadTheHistory() {
    QTemporaryDir dir;
    const QString db = dir.filePath("runs.db");
    QCOMPARE(run_cli({"--db", db, "runs", "list", "--json"}).out.trimmed(), QString("[]"));
    for (int i = 0; i < 2; ++i) {
      QProcess writer;  // a trainer-like process that dies while its run is running
      writer.start(TB_WRITER_PATH, {db, "exit-running"});
      QVERIFY(writer.waitForFinished(30000));
    }
    const CliResult list = run_cli({"--db", db, "runs", "list", "--json"});
    QCOMPARE(list.exit_code, 0);
    const QJsonArray runs = QJsonDocument::fromJson(list.out.toUtf8()).array();
    QCOMPARE(runs.size(), 2);
    QCOMPARE(runs[0].toObject()["status"].toString(), QString("interrupted"));

    const CliResult show = run_cli({"--db", db, "runs", "show", "1", "--json"});
    QCOMPARE(show.exit_code, 0);
    const QJsonObject run = QJsonDocument::fromJson(show.out.toUtf8()).object();
    QCOMPARE(run["config_yaml"].toString(), QString("finetuning_type: lora\n"));
    QCOMPARE(run["metrics"].toObject()["train/loss"].toArray().size(), 10);
    QCOMPARE(run["last_checkpoint"].toString(), QString("/tmp/checkpoint-10"));

    QCOMPARE(run_cli({"--db", db, "runs", "tag", "2", "best"}).exit_code, 0);
    const CliResult tagged = run_cli({"--db", db, "runs", "list", "--tag", "best"});
    QVERIFY2(tagged.out.contains("best") && !tagged.out.contains("\n1 "), qPrintable(tagged.out));

    const QString csv = dir.filePath("run.csv");
    QCOMPARE(run_cli({"--db", db, "runs", "export", "1", "--csv", csv}).exit_code, 0);
    QFile file(csv);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll().count('\n'), 11);  // header + 10 rows

    const CliResult missing = run_cli({"--db", db, "runs", "show", "99"});
    QCOMPARE(missing.exit_code, 1);
    QVERIFY2(missing.err.contains("no run with id 99"), qPrintable(missing.err));
    QCOMPARE(run_cli({"--db", db, "runs", "check"}).exit_code, 0);
    QCOMPARE(run_cli({"--db", db, "runs", "delete", "1"}).exit_code, 0);
    QCOMPARE(QJsonDocument::fromJson(run_cli({"--db", db, "runs", "list", "--json"}).out.toUtf8())
                 .array()
                 .size(),
             1);
  }

  void corruptHistoryIsReportedNotOverwritten() {
    QTemporaryDir dir;
    QFile file(dir.filePath("runs.db"));
    QVERIFY(file.open(QIODevice::WriteOnly));
    const QByteArray garbage(4096, 'x');
    file.write(garbage);
    file.close();
    const CliResult result = run_cli({"--db", file.fileName(), "runs", "list"});
    QCOMPARE(result.exit_code, 1);
    QVERIFY2(result.err.contains("not a readable run history"), qPrintable(result.err));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), garbage);
  }

  void configCheckPrintsEffectiveYaml() {
    const CliResult ok = run_cli({"config", "check", "A-lora", "--set", "lora_rank=16"});
    QCOMPARE(ok.exit_code, 0);
    QVERIFY2(ok.out.contains("\nlora_rank: 16\n"), qPrintable(ok.out));
    QVERIFY(ok.out.contains("lora_target: [query, value]"));

    QTemporaryDir dir;
    QFile file(dir.filePath("bad.yaml"));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("model_name_or_path: m\ndataset: d.jsonl\nlearning_rat: 1e-4\n");
    file.close();
    const CliResult bad = run_cli({"config", "check", file.fileName()});
    QCOMPARE(bad.exit_code, 1);
    QVERIFY2(bad.err.contains("bad.yaml:3:1: unknown key 'learning_rat' (did you mean "
                              "'learning_rate'?)"),
             qPrintable(bad.err));
    const CliResult missing = run_cli({"config", "check", "A-lroa"});
    QCOMPARE(missing.exit_code, 1);
    QVERIFY2(missing.err.contains("Did you mean 'A-lora'?"), qPrintable(missing.err));
  }

  void initModelInspectLogitsGenerate() {
    QTemporaryDir dir;
    // A minimal tokenizer.json: 5 vocabulary entries and one added token with id 7.
    QFile tokenizer(dir.path() + "/tokenizer.json");
    QVERIFY(tokenizer.open(QIODevice::WriteOnly));
    tokenizer.write(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "d": 3,
                       "e": 4}}, "added_tokens": [{"id": 7, "content": "<eos>"}]})");
    tokenizer.close();
    const QString model = dir.path() + "/tiny";
    CliResult result = run_cli({"init-model",
                                "--arch",
                                "llama",
                                "--out",
                                model,
                                "--tokenizer",
                                tokenizer.fileName(),
                                "--hidden-size",
                                "32",
                                "--num-layers",
                                "2",
                                "--num-heads",
                                "4",
                                "--num-kv-heads",
                                "2",
                                "--intermediate-size",
                                "48",
                                "--rope-theta",
                                "500000",
                                "--max-position-embeddings",
                                "128",
                                "--tie-word-embeddings",
                                "--seed",
                                "5"});
    QCOMPARE(result.exit_code, 0);
    QVERIFY(QFile::exists(model + "/tokenizer.json"));

    result = run_cli({"inspect", model, "--json"});
    QCOMPARE(result.exit_code, 0);
    const QJsonObject info = QJsonDocument::fromJson(result.out.toUtf8()).object();
    QCOMPARE(info["architecture"].toString(), QString("LlamaForCausalLM"));
    QCOMPARE(info["dtype"].toString(), QString("F32"));
    const QJsonObject config = info["config"].toObject();
    QCOMPARE(config["vocab_size"].toInt(), 8);  // ids 0..7
    QCOMPARE(config["num_key_value_heads"].toInt(), 2);
    QCOMPARE(config["rope_theta"].toDouble(), 500000.0);
    QCOMPARE(config["tie_word_embeddings"].toBool(), true);
    // 8×32 embedding (tied: no lm_head) + 2 layers × (q 32×32, k/v 16×32, o 32×32,
    // 3 MLP 48×32, 2 norms) + final norm.
    QCOMPARE(info["parameters"].toInteger(),
             qint64(8 * 32 + 2 * (2 * 1024 + 2 * 512 + 3 * 1536 + 64) + 32));
    QVERIFY(run_cli({"inspect", model}).out.contains("LlamaForCausalLM"));

    result = run_cli({"logits", model, "--ids", "1,2,3", "--json"});
    QCOMPARE(result.exit_code, 0);
    const QJsonArray logits = QJsonDocument::fromJson(result.out.toUtf8()).array();
    QCOMPARE(logits.size(), 8);
    int best = 0;
    for (int i = 1; i < logits.size(); ++i) {
      if (logits[i].toDouble() > logits[best].toDouble()) best = i;
    }
    result = run_cli({"generate", model, "--ids", "1,2,3", "--max-new-tokens", "4", "--json"});
    QCOMPARE(result.exit_code, 0);
    const QJsonObject generated = QJsonDocument::fromJson(result.out.toUtf8()).object();
    const QJsonArray tokens = generated["tokens"].toArray();
    QVERIFY(!tokens.isEmpty() && tokens.size() <= 4);
    QCOMPARE(tokens[0].toInt(), best);  // greedy picks the argmax of `logits`

    result = run_cli({"logits", model, "--ids", "1,99"});
    QCOMPARE(result.exit_code, 1);
    QVERIFY2(result.err.contains("token id 99 is outside the vocabulary"), qPrintable(result.err));
  }

  void loadingReportsUnusedAndInitialisedTensors() {
    QTemporaryDir dir;
    const QString model = dir.path() + "/bert";
    QCOMPARE(
        run_cli({"init-model", "--arch", "bert", "--out", model, "--vocab-size", "30"}).exit_code,
        0);
    // Reuse the masked-LM checkpoint as a classifier: the MLM head goes unused and the
    // pooler + classifier are initialised, and both are said on stderr.
    QFile file(model + "/config.json");
    QVERIFY(file.open(QIODevice::ReadOnly));
    QJsonObject config = QJsonDocument::fromJson(file.readAll()).object();
    file.close();
    config["architectures"] = QJsonArray{"BertForSequenceClassification"};
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write(QJsonDocument(config).toJson());
    file.close();
    const CliResult result = run_cli({"logits", model, "--ids", "1,2,3", "--json"});
    QCOMPARE(result.exit_code, 0);
    QCOMPARE(QJsonDocument::fromJson(result.out.toUtf8()).array().size(), 2);
    QVERIFY2(result.err.contains("not used by BertForSequenceClassification") &&
                 result.err.contains("cls.predictions.bias") &&
                 result.err.contains("newly initialised") &&
                 result.err.contains("classifier.weight"),
             qPrintable(result.err));
  }

  void modelCommandsRefusePickleAndUnknownTypes() {
    QTemporaryDir dir;
    QFile pickle(dir.path() + "/pytorch_model.bin");
    QVERIFY(pickle.open(QIODevice::WriteOnly));
    pickle.write("x");
    pickle.close();
    CliResult result = run_cli({"inspect", dir.path()});
    QCOMPARE(result.exit_code, 1);
    QVERIFY2(result.err.contains("pickle") && result.err.contains("safetensors"),
             qPrintable(result.err));
    result = run_cli({"init-model", "--arch", "gpt2", "--out", dir.path() + "/m"});
    QCOMPARE(result.exit_code, 2);
    result = run_cli({"init-model", "--arch", "bert", "--out", dir.path() + "/m"});
    QCOMPARE(result.exit_code, 1);
    QVERIFY2(result.err.contains("vocabulary size unknown"), qPrintable(result.err));
  }

  void aCrashEndsWithAReportAndTheSignal() {
    // A fatal signal gets a report with the stack (core/util/crash_report.h), then the default
    // action: the shell still sees "killed by SIGSEGV".
    QTemporaryDir dir;
    QFile tokenizer(dir.path() + "/tokenizer.json");
    QVERIFY(tokenizer.open(QIODevice::WriteOnly));
    tokenizer.write(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}}})");
    tokenizer.close();
    QProcess process;
    // An ASan build installs its own SIGSEGV handler before main, which the wait below would
    // take for ours (ASan then reports the signal and exits 1): leave SIGSEGV to the program.
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    const QString asan = environment.value("ASAN_OPTIONS");
    environment.insert("ASAN_OPTIONS", asan.isEmpty() ? "handle_segv=0" : asan + ":handle_segv=0");
    process.setProcessEnvironment(environment);
    process.start(TB_CLI_PATH, {"tokenize", tokenizer.fileName(), "--file", "/dev/stdin"});
    QVERIFY(process.waitForStarted());
    // The handler is in place once the kernel lists SIGSEGV (bit 10) among the caught signals.
    const QString status = QString("/proc/%1/status").arg(process.processId());
    bool caught = false;
    for (int attempt = 0; attempt < 200 && !caught; ++attempt) {
      QFile file(status);
      if (file.open(QIODevice::ReadOnly)) {
        for (const QByteArray& line : file.readAll().split('\n')) {
          if (line.startsWith("SigCgt:"))
            caught = (line.mid(7).trimmed().toULongLong(nullptr, 16) >> 10) & 1;
        }
      }
      if (!caught) QTest::qWait(25);
    }
    QVERIFY2(caught, "the CLI never installed its SIGSEGV handler");
    QCOMPARE(::kill(static_cast<pid_t>(process.processId()), SIGSEGV), 0);
    QVERIFY(process.waitForFinished(10000));
    QCOMPARE(process.exitStatus(), QProcess::CrashExit);
    QCOMPARE(process.exitCode(), SIGSEGV);
    const QString err = QString::fromUtf8(process.readAllStandardError());
    QVERIFY2(err.contains("tunebench-cli: internal error: Segmentation fault"), qPrintable(err));
    QVERIFY2(err.contains("stack:") && err.contains("main"), qPrintable(err));
  }

  void noCommandPrintsWhatIsNeeded() {
    const CliResult result = run_cli({});
    QVERIFY(result.exit_code != 0);
    QVERIFY2(result.err.contains("subcommand"), qPrintable(result.err));
  }

  void tokenizePrintsIdsAndTokensAndEncodesFiles() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString json = dir.filePath("tokenizer.json");
    QFile file(json);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(R"({"added_tokens":[{"id":3,"content":"<s>","special":true,"normalized":false}],
      "normalizer":null,"pre_tokenizer":{"type":"WhitespaceSplit"},"decoder":null,
      "post_processor":{"type":"TemplateProcessing","single":"<s> $A","pair":"<s> $A $B",
        "special_tokens":{"<s>":{"id":"<s>","ids":[3],"tokens":["<s>"]}}},
      "model":{"type":"WordPiece","unk_token":"[UNK]","vocab":{"[UNK]":0,"hi":1,"there":2}}})");
    file.close();
    CliResult result = run_cli({"tokenize", json, "hi there you"});
    QCOMPARE(result.exit_code, 0);
    QVERIFY2(result.out.contains("ids: 1 2 0"), qPrintable(result.out));
    QVERIFY2(result.out.contains(R"(tokens: "hi" "there" "[UNK]")"), qPrintable(result.out));

    QFile lines(dir.filePath("lines.txt"));
    QVERIFY(lines.open(QIODevice::WriteOnly));
    lines.write("hi\nthere hi\n\n");
    lines.close();
    result = run_cli({"tokenize", dir.path(), "--file", lines.fileName(), "--jsonl"});
    QCOMPARE(result.exit_code, 0);
    QCOMPARE(result.out, QString("[1]\n[2,1]\n[]\n"));
    result =
        run_cli({"tokenize", json, "--file", lines.fileName(), "--jsonl", "--add-special-tokens"});
    QCOMPARE(result.out, QString("[3,1]\n[3,2,1]\n[3]\n"));
  }

  void tokenizeReportsBrokenTokenizerFiles() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QFile file(dir.filePath("tokenizer.json"));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("{\n  \"model\": [1, 2,, 3]\n}\n");
    file.close();
    const CliResult result = run_cli({"tokenize", file.fileName(), "hi"});
    QCOMPARE(result.exit_code, 1);
    QVERIFY2(result.err.contains("tokenizer.json:2:"), qPrintable(result.err));
  }
};

QTEST_APPLESS_MAIN(TestCli)
#include "test_cli.moc"
