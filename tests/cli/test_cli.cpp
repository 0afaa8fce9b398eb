// tunebench-cli as a black box: run the real binary and check what it prints and returns.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

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
