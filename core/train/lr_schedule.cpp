#include "core/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "core/util/error.h"

namespace tb {

StepPlan plan_steps(int64_t batches_per_epoch, int64_t gradient_accumulation_steps, double epochs,
                    int64_t max_steps, int64_t warmup_steps, double warmup_ratio) {
  StepPlan plan;
  // transformers: len(dataloader) // accumulation, at least 1.
  plan.steps_per_epoch =
      std::max<int64_t>(1, batches_per_epoch / std::max<int64_t>(1, gradient_accumulation_steps));
  plan.total_steps =
      max_steps > 0 ? max_steps : static_cast<int64_t>(std::ceil(epochs * plan.steps_per_epoch));
  plan.total_steps = std::max<int64_t>(1, plan.total_steps);
  plan.warmup_steps = warmup_steps > 0
                          ? warmup_steps
                          : static_cast<int64_t>(std::ceil(plan.total_steps * warmup_ratio));
  return plan;
}

LrSchedule::LrSchedule(const std::string& type, int64_t warmup_steps, int64_t total_steps)
    : type_(type), warmup_steps_(std::max<int64_t>(0, warmup_steps)), total_steps_(total_steps) {
  if (type != "linear" && type != "cosine" && type != "constant" &&
      type != "constant_with_warmup") {
    throw make_error("unknown lr_scheduler_type '" + type + "'", "lr_scheduler_type",
                     "Use linear, cosine, constant or constant_with_warmup.");
  }
}

double LrSchedule::factor(int64_t step) const {
  const double s = static_cast<double>(step);
  if (type_ == "constant") return 1.0;
  if (step < warmup_steps_) {
    return s / static_cast<double>(std::max<int64_t>(1, warmup_steps_));
  }
  if (type_ == "constant_with_warmup") return 1.0;
  const double remaining = static_cast<double>(std::max<int64_t>(1, total_steps_ - warmup_steps_));
  if (type_ == "linear") {
    return std::max(0.0, static_cast<double>(total_steps_ - step) / remaining);
  }
  // cosine with transformers' default num_cycles = 0.5: one half wave from 1 to 0.
  const double progress = (s - static_cast<double>(warmup_steps_)) / remaining;
  return std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * 2.0 * 0.5 * progress)));
}

}  // namespace tb
