// RunStore's exports: a run's metrics as CSV and the whole run as JSON.
#include <nlohmann/json.hpp>

#include <iomanip>
#include <limits>
#include <sstream>

#include "core/runs/run_store.h"
#include "core/runs/run_store_impl.h"
#include "core/util/atomic_file.h"

namespace tb {

namespace {

nlohmann::json optional_json(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

// Stored summaries are JSON written by tunebench; show a damaged one as text, not an error.
nlohmann::json parse_summary(const std::string& text) {
  try {
    return nlohmann::json::parse(text.empty() ? "{}" : text);
  } catch (const nlohmann::json::exception&) {
    return text;
  }
}

}  // namespace

std::string RunStore::run_json(int64_t run_id) const {
  const RunRecord run = get_run(run_id);
  nlohmann::json doc;
  doc["id"] = run.id;
  doc["name"] = run.name;
  doc["status"] = to_string(run.status);
  doc["task"] = run.task;
  doc["method"] = run.method;
  doc["model_path"] = run.model_path;
  doc["dataset"] = run.dataset;
  doc["subset"] = run.subset;
  doc["config_yaml"] = run.config_yaml;
  doc["config_hash"] = run.config_hash;
  doc["created_at"] = run.created_at;
  doc["started_at"] = optional_json(run.started_at);
  doc["finished_at"] = optional_json(run.finished_at);
  doc["pid"] = run.pid;
  doc["host"] = run.host;
  doc["device"] = run.device;
  doc["last_step"] = run.last_step;
  doc["last_checkpoint"] = run.last_checkpoint;
  doc["summary"] = parse_summary(run.summary_json);
  doc["output_dir"] = run.output_dir;
  doc["error"] = run.error_text;
  doc["notes"] = run.notes;
  doc["tags"] = run.tags;
  doc["metrics"] = nlohmann::json::object();
  for (const MetricSeries& series : this->series({run_id}, metric_names(run_id))) {
    nlohmann::json points = nlohmann::json::array();
    for (const MetricPoint& p : series.points) {
      points.push_back({{"step", p.step},
                        {"epoch", p.epoch},
                        {"tokens", p.tokens},
                        {"wall", p.wall},
                        {"value", p.value}});
    }
    doc["metrics"][series.name] = std::move(points);
  }
  doc["events"] = nlohmann::json::array();
  for (const RunEvent& event : events(run_id)) {
    doc["events"].push_back(
        {{"time", event.time}, {"level", event.level}, {"message", event.message}});
  }
  doc["artifacts"] = nlohmann::json::array();
  for (const RunArtifact& file : artifacts(run_id)) {
    doc["artifacts"].push_back({{"kind", file.kind},
                                {"path", file.path},
                                {"size", file.size},
                                {"created_at", file.created_at}});
  }
  return doc.dump(2) + "\n";
}

void RunStore::export_json(int64_t run_id, const std::filesystem::path& file) const {
  write_file_atomic(file, run_json(run_id));
}

void RunStore::export_csv(int64_t run_id, const std::filesystem::path& file) const {
  const std::vector<MetricSeries> all = series({run_id}, metric_names(run_id));
  write_file_atomic(file, [&all](std::ostream& out) {
    // Round-trip precision: the CSV must reproduce the stored doubles exactly.
    out << std::setprecision(std::numeric_limits<double>::max_digits10);
    out << "metric,step,epoch,tokens,wall_seconds,value\n";
    for (const MetricSeries& series : all) {
      // Metric names are identifiers like "train/loss"; quote them anyway for safety.
      std::string quoted = "\"";
      for (const char c : series.name)
        quoted += (c == '"') ? std::string("\"\"") : std::string(1, c);
      quoted += "\"";
      for (const MetricPoint& p : series.points) {
        out << quoted << ',' << p.step << ',' << p.epoch << ',' << p.tokens << ',' << p.wall << ','
            << p.value << '\n';
      }
    }
  });
}

}  // namespace tb
