#include "core/nn/rotary.h"

#include <cmath>

#include "core/nn/rotary_cpu.h"
#include "core/util/error.h"

namespace tb {

namespace {

torch::Tensor base_inv_freq(int64_t dim, double theta) {
  // fp32 like transformers, so positions far out round the same way.
  const torch::Tensor exponents = torch::arange(0, dim, 2, torch::kInt64).to(torch::kFloat32) / dim;
  return 1.0 / torch::pow(torch::tensor(theta, torch::kFloat32), exponents);
}

// Llama 3.1's frequency-dependent scaling: long wavelengths are divided by `factor`, short ones
// kept, and the band between them interpolated smoothly.
torch::Tensor llama3_inv_freq(const torch::Tensor& inv_freq, const RopeScaling& scaling,
                              int64_t original) {
  const double low_wavelen = double(original) / scaling.low_freq_factor;
  const double high_wavelen = double(original) / scaling.high_freq_factor;
  const torch::Tensor wavelen = 2 * M_PI / inv_freq;
  torch::Tensor scaled = torch::where(wavelen > low_wavelen, inv_freq / scaling.factor, inv_freq);
  const torch::Tensor smooth = (double(original) / wavelen - scaling.low_freq_factor) /
                               (scaling.high_freq_factor - scaling.low_freq_factor);
  const torch::Tensor smoothed = (1 - smooth) * scaled / scaling.factor + smooth * scaled;
  const torch::Tensor medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
  return torch::where(medium, smoothed, scaled);
}

}  // namespace

Rotary::Rotary(const RotaryOptions& options) : options_(options) {
  const RopeScaling& scaling = options_.scaling;
  if (scaling.type != "default" && scaling.type != "linear" && scaling.type != "dynamic" &&
      scaling.type != "llama3") {
    throw make_error("rope_scaling type '" + scaling.type + "' is not supported", "config.json",
                     "Supported: default, linear, dynamic, llama3.");
  }
  if (scaling.type != "default" && !(scaling.factor > 0)) {
    throw make_error("rope_scaling factor must be positive", "config.json");
  }
  if (options_.scaling.original_max_position_embeddings <= 0) {
    options_.scaling.original_max_position_embeddings = options_.max_position_embeddings;
  }
  inv_freq_ = base_inv_freq(options_.head_dim, options_.theta);
  if (scaling.type == "linear") inv_freq_ = inv_freq_ / scaling.factor;
  if (scaling.type == "llama3") {
    inv_freq_ =
        llama3_inv_freq(inv_freq_, scaling, options_.scaling.original_max_position_embeddings);
  }
}

std::pair<torch::Tensor, torch::Tensor> Rotary::cos_sin(const torch::Tensor& position_ids,
                                                        torch::ScalarType dtype) const {
  torch::Tensor inv_freq = inv_freq_;
  if (options_.scaling.type == "dynamic" && position_ids.numel() > 0) {
    // NTK-aware: past the original context the base grows with the longest position seen in
    // this call (transformers keeps it as state; here it is a pure function of the positions).
    const int64_t seq_len = position_ids.max().item<int64_t>() + 1;
    // transformers measures growth against max_position_embeddings for this type.
    const int64_t original = options_.max_position_embeddings;
    if (seq_len > original) {
      const double factor = options_.scaling.factor;
      const int64_t dim = options_.head_dim;
      const double base = options_.theta * std::pow(factor * seq_len / original - (factor - 1),
                                                    double(dim) / double(dim - 2));
      inv_freq = base_inv_freq(dim, base);
    }
  }
  const torch::Tensor positions = position_ids.to(torch::kFloat32).unsqueeze(-1);  // [B,T,1]
  const torch::Tensor freqs = positions * inv_freq.to(position_ids.device()).view({1, 1, -1});
  const torch::Tensor angles = torch::cat({freqs, freqs}, -1);
  return {angles.cos().to(dtype), angles.sin().to(dtype)};
}

torch::Tensor apply_rotary(const torch::Tensor& x, const torch::Tensor& cos,
                           const torch::Tensor& sin) {
  if (rotary_cpu_applies(x, cos, sin)) return rotary_cpu(x, cos, sin);
  const int64_t half = x.size(-1) / 2;
  const torch::Tensor rotated =
      torch::cat({-x.slice(-1, half, x.size(-1)), x.slice(-1, 0, half)}, -1);
  return x * cos.unsqueeze(1) + rotated * sin.unsqueeze(1);
}

}  // namespace tb
