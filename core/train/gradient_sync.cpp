#include "core/train/gradient_sync.h"

#include <exception>

namespace tb {

GradientSync::GradientSync(Distributed& group, std::vector<torch::Tensor> parameters,
                           const GradientSyncOptions& options)
    : group_(group), parameters_(std::move(parameters)), slots_(parameters_.size()) {
  // Reverse order: backward produces the last layers' gradients first, so the first bucket
  // fills early and its reduction overlaps the rest of backward.
  std::vector<int64_t> bucket_elements;
  for (int64_t index = static_cast<int64_t>(parameters_.size()) - 1; index >= 0; --index) {
    const torch::Tensor& parameter = parameters_[index];
    const bool start_new =
        buckets_.empty() ||
        parameter.scalar_type() != parameters_[buckets_.back().members.front()].scalar_type() ||
        (bucket_elements.back() + parameter.numel()) * parameter.element_size() >
            options.bucket_bytes;
    if (start_new) {
      buckets_.emplace_back();
      bucket_elements.push_back(0);
    }
    slots_[index].bucket = static_cast<int64_t>(buckets_.size()) - 1;
    slots_[index].offset = bucket_elements.back();
    buckets_.back().members.push_back(index);
    bucket_elements.back() += parameter.numel();
  }
  for (size_t bucket = 0; bucket < buckets_.size(); ++bucket) {
    const torch::Tensor& first = parameters_[buckets_[bucket].members.front()];
    buckets_[bucket].flat =
        torch::zeros({bucket_elements[bucket]}, first.options().requires_grad(false));
  }
  for (size_t index = 0; index < parameters_.size(); ++index) {
    hook_handles_.push_back(
        parameters_[index].register_hook([this, index](const torch::Tensor& gradient) {
          on_gradient(static_cast<int64_t>(index), gradient);
        }));
  }
}

GradientSync::~GradientSync() {
  for (size_t index = 0; index < hook_handles_.size(); ++index) {
    parameters_[index].remove_hook(hook_handles_[index]);
  }
}

void GradientSync::arm() {
  armed_ = true;
  next_launch_ = 0;
  for (Slot& slot : slots_) slot.ready = false;
  for (Bucket& bucket : buckets_) {
    bucket.waiting = static_cast<int64_t>(bucket.members.size());
    bucket.pending.reset();
  }
}

void GradientSync::fill_slot(int64_t index, const torch::Tensor& gradient) {
  Slot& slot = slots_[index];
  const torch::Tensor& parameter = parameters_[index];
  torch::Tensor target = buckets_[slot.bucket].flat.narrow(0, slot.offset, parameter.numel());
  if (gradient.defined()) {
    target.copy_(gradient.reshape(-1));
  } else {
    target.zero_();
  }
  slot.ready = true;
  --buckets_[slot.bucket].waiting;
}

void GradientSync::on_gradient(int64_t index, const torch::Tensor& gradient) {
  if (!armed_ || slots_[index].ready) return;
  torch::NoGradGuard no_grad;
  // The hook sees this backward's part; earlier micro-batches are already in .grad().
  const torch::Tensor& earlier = parameters_[index].grad();
  fill_slot(index, earlier.defined() ? earlier + gradient : gradient);
  // An error here would surface from backward() wrapped by autograd; finish() reports it.
  try {
    launch_ready_buckets("gradient all-reduce");
  } catch (...) {
    armed_ = false;
  }
}

void GradientSync::launch_ready_buckets(const std::string& what) {
  while (next_launch_ < static_cast<int64_t>(buckets_.size()) &&
         buckets_[next_launch_].waiting == 0) {
    Bucket& bucket = buckets_[next_launch_];
    bucket.pending = group_.all_reduce_sum_async(bucket.flat, what);
    ++next_launch_;
  }
}

void GradientSync::finish(const std::string& what) {
  torch::NoGradGuard no_grad;
  if (!armed_) arm();  // no backward ran (or a launch failed): reduce what .grad() holds
  armed_ = false;
  for (size_t index = 0; index < parameters_.size(); ++index) {
    if (!slots_[index].ready) fill_slot(static_cast<int64_t>(index), parameters_[index].grad());
  }
  launch_ready_buckets(what);
  const double ranks = static_cast<double>(group_.world_size());
  for (Bucket& bucket : buckets_) {
    bucket.pending->wait();
    bucket.pending.reset();
    bucket.flat.div_(ranks);
    for (const int64_t index : bucket.members) {
      torch::Tensor& parameter = parameters_[index];
      const torch::Tensor mean =
          bucket.flat.narrow(0, slots_[index].offset, parameter.numel()).view_as(parameter);
      if (parameter.grad().defined()) {
        parameter.mutable_grad().copy_(mean);
      } else {
        parameter.mutable_grad() = mean.clone();
      }
    }
  }
}

}  // namespace tb
