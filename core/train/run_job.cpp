#include "core/train/run_job.h"

#include <nlohmann/json.hpp>

#include <ctime>

#include "core/config/config_yaml.h"
#include "core/io/hf_folder.h"
#include "core/runs/run_recorder.h"
#include "core/train/run_setup.h"
#include "core/util/device.h"
#include "core/util/error.h"
#include "core/util/paths.h"

namespace tb {
namespace fs = std::filesystem;

namespace {

std::string method_label(const RunConfig& config) {
  if (config.method.finetuning_type == "lora" && config.method.quantization_bit == 4)
    return "qlora";
  return config.method.finetuning_type;
}

// Ranks other than 0: the same preparation and training loop, nothing recorded or written.
// Rank 0 says first whether the run started and where its output goes.
RunJobResult follow_run(RunConfig config, Distributed& group, const TrainerCallbacks& callbacks,
                        TrainerControl* control,
                        const std::function<void(const RunJobResult&)>& on_prepared) {
  const std::string start = group.share("start", "");
  const size_t first = start.find('\n');
  const size_t second = start.find('\n', first + 1);
  if (start.rfind("ok\n", 0) != 0 || second == std::string::npos) {
    throw make_error("rank 0 could not start the run: " + start.substr(first + 1),
                     "rank " + std::to_string(group.rank()));
  }
  RunJobResult result;
  result.run_id = std::stoll(start.substr(first + 1, second - first - 1));
  result.output_dir = start.substr(second + 1);
  config.output.output_dir = result.output_dir;
  PrepareOptions prepare;
  prepare.rank = group.rank();
  prepare.world_size = group.world_size();
  PreparedRun prepared = prepare_run(config, prepare);
  result.trainable_text = prepared.method->report().text();
  if (on_prepared) on_prepared(result);
  TrainingJob job;
  job.model = prepared.model.get();
  job.trainable = prepared.method->trainable();
  job.train = prepared.train.get();
  job.training = config.training;
  job.output = config.output;
  job.distributed = &group;
  result.train = train(job, callbacks, control);
  return result;
}

}  // namespace

std::string default_run_name(const RunConfig& config) {
  const std::string model = fs::path(config.model.model_name_or_path).filename().string();
  const std::string data =
      config.data.dataset.empty() ? "" : fs::path(config.data.dataset.front()).stem().string();
  return method_label(config) + " " + model + (data.empty() ? "" : " " + data);
}

RunJobResult run_job(const RunConfig& input, const RunJobOptions& options,
                     const TrainerCallbacks& callbacks, TrainerControl* control,
                     const std::function<void(const RunJobResult&)>& on_prepared) {
  Distributed* const group = options.distributed;
  if (group && !group->is_main()) return follow_run(input, *group, callbacks, control, on_prepared);
  RunConfig config = input;
  RunStore store(options.store);
  NewRun row;
  row.name = config.output.run_name.empty() ? default_run_name(config) : config.output.run_name;
  row.task = effective_task(config);
  row.method = method_label(config);
  row.model_path = config.model.model_name_or_path;
  row.dataset = config.data.dataset.empty() ? "" : config.data.dataset.front();
  row.device = device_label(config.training.device);
  if (group) row.device += ", " + std::to_string(group->world_size()) + " processes";
  row.config_yaml = config_to_yaml(config);
  row.output_dir = config.output.output_dir;
  RunJobResult result;
  result.run_id = store.create_run(row);
  if (config.output.output_dir.empty()) {
    // Run ids restart with each history file; the time keeps default folders unique.
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char stamp[32];
    std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &local);
    config.output.output_dir =
        (data_dir() / "outputs" / (std::string(stamp) + "-run-" + std::to_string(result.run_id)))
            .string();
  }
  result.output_dir = config.output.output_dir;

  RunRecorder recorder(options.store.path.empty() ? RunStoreOptions{} : options.store,
                       result.run_id);
  bool started_shared = false;  // the other ranks know whether and where the run started
  // Final and best figures for the history (also kept when the run fails).
  nlohmann::json summary = nlohmann::json::object();
  try {
    const fs::path out = config.output.output_dir;
    if (fs::exists(out) && !fs::is_empty(out) && !config.output.overwrite_output_dir &&
        config.output.resume_from_checkpoint.empty()) {
      throw make_error("the output folder is not empty", out.string(),
                       "Choose another output_dir, or set overwrite_output_dir: true.");
    }
    mark_output_dir(out, result.run_id);
    PrepareOptions prepare;
    if (group) {
      group->share("start", "ok\n" + std::to_string(result.run_id) + "\n" + out.string());
      started_shared = true;
      prepare.world_size = group->world_size();
    }
    PreparedRun prepared = prepare_run(config, prepare);
    result.trainable_text = prepared.method->report().text();
    recorder.log_event("info", result.trainable_text);
    recorder.log_event("info", "data: " + prepared.subset_summary);
    for (const std::string& note : prepared.notes) recorder.log_event("info", note);
    for (const std::string& warning : prepared.warnings) {
      recorder.log_event("warning", warning);
      if (callbacks.on_event) callbacks.on_event("warning", warning);
    }
    if (on_prepared) on_prepared(result);

    TrainingJob job;
    job.model = prepared.model.get();
    job.trainable = prepared.method->trainable();
    job.train = prepared.train.get();
    job.eval = prepared.eval.get();
    job.training = config.training;
    job.output = config.output;
    const AppliedMethod* method = prepared.method.get();
    job.save_extra = [method](const fs::path& folder) { method->save(folder); };
    job.extra_eval = exact_match_metric(prepared);
    job.distributed = group;
    job.threads = options.threads;

    TrainerCallbacks recording;
    double tokens_per_second_sum = 0;  // over the steps of this process (for the mean)
    int64_t steps_seen = 0;
    recording.on_step = [&](const StepMetrics& m) {
      const MetricPoint at{m.step, m.epoch, m.tokens, m.elapsed_seconds, 0};
      auto log = [&](const char* name, double value) {
        MetricPoint point = at;
        point.value = value;
        recorder.log_metric(name, point);
      };
      log("train/loss", m.loss);
      log("train/lr", m.lr);
      log("train/grad_norm", m.grad_norm);
      log("perf/tokens_per_second", m.tokens_per_second);
      log("memory/rss_mb", static_cast<double>(m.memory.rss_bytes) / (1 << 20));
      summary["train/loss"] = m.loss;
      tokens_per_second_sum += m.tokens_per_second;
      ++steps_seen;
      summary["perf/tokens_per_second"] = tokens_per_second_sum / static_cast<double>(steps_seen);
      summary["memory/peak_rss_mb"] = static_cast<double>(m.memory.peak_rss_bytes) / (1 << 20);
      if (callbacks.on_step) callbacks.on_step(m);
    };
    recording.on_eval = [&](const EvalMetrics& m) {
      const MetricPoint at{m.step, m.epoch, 0, 0, 0};
      auto log = [&](const char* name, double value) {
        MetricPoint point = at;
        point.value = value;
        recorder.log_metric(name, point);
        summary[name] = value;
      };
      // The best evaluation so far beside the last: lowest loss, highest accuracy.
      if (!summary.contains("best/eval/loss") || m.loss < summary["best/eval/loss"].get<double>()) {
        summary["best/eval/loss"] = m.loss;
      }
      if (m.accuracy >= 0 && (!summary.contains("best/eval/accuracy") ||
                              m.accuracy > summary["best/eval/accuracy"].get<double>())) {
        summary["best/eval/accuracy"] = m.accuracy;
      }
      log("eval/loss", m.loss);
      if (m.accuracy >= 0) log("eval/accuracy", m.accuracy);
      if (m.macro_f1 >= 0) log("eval/macro_f1", m.macro_f1);
      if (m.perplexity > 0) log("eval/perplexity", m.perplexity);
      if (m.exact_match >= 0) log("eval/exact_match", m.exact_match);
      if (callbacks.on_eval) callbacks.on_eval(m);
    };
    recording.on_event = [&](const std::string& level, const std::string& message) {
      recorder.log_event(level, message);
      if (callbacks.on_event) callbacks.on_event(level, message);
    };
    recording.on_checkpoint = [&](const CheckpointInfo& info) {
      recorder.add_artifact({"checkpoint", info.path, info.bytes, unix_now()});
      if (callbacks.on_checkpoint) callbacks.on_checkpoint(info);
    };
    result.train = train(job, recording, control);

    // The result in the layout other tools load, with the tokenizer beside it.
    method->save(out);
    copy_tokenizer_files(config.model.model_name_or_path, out);
    save_config_file(config, out / "tunebench_config.yaml");
    recorder.add_artifact(
        {method->name() == "full" || method->name() == "freeze" ? "model" : "adapter", out.string(),
         0, unix_now()});
    const RunStatus status = result.train.outcome == TrainOutcome::kCompleted
                                 ? RunStatus::kCompleted
                                 : RunStatus::kStopped;
    recorder.finish(status, summary.dump());
  } catch (const std::exception& error) {
    if (group && !started_shared) {
      try {
        group->share("start", std::string("failed\n") + error.what());
      } catch (const std::exception&) {
        // The other ranks are gone already; they need no answer.
      }
    }
    try {
      recorder.log_event("error", error.what());
      recorder.finish(RunStatus::kFailed, summary.dump(), error.what());
    } catch (const std::exception&) {
      // The history is unwritable too; the original error is what the user needs.
    }
    throw;
  }
  return result;
}

}  // namespace tb
