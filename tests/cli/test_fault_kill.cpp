// Fault test: a CLI training run is killed with SIGKILL at random points (10 times). Each time
// the run history stays intact (integrity check), the run is `interrupted`, training resumes
// from the newest checkpoint and the final LoRA weights equal those of an uninterrupted run
// bit for bit.
// LibTorch before Qt: Qt's `slots` macro would break torch's headers.
#include "core/io/safetensors.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/cli/cli_process.h"

#include <csignal>

namespace {

constexpr int kSteps = 24;

}  // namespace

class TestFaultKill : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    env_ = QProcessEnvironment::systemEnvironment();
    env_.insert("TB_DB", dir_.filePath("runs.db"));
    const QString demo = QString(TB_SOURCE_DIR) + "/resources/demo";
    QFile yaml(dir_.filePath("run.yaml"));
    QVERIFY(yaml.open(QIODevice::WriteOnly));
    yaml.write(QString("model_name_or_path: %1/models/tiny-bert\ntask: classification\n"
                       "finetuning_type: lora\nlora_target: [query, value]\nlora_dropout: 0.1\n"
                       "dataset: %1/data/spam/train.jsonl\nmax_samples: 64\ncutoff_len: 48\n"
                       "per_device_train_batch_size: 4\nmax_steps: %2\nsave_steps: 3\n"
                       "eval_strategy: \"no\"\nlogging_steps: 1\nseed: 7\n")
                   .arg(demo)
                   .arg(kSteps)
                   .toUtf8());
  }

  void killedRunsResumeToTheSameWeights() {
    const CliResult reference = run({"train", "run.yaml", "--set", "output_dir=reference"});
    QVERIFY2(reference.exit_code == 0, qPrintable(reference.err));
    const tb::SafetensorsFile expected(
        dir_.filePath("reference/adapter_model.safetensors").toStdString());
    QRandomGenerator random(20261130);
    for (int trial = 0; trial < 10; ++trial) {
      const QString out = QString("trial-%1").arg(trial);
      // Killed after a random number of logged steps (the process runs on meanwhile, so the
      // kill also lands inside steps and checkpoint writes).
      const int kill_after = random.bounded(1, kSteps - 1);
      QProcess process;
      process.setProcessEnvironment(env_);
      process.setWorkingDirectory(dir_.path());
      process.start(TB_CLI_PATH, {"train", "run.yaml", "--json", "--set", "output_dir=" + out});
      QVERIFY(process.waitForStarted());
      int steps_seen = 0;
      while (steps_seen < kill_after && process.state() == QProcess::Running) {
        process.waitForReadyRead(200);
        while (process.canReadLine()) {
          if (process.readLine().contains("\"event\":\"step\"")) ++steps_seen;
        }
      }
      ::kill(static_cast<pid_t>(process.processId()), SIGKILL);
      process.waitForFinished();

      const CliResult check = run({"runs", "check"});
      QVERIFY2(check.exit_code == 0 && check.out.contains("ok"), qPrintable(check.out + check.err));
      const CliResult list = run({"runs", "list", "--json"});
      const QJsonArray runs = QJsonDocument::fromJson(list.out.toUtf8()).array();
      QJsonObject killed;
      for (const QJsonValue& value : runs) {
        if (value["output_dir"].toString().endsWith("/" + out)) killed = value.toObject();
      }
      QVERIFY2(!killed.isEmpty(), qPrintable(list.out));
      const QString status = killed["status"].toString();
      QVERIFY2(status == "interrupted" || status == "completed", qPrintable(status));

      QStringList checkpoints =
          QDir(dir_.filePath(out)).entryList({"checkpoint-*"}, QDir::Dirs, QDir::Name);
      std::sort(checkpoints.begin(), checkpoints.end(), [](const QString& a, const QString& b) {
        return a.mid(11).toInt() < b.mid(11).toInt();
      });
      QStringList resume = {"train", "run.yaml", "--set", "output_dir=" + out};
      if (!checkpoints.isEmpty())
        resume << "--resume" << out + "/" + checkpoints.last();
      else
        resume << "--set"
               << "overwrite_output_dir=true";  // killed before the first one
      const CliResult resumed = run(resume);
      qInfo("trial %d: killed after %d steps (%s), resumed from %s", trial, kill_after,
            qPrintable(status),
            checkpoints.isEmpty() ? "the start" : qPrintable(checkpoints.last()));
      QVERIFY2(resumed.exit_code == 0, qPrintable(resumed.err));
      const tb::SafetensorsFile got(
          dir_.filePath(out + "/adapter_model.safetensors").toStdString());
      QCOMPARE(got.names(), expected.names());
      for (const std::string& name : expected.names()) {
        QVERIFY2(torch::equal(got.tensor(name), expected.tensor(name)), name.c_str());
      }
    }
  }

 private:
  CliResult run(const QStringList& arguments) { return run_cli(arguments, env_, dir_.path()); }

  QTemporaryDir dir_;
  QProcessEnvironment env_;
};

QTEST_GUILESS_MAIN(TestFaultKill)
#include "test_fault_kill.moc"
