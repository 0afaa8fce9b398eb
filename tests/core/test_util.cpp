// core/util: errors, atomic files, XDG paths, runtime setup and the doctor report.
#include <ATen/Parallel.h>

#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/util/atomic_file.h"
#include "core/util/blas_core.h"
#include "core/util/error.h"
#include "core/util/paths.h"
#include "core/util/runtime.h"
#include "core/util/system_info.h"
#include "core/util/text.h"

namespace fs = std::filesystem;

namespace {

int count_entries(const fs::path& dir) {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++count;
  return count;
}

// Sets an environment variable for the scope of one test and restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    value ? setenv(name, value, 1) : unsetenv(name);
  }
  ~ScopedEnv() { had_ ? setenv(name_, old_.c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

}  // namespace

class TestUtil : public QObject {
  Q_OBJECT
 private slots:
  void errorMessageHasWhereWhatAndFix() {
    const tb::Error error = tb::make_error(
        "unknown key 'lora_rnak'", tb::location("run.yaml", 3, 7), "Did you mean 'lora_rank'?");
    QCOMPARE(QString(error.what()),
             QString("run.yaml:3:7: unknown key 'lora_rnak'. Did you mean 'lora_rank'?"));
    QCOMPARE(QString::fromStdString(tb::location("a.json")), QString("a.json"));
    QCOMPARE(QString::fromStdString(tb::location("a.json", 4)), QString("a.json:4"));
  }

  void closestMatchSuggestsTypos() {
    const std::vector<std::string> keys{"lora_rank", "lora_alpha", "learning_rate"};
    QCOMPARE(tb::edit_distance("kitten", "sitting"), size_t(3));
    QCOMPARE(tb::closest_match("lora_rnak", keys), std::string("lora_rank"));
    QCOMPARE(tb::closest_match("learning_rat", keys), std::string("learning_rate"));
    QCOMPARE(tb::closest_match("zzz", keys), std::string());
    QCOMPARE(tb::join({"a", "b", "c"}, ", "), std::string("a, b, c"));
  }

  void numberedComponentsAreWholeDigitComponents() {
    const auto layer = tb::find_numbered_component("model.layers.12.mlp.up_proj.weight");
    QVERIFY(layer.has_value());
    QCOMPARE(layer->number, int64_t{12});
    QCOMPARE(layer->begin, size_t{13});
    QCOMPARE(layer->end, size_t{15});
    // "h2o" and "x1" are not numbers; the number at the very end counts.
    QVERIFY(!tb::find_numbered_component("h2o.x1.weight").has_value());
    const auto last = tb::find_numbered_component("a.b7.40");
    QVERIFY(last.has_value());
    QCOMPARE(last->number, int64_t{40});
    // From a position on: the next one.
    const auto second = tb::find_numbered_component("encoder.layer.3.output.7.x", 16);
    QVERIFY(second.has_value());
    QCOMPARE(second->number, int64_t{7});
    // No leading dot, too many digits, empty component: none.
    QVERIFY(!tb::find_numbered_component("12.weight").has_value());
    QVERIFY(!tb::find_numbered_component("a.1234567890123456789.b").has_value());
    QVERIFY(!tb::find_numbered_component("a..b").has_value());
  }

  void atomicWriteCreatesAndReplaces() {
    QTemporaryDir dir;
    const fs::path target = fs::path(dir.path().toStdString()) / "config.yaml";
    tb::write_file_atomic(target, "first");
    QCOMPARE(QString::fromStdString(tb::read_file(target)), QString("first"));
    tb::write_file_atomic(target, [](std::ostream& out) { out << "second " << 2; });
    QCOMPARE(QString::fromStdString(tb::read_file(target)), QString("second 2"));
    QCOMPARE(count_entries(target.parent_path()), 1);  // no temp file left behind
  }

  void atomicWriteKeepsOldContentWhenProducerFails() {
    QTemporaryDir dir;
    const fs::path target = fs::path(dir.path().toStdString()) / "model.json";
    tb::write_file_atomic(target, "precious");
    QVERIFY_THROWS_EXCEPTION(std::runtime_error,
                             tb::write_file_atomic(target, [](std::ostream& out) {
                               out << "half";
                               throw std::runtime_error("producer failed");
                             }));
    QCOMPARE(QString::fromStdString(tb::read_file(target)), QString("precious"));
    QCOMPARE(count_entries(target.parent_path()), 1);
  }

  void atomicWriteIntoMissingFolderNamesTheFolder() {
    QTemporaryDir dir;
    const fs::path missing = fs::path(dir.path().toStdString()) / "no" / "such";
    try {
      tb::write_file_atomic(missing / "x.txt", "data");
      QFAIL("expected tb::Error");
    } catch (const tb::Error& error) {
      QVERIFY2(QString(error.what()).contains(QString::fromStdString(missing.string())),
               error.what());
    }
  }

  void readMissingFileSaysNoSuchFile() {
    try {
      tb::read_file("/nonexistent/tunebench/file.json");
      QFAIL("expected tb::Error");
    } catch (const tb::Error& error) {
      QCOMPARE(QString(error.what()),
               QString("/nonexistent/tunebench/file.json: no such file. Check the path and its "
                       "permissions."));
    }
  }

  void pathsFollowXdgAndOverrides() {
    const ScopedEnv no_data("TB_DATA_DIR", nullptr), no_store("TB_DB", nullptr);
    {
      const ScopedEnv xdg("XDG_DATA_HOME", "/xdg/data");
      QCOMPARE(QString::fromStdString(tb::data_dir()), QString("/xdg/data/tunebench"));
      QCOMPARE(QString::fromStdString(tb::run_store_path()),
               QString("/xdg/data/tunebench/runs.db"));
    }
    {
      // Relative XDG values are invalid per the spec and ignored.
      const ScopedEnv xdg("XDG_DATA_HOME", "relative/dir"), home("HOME", "/home/ada");
      QCOMPARE(QString::fromStdString(tb::data_dir()), QString("/home/ada/.local/share/tunebench"));
    }
    const ScopedEnv data("TB_DATA_DIR", "/custom/data"), store("TB_DB", "/tmp/r.sqlite");
    QCOMPARE(QString::fromStdString(tb::data_dir()), QString("/custom/data"));
    QCOMPARE(QString::fromStdString(tb::run_store_path()), QString("/tmp/r.sqlite"));
  }

  void writableCheckReportsUnusableFolder() {
    QTemporaryDir dir;
    const std::string file = (dir.path() + "/a-file").toStdString();
    std::ofstream(file) << "x";
    // A folder below a regular file can never be created, even by root.
    const ScopedEnv data("TB_DATA_DIR", (file + "/data").c_str());
    const std::vector<tb::DirCheck> checks = tb::check_writable_dirs();
    QCOMPARE(checks.front().label, std::string("data"));
    QVERIFY(!checks.front().writable);
    QVERIFY(!checks.front().detail.empty());
    QVERIFY(checks.at(1).writable);  // cache dir from the test environment
  }

  void threadCountResolution() {
    tb::RuntimeInfo info;
    tb::resolve_threads({}, nullptr, 8, info);
    QCOMPARE(info.threads, 8);
    QCOMPARE(info.threads_source, std::string("cores"));

    info = {};
    tb::resolve_threads({}, "3", 8, info);
    QCOMPARE(info.threads, 3);
    QCOMPARE(info.threads_source, std::string("TB_THREADS"));

    info = {};
    tb::resolve_threads({}, "lots", 8, info);
    QCOMPARE(info.threads, 8);
    QCOMPARE(info.warnings.size(), size_t(1));
    QVERIFY(QString::fromStdString(info.warnings[0]).contains("TB_THREADS='lots'"));

    info = {};
    tb::RuntimeOptions options;
    options.threads = 2;
    tb::resolve_threads(options, "5", 8, info);
    QCOMPARE(info.threads, 2);
  }

  void initRuntimeSetsThreadsAndMeasuresBlas() {
    const ScopedEnv threads("TB_THREADS", "1");
    const tb::RuntimeInfo& info = tb::init_runtime();
    QCOMPARE(info.threads, 1);
    QCOMPARE(at::get_num_threads(), 1);
    QVERIFY(info.blas_gflops > 0.0);
    QCOMPARE(&tb::init_runtime(), &info);  // measured once per process
  }

  void blasIsNotTheReferenceImplementation() {
    // packaging/install-deps.sh installs OpenBLAS; the ~20x slower reference BLAS here means
    // the machine is misconfigured and every training test would crawl.
    const std::string backend = tb::detect_blas_backend();
    QVERIFY2(backend.find("reference BLAS") == std::string::npos, backend.c_str());
    QVERIFY2(backend != "unknown", backend.c_str());
  }

  void blasKernelChoiceFollowsTheCpuFlags() {
    // The kernel family tunebench asks OpenBLAS for, checked against /proc/cpuinfo's flags.
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line, flags;
    while (std::getline(cpuinfo, line)) {
      if (line.rfind("flags", 0) == 0) {
        flags = line + " ";
        break;
      }
    }
    QVERIFY2(!flags.empty(), "no flags line in /proc/cpuinfo");
    const auto has = [&flags](const char* flag) {
      return flags.find(" " + std::string(flag) + " ") != std::string::npos;
    };
    const bool avx512 = has("avx512f") && has("avx512bw") && has("avx512vl") && has("avx512dq");
    const std::string expected = avx512 ? "SkylakeX" : has("avx2") && has("fma") ? "Haswell" : "";
    QCOMPARE(tb::better_blas_core("prescott"), expected);
    QCOMPARE(tb::better_blas_core("nehalem"), expected);
    QCOMPARE(tb::better_blas_core("skylakex"), std::string());  // already the best: keep it
    QCOMPARE(tb::better_blas_core("zen"), std::string());
  }

  void doctorJsonHasEveryField() {
    const tb::DoctorReport report = tb::collect_doctor_report(tb::init_runtime());
    const QJsonObject json =
        QJsonDocument::fromJson(QByteArray::fromStdString(tb::format_doctor_json(report))).object();
    for (const char* key : {"tunebench_version", "libtorch_version", "threads", "blas_backend",
                            "blas_gflops", "cpu_bf16", "cuda_compiled", "cuda_available",
                            "cuda_devices", "run_store", "dirs", "libraries", "warnings"}) {
      QVERIFY2(json.contains(key), key);
    }
    QVERIFY(json["libraries"].toObject().contains("SQLite"));
    const std::string text = tb::format_doctor_text(report);
    QVERIFY(text.find("run store") != std::string::npos);
    QVERIFY(text.find("GFLOP/s") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestUtil)
#include "test_util.moc"
