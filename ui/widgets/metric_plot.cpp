#include "ui/widgets/metric_plot.h"

#include <qcustomplot.h>

#include <QTimer>
#include <QVBoxLayout>

namespace tb::ui {

namespace {
constexpr int kReplotDelayMs = 50;  // bursts of metric updates → one repaint
}

MetricPlot::MetricPlot(QWidget* parent) : QWidget(parent) {
  plot_ = new QCustomPlot(this);
  plot_->setObjectName("metricPlot");
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom | QCP::iSelectPlottables);
  plot_->legend->setVisible(false);  // shown once there is a curve to name
  plot_->legend->setBrush(QColor(255, 255, 255, 220));
  plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  plot_->xAxis->setLabel(tr("step"));
  plot_->setMinimumHeight(160);
  replot_timer_ = new QTimer(this);
  replot_timer_->setSingleShot(true);
  replot_timer_->setInterval(kReplotDelayMs);
  connect(replot_timer_, &QTimer::timeout, this, &MetricPlot::rescaleAndReplot);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_);
}

QColor MetricPlot::paletteColor(int index) {
  static const QColor palette[] = {QColor("#1f77b4"), QColor("#ff7f0e"), QColor("#2ca02c"),
                                   QColor("#d62728"), QColor("#9467bd"), QColor("#8c564b"),
                                   QColor("#e377c2"), QColor("#7f7f7f"), QColor("#bcbd22"),
                                   QColor("#17becf")};
  return palette[index % 10];
}

void MetricPlot::setSeries(const QVector<PlotSeries>& series) {
  plot_->clearGraphs();
  plot_->clearItems();
  int index = 0;
  for (const PlotSeries& one : series) {
    QCPGraph* graph = plot_->addGraph();
    graph->setName(one.label);
    graph->setPen(QPen(one.color.isValid() ? one.color : paletteColor(index), 1.8));
    graph->setData(one.x, one.y, /*alreadySorted=*/true);
    ++index;
  }
  if (series.isEmpty() && !placeholder_.isEmpty()) {
    auto* text = new QCPItemText(plot_);
    text->position->setType(QCPItemPosition::ptAxisRectRatio);
    text->position->setCoords(0.5, 0.5);
    text->setText(placeholder_);
    text->setColor(QColor("#777777"));
  }
  plot_->legend->setVisible(!series.isEmpty());
  plot_->rescaleAxes();
  scheduleReplot();
}

void MetricPlot::appendPoint(int index, const QString& label, double x, double y, QColor color) {
  while (plot_->graphCount() <= index) {
    QCPGraph* graph = plot_->addGraph();
    graph->setName(QString());  // addGraph names it "Graph N"; ours is named by its first point
    graph->removeFromLegend();
    plot_->clearItems();  // the "nothing to plot" text
    plot_->legend->setVisible(true);
  }
  QCPGraph* graph = plot_->graph(index);
  if (graph->name().isEmpty()) {
    graph->setName(label);
    graph->setPen(QPen(color.isValid() ? color : paletteColor(index), 1.8));
    graph->addToLegend();
  }
  graph->addData(x, y);
  // Fitting the axes scans every point: done once per coalesced replot, not per point, so
  // curves of 100k points stay cheap to extend.
  rescale_pending_ = true;
  scheduleReplot();
}

void MetricPlot::setAxisLabels(const QString& x, const QString& y) {
  plot_->xAxis->setLabel(x);
  plot_->yAxis->setLabel(y);
  scheduleReplot();
}

void MetricPlot::setLogY(bool log_y) {
  plot_->yAxis->setScaleType(log_y ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
  if (log_y) {
    plot_->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
  } else {
    plot_->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  }
  plot_->rescaleAxes();
  scheduleReplot();
}

void MetricPlot::setPlaceholder(const QString& text) { placeholder_ = text; }

int MetricPlot::seriesCount() const { return plot_->graphCount(); }

int MetricPlot::pointCount(int index) const {
  return index < plot_->graphCount() ? plot_->graph(index)->dataCount() : 0;
}

void MetricPlot::rescaleAndReplot() {
  if (rescale_pending_) {
    plot_->rescaleAxes();
    // A little air above and below, so extremes are not drawn on the frame.
    if (plot_->yAxis->scaleType() == QCPAxis::stLinear) {
      const QCPRange range = plot_->yAxis->range();
      const double pad = range.size() > 0 ? range.size() * 0.05 : 0.5;
      plot_->yAxis->setRange(range.lower - pad, range.upper + pad);
    }
  }
  rescale_pending_ = false;
  plot_->replot();
}

void MetricPlot::scheduleReplot() {
  if (!replot_timer_->isActive()) replot_timer_->start();
}

}  // namespace tb::ui
