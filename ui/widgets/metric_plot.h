#pragma once
// A line plot of metric series (QCustomPlot): used for one run's curves, for overlaying runs
// in Compare, and for the live monitor. Replots are coalesced so bursts of updates cost one
// repaint.

#include <QColor>
#include <QString>
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QTimer;

namespace tb::ui {

/// One curve.
struct PlotSeries {
  QString label;      // legend text
  QVector<double> x;  // step, epoch, tokens or seconds
  QVector<double> y;  // metric values
  QColor color;       // invalid = next colour of the palette
};

/// A titled plot with legend, log-scale option and coalesced replots.
class MetricPlot : public QWidget {
  Q_OBJECT
 public:
  explicit MetricPlot(QWidget* parent = nullptr);

  /// Replaces every curve.
  void setSeries(const QVector<PlotSeries>& series);
  /// Appends one point to curve `index` (created with `label`, and `color` or the palette's,
  /// when new) — the live monitor. Axes follow the data at the next coalesced replot.
  void appendPoint(int index, const QString& label, double x, double y, QColor color = {});
  /// Axis titles.
  void setAxisLabels(const QString& x, const QString& y);
  /// Logarithmic y axis (loss curves spanning decades).
  void setLogY(bool log_y);
  /// Text shown when there is nothing to plot.
  void setPlaceholder(const QString& text);
  /// Number of curves shown.
  int seriesCount() const;
  /// Points of curve `index` (tests and tooltips).
  int pointCount(int index) const;
  /// The QCustomPlot inside (for saving images).
  QCustomPlot* plot() const { return plot_; }
  /// Distinguishable colour number `index` (Tableau 10, cycling).
  static QColor paletteColor(int index);

 private:
  void scheduleReplot();
  void rescaleAndReplot();

  QCustomPlot* plot_ = nullptr;
  QTimer* replot_timer_ = nullptr;
  QString placeholder_;
  bool rescale_pending_ = false;  // new points since the last replot: fit the axes first
};

}  // namespace tb::ui
