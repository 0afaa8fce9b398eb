// Loading a ~1 GB fp32 safetensors model must keep the peak resident memory of the loading
// process at most 1.3 × the file size (weights are memory-mapped, not copied).
#include <torch/torch.h>

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/models/loader.h"
#include "core/models/registry.h"

namespace fs = std::filesystem;

class TestLoadMemory : public QObject {
  Q_OBJECT
 private slots:
  void peakRssStaysNearFileSize() {
    const fs::path folder = fs::path(TB_BINARY_DIR) / "tests" / "core" / "rss-model-1gb";
    fs::remove_all(folder);
    // Deleted whatever happens below: a 1 GB file must not be left in the build folder.
    struct Cleanup {
      fs::path path;
      ~Cleanup() { fs::remove_all(path); }
    } cleanup{folder};
    {
      // 3 layers of width 2048 plus a 24k vocabulary ≈ 252 M parameters ≈ 1.01 GB in fp32.
      const nlohmann::json config = {
          {"model_type", "llama"},     {"architectures", {"LlamaForCausalLM"}},
          {"vocab_size", 24000},       {"hidden_size", 2048},
          {"intermediate_size", 5632}, {"num_hidden_layers", 3},
          {"num_attention_heads", 16}, {"num_key_value_heads", 16}};
      torch::NoGradGuard no_grad;
      auto model = tb::build_model(config, tb::ModelTask::kCausalLm, "test");
      for (auto& parameter : model->parameters()) parameter.uniform_(-0.02, 0.02);
      tb::save_model(*model, folder);
    }
    const uint64_t file_bytes = fs::file_size(folder / "model.safetensors");
    QVERIFY(file_bytes > 1'000'000'000);

    QProcess probe;
    probe.start(TB_PROBE_PATH, {QString::fromStdString(folder.string())});
    QVERIFY(probe.waitForFinished(300000));
    const QByteArray err = probe.readAllStandardError();
    QVERIFY2(probe.exitStatus() == QProcess::NormalExit && probe.exitCode() == 0, err.constData());
    const QJsonObject report = QJsonDocument::fromJson(probe.readAllStandardOutput()).object();
    QVERIFY(report["finite"].toBool());
    QVERIFY(report["zero_copy"].toInt() > 0);
    QCOMPARE(qint64(report["weight_bytes"].toInteger()), qint64(file_bytes));
    const double peak = report["vm_hwm_kb"].toDouble() * 1024.0;
    const double ratio = peak / double(file_bytes);
    qInfo("file %.3f GB, peak RSS %.3f GB (after load %.3f GB, baseline %.3f GB): ratio %.3f",
          file_bytes / 1e9, peak / 1e9, report["vm_hwm_after_load_kb"].toDouble() * 1024 / 1e9,
          report["baseline_rss_kb"].toDouble() * 1024 / 1e9, ratio);
    // The forward touched every weight, so a sane measurement is at least half the file.
    QVERIFY2(ratio >= 0.5, qPrintable(QString::number(ratio)));
    QVERIFY2(ratio <= 1.3, qPrintable(QString::number(ratio)));
  }
};

QTEST_GUILESS_MAIN(TestLoadMemory)
#include "test_load_memory.moc"
