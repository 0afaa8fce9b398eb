#include "core/train/trainer.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

#include "core/train/checkpoint.h"
#include "core/train/gradient_sync.h"
#include "core/train/lr_schedule.h"
#include "core/train/memory.h"
#include "core/util/error.h"
#include "core/util/runtime.h"

namespace tb {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

int64_t count_tokens(const ModelBatch& batch) {
  if (batch.attention_mask.defined()) return batch.attention_mask.sum().item<int64_t>();
  return batch.input_ids.numel();
}

void require(bool condition, const std::string& what) {
  if (!condition) throw make_error(what, "training job", "This is a bug in the caller of train().");
}

// Weight of a batch's mean loss in the eval average: label tokens for language models,
// examples for classification.
int64_t loss_weight(const LanguageModel& model, const ModelBatch& batch) {
  if (!batch.labels.defined()) return batch.input_ids.size(0);
  if (batch.labels.dim() == 1) return batch.labels.size(0);
  torch::Tensor labels = batch.labels;
  if (model.task() == ModelTask::kCausalLm) labels = labels.slice(1, 1);  // shifted targets
  return labels.ne(-100).sum().item<int64_t>();
}

// Stop / pause / checkpoint requests. With other ranks, any rank's request holds for all (one
// small all-reduce per step), so every rank pauses, checkpoints and stops at the same step.
struct Requests {
  bool stop = false;        // stop after a checkpoint
  bool pause = false;       // wait
  bool checkpoint = false;  // checkpoint after this step
};

Requests read_requests(TrainerControl* control, Distributed* group, int64_t step) {
  Requests requests;
  if (control) {
    requests.stop = control->stop;
    requests.pause = control->pause;
    requests.checkpoint = control->checkpoint_now.exchange(false);
  }
  if (group) {
    torch::Tensor flags = torch::tensor({requests.stop ? 1.0f : 0.0f, requests.pause ? 1.0f : 0.0f,
                                         requests.checkpoint ? 1.0f : 0.0f});
    group->all_reduce_max(flags, "start of step " + std::to_string(step + 1));
    requests.stop = flags[0].item<float>() > 0;
    requests.pause = flags[1].item<float>() > 0;
    requests.checkpoint = flags[2].item<float>() > 0;
  }
  return requests;
}

}  // namespace

EvalMetrics evaluate(LanguageModel& model, BatchSource& source) {
  const auto start = Clock::now();
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  double loss_sum = 0;
  int64_t weight_sum = 0;
  int64_t examples = 0;
  torch::Tensor confusion;  // [true class, predicted class] counts, classification only
  for (int64_t index = 0; index < source.batches_per_epoch(); ++index) {
    const ModelBatch batch = source.batch(0, index);
    const ModelOutput output = model.forward(batch);
    const int64_t weight = loss_weight(model, batch);
    if (output.loss.defined() && weight > 0) {
      loss_sum += output.loss.item<double>() * static_cast<double>(weight);
      weight_sum += weight;
    }
    examples += batch.input_ids.size(0);
    if (batch.labels.defined() && batch.labels.dim() == 1 && output.logits.dim() == 2) {
      const int64_t classes = output.logits.size(1);
      if (!confusion.defined()) confusion = torch::zeros({classes, classes}, torch::kInt64);
      const torch::Tensor predicted = output.logits.argmax(1).to(torch::kCPU);
      const torch::Tensor truth = batch.labels.to(torch::kCPU);
      confusion.view(-1).index_add_(0, truth * classes + predicted,
                                    torch::ones_like(truth, torch::kInt64));
    }
  }
  if (was_training) model.train();
  EvalMetrics metrics;
  metrics.examples = examples;
  metrics.loss = weight_sum > 0 ? loss_sum / static_cast<double>(weight_sum) : 0.0;
  if (confusion.defined()) {
    const torch::Tensor correct = confusion.diagonal().to(torch::kFloat64);
    metrics.accuracy = (correct.sum() / confusion.sum().clamp_min(1)).item<double>();
    // Macro-F1 over the classes that occur (in truth or prediction), as scikit-learn does.
    const torch::Tensor predicted = confusion.sum(0).to(torch::kFloat64);
    const torch::Tensor actual = confusion.sum(1).to(torch::kFloat64);
    const torch::Tensor f1 = (2 * correct) / (predicted + actual).clamp_min(1e-12);
    const torch::Tensor present = (predicted + actual) > 0;
    metrics.macro_f1 = f1.masked_select(present).mean().item<double>();
  } else if (model.task() == ModelTask::kCausalLm || model.task() == ModelTask::kMaskedLm) {
    metrics.perplexity = std::exp(metrics.loss);  // MLM: over the masked tokens, as run_mlm.py
  }
  metrics.seconds = seconds_between(start, Clock::now());
  return metrics;
}

TrainResult train(const TrainingJob& job, const TrainerCallbacks& callbacks,
                  TrainerControl* control) {
  require(job.model != nullptr, "no model");
  require(job.train != nullptr, "no training data");
  require(!job.trainable.empty(), "no trainable parameters");
  const TrainingSettings& t = job.training;
  const OutputSettings& out = job.output;
  auto event = [&callbacks](const std::string& level, const std::string& message) {
    if (callbacks.on_event) callbacks.on_event(level, message);
  };
  apply_runtime_threads();  // OpenMP thread counts are per thread (see init_runtime)
  if (job.threads > 0) torch::set_num_threads(job.threads);  // e.g. cores / local ranks
  torch::manual_seed(static_cast<uint64_t>(t.seed));

  OptimizerOptions optimizer_options;
  optimizer_options.type = t.optim;
  optimizer_options.weight_decay = t.weight_decay;
  optimizer_options.beta1 = t.adam_beta1;
  optimizer_options.beta2 = t.adam_beta2;
  optimizer_options.epsilon = t.adam_epsilon;
  std::unique_ptr<Optimizer> optimizer = make_optimizer(job.trainable, optimizer_options);

  const int64_t batches_per_epoch = job.train->batches_per_epoch();
  if (batches_per_epoch <= 0) {
    throw make_error("the training data gives no batches", "dataset",
                     "Check the data set and the subset size (max_samples).");
  }
  const StepPlan plan = plan_steps(batches_per_epoch, t.gradient_accumulation_steps,
                                   t.num_train_epochs, t.max_steps, t.warmup_steps, t.warmup_ratio);
  const LrSchedule schedule(t.lr_scheduler_type, plan.warmup_steps, plan.total_steps);

  Distributed* const group = job.distributed;
  const bool main_rank = group == nullptr || group->is_main();  // writes checkpoints, evaluates
  const int world_size = group ? group->world_size() : 1;
  TrainerState state;
  state.total_steps = plan.total_steps;
  if (!out.resume_from_checkpoint.empty()) {
    state = load_checkpoint(out.resume_from_checkpoint, job.trainable, *optimizer);
    state.total_steps = plan.total_steps;
    if (state.world_size != world_size) {
      // Each step's batch is per-rank batch × processes: another count changes the data order.
      throw make_error("the checkpoint was trained by " + std::to_string(state.world_size) +
                           " process(es), this run has " + std::to_string(world_size),
                       out.resume_from_checkpoint,
                       "Resume with " + std::to_string(state.world_size) +
                           " process(es) (tunebench-cli launch --nproc " +
                           std::to_string(state.world_size) + ").");
    }
    event("info",
          "resumed from " + out.resume_from_checkpoint + " at step " + std::to_string(state.step));
  }
  state.world_size = world_size;

  const fs::path output_dir = out.output_dir;
  TrainResult result;
  std::vector<torch::Tensor> all_parameters = job.model->parameters();
  std::vector<torch::Tensor> trainable_tensors;
  for (const auto& [name, tensor] : job.trainable) trainable_tensors.push_back(tensor);
  std::unique_ptr<GradientSync> gradient_sync;
  if (group) {
    group->broadcast(trainable_tensors, "broadcast of the initial trainable parameters");
    gradient_sync = std::make_unique<GradientSync>(*group, trainable_tensors);
    event("info", "data parallel: rank " + std::to_string(group->rank()) + " of " +
                      std::to_string(world_size) + ", gradients averaged in " +
                      std::to_string(gradient_sync->bucket_count()) + " bucket(s)");
  }
  MemoryStats memory;
  memory.weight_bytes = tensor_bytes(all_parameters);
  memory.optimizer_bytes = optimizer->state_bytes();

  auto checkpoint = [&](const char* why) {
    if (output_dir.empty() || !main_rank) return;
    const fs::path folder =
        save_checkpoint(output_dir, state, job.trainable, *optimizer, job.save_extra);
    rotate_checkpoints(output_dir, out.save_total_limit);
    result.last_checkpoint = folder.string();
    int64_t bytes = 0;
    for (const auto& file : fs::recursive_directory_iterator(folder)) {
      if (file.is_regular_file()) bytes += static_cast<int64_t>(file.file_size());
    }
    event("info", std::string("checkpoint (") + why + ") at step " + std::to_string(state.step) +
                      ": " + folder.string());
    if (callbacks.on_checkpoint) callbacks.on_checkpoint({state.step, folder.string(), bytes});
  };
  auto run_eval = [&] {
    if (job.eval == nullptr || !main_rank) return;  // other ranks wait at the next collective
    EvalMetrics metrics = evaluate(*job.model, *job.eval);
    if (job.extra_eval) job.extra_eval(metrics);
    metrics.step = state.step;
    metrics.epoch = static_cast<double>(state.epoch) +
                    static_cast<double>(state.batch) / static_cast<double>(batches_per_epoch);
    if (callbacks.on_eval) callbacks.on_eval(metrics);
  };

  if (out.eval_on_start && state.step == 0) run_eval();  // the baseline before any update
  job.model->train();
  const auto start = Clock::now();
  const int64_t first_step = state.step;
  const int64_t eval_every = out.eval_steps > 0 ? out.eval_steps : out.logging_steps;
  while (state.step < plan.total_steps) {
    Requests requests = read_requests(control, group, state.step);
    bool checkpoint_requested = requests.checkpoint;
    while (requests.pause && !requests.stop) {
      // Paused: no CPU used; with other ranks, a slower poll keeps the all-reduces rare.
      std::this_thread::sleep_for(std::chrono::milliseconds(group ? 200 : 50));
      requests = read_requests(control, group, state.step);
      checkpoint_requested = checkpoint_requested || requests.checkpoint;
    }
    if (requests.stop) {
      checkpoint("stop");
      result.outcome = TrainOutcome::kStopped;
      break;
    }
    const auto step_start = Clock::now();
    double compute_seconds = 0;  // forward/backward/update; the rest of the step is overhead
    double loss_sum = 0;
    int64_t step_tokens = 0, step_samples = 0;
    bool epoch_ended = false;
    for (int64_t micro = 0; micro < t.gradient_accumulation_steps; ++micro) {
      const ModelBatch batch = job.train->batch(state.epoch, state.batch);
      if (++state.batch == batches_per_epoch) {
        state.batch = 0;
        ++state.epoch;
        epoch_ended = true;
      }
      const auto compute_start = Clock::now();
      const bool has_rows = batch.input_ids.size(0) > 0;  // a rank's share can be empty
      ModelOutput output;
      double loss = 0;
      if (has_rows) {
        output = job.model->forward(batch);
        if (!output.loss.defined()) {
          throw make_error("the model returned no loss (are labels missing?)", "training batch");
        }
        loss = output.loss.item<double>();
      }
      double rank_weight = 1;  // this rank's share of the batch's loss, times the ranks
      if (group) {
        // One process's loss over the whole batch is the token-weighted mean of the ranks'
        // losses. Weighting each rank's gradient the same way makes the averaged gradient
        // exactly one process's, whatever the tokens in each share.
        const int64_t weight = has_rows ? loss_weight(*job.model, batch) : 0;
        torch::Tensor totals = torch::tensor(
            {weight > 0 ? loss * static_cast<double>(weight) : 0.0, static_cast<double>(weight)},
            torch::kFloat64);
        group->all_reduce_sum(totals, "loss of step " + std::to_string(state.step + 1));
        const double global_weight = totals[1].item<double>();
        loss = global_weight > 0 ? totals[0].item<double>() / global_weight
                                 : std::numeric_limits<double>::quiet_NaN();
        rank_weight =
            global_weight > 0 ? static_cast<double>(weight) * world_size / global_weight : 0.0;
      }
      if (!std::isfinite(loss)) {
        if (!job.skip_nonfinite_steps) {
          throw make_error(
              "the loss is " + std::to_string(loss) + " at step " + std::to_string(state.step + 1),
              "training", "Lower learning_rate, enable max_grad_norm, or use fp32.");
        }
        event("warning",
              "skipped micro-batch with non-finite loss at step " + std::to_string(state.step + 1));
        continue;
      }
      if (gradient_sync && micro + 1 == t.gradient_accumulation_steps) gradient_sync->arm();
      if (has_rows) {
        torch::Tensor scaled = output.loss / static_cast<double>(t.gradient_accumulation_steps);
        if (group) scaled = scaled * rank_weight;
        scaled.backward();
      }
      compute_seconds += seconds_between(compute_start, Clock::now());
      loss_sum += loss;
      step_tokens += count_tokens(batch);
      step_samples += batch.input_ids.size(0);
    }
    if (gradient_sync) {
      gradient_sync->finish("gradient all-reduce of step " + std::to_string(state.step + 1));
    }
    if (group) {
      // Throughput and counts of the whole group, not of this rank's share.
      torch::Tensor counts = torch::tensor({step_tokens, step_samples}, torch::kInt64);
      group->all_reduce_sum(counts, "token counts of step " + std::to_string(state.step + 1));
      step_tokens = counts[0].item<int64_t>();
      step_samples = counts[1].item<int64_t>();
    }
    // Clipping is folded into the optimizer's pass over the gradients.
    const double grad_norm = gradient_norm(job.trainable);
    if (!std::isfinite(grad_norm)) {
      optimizer->zero_grad();
      if (!job.skip_nonfinite_steps) {
        throw make_error("the gradients are not finite at step " + std::to_string(state.step + 1),
                         "training", "Lower learning_rate or enable max_grad_norm.");
      }
      event("warning", "skipped step " + std::to_string(state.step + 1) + ": non-finite gradients");
      continue;
    }
    const double lr = t.learning_rate * schedule.factor(state.step);
    const auto update_start = Clock::now();
    optimizer->step(lr, clip_factor(grad_norm, t.max_grad_norm));
    optimizer->zero_grad();
    compute_seconds += seconds_between(update_start, Clock::now());
    ++state.step;
    state.tokens += step_tokens;
    state.samples += step_samples;
    state.last_loss = loss_sum / static_cast<double>(t.gradient_accumulation_steps);

    const auto now = Clock::now();
    StepMetrics metrics;
    metrics.step = state.step;
    metrics.total_steps = plan.total_steps;
    metrics.epoch = static_cast<double>(state.epoch) +
                    static_cast<double>(state.batch) / static_cast<double>(batches_per_epoch);
    metrics.tokens = state.tokens;
    metrics.samples = state.samples;
    metrics.loss = state.last_loss;
    metrics.lr = lr;
    metrics.grad_norm = grad_norm;
    const double step_seconds = std::max(1e-9, seconds_between(step_start, now));
    metrics.tokens_per_second = static_cast<double>(step_tokens) / step_seconds;
    metrics.samples_per_second = static_cast<double>(step_samples) / step_seconds;
    metrics.elapsed_seconds = seconds_between(start, now);
    metrics.step_seconds = seconds_between(step_start, now);
    metrics.compute_seconds = compute_seconds;
    metrics.eta_seconds = metrics.elapsed_seconds / static_cast<double>(state.step - first_step) *
                          static_cast<double>(plan.total_steps - state.step);
    read_process_memory(memory);
    memory.gradient_bytes = tensor_bytes(trainable_tensors);
    metrics.memory = memory;
    if (callbacks.on_step) callbacks.on_step(metrics);
    result.steps = state.step;
    result.final_loss = state.last_loss;

    const bool last = state.step == plan.total_steps;
    if ((out.eval_strategy == "steps" && state.step % eval_every == 0) ||
        (out.eval_strategy == "epoch" && (epoch_ended || last))) {
      run_eval();
    }
    const bool save_due = (out.save_strategy == "steps" && state.step % out.save_steps == 0) ||
                          (out.save_strategy == "epoch" && epoch_ended);
    if (checkpoint_requested) {
      checkpoint("requested");
    } else if (save_due && !last) {
      checkpoint("scheduled");
    }
  }
  if (result.outcome == TrainOutcome::kCompleted) checkpoint("end");
  result.steps = state.step;
  release_unused_memory();  // the steps' activations, kept in the heap while training
  return result;
}

}  // namespace tb
