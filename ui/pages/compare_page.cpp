#include "ui/pages/compare_page.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <set>

#include "core/runs/run_store.h"
#include "ui/widgets/metric_plot.h"

namespace tb::ui {

namespace {
constexpr int kMaxPointsPerCurve = 2000;  // min/max buckets keep the shape at this size
}

ComparePage::ComparePage(RunStore* store, QWidget* parent) : QWidget(parent), store_(store) {
  runs_ = new QListWidget(this);
  runs_->setObjectName("compareRuns");
  runs_->setMinimumWidth(200);

  metric_ = new QComboBox(this);
  metric_->setObjectName("compareMetric");
  metric_->setMinimumWidth(160);
  x_axis_ = new QComboBox(this);
  x_axis_->setObjectName("compareXAxis");
  x_axis_->addItems({tr("step"), tr("epoch"), tr("tokens"), tr("wall time (s)")});
  smoothing_ = new QDoubleSpinBox(this);
  smoothing_->setObjectName("compareSmoothing");
  smoothing_->setRange(0, 0.99);
  smoothing_->setSingleStep(0.1);
  smoothing_->setValue(0.0);
  log_y_ = new QCheckBox(tr("log scale"), this);
  log_y_->setObjectName("compareLogY");

  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Metric"), this));
  controls->addWidget(metric_);
  controls->addWidget(new QLabel(tr("against"), this));
  controls->addWidget(x_axis_);
  controls->addWidget(new QLabel(tr("smoothing"), this));
  controls->addWidget(smoothing_);
  controls->addWidget(log_y_);
  controls->addStretch(1);

  plot_ = new MetricPlot(this);
  plot_->setPlaceholder(tr("Check runs on the left to overlay their curves"));
  diff_title_ = new QLabel(tr("<b>Config differences</b>"), this);
  diff_ = new QTableWidget(this);
  diff_->setObjectName("configDiff");
  diff_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  diff_->verticalHeader()->hide();
  diff_->horizontalHeader()->setStretchLastSection(true);
  diff_->verticalHeader()->setDefaultSectionSize(22);

  auto* right = new QWidget(this);
  auto* right_layout = new QVBoxLayout(right);
  right_layout->setContentsMargins(0, 0, 0, 0);
  right_layout->addLayout(controls);
  auto* vertical = new QSplitter(Qt::Vertical, right);
  vertical->addWidget(plot_);
  auto* diff_box = new QWidget(vertical);
  auto* diff_layout = new QVBoxLayout(diff_box);
  diff_layout->setContentsMargins(0, 4, 0, 0);
  diff_layout->addWidget(diff_title_);
  diff_layout->addWidget(diff_, 1);
  vertical->addWidget(diff_box);
  vertical->setStretchFactor(0, 3);
  vertical->setStretchFactor(1, 2);
  right_layout->addWidget(vertical, 1);

  auto* splitter = new QSplitter(Qt::Horizontal, this);
  splitter->addWidget(runs_);
  splitter->addWidget(right);
  splitter->setStretchFactor(1, 1);
  splitter->setSizes({240, 860});
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(12, 12, 12, 12);
  layout->addWidget(splitter);

  connect(runs_, &QListWidget::itemChanged, this, [this] {
    updateMetricChoices();
    updatePlot();
    updateDiff();
  });
  connect(metric_, &QComboBox::currentIndexChanged, this, &ComparePage::updatePlot);
  connect(x_axis_, &QComboBox::currentIndexChanged, this, &ComparePage::updatePlot);
  connect(smoothing_, &QDoubleSpinBox::valueChanged, this, &ComparePage::updatePlot);
  connect(log_y_, &QCheckBox::toggled, this, [this](bool on) {
    plot_->setLogY(on);
    updatePlot();
  });
}

void ComparePage::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  reloadRunList(checkedRuns());  // runs finished or started since the page was last shown
}

void ComparePage::setRuns(const QList<qint64>& run_ids) {
  reloadRunList(run_ids);
  updateMetricChoices();
  updatePlot();
  updateDiff();
}

void ComparePage::reloadRunList(const QList<qint64>& checked) {
  if (!store_) return;
  const QSignalBlocker block(runs_);
  runs_->clear();
  try {
    for (const RunRecord& run : store_->list_runs()) {
      auto* item = new QListWidgetItem(
          QString("#%1  %2  (%3)")
              .arg(run.id)
              .arg(QString::fromStdString(run.name), QString::fromStdString(run.method)),
          runs_);
      item->setData(Qt::UserRole, QVariant::fromValue<qint64>(run.id));
      item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
      item->setCheckState(checked.contains(run.id) ? Qt::Checked : Qt::Unchecked);
    }
  } catch (const std::exception& error) {
    diff_title_->setText(QString::fromUtf8(error.what()));
  }
}

bool ComparePage::setMetric(const QString& metric) {
  const int index = metric_->findText(metric);
  if (index < 0) return false;
  metric_->setCurrentIndex(index);
  return true;
}

void ComparePage::setSmoothing(double weight) { smoothing_->setValue(weight); }

QList<qint64> ComparePage::checkedRuns() const {
  QList<qint64> ids;
  for (int row = 0; row < runs_->count(); ++row) {
    if (runs_->item(row)->checkState() == Qt::Checked) {
      ids << runs_->item(row)->data(Qt::UserRole).toLongLong();
    }
  }
  return ids;
}

void ComparePage::updateMetricChoices() {
  if (!store_) return;
  std::set<std::string> names;
  for (const qint64 id : checkedRuns()) {
    for (const std::string& name : store_->metric_names(id)) names.insert(name);
  }
  const QString previous = metric_->currentText();
  const QSignalBlocker block(metric_);
  metric_->clear();
  for (const std::string& name : names) metric_->addItem(QString::fromStdString(name));
  const int keep = metric_->findText(previous.isEmpty() ? QString("train/loss") : previous);
  metric_->setCurrentIndex(keep >= 0 ? keep : 0);
}

void ComparePage::updatePlot() {
  const QList<qint64> ids = checkedRuns();
  if (!store_ || ids.isEmpty() || metric_->currentText().isEmpty()) {
    plot_->setSeries({});
    return;
  }
  const std::vector<int64_t> run_ids(ids.begin(), ids.end());
  const std::string name = metric_->currentText().toStdString();
  const int x_kind = x_axis_->currentIndex();
  QVector<PlotSeries> curves;
  int color = 0;
  for (const MetricSeries& series : store_->series(run_ids, {name}, kMaxPointsPerCurve)) {
    PlotSeries curve;
    const RunRecord run = store_->get_run(series.run_id);
    curve.label = QString("#%1 %2").arg(series.run_id).arg(QString::fromStdString(run.name));
    curve.color = MetricPlot::paletteColor(color++);
    QVector<double> values;
    for (const MetricPoint& point : series.points) {
      const double x = x_kind == 1   ? point.epoch
                       : x_kind == 2 ? static_cast<double>(point.tokens)
                       : x_kind == 3 ? point.wall
                                     : static_cast<double>(point.step);
      curve.x << x;
      values << point.value;
    }
    curve.y = smooth_values(values, smoothing_->value());
    if (!curve.x.isEmpty()) curves << curve;
  }
  plot_->setAxisLabels(x_axis_->currentText(), metric_->currentText());
  plot_->setSeries(curves);
}

void ComparePage::updateDiff() {
  const QList<qint64> ids = checkedRuns();
  diff_->clear();
  diff_->setRowCount(0);
  diff_->setColumnCount(0);
  if (!store_ || ids.size() < 2) {
    diff_title_->setText(tr("<b>Config differences</b> (check two or more runs)"));
    return;
  }
  try {
    const std::vector<ConfigDiffRow> rows = store_->config_diff({ids.begin(), ids.end()});
    diff_title_->setText(
        tr("<b>Config differences</b>: %n key(s)", "", static_cast<int>(rows.size())));
    QStringList headers{tr("key")};
    for (const qint64 id : ids) headers << QString("#%1").arg(id);
    diff_->setColumnCount(static_cast<int>(headers.size()));
    diff_->setHorizontalHeaderLabels(headers);
    diff_->setRowCount(static_cast<int>(rows.size()));
    for (int row = 0; row < static_cast<int>(rows.size()); ++row) {
      diff_->setItem(row, 0, new QTableWidgetItem(QString::fromStdString(rows[row].key)));
      for (size_t column = 0; column < rows[row].values.size(); ++column) {
        const std::string& value = rows[row].values[column];
        auto* item =
            new QTableWidgetItem(value.empty() ? QString("—") : QString::fromStdString(value));
        item->setForeground(MetricPlot::paletteColor(static_cast<int>(column)));
        diff_->setItem(row, static_cast<int>(column) + 1, item);
      }
    }
    diff_->resizeColumnsToContents();
  } catch (const std::exception& error) {
    diff_title_->setText(QString::fromUtf8(error.what()));
  }
}

}  // namespace tb::ui
