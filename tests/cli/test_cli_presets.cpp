// The recipes as a newcomer runs them: every preset of resources/presets trains end to end on
// the bundled demo (model fallback, demo data) through `tunebench-cli train`, lands in the run
// history, and learns: recipe A's methods beat the majority class of the demo test split,
// recipe B (QLoRA) lowers the eval loss and raises exact match on the instruction test split.
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {

struct Run {
  int exit_code = -1;
  QString out, err;
};

// Each training run's limit: 10 minutes, times the build's test timeout scale (an
// instrumented build, e.g. the sanitize preset, trains several times slower).
constexpr int kRunTimeoutMs = 600000 * TB_TEST_TIMEOUT_SCALE;

Run run(const QStringList& arguments, const QString& dir, int timeout_ms = kRunTimeoutMs) {
  QProcess process;
  process.setWorkingDirectory(dir);
  process.start(TB_CLI_PATH, arguments);
  if (!process.waitForFinished(timeout_ms)) process.kill();
  return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
          process.readAllStandardOutput(), process.readAllStandardError()};
}

QList<QJsonObject> events_of(const QString& out, const QString& kind) {
  QList<QJsonObject> list;
  for (const QString& line : out.split('\n', Qt::SkipEmptyParts)) {
    const QJsonObject event = QJsonDocument::fromJson(line.toUtf8()).object();
    if (event["event"].toString() == kind) list << event;
  }
  return list;
}

// Share of the most frequent label among the demo test split's rows.
double majority_share() {
  QFile file(QString(TB_SOURCE_DIR) + "/resources/demo/data/spam/test.jsonl");
  if (!file.open(QIODevice::ReadOnly)) return 1.0;
  int counts[2] = {0, 0};
  for (const QByteArray& line : file.readAll().split('\n')) {
    if (line.trimmed().isEmpty()) continue;
    ++counts[QJsonDocument::fromJson(line).object()["label"].toInt() == 0 ? 0 : 1];
  }
  return static_cast<double>(std::max(counts[0], counts[1])) / (counts[0] + counts[1]);
}

}  // namespace

class TestCliPresets : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

  // Trains `preset` as shipped (demo fallback) and returns its JSON events.
  QString train(const QString& preset, QJsonObject* record) {
    QElapsedTimer timer;
    timer.start();
    const Run result =
        run({"train", preset, "--json", "--set", "output_dir=out-" + preset}, dir_.path());
    qInfo().noquote() << preset << "trained in" << timer.elapsed() / 1000.0 << "s";
    if (result.exit_code != 0) {
      qWarning().noquote() << result.err << result.out.right(3000);
      return {};
    }
    const QList<QJsonObject> done = events_of(result.out, "completed");
    if (done.isEmpty()) return {};
    const Run show =
        run({"runs", "show", QString::number(done.first()["run_id"].toInteger()), "--json"},
            dir_.path());
    *record = QJsonDocument::fromJson(show.out.toUtf8()).object();
    return result.out;
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    qputenv("TB_DB", dir_.filePath("runs.db").toUtf8());
  }

  void randomHeadTheAdapterDropsIsWarnedOf() {
    // The demo BERT has no pooler: recipe A-lora trains and saves it (its fallback_set);
    // without it in additional_target the adapter could not reproduce the model: a warning.
    const Run kept = run({"train", "A-lora", "--dry-run"}, dir_.path());
    QVERIFY2(kept.exit_code == 0, qPrintable(kept.err));
    QVERIFY2(kept.out.contains("# initialised bert.pooler.dense.weight"), qPrintable(kept.out));
    QVERIFY2(!kept.out.contains("warning: bert.pooler"), qPrintable(kept.out));
    const Run dropped =
        run({"train", "A-lora", "--dry-run", "--set", "additional_target=classifier"}, dir_.path());
    QVERIFY2(dropped.exit_code == 0, qPrintable(dropped.err));
    QVERIFY2(dropped.out.contains("# warning: bert.pooler.dense is not in the checkpoint") &&
                 dropped.out.contains("Add 'pooler' to additional_target"),
             qPrintable(dropped.out));
    QCOMPARE(dropped.out.count("warning: bert.pooler"), 1);  // once per module
  }

  void recipeA_data() {
    QTest::addColumn<QString>("preset");
    QTest::addColumn<bool>("beats_majority");
    QTest::newRow("full") << "A-full" << true;
    QTest::newRow("lora") << "A-lora" << true;
    QTest::newRow("ptuning-v2") << "A-ptuning-v2" << true;
    QTest::newRow("freeze") << "A-freeze" << false;
  }

  void recipeA() {
    QFETCH(QString, preset);
    QFETCH(bool, beats_majority);
    QJsonObject record;
    const QString out = train(preset, &record);
    QVERIFY2(!out.isEmpty(), qPrintable(preset + " did not complete"));
    QCOMPARE(record["status"].toString(), QString("completed"));
    const QJsonObject metrics = record["metrics"].toObject();
    const QJsonArray losses = metrics["train/loss"].toArray();
    QVERIFY(losses.size() >= 4);
    QList<QJsonObject> evals = events_of(out, "eval");
    QVERIFY(evals.size() >= 2);
    const double first = evals.first()["loss"].toDouble(), last = evals.last()["loss"].toDouble();
    const double accuracy = evals.last()["accuracy"].toDouble();
    qInfo().noquote() << preset << "eval loss" << first << "->" << last << "accuracy"
                      << evals.first()["accuracy"].toDouble() << "->" << accuracy << "majority"
                      << majority_share();
    QVERIFY2(last < first, qPrintable(QString("%1 -> %2").arg(first).arg(last)));
    if (beats_majority) QVERIFY(accuracy > majority_share() + 0.05);
    QVERIFY(QFile::exists(dir_.filePath("out-" + preset + "/tokenizer.json")));
  }

  void recipeB() {
    QJsonObject record;
    const QString out = train("B-qlora", &record);
    QVERIFY2(!out.isEmpty(), "B-qlora did not complete");
    const QList<QJsonObject> evals = events_of(out, "eval");
    QVERIFY(evals.size() >= 2);
    QCOMPARE(evals.first()["step"].toInteger(), 0);  // eval_on_start: the baseline
    const double loss_before = evals.first()["loss"].toDouble();
    const double loss_after = evals.last()["loss"].toDouble();
    const double match_before = evals.first()["exact_match"].toDouble();
    const double match_after = evals.last()["exact_match"].toDouble();
    qInfo().noquote() << "B-qlora eval loss" << loss_before << "->" << loss_after << "exact match"
                      << match_before << "->" << match_after;
    QVERIFY(loss_after < loss_before);
    QVERIFY(match_after > match_before);
    QVERIFY(QFile::exists(dir_.filePath("out-B-qlora/adapter_config.json")));
    QVERIFY(QFile::exists(dir_.filePath("out-B-qlora/adapter_model.safetensors")));
  }
};

QTEST_GUILESS_MAIN(TestCliPresets)
#include "test_cli_presets.moc"
