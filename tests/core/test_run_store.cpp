// The run history: schema, queries, crash safety and concurrent use.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

#include <SQLiteCpp/SQLiteCpp.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/runs/run_recorder.h"
#include "core/runs/run_store.h"
#include "core/runs/schema.h"
#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace fs = std::filesystem;

namespace {

tb::RunStoreOptions options_in(const QTemporaryDir& dir, const char* name = "runs.db") {
  tb::RunStoreOptions options;
  options.path = fs::path(dir.path().toStdString()) / name;
  return options;
}

tb::NewRun new_run(const std::string& name, const std::string& method,
                   const std::string& yaml = "learning_rate: 2e-5\n") {
  tb::NewRun run;
  run.name = name;
  run.method = method;
  run.task = "classification";
  run.model_path = "/models/bert-base-uncased";
  run.dataset = "imdb";
  run.subset = "train 500 / eval 100, seed 42";
  run.config_yaml = yaml;
  return run;
}

struct WriterResult {
  int64_t run_id = 0;
  int64_t flushed = 0;  // rows the writer saw committed before it died
};

WriterResult parse_writer_output(const QString& output) {
  WriterResult result;
  for (const QString& line : output.split('\n', Qt::SkipEmptyParts)) {
    if (line.startsWith("run ")) result.run_id = line.mid(4).toLongLong();
    if (line.startsWith("flushed ")) result.flushed = line.mid(8).toLongLong();
  }
  return result;
}

void expect_error_containing(const std::function<void()>& action, const QString& text) {
  try {
    action();
    QFAIL(qPrintable("expected a tb::Error containing: " + text));
  } catch (const tb::Error& error) {
    QVERIFY2(QString(error.what()).contains(text), error.what());
  }
}

}  // namespace

class TestRunStore : public QObject {
  Q_OBJECT
 private slots:
  void freshFileIsMigratedAndMarked() {
    QTemporaryDir dir;
    tb::RunStore store(options_in(dir));
    QCOMPARE(store.schema_version(), tb::latest_schema_version());
    QCOMPARE(QString::fromStdString(store.integrity_check()), QString("ok"));
    SQLite::Database raw(store.path().string());
    QCOMPARE(raw.execAndGet("PRAGMA application_id").getInt(), tb::kRunStoreApplicationId);
    QCOMPARE(raw.execAndGet("PRAGMA journal_mode").getString(), std::string("wal"));
  }

  void migrationsRunForwardFromEveryVersion() {
    // The mechanism, with a schema history longer than the real one: each start version
    // reaches the latest and keeps its data.
    const std::vector<tb::Migration> steps = {
        {1, "t", "CREATE TABLE t (a INTEGER);"},
        {2, "t.b", "ALTER TABLE t ADD COLUMN b TEXT NOT NULL DEFAULT 'x';"},
        {3, "u", "CREATE TABLE u (c INTEGER); INSERT INTO u SELECT a FROM t;"},
    };
    for (int start = 0; start <= 3; ++start) {
      QTemporaryDir dir;
      SQLite::Database db((dir.path() + "/m.db").toStdString(),
                          SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      tb::migrate(db, "m.db", std::vector<tb::Migration>(steps.begin(), steps.begin() + start));
      if (start >= 1) db.exec("INSERT INTO t (a) VALUES (7)");
      tb::migrate(db, "m.db", steps);
      QCOMPARE(db.execAndGet("PRAGMA user_version").getInt(), 3);
      QCOMPARE(db.execAndGet("SELECT count(*) FROM u").getInt(), start >= 1 && start < 3 ? 1 : 0);
      if (start >= 1) QCOMPARE(db.execAndGet("SELECT b FROM t").getString(), std::string("x"));
    }
  }

  void newerSchemaIsRefusedUntouched() {
    QTemporaryDir dir;
    const tb::RunStoreOptions options = options_in(dir);
    { tb::RunStore store(options); }
    {
      SQLite::Database raw(options.path.string(), SQLite::OPEN_READWRITE);
      raw.exec("PRAGMA user_version = " + std::to_string(tb::latest_schema_version() + 1));
    }
    const std::string before = tb::read_file(options.path);
    expect_error_containing([&] { tb::RunStore store(options); }, "written by a newer tunebench");
    QVERIFY(tb::read_file(options.path) == before);
  }

  void corruptAndForeignFilesAreRefusedUntouched() {
    QTemporaryDir dir;
    const tb::RunStoreOptions options = options_in(dir, "garbage.db");
    std::string garbage(8192, '\0');
    for (char& c : garbage) c = static_cast<char>(QRandomGenerator::global()->generate());
    tb::write_file_atomic(options.path, garbage);
    expect_error_containing([&] { tb::RunStore store(options); }, "not a readable run history");
    QVERIFY(tb::read_file(options.path) == garbage);

    const tb::RunStoreOptions foreign = options_in(dir, "other-app.db");
    {
      SQLite::Database raw(foreign.path.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      raw.exec("CREATE TABLE contacts (name TEXT)");
    }
    const std::string before = tb::read_file(foreign.path);
    expect_error_containing([&] { tb::RunStore store(foreign); }, "not a tunebench run history");
    QVERIFY(tb::read_file(foreign.path) == before);
  }

  void createListFilterSort() {
    QTemporaryDir dir;
    tb::RunStore store(options_in(dir));
    tb::NewRun a = new_run("bert full", "full");
    a.tags = {"recipe-a", "baseline"};
    const int64_t id_a = store.create_run(a);
    const int64_t id_b = store.create_run(new_run("bert lora r8", "lora"));
    tb::NewRun c = new_run("deepseek qlora 100%", "qlora");
    c.task = "sft";
    c.tags = {"recipe-b"};
    const int64_t id_c = store.create_run(c);
    store.finish_run(id_b, tb::RunStatus::kCompleted, R"({"eval/accuracy": 0.91})");

    QCOMPARE(store.list_runs().size(), size_t(3));
    QCOMPARE(store.list_runs().front().id, id_c);  // newest first by default
    tb::RunFilter filter;
    filter.method = "lora";
    QCOMPARE(store.list_runs(filter).at(0).id, id_b);
    filter = {};
    filter.status = tb::RunStatus::kCompleted;
    QCOMPARE(store.list_runs(filter).size(), size_t(1));
    filter = {};
    filter.tag = "recipe-a";
    QCOMPARE(store.list_runs(filter).at(0).id, id_a);
    filter = {};
    filter.search = "100%";  // LIKE wildcards in the search text are literal
    QCOMPARE(store.list_runs(filter).size(), size_t(1));
    filter.search = "baseline";  // tags are searched too
    QCOMPARE(store.list_runs(filter).at(0).id, id_a);
    filter = {};
    filter.sort = tb::RunSort::kName;
    filter.descending = false;
    const std::vector<tb::RunRecord> by_name = store.list_runs(filter);
    QCOMPARE(by_name.at(0).name, std::string("bert full"));
    QCOMPARE(by_name.at(2).name, std::string("deepseek qlora 100%"));
    filter.limit = 1;
    filter.offset = 1;
    QCOMPARE(store.list_runs(filter).at(0).name, std::string("bert lora r8"));

    const tb::RunRecord full = store.get_run(id_a);
    QCOMPARE(full.tags, (std::vector<std::string>{"baseline", "recipe-a"}));
    QCOMPARE(full.config_yaml, std::string("learning_rate: 2e-5\n"));
    QCOMPARE(full.config_hash.size(), size_t(16));
    QCOMPARE(store.get_run(id_b).summary_json, std::string(R"({"eval/accuracy": 0.91})"));
    expect_error_containing([&] { store.get_run(999); }, "no run with id 999");
  }

  void seriesAreDownsampledKeepingExtremes() {
    QTemporaryDir dir;
    tb::RunStore store(options_in(dir));
    const int64_t run = store.create_run(new_run("long", "lora"));
    const int64_t other = store.create_run(new_run("short", "full"));
    tb::WriteBatch batch;
    for (int64_t step = 1; step <= 10000; ++step) {
      double value = 3.0 - step * 1e-4 + 0.01 * std::sin(step);
      if (step == 4321) value = 9.0;   // a loss spike
      if (step == 7777) value = -1.0;  // a dip
      batch.metrics.push_back({"train/loss", {step, step / 1e4, step * 10, step * 0.5, value}});
    }
    store.write(run, batch);
    store.write(other, {{{"train/loss", {1, 0, 0, 0, 0.5}}}, {}, {}, {}});

    const auto all = store.series({run, other}, {"train/loss"}, 0);
    QCOMPARE(all.size(), size_t(2));
    QCOMPARE(all[0].points.size(), size_t(10000));
    QCOMPARE(all[1].points.size(), size_t(1));
    QCOMPARE(store.get_run(run).last_step, int64_t(10000));

    const auto down = store.series({run}, {"train/loss"}, 200);
    const std::vector<tb::MetricPoint>& points = down[0].points;
    QVERIFY(points.size() <= 200 && points.size() >= 150);
    QCOMPARE(down[0].total_points, int64_t(10000));
    QCOMPARE(points.front().step, int64_t(1));
    QCOMPARE(points.back().step, int64_t(10000));
    for (size_t i = 1; i < points.size(); ++i) QVERIFY(points[i - 1].step < points[i].step);
    auto has_step = [&](int64_t step) {
      return std::any_of(points.begin(), points.end(), [&](auto& p) { return p.step == step; });
    };
    QVERIFY(has_step(4321));
    QVERIFY(has_step(7777));
    QCOMPARE(store.metric_names(run), std::vector<std::string>{"train/loss"});
  }

  void configDiffShowsOnlyDifferences() {
    QTemporaryDir dir;
    tb::RunStore store(options_in(dir));
    const int64_t a = store.create_run(
        new_run("a", "lora", "lora_rank: 8\nlora_target: [q_proj, v_proj]\nlearning_rate: 3e-4\n"));
    const int64_t b = store.create_run(
        new_run("b", "lora",
                "lora_rank: 16\nlora_target: [q_proj, k_proj]\nlearning_rate: 3e-4\n"
                "bf16: true\n"));
    const std::vector<tb::ConfigDiffRow> diff = store.config_diff({a, b});
    QCOMPARE(diff.size(), size_t(3));
    QCOMPARE(diff[0].key, std::string("lora_rank"));
    QCOMPARE(diff[0].values, (std::vector<std::string>{"8", "16"}));
    QCOMPARE(diff[1].key, std::string("lora_target[1]"));
    QCOMPARE(diff[2].key, std::string("bf16"));
    QCOMPARE(diff[2].values, (std::vector<std::string>{"", "true"}));
  }

  void editAndDelete() {
    QTemporaryDir dir;
    tb::RunStore store(options_in(dir));
    tb::NewRun with_dir = new_run("x", "full");
    with_dir.output_dir = (dir.path() + "/out-x").toStdString();
    const int64_t x = store.create_run(with_dir);
    store.rename_run(x, "renamed");
    store.set_tags(x, {"keep", "best"});
    store.set_notes(x, "lr too high");
    const tb::RunRecord edited = store.get_run(x);
    QCOMPARE(edited.name, std::string("renamed"));
    QCOMPARE(edited.tags, (std::vector<std::string>{"best", "keep"}));
    QCOMPARE(edited.notes, std::string("lr too high"));

    // A folder tunebench did not mark is never deleted.
    fs::create_directories(with_dir.output_dir);
    expect_error_containing([&] { store.delete_run(x, true); }, "will not delete it");
    QVERIFY(fs::exists(with_dir.output_dir));
    tb::mark_output_dir(with_dir.output_dir, x);
    std::ofstream(fs::path(with_dir.output_dir) / "adapter_model.safetensors") << "weights";
    store.write(x, {{{"train/loss", {1, 0, 0, 0, 1.0}}}, {}, {}, {}});
    store.delete_run(x, true);
    QVERIFY(!fs::exists(with_dir.output_dir));
    QVERIFY(store.list_runs().empty());
    QVERIFY(store.series({x}, {"train/loss"}).at(0).points.empty());  // cascaded
  }

  void exportsCsvAndJson() {
    QTemporaryDir dir;
    tb::RunStore store(options_in(dir));
    const int64_t run = store.create_run(new_run("exp", "lora"));
    tb::WriteBatch batch;
    batch.metrics = {{"train/loss", {1, 0.25, 512, 1.5, 2.302585092994046}},
                     {"train/loss", {2, 0.5, 1024, 3.0, 1.0 / 3.0}},
                     {"eval/accuracy", {2, 0.5, 1024, 3.0, 0.875}}};
    batch.events = {{tb::unix_now(), "info", "started"}};
    batch.artifacts = {{"checkpoint", "/tmp/ckpt-2", 1234, tb::unix_now()}};
    store.write(run, batch);
    QCOMPARE(store.get_run(run).last_checkpoint, std::string());  // only set when asked
    const fs::path csv = fs::path(dir.path().toStdString()) / "run.csv";
    store.export_csv(run, csv);
    std::ifstream in(csv);
    std::string header, line;
    std::getline(in, header);
    QCOMPARE(header, std::string("metric,step,epoch,tokens,wall_seconds,value"));
    std::vector<std::string> lines;
    while (std::getline(in, line)) lines.push_back(line);
    QCOMPARE(lines.size(), size_t(3));
    const std::string second_loss = lines.back();
    QVERIFY2(second_loss.rfind("\"train/loss\",2,0.5,1024,3,", 0) == 0, second_loss.c_str());
    QCOMPARE(std::stod(second_loss.substr(second_loss.rfind(',') + 1)), 1.0 / 3.0);

    const fs::path json_file = fs::path(dir.path().toStdString()) / "run.json";
    store.export_json(run, json_file);
    const QJsonObject json =
        QJsonDocument::fromJson(QByteArray::fromStdString(tb::read_file(json_file))).object();
    QCOMPARE(json["name"].toString(), QString("exp"));
    QCOMPARE(json["metrics"].toObject()["train/loss"].toArray().size(), 2);
    QCOMPARE(json["events"].toArray().at(0).toObject()["message"].toString(), QString("started"));
    QCOMPARE(json["artifacts"].toArray().at(0).toObject()["kind"].toString(),
             QString("checkpoint"));
  }

  void recorderBatchesAndFinishes() {
    QTemporaryDir dir;
    const tb::RunStoreOptions options = options_in(dir);
    tb::RunStore store(options);
    const int64_t run = store.create_run(new_run("rec", "lora"));
    {
      tb::RunRecorder recorder(options, run);
      QCOMPARE(store.get_run(run).status, tb::RunStatus::kRunning);
      for (int64_t step = 1; step <= 500; ++step) {
        recorder.log_metric("train/loss", {step, 0, 0, 0, 1.0});
      }
      recorder.add_artifact({"checkpoint", "/tmp/ckpt-500", 10, tb::unix_now()});
      recorder.log_event("info", "saved checkpoint");
      recorder.flush();
      QCOMPARE(recorder.committed_rows(), int64_t(500));
      QCOMPARE(store.get_run(run).last_checkpoint, std::string("/tmp/ckpt-500"));
      recorder.finish(tb::RunStatus::kCompleted, R"({"train/loss": 1.0})");
    }
    const tb::RunRecord done = store.get_run(run);
    QCOMPARE(done.status, tb::RunStatus::kCompleted);
    QVERIFY(done.finished_at.has_value());
    QCOMPARE(done.last_step, int64_t(500));
    QCOMPARE(store.events(run).size(), size_t(1));
  }

  void readerAndWriterWorkAtOnce() {
    QTemporaryDir dir;
    const tb::RunStoreOptions options = options_in(dir);
    tb::RunStore reader(options);
    const int64_t run = reader.create_run(new_run("busy", "full"));
    std::atomic<bool> writing{true};
    std::string writer_error;
    std::thread writer([&] {
      try {
        tb::RecorderOptions fast;
        fast.flush_interval_seconds = 0.005;
        tb::RunRecorder recorder(options, run, fast);
        for (int64_t step = 1; step <= 60000; ++step) {
          recorder.log_metric("train/loss", {step, 0, 0, 0, 1.0 / step});
        }
        recorder.finish(tb::RunStatus::kCompleted);
      } catch (const std::exception& error) {
        writer_error = error.what();
      }
      writing = false;
    });
    int reads = 0;
    std::string reader_error;
    try {
      while (writing) {
        reader.list_runs();
        reader.series({run}, {"train/loss"}, 500);
        ++reads;
      }
    } catch (const std::exception& error) {
      reader_error = error.what();
    }
    writer.join();
    QVERIFY2(writer_error.empty(), writer_error.c_str());
    QVERIFY2(reader_error.empty(), reader_error.c_str());
    QVERIFY(reads > 0);
    QCOMPARE(reader.series({run}, {"train/loss"}).at(0).total_points, int64_t(60000));
  }

  void deadWriterIsMarkedInterrupted() {
    QTemporaryDir dir;
    const tb::RunStoreOptions options = options_in(dir);
    QProcess writer;
    writer.start(TB_WRITER_PATH, {QString::fromStdString(options.path.string()), "exit-running"});
    QVERIFY(writer.waitForFinished(30000));
    QCOMPARE(writer.exitCode(), 0);
    const int64_t run = parse_writer_output(writer.readAllStandardOutput()).run_id;
    tb::RunStore store(options);
    const tb::RunRecord record = store.get_run(run);
    QCOMPARE(record.status, tb::RunStatus::kInterrupted);
    QCOMPARE(record.last_step, int64_t(10));  // resume information is kept
    QCOMPARE(record.last_checkpoint, std::string("/tmp/checkpoint-10"));
    QVERIFY2(record.error_text.find("is gone") != std::string::npos, record.error_text.c_str());
    QCOMPARE(store.events(run).back().level, std::string("warning"));
  }

  void silentWriterIsMarkedInterrupted() {
    QTemporaryDir dir;
    tb::RunStoreOptions options = options_in(dir);
    QProcess writer;
    writer.start(TB_WRITER_PATH, {QString::fromStdString(options.path.string()), "hang"});
    QVERIFY(writer.waitForReadyRead(30000));
    while (!writer.canReadLine() || !QString(writer.peek(4096)).contains("ready")) {
      QVERIFY(writer.waitForReadyRead(30000));
    }
    const int64_t run = parse_writer_output(writer.readAllStandardOutput()).run_id;
    {
      tb::RunStore fresh(options);  // alive and recent: left alone
      QCOMPARE(fresh.get_run(run).status, tb::RunStatus::kRunning);
    }
    QTest::qWait(1200);
    options.stale_after_seconds = 1.0;
    tb::RunStore store(options);
    QCOMPARE(store.get_run(run).status, tb::RunStatus::kInterrupted);
    QVERIFY(store.get_run(run).error_text.find("no heartbeat") != std::string::npos);
    writer.kill();
    writer.waitForFinished();
  }

  void sigkillAtRandomMomentsLosesNothingFlushed() {
    QTemporaryDir dir;
    const tb::RunStoreOptions options = options_in(dir);
    for (int round = 0; round < 12; ++round) {
      QProcess writer;
      writer.start(TB_WRITER_PATH, {QString::fromStdString(options.path.string()), "record"});
      // Wait until the run exists (loading LibTorch takes a while), then pick the moment.
      QByteArray output;
      while (!output.contains('\n')) {
        QVERIFY2(writer.waitForReadyRead(30000), "writer printed nothing");
        output += writer.readAllStandardOutput();
      }
      // Read while the writer writes (a GUI beside a trainer), then kill it mid-flight.
      const int kill_after_ms = 30 + QRandomGenerator::global()->bounded(400);
      QElapsedTimer timer;
      timer.start();
      tb::RunStore reader(options);
      while (timer.elapsed() < kill_after_ms) {
        reader.list_runs();
        QTest::qWait(5);
      }
      writer.kill();  // SIGKILL
      QVERIFY(writer.waitForFinished(10000));
      const WriterResult seen = parse_writer_output(output + writer.readAllStandardOutput());
      QVERIFY2(seen.run_id > 0, qPrintable(writer.readAllStandardError()));

      tb::RunStore store(options);
      QCOMPARE(QString::fromStdString(store.integrity_check()), QString("ok"));
      const tb::RunRecord run = store.get_run(seen.run_id);
      QCOMPARE(run.status, tb::RunStatus::kInterrupted);
      int64_t stored = 0;
      for (const auto& series : store.series({seen.run_id}, {"train/loss", "train/lr"})) {
        stored += series.total_points;
      }
      qInfo("round %d: killed after %d ms, %lld rows flushed, %lld stored", round, kill_after_ms,
            static_cast<long long>(seen.flushed), static_cast<long long>(stored));
      QVERIFY(seen.flushed > 0 || kill_after_ms < 100);
      QVERIFY2(stored >= seen.flushed, qPrintable(QString("round %1: stored %2 < flushed %3")
                                                      .arg(round)
                                                      .arg(stored)
                                                      .arg(seen.flushed)));
    }
  }
};

QTEST_GUILESS_MAIN(TestRunStore)
#include "test_run_store.moc"
