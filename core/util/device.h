#pragma once
// Where training runs: the `training.device` setting (auto | cpu | cuda | cuda:N) turned into a
// torch::Device, with an error that says what this machine has when the setting cannot be met.

#include <torch/torch.h>

#include <string>

namespace tb {

/// The device `setting` names: "auto" is the first CUDA device when LibTorch sees one, else the
/// CPU. tb::Error (field training.device) for an unknown setting, for cuda without a CUDA
/// device (e.g. Debian's CPU-only LibTorch) and for cuda:N past the last device.
torch::Device resolve_device(const std::string& setting);

/// What the run history records for `setting`: "cpu", "cuda:0"… ("auto" resolved); the setting
/// itself when it cannot be resolved (the run then fails with resolve_device's error).
std::string device_label(const std::string& setting);

}  // namespace tb
