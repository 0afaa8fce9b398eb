#pragma once
// Exponential moving average as TensorBoard draws it, debiased so the first points are not
// pulled towards 0. Shared by the live monitor (one point at a time) and Compare (whole
// curves).

#include <QVector>

namespace tb::ui {

/// Incremental debiased EMA; weight 0 = the raw values, 0.99 = very smooth.
class Ema {
 public:
  explicit Ema(double weight) : weight_(weight) {}
  /// Adds `value`; returns the smoothed value up to and including it.
  double push(double value) {
    if (weight_ <= 0) return value;
    last_ = last_ * weight_ + (1 - weight_) * value;
    debias_ *= weight_;
    return last_ / (1 - debias_);
  }

 private:
  double weight_;
  double last_ = 0;
  double debias_ = 1;
};

/// Every point of `values` smoothed with weight `weight`.
inline QVector<double> smooth_values(const QVector<double>& values, double weight) {
  Ema ema(weight);
  QVector<double> smoothed;
  smoothed.reserve(values.size());
  for (const double value : values) smoothed << ema.push(value);
  return smoothed;
}

}  // namespace tb::ui
