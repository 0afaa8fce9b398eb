#include "ui/pages/compare_page.h"

#include <qcustomplot.h>
#include <nlohmann/json.hpp>

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QSvgGenerator>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>
#include <set>

#include "core/runs/run_store.h"
#include "core/util/atomic_file.h"
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
  auto* save_plot = new QPushButton(tr("Save plot…"), this);
  save_plot->setToolTip(tr("The plot as PNG, SVG or PDF"));
  auto* save_data = new QPushButton(tr("Save data…"), this);
  save_data->setToolTip(tr("Every point of the shown metric of the checked runs, as CSV"));
  controls->addWidget(save_plot);
  controls->addWidget(save_data);
  connect(save_plot, &QPushButton::clicked, this, &ComparePage::askSavePlot);
  connect(save_data, &QPushButton::clicked, this, &ComparePage::askSaveCsv);

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
  summary_ = new QTableWidget(this);
  summary_->setObjectName("compareSummary");
  summary_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  summary_->verticalHeader()->hide();
  summary_->horizontalHeader()->setStretchLastSection(true);
  summary_->verticalHeader()->setDefaultSectionSize(22);
  auto* tables = new QTabWidget(vertical);
  auto* diff_box = new QWidget(tables);
  auto* diff_layout = new QVBoxLayout(diff_box);
  diff_layout->setContentsMargins(0, 4, 0, 0);
  diff_layout->addWidget(diff_title_);
  diff_layout->addWidget(diff_, 1);
  tables->addTab(diff_box, tr("Config differences"));
  tables->addTab(summary_, tr("Summary"));
  vertical->addWidget(tables);
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
    updateSummary();
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
  updateSummary();
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

void ComparePage::updateSummary() {
  summary_->clear();
  summary_->setRowCount(0);
  const QList<qint64> ids = checkedRuns();
  if (!store_ || ids.isEmpty()) return;
  try {
    // Fixed columns, then every final/best metric any of the runs recorded.
    std::vector<RunRecord> runs;
    std::set<std::string> metric_keys;
    std::vector<nlohmann::json> summaries;
    for (const qint64 id : ids) {
      runs.push_back(store_->get_run(id));
      nlohmann::json summary = nlohmann::json::parse(
          runs.back().summary_json.empty() ? "{}" : runs.back().summary_json, nullptr, false);
      if (!summary.is_object()) summary = nlohmann::json::object();
      for (const auto& item : summary.items()) {
        if (item.value().is_number()) metric_keys.insert(item.key());
      }
      summaries.push_back(std::move(summary));
    }
    QStringList headers{tr("run"), tr("method"), tr("status"), tr("steps"), tr("duration")};
    for (const std::string& key : metric_keys) headers << QString::fromStdString(key);
    summary_->setColumnCount(static_cast<int>(headers.size()));
    summary_->setHorizontalHeaderLabels(headers);
    summary_->setRowCount(static_cast<int>(runs.size()));
    for (int row = 0; row < static_cast<int>(runs.size()); ++row) {
      const RunRecord& run = runs[row];
      const double seconds =
          run.started_at && run.finished_at ? *run.finished_at - *run.started_at : -1;
      QStringList cells{QString("#%1 %2").arg(run.id).arg(QString::fromStdString(run.name)),
                        QString::fromStdString(run.method),
                        QString::fromStdString(to_string(run.status)),
                        QString::number(run.last_step),
                        seconds < 0 ? QString("—") : QString("%1 s").arg(seconds, 0, 'f', 1)};
      for (const std::string& key : metric_keys) {
        const auto value = summaries[row].find(key);
        cells << (value != summaries[row].end() && value->is_number()
                      ? QString::number(value->get<double>(), 'g', 5)
                      : QString("—"));
      }
      for (int column = 0; column < cells.size(); ++column) {
        auto* item = new QTableWidgetItem(cells[column]);
        if (column == 0) item->setForeground(MetricPlot::paletteColor(row));
        summary_->setItem(row, column, item);
      }
    }
    summary_->resizeColumnsToContents();
  } catch (const std::exception& error) {
    summary_->setColumnCount(1);
    summary_->setRowCount(1);
    summary_->setItem(0, 0, new QTableWidgetItem(QString::fromUtf8(error.what())));
  }
}

bool ComparePage::savePlot(const QString& path, QString* error) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  QCustomPlot* plot = plot_->plot();
  const int width = 1200, height = 700;
  bool ok = false;
  if (suffix == "png") {
    ok = plot->savePng(path, width, height, 2.0);
  } else if (suffix == "pdf") {
    ok = plot->savePdf(path, width, height);
  } else if (suffix == "svg") {
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(QSize(width, height));
    svg.setViewBox(QRect(0, 0, width, height));
    svg.setTitle(metric_->currentText());
    QCPPainter painter;
    ok = painter.begin(&svg);
    if (ok) {
      plot->toPainter(&painter, width, height);
      painter.end();
    }
  } else {
    if (error) *error = tr("Choose a .png, .svg or .pdf file name.");
    return false;
  }
  if (!ok && error) *error = tr("Cannot write %1.").arg(path);
  return ok;
}

bool ComparePage::saveCsv(const QString& path, QString* error) {
  const QList<qint64> ids = checkedRuns();
  const std::string name = metric_->currentText().toStdString();
  if (!store_ || ids.isEmpty() || name.empty()) {
    if (error) *error = tr("Check runs and a metric first.");
    return false;
  }
  try {
    auto quoted = [](const std::string& text) {
      std::string out = "\"";
      for (const char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
      return out + "\"";
    };
    std::string csv = "run_id,run_name,metric,step,epoch,tokens,wall_seconds,value,smoothed\n";
    for (const MetricSeries& series :
         store_->series(std::vector<int64_t>(ids.begin(), ids.end()), {name}, 0)) {
      const RunRecord run = store_->get_run(series.run_id);
      Ema ema(smoothing_->value());
      for (const MetricPoint& point : series.points) {
        csv += std::to_string(series.run_id) + "," + quoted(run.name) + "," + quoted(name) + "," +
               std::to_string(point.step) + "," +
               QString::number(point.epoch, 'g', 10).toStdString() + "," +
               std::to_string(point.tokens) + "," +
               QString::number(point.wall, 'g', 10).toStdString() + "," +
               QString::number(point.value, 'g', 17).toStdString() + "," +
               QString::number(ema.push(point.value), 'g', 17).toStdString() + "\n";
      }
    }
    write_file_atomic(path.toStdString(), csv);
    return true;
  } catch (const std::exception& failure) {
    if (error) *error = QString::fromUtf8(failure.what());
    return false;
  }
}

void ComparePage::askSavePlot() {
  QString filter;
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Save plot"),
      QString("compare-%1.png").arg(metric_->currentText().replace('/', '-')),
      tr("PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)"), &filter);
  if (path.isEmpty()) return;
  QString error;
  if (!savePlot(path, &error)) QMessageBox::warning(this, tr("Save plot"), error);
}

void ComparePage::askSaveCsv() {
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Save data"),
      QString("compare-%1.csv").arg(metric_->currentText().replace('/', '-')), tr("CSV (*.csv)"));
  if (path.isEmpty()) return;
  QString error;
  if (!saveCsv(path, &error)) QMessageBox::warning(this, tr("Save data"), error);
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
