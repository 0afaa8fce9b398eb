// `tunebench-cli runs …`: the run history from the terminal (the same file the GUI shows).
#include <nlohmann/json.hpp>

#include <ctime>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "app/cli/command.h"
#include "core/runs/run_store.h"
#include "core/util/error.h"

namespace tb::cli {

namespace {

std::string local_time(double unix_seconds) {
  const std::time_t time = static_cast<std::time_t>(unix_seconds);
  std::tm parts{};
  localtime_r(&time, &parts);
  std::ostringstream text;
  text << std::put_time(&parts, "%Y-%m-%d %H:%M");
  return text.str();
}

std::string join_tags(const std::vector<std::string>& tags) {
  std::string text;
  for (const std::string& tag : tags) text += (text.empty() ? "" : ",") + tag;
  return text;
}

nlohmann::json run_summary_json(const RunRecord& run) {
  return {{"id", run.id},
          {"name", run.name},
          {"status", to_string(run.status)},
          {"task", run.task},
          {"method", run.method},
          {"model_path", run.model_path},
          {"dataset", run.dataset},
          {"last_step", run.last_step},
          {"created_at", run.created_at},
          {"tags", run.tags},
          {"output_dir", run.output_dir}};
}

RunSort parse_sort(const std::string& name) {
  if (name == "name") return RunSort::kName;
  if (name == "status") return RunSort::kStatus;
  if (name == "method") return RunSort::kMethod;
  if (name == "step") return RunSort::kLastStep;
  return RunSort::kCreated;
}

void print_table(const std::vector<RunRecord>& runs) {
  std::cout << std::left << std::setw(6) << "ID" << std::setw(28) << "NAME" << std::setw(12)
            << "STATUS" << std::setw(8) << "METHOD" << std::setw(16) << "TASK" << std::setw(9)
            << "STEP" << std::setw(18) << "CREATED"
            << "TAGS\n";
  for (const RunRecord& run : runs) {
    std::string name = run.name.size() > 26 ? run.name.substr(0, 25) + "…" : run.name;
    std::cout << std::setw(6) << run.id << std::setw(28) << name << std::setw(12)
              << to_string(run.status) << std::setw(8) << run.method << std::setw(16) << run.task
              << std::setw(9) << run.last_step << std::setw(18) << local_time(run.created_at)
              << join_tags(run.tags) << "\n";
  }
  if (runs.empty()) std::cout << "(no runs)\n";
}

void print_run(const RunStore& store, const RunRecord& run) {
  const auto row = [](const std::string& key, const std::string& value) {
    if (!value.empty()) std::cout << std::left << std::setw(16) << key << value << "\n";
  };
  row("run", std::to_string(run.id) + "  " + run.name);
  row("status", to_string(run.status));
  row("method", run.method + (run.task.empty() ? "" : " (" + run.task + ")"));
  row("model", run.model_path);
  row("data", run.dataset + (run.subset.empty() ? "" : "  (" + run.subset + ")"));
  row("created", local_time(run.created_at));
  if (run.started_at) row("started", local_time(*run.started_at));
  if (run.finished_at) row("finished", local_time(*run.finished_at));
  row("host / pid", run.host.empty() ? "" : run.host + " / " + std::to_string(run.pid));
  row("device", run.device);
  row("last step", std::to_string(run.last_step));
  row("checkpoint", run.last_checkpoint);
  row("output", run.output_dir);
  row("summary", run.summary_json == "{}" ? "" : run.summary_json);
  row("error", run.error_text);
  row("tags", join_tags(run.tags));
  row("notes", run.notes);
  const std::vector<std::string> names = store.metric_names(run.id);
  if (!names.empty()) std::cout << "metrics:\n";
  for (const MetricSeries& series : store.series({run.id}, names)) {
    if (series.points.empty()) continue;
    std::cout << "  " << series.name << ": " << series.total_points << " points, last "
              << series.points.back().value << " at step " << series.points.back().step << "\n";
  }
  if (!run.config_yaml.empty()) std::cout << "config:\n" << run.config_yaml;
}

}  // namespace

Command add_runs_command(CLI::App& app) {
  CLI::App* runs = app.add_subcommand("runs", "List, inspect, compare, edit and export runs");
  runs->require_subcommand(1);
  runs->footer(
      "Examples:\n  tunebench-cli runs list --method lora\n  tunebench-cli runs show 12 --json\n"
      "  tunebench-cli runs compare 12 13 14\n  tunebench-cli runs export 12 --csv loss.csv");

  struct Args {
    bool json = false, ascending = false, with_files = false;
    std::string status, method, task, tag, search, sort = "created", csv, json_file, text;
    int limit = 0;
    int64_t id = 0;            // commands about one run
    std::vector<int64_t> ids;  // commands about several runs
    std::vector<std::string> tags;
  };
  auto a = std::make_shared<Args>();

  CLI::App* list = runs->add_subcommand("list", "Runs, newest first");
  list->add_option("--status", a->status, "Only runs in this state")
      ->check(
          CLI::IsMember({"queued", "running", "completed", "stopped", "failed", "interrupted"}));
  list->add_option("--method", a->method, "Only this method (full, freeze, lora, qlora, ptuning)");
  list->add_option("--task", a->task, "Only this task");
  list->add_option("--tag", a->tag, "Only runs with this tag");
  list->add_option("--search", a->search, "Text in name, model, data set, notes or tags");
  list->add_option("--sort", a->sort, "created (default), name, status, method or step")
      ->check(CLI::IsMember({"created", "name", "status", "method", "step"}));
  list->add_flag("--asc", a->ascending, "Oldest / lowest first");
  list->add_option("--limit", a->limit, "At most this many runs");
  list->add_flag("--json", a->json, "JSON array");

  CLI::App* show = runs->add_subcommand("show", "One run: status, config, every metric");
  show->add_option("run", a->id, "Run id")->required();
  show->add_flag("--json", a->json, "Everything as JSON, every logged metric included");

  CLI::App* compare = runs->add_subcommand("compare", "Config keys that differ between runs");
  compare->add_option("runs", a->ids, "Two or more run ids")->required()->expected(2, 64);
  compare->add_flag("--json", a->json, "JSON");

  CLI::App* remove = runs->add_subcommand("delete", "Delete runs from the history");
  remove->add_option("runs", a->ids, "Run ids")->required()->expected(1, 1000);
  remove->add_flag("--with-files", a->with_files,
                   "Also delete the output folder tunebench created for the run");

  CLI::App* exporting = runs->add_subcommand("export", "Write a run's metrics as CSV or JSON");
  exporting->add_option("run", a->id, "Run id")->required();
  exporting->add_option("--csv", a->csv, "CSV file (metric,step,epoch,tokens,wall,value)");
  exporting->add_option("--json", a->json_file, "JSON file (run, config, metrics, events)");

  CLI::App* rename = runs->add_subcommand("rename", "Rename a run");
  rename->add_option("run", a->id, "Run id")->required();
  rename->add_option("name", a->text, "New name")->required();

  CLI::App* tag = runs->add_subcommand("tag", "Replace a run's tags");
  tag->add_option("run", a->id, "Run id")->required();
  tag->add_option("tags", a->tags, "Tags (none clears them)");

  CLI::App* note = runs->add_subcommand("note", "Replace a run's notes");
  note->add_option("run", a->id, "Run id")->required();
  note->add_option("text", a->text, "Notes")->required();

  CLI::App* check = runs->add_subcommand("check", "Verify the run history file (integrity check)");

  return {
      runs, [=]() -> int {
        RunStore store;
        if (list->parsed()) {
          RunFilter filter;
          if (!a->status.empty()) filter.status = parse_run_status(a->status);
          filter.method = a->method;
          filter.task = a->task;
          filter.tag = a->tag;
          filter.search = a->search;
          filter.sort = parse_sort(a->sort);
          filter.descending = !a->ascending;
          filter.limit = a->limit;
          const std::vector<RunRecord> found = store.list_runs(filter);
          if (a->json) {
            nlohmann::json array = nlohmann::json::array();
            for (const RunRecord& run : found) array.push_back(run_summary_json(run));
            std::cout << array.dump(2) << "\n";
          } else {
            print_table(found);
          }
        } else if (show->parsed()) {
          if (a->json) {
            std::cout << store.run_json(a->id);
          } else {
            print_run(store, store.get_run(a->id));
          }
        } else if (compare->parsed()) {
          const std::vector<ConfigDiffRow> diff = store.config_diff(a->ids);
          if (a->json) {
            nlohmann::json rows = nlohmann::json::array();
            for (const ConfigDiffRow& row : diff) {
              rows.push_back({{"key", row.key}, {"values", row.values}});
            }
            std::cout << nlohmann::json{{"runs", a->ids}, {"differences", rows}}.dump(2) << "\n";
          } else {
            std::cout << std::left << std::setw(32) << "KEY";
            for (const int64_t id : a->ids)
              std::cout << std::setw(20) << ("run " + std::to_string(id));
            std::cout << "\n";
            for (const ConfigDiffRow& row : diff) {
              std::cout << std::setw(32) << row.key;
              for (const std::string& value : row.values) {
                std::cout << std::setw(20) << (value.empty() ? "-" : value);
              }
              std::cout << "\n";
            }
            if (diff.empty()) std::cout << "(the configs are identical)\n";
          }
        } else if (remove->parsed()) {
          for (const int64_t id : a->ids) {
            store.delete_run(id, a->with_files);
            std::cout << "deleted run " << id << (a->with_files ? " and its files" : "") << "\n";
          }
        } else if (exporting->parsed()) {
          if (a->csv.empty() && a->json_file.empty()) {
            throw make_error("nothing to export", "runs export",
                             "Give --csv FILE and/or --json FILE.");
          }
          if (!a->csv.empty()) store.export_csv(a->id, a->csv);
          if (!a->json_file.empty()) store.export_json(a->id, a->json_file);
        } else if (rename->parsed()) {
          store.rename_run(a->id, a->text);
        } else if (tag->parsed()) {
          store.set_tags(a->id, a->tags);
        } else if (note->parsed()) {
          store.set_notes(a->id, a->text);
        } else if (check->parsed()) {
          const std::string result = store.integrity_check();
          std::cout << store.path().string() << ": " << result << "\n";
          return result == "ok" ? kExitOk : kExitError;
        }
        return kExitOk;
      }};
}

}  // namespace tb::cli
