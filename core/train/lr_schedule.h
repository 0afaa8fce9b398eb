#pragma once
// Learning-rate schedules with exactly the shapes of transformers' get_scheduler, and the
// step arithmetic of its Trainer (steps per epoch, fractional epochs, warmup from a ratio).

#include <cstdint>
#include <string>

namespace tb {

/// How many optimizer steps a run takes, as transformers' Trainer computes it.
struct StepPlan {
  int64_t steps_per_epoch = 0;  // optimizer steps in one pass over the data (≥ 1)
  int64_t total_steps = 0;      // optimizer steps of the whole run
  int64_t warmup_steps = 0;     // steps of linear warmup at the start
};

/// Steps for `batches_per_epoch` batches with accumulation, `epochs` (fractions allowed) or
/// `max_steps` (> 0 wins), and warmup from `warmup_steps` (> 0 wins) or `warmup_ratio`.
StepPlan plan_steps(int64_t batches_per_epoch, int64_t gradient_accumulation_steps, double epochs,
                    int64_t max_steps, int64_t warmup_steps, double warmup_ratio);

/// A schedule: the factor applied to the peak learning rate at each optimizer step.
class LrSchedule {
 public:
  /// `type`: linear, cosine, constant or constant_with_warmup (tb::Error otherwise).
  LrSchedule(const std::string& type, int64_t warmup_steps, int64_t total_steps);
  /// Factor for optimizer step `step` (0-based: the first update uses factor(0)), as
  /// torch's LambdaLR gives it after `step` scheduler steps.
  double factor(int64_t step) const;

 private:
  std::string type_;
  int64_t warmup_steps_;
  int64_t total_steps_;
};

}  // namespace tb
