// Data-parallel training through the real CLI on 127.0.0.1: two processes with half the batch
// each reproduce one process's per-step losses and weights (full fine-tuning and LoRA with
// gradient accumulation, on data whose rows differ in length so each rank's share has other
// token counts); a killed rank ends the run within 60 s with a message naming it, the run is
// failed (or interrupted) in the history and resumes with the same number of processes.
// LibTorch before Qt: Qt's `slots` macro would break torch's headers.
#include "core/io/safetensors.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/cli/cli_process.h"

#include <csignal>

namespace {

// Per-step losses of a --json run's output.
QVector<double> step_losses(const QString& out) {
  QVector<double> losses;
  for (const QString& line : out.split('\n', Qt::SkipEmptyParts)) {
    const QJsonObject event = QJsonDocument::fromJson(line.toUtf8()).object();
    if (event["event"].toString() == "step") losses.push_back(event["loss"].toDouble());
  }
  return losses;
}

// The child processes of `pid` (the launcher's ranks) by their RANK variable.
QMap<int, qint64> ranks_of(qint64 pid) {
  QMap<int, qint64> ranks;
  QFile children(QString("/proc/%1/task/%1/children").arg(pid));
  if (!children.open(QIODevice::ReadOnly)) return ranks;
  for (const QByteArray& child : children.readAll().split(' ')) {
    if (child.trimmed().isEmpty()) continue;
    QFile environ(QString("/proc/%1/environ").arg(QString::fromUtf8(child.trimmed())));
    if (!environ.open(QIODevice::ReadOnly)) continue;
    for (const QByteArray& variable : environ.readAll().split('\0')) {
      if (variable.startsWith("RANK="))
        ranks[variable.mid(5).toInt()] = child.trimmed().toLongLong();
    }
  }
  return ranks;
}

}  // namespace

class TestDistributed : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    env_ = QProcessEnvironment::systemEnvironment();
    env_.insert("TB_DB", dir_.filePath("runs.db"));
    env_.remove("TB_THREADS");
    const QString demo = QString(TB_SOURCE_DIR) + "/resources/demo";
    QFile yaml(dir_.filePath("sft.yaml"));
    QVERIFY(yaml.open(QIODevice::WriteOnly));
    yaml.write(QString("model_name_or_path: %1/models/tiny-llama\nstage: sft\n"
                       "dataset: %1/data/mail-instructions/train.jsonl\nmax_samples: 48\n"
                       "cutoff_len: 96\nlora_target: all\nlora_dropout: 0\nlearning_rate: 1e-3\n"
                       "eval_strategy: \"no\"\nlogging_steps: 1\nseed: 11\n")
                   .arg(demo)
                   .toUtf8());
  }

  void twoProcessesReproduceOneProcess_data() {
    QTest::addColumn<QString>("method");
    QTest::addColumn<int>("accumulation");
    QTest::addColumn<QString>("weights");
    QTest::newRow("full") << "full" << 1 << "model.safetensors";
    QTest::newRow("lora, 2 accumulated micro-batches")
        << "lora" << 2 << "adapter_model.safetensors";
  }

  void twoProcessesReproduceOneProcess() {
    QFETCH(QString, method);
    QFETCH(int, accumulation);
    QFETCH(QString, weights);
    const QStringList common = {"--json",
                                "--set",
                                "finetuning_type=" + method,
                                "--set",
                                "gradient_accumulation_steps=" + QString::number(accumulation),
                                "--set",
                                "max_steps=8",
                                "--set",
                                "save_steps=100"};
    const QString one_dir = "one-" + method, two_dir = "two-" + method;
    const CliResult one = run(
        QStringList{"train", "sft.yaml"} + common +
        QStringList{"--set", "per_device_train_batch_size=6", "--set", "output_dir=" + one_dir});
    QVERIFY2(one.exit_code == 0, qPrintable(one.err));
    const CliResult two = run(
        QStringList{"launch", "--nproc", "2", "sft.yaml"} + common +
        QStringList{"--set", "per_device_train_batch_size=3", "--set", "output_dir=" + two_dir});
    QVERIFY2(two.exit_code == 0, qPrintable(two.err));
    QVERIFY2(two.out.contains("data parallel: rank 0 of 2"), qPrintable(two.out));

    const QVector<double> expected = step_losses(one.out), got = step_losses(two.out);
    QCOMPARE(got.size(), 8);
    QCOMPARE(expected.size(), 8);
    double worst = 0;
    for (int step = 0; step < 8; ++step) {
      worst = std::max(worst, std::abs(got[step] - expected[step]) / std::abs(expected[step]));
    }
    qInfo("%s: 8 steps, max relative loss difference %.3g (first %.6f, last %.6f)",
          qPrintable(method), worst, expected.front(), expected.back());
    QVERIFY2(worst <= 1e-5, qPrintable(QString::number(worst)));

    // Every file is written by rank 0 alone, and the trained weights agree.
    const tb::SafetensorsFile a(dir_.filePath(one_dir + "/" + weights).toStdString());
    const tb::SafetensorsFile b(dir_.filePath(two_dir + "/" + weights).toStdString());
    QCOMPARE(b.names(), a.names());
    double weight_difference = 0;
    for (const std::string& name : a.names()) {
      weight_difference =
          std::max(weight_difference, (a.tensor(name) - b.tensor(name)).abs().max().item<double>());
    }
    qInfo("%s: max |Δ weight| %.3g", qPrintable(method), weight_difference);
    QVERIFY2(weight_difference < 5e-5, qPrintable(QString::number(weight_difference)));
  }

  void aKilledRankEndsTheRunAndItResumes_data() {
    QTest::addColumn<int>("victim");
    QTest::newRow("rank 1") << 1;
    QTest::newRow("rank 0 (serves the store and the history)") << 0;
  }

  void aKilledRankEndsTheRunAndItResumes() {
    QFETCH(int, victim);
    const QString out = QString("killed-%1").arg(victim);
    QProcess launcher;
    launcher.setProcessEnvironment(env_);
    launcher.setWorkingDirectory(dir_.path());
    launcher.start(TB_CLI_PATH,
                   {"launch", "--nproc", "2", "sft.yaml", "--json", "--set", "finetuning_type=lora",
                    "--set", "max_steps=2000", "--set", "save_steps=2", "--set",
                    "per_device_train_batch_size=2", "--set", "output_dir=" + out});
    QVERIFY(launcher.waitForStarted());
    int steps = 0;
    while (steps < 5 && launcher.state() == QProcess::Running) {
      launcher.waitForReadyRead(200);
      while (launcher.canReadLine()) {
        if (launcher.readLine().contains("\"event\":\"step\"")) ++steps;
      }
    }
    const QMap<int, qint64> ranks = ranks_of(launcher.processId());
    QVERIFY2(ranks.size() == 2, qPrintable(QString::number(ranks.size())));
    QElapsedTimer clock;
    clock.start();
    QCOMPARE(::kill(static_cast<pid_t>(ranks[victim]), SIGKILL), 0);
    QVERIFY(launcher.waitForFinished(60000));
    const double seconds = clock.elapsed() / 1000.0;
    const QString err = QString::fromUtf8(launcher.readAllStandardError());
    qInfo("rank %d killed after %d steps: the run ended %.2f s later", victim, steps, seconds);
    QVERIFY(seconds < 60);
    QCOMPARE(launcher.exitCode(), 1);
    // The launcher names the rank, and so does the surviving rank (with its pid).
    const QString named = QString("rank %1 (pid %2)").arg(victim).arg(ranks[victim]);
    QVERIFY2(err.contains("launch: " + named + " was killed by signal 9"), qPrintable(err));
    QVERIFY2(err.contains(named + " ended"), qPrintable(err));

    // In the history: failed with that message (rank 0 recorded it), or interrupted when rank 0
    // itself was killed (found dead on the next open).
    const CliResult list = run({"runs", "list", "--json"});
    QJsonObject row;
    for (const QJsonValue& value : QJsonDocument::fromJson(list.out.toUtf8()).array()) {
      if (value["output_dir"].toString().endsWith("/" + out)) row = value.toObject();
    }
    QVERIFY2(!row.isEmpty(), qPrintable(list.out));
    const QString id = QString::number(row["id"].toInteger());
    const CliResult show = run({"runs", "show", id});
    if (victim == 0) {
      QCOMPARE(row["status"].toString(), QString("interrupted"));
    } else {
      QCOMPARE(row["status"].toString(), QString("failed"));
      QVERIFY2(show.out.contains(named + " ended"), qPrintable(show.out));
    }
    QVERIFY2(show.out.contains(", 2 processes"), qPrintable(show.out));

    QStringList checkpoints =
        QDir(dir_.filePath(out)).entryList({"checkpoint-*"}, QDir::Dirs, QDir::Name);
    std::sort(checkpoints.begin(), checkpoints.end(), [](const QString& a, const QString& b) {
      return a.mid(11).toInt() < b.mid(11).toInt();
    });
    QVERIFY(!checkpoints.isEmpty());
    const QString newest = out + "/" + checkpoints.last();
    const QStringList resume = {"sft.yaml",
                                "--set",
                                "finetuning_type=lora",
                                "--set",
                                "max_steps=12",
                                "--set",
                                "per_device_train_batch_size=2",
                                "--set",
                                "output_dir=" + out,
                                "--resume",
                                newest};
    // Another number of processes would change every step's batch: refused, nothing written.
    const CliResult alone = run(QStringList{"train"} + resume);
    QCOMPARE(alone.exit_code, 1);
    QVERIFY2(alone.err.contains("trained by 2 process(es), this run has 1") &&
                 alone.err.contains("--nproc 2"),
             qPrintable(alone.err));
    const CliResult resumed = run(QStringList{"launch", "--nproc", "2"} + resume);
    QVERIFY2(resumed.exit_code == 0, qPrintable(resumed.err + resumed.out));
    QVERIFY(QFile::exists(dir_.filePath(out + "/adapter_model.safetensors")));
    QVERIFY(QFile::exists(dir_.filePath(out + "/checkpoint-12")));
  }

  void launcherVariablesAreChecked() {
    QProcessEnvironment env = env_;
    env.insert("WORLD_SIZE", "2");
    env.insert("RANK", "0");
    env.remove("MASTER_ADDR");
    const CliResult no_address = run({"train", "sft.yaml"}, env);
    QCOMPARE(no_address.exit_code, 1);
    QVERIFY2(no_address.err.contains("WORLD_SIZE is 2 but MASTER_ADDR is not set"),
             qPrintable(no_address.err));
    env.insert("MASTER_ADDR", "127.0.0.1");
    env.insert("MASTER_PORT", "29500");
    env.insert("RANK", "2");
    const CliResult bad_rank = run({"train", "sft.yaml"}, env);
    QCOMPARE(bad_rank.exit_code, 1);
    QVERIFY2(bad_rank.err.contains("RANK=2 is not a whole number from 0 to 1"),
             qPrintable(bad_rank.err));
  }

 private:
  CliResult run(const QStringList& arguments, const QProcessEnvironment& env) {
    return run_cli(arguments, env, dir_.path());
  }
  CliResult run(const QStringList& arguments) { return run(arguments, env_); }

  QTemporaryDir dir_;
  QProcessEnvironment env_;
};

QTEST_GUILESS_MAIN(TestDistributed)
#include "test_distributed.moc"
