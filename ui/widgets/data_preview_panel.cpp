// LibTorch first (run_setup.h): Qt's `slots` macro would break its headers.
#include "core/train/run_setup.h"

#include "ui/widgets/data_preview_panel.h"

#include <qcustomplot.h>

#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableWidget>
#include <QTextBrowser>
#include <QThread>
#include <QVBoxLayout>
#include <algorithm>

#include "core/data/preview.h"
#include "ui/widgets/metric_plot.h"

namespace tb::ui {

struct DataPreviewPanel::Outcome {
  data::DataPreview preview;  // what was found
  int64_t cutoff_len = 0;     // the config's length limit
  std::string error;          // "" = ok
};

DataPreviewPanel::DataPreviewPanel(QWidget* parent) : QWidget(parent) {
  summary_ =
      new QLabel(tr("The data set of the config, as the run will see it, appears here."), this);
  summary_->setObjectName("dataSummary");
  summary_->setWordWrap(true);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  rows_ = new QTextBrowser(this);
  rows_->setObjectName("dataRows");
  columns_ = new QTableWidget(this);
  columns_->setObjectName("dataColumns");
  columns_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  columns_->verticalHeader()->hide();
  columns_->horizontalHeader()->setStretchLastSection(true);
  histogram_ = new MetricPlot(this);
  histogram_->setAxisLabels(tr("tokens per example"), tr("rows"));
  histogram_->setPlaceholder(tr("Token lengths appear when the model's tokenizer loads"));
  auto* right = new QSplitter(Qt::Vertical, this);
  right->addWidget(histogram_);
  right->addWidget(columns_);
  auto* split = new QSplitter(Qt::Horizontal, this);
  split->addWidget(rows_);
  split->addWidget(right);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(summary_);
  layout->addWidget(split, 1);
}

DataPreviewPanel::~DataPreviewPanel() {
  if (thread_) thread_->wait();  // it only touches its own Outcome
}

void DataPreviewPanel::preview(const RunConfig& config) {
  if (thread_) thread_->wait();
  if (thread_) show_result();
  summary_->setText(tr("Reading the data set…"));
  outcome_ = std::make_shared<Outcome>();
  outcome_->cutoff_len = config.data.cutoff_len;
  auto outcome = outcome_;
  thread_ = QThread::create([config, outcome] {
    try {
      data::PreviewOptions options = preview_options(config);
      options.rows = 8;
      const std::filesystem::path path = preview_path(config, options);
      outcome->preview = data::preview_data(path, options);
    } catch (const std::exception& error) {
      outcome->error = error.what();
    }
  });
  thread_->setObjectName("tunebench-data-preview");
  connect(thread_, &QThread::finished, this, &DataPreviewPanel::show_result);
  thread_->start();
}

void DataPreviewPanel::show_result() {
  if (!thread_ || !thread_->isFinished()) return;  // a previous preview's late signal
  thread_->deleteLater();
  thread_ = nullptr;
  const Outcome& outcome = *outcome_;
  rows_->clear();
  columns_->setRowCount(0);
  bars_.clear();
  histogram_->setSeries({});
  if (!outcome.error.empty()) {
    summary_->setText("<span style='color:#c92a2a'>" +
                      QString::fromStdString(outcome.error).toHtmlEscaped() + "</span>");
    Q_EMIT previewFinished(false);
    return;
  }
  const data::DataPreview& p = outcome.preview;
  QString summary = tr("<b>%1</b> · %2 reader · %3 format%4 · %5 rows")
                        .arg(QString::fromStdString(p.file.string()).toHtmlEscaped(),
                             QString::fromStdString(p.reader), QString::fromStdString(p.format),
                             p.format_detected ? tr(" (detected)") : QString())
                        .arg(p.rows);
  if (p.skipped > 0) summary += tr(" · %1 malformed rows skipped").arg(p.skipped);
  summary +=
      tr("<br>subset: <b>%1 train</b> / <b>%2 eval</b> rows%3")
          .arg(p.subset.train.size())
          .arg(p.subset.eval.size())
          .arg(p.subset.eval_from_train ? tr(" (eval split off the train file)") : QString());
  if (p.train_tokens) {
    const data::TokenStats& t = *p.train_tokens;
    summary += tr("<br>tokens per example: min %1, mean %2, max %3; <b>%4 of %5 rows are cut "
                  "by cutoff_len %6</b>")
                   .arg(t.min_tokens)
                   .arg(t.mean_tokens, 0, 'f', 1)
                   .arg(t.max_tokens)
                   .arg(t.truncated)
                   .arg(t.rows)
                   .arg(outcome.cutoff_len);
    PlotSeries bars;
    bars.label = tr("rows per length bin (%1 tokens wide)").arg(t.bin_width);
    for (size_t bin = 0; bin < t.histogram.size(); ++bin) {
      bars.x << (static_cast<double>(bin) + 0.5) * static_cast<double>(t.bin_width);
      bars.y << static_cast<double>(t.histogram[bin]);
      bars_ << static_cast<double>(t.histogram[bin]);
    }
    histogram_->setSeries({bars});
    // Bars read better than a line for a histogram.
    if (QCPGraph* graph = histogram_->plot()->graph(0)) {
      graph->setLineStyle(QCPGraph::lsStepCenter);
      graph->setBrush(QColor(31, 119, 180, 70));
    }
    auto* limit = new QCPItemStraightLine(histogram_->plot());
    limit->point1->setCoords(static_cast<double>(outcome.cutoff_len), 0);
    limit->point2->setCoords(static_cast<double>(outcome.cutoff_len), 1);
    limit->setPen(QPen(QColor("#c92a2a"), 1.5, Qt::DashLine));
    // Whole bins and the limit in view, from 0; the axis title says what the bars are.
    const double right = std::max(static_cast<double>(t.histogram.size() * t.bin_width),
                                  static_cast<double>(outcome.cutoff_len));
    histogram_->plot()->xAxis->setRange(0, right * 1.04);
    const int64_t tallest =
        t.histogram.empty() ? 1 : *std::max_element(t.histogram.begin(), t.histogram.end());
    histogram_->plot()->yAxis->setRange(0,
                                        static_cast<double>(std::max<int64_t>(tallest, 1)) * 1.1);
    histogram_->plot()->legend->setVisible(false);
    histogram_->setAxisLabels(
        tr("tokens per example (bins of %1; dashed: cutoff_len)").arg(t.bin_width), tr("rows"));
    histogram_->plot()->replot();
  }
  summary_->setText(summary);

  // The first rows: the prompt as context (grey), what the model learns (the target) in green.
  QString html;
  for (const data::PreviewRow& row : p.first_rows) {
    html += tr("<p style='margin:6px 0 2px 0;color:#777'>row %1 (line %2)</p>")
                .arg(row.row)
                .arg(row.line);
    for (const data::PreviewSpan& span : row.spans) {
      const QString text = QString::fromStdString(span.text).toHtmlEscaped().replace('\n', "<br>");
      const QString role = QString::fromStdString(span.role);
      html +=
          span.target
              ? QString(
                    "<div style='background:#e6f4ea;color:#1b5e20;padding:2px'><b>%1</b> "
                    "%2</div>")
                    .arg(role, text)
              : QString("<div style='color:#555;padding:2px'><b>%1</b> %2</div>").arg(role, text);
    }
  }
  rows_->setHtml(html);

  columns_->setColumnCount(5);
  columns_->setHorizontalHeaderLabels(
      {tr("column"), tr("present"), tr("empty"), tr("length (chars)"), tr("values")});
  columns_->setRowCount(static_cast<int>(p.columns.size()));
  for (int index = 0; index < static_cast<int>(p.columns.size()); ++index) {
    const data::ColumnStats& c = p.columns[index];
    QStringList values;
    for (const auto& [value, count] : c.values) {
      values << QString("%1 (%2)").arg(QString::fromStdString(value)).arg(count);
    }
    const QStringList cells = {
        QString::fromStdString(c.name), QString::number(c.present), QString::number(c.empty),
        QString("%1–%2, mean %3").arg(c.min_chars).arg(c.max_chars).arg(c.mean_chars, 0, 'f', 0),
        values.join(", ")};
    for (int column = 0; column < cells.size(); ++column) {
      columns_->setItem(index, column, new QTableWidgetItem(cells[column]));
    }
  }
  columns_->resizeColumnsToContents();
  Q_EMIT previewFinished(true);
}

QString DataPreviewPanel::summaryText() const { return summary_->text(); }

QString DataPreviewPanel::rowsHtml() const { return rows_->toHtml(); }

QVector<double> DataPreviewPanel::histogram() const { return bars_; }

}  // namespace tb::ui
