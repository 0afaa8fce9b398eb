// tunebench-cli as a black box: run the real binary and check what it prints and returns.
#include <QFile>
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

  void noCommandPrintsWhatIsNeeded() {
    const CliResult result = run_cli({});
    QVERIFY(result.exit_code != 0);
    QVERIFY2(result.err.contains("subcommand"), qPrintable(result.err));
  }
};

QTEST_APPLESS_MAIN(TestCli)
#include "test_cli.moc"
