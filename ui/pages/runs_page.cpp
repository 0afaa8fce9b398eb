#include "ui/pages/runs_page.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDesktopServices>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QUrl>
#include <QVBoxLayout>

#include "core/config/config_yaml.h"
#include "core/runs/run_store.h"
#include "ui/models/run_table_model.h"
#include "ui/widgets/metric_plot.h"

namespace tb::ui {

namespace {

constexpr int kRefreshMs = 2000;  // new CLI runs and growing curves appear within 2 s

QString html_escape(const std::string& text) {
  return QString::fromStdString(text).toHtmlEscaped();
}

QString time_text(double unix_seconds) {
  return QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(unix_seconds * 1000))
      .toString("yyyy-MM-dd HH:mm:ss");
}

}  // namespace

RunsPage::RunsPage(RunStore* store, const QString& store_error, QWidget* parent)
    : QWidget(parent), store_(store) {
  search_ = new QLineEdit(this);
  search_->setObjectName("runSearch");
  search_->setPlaceholderText(tr("Search name, model, data set, notes, tags…"));
  search_->setClearButtonEnabled(true);
  status_filter_ = new QComboBox(this);
  status_filter_->setObjectName("statusFilter");
  status_filter_->addItem(tr("Any status"), QString());
  for (const char* status :
       {"running", "completed", "failed", "interrupted", "stopped", "queued"}) {
    status_filter_->addItem(status, QString(status));
  }
  method_filter_ = new QComboBox(this);
  method_filter_->setObjectName("methodFilter");
  method_filter_->addItem(tr("Any method"), QString());
  for (const char* method : {"full", "freeze", "lora", "qlora", "ptuning"}) {
    method_filter_->addItem(method, QString(method));
  }
  auto* compare = new QPushButton(tr("Compare selected"), this);
  compare->setObjectName("compareButton");
  auto* export_model = new QPushButton(tr("Export model…"), this);
  export_model->setObjectName("exportModelButton");
  export_model->setToolTip(tr("Save the run's adapter or model as PEFT, merged or GGUF"));
  auto* export_button = new QPushButton(tr("Save metrics…"), this);
  export_button->setToolTip(tr("Save the run's metrics as CSV, or the whole run as JSON"));
  resume_ = new QPushButton(tr("Resume"), this);
  resume_->setObjectName("resumeButton");
  resume_->setToolTip(
      tr("Continue a stopped, failed or interrupted run from its newest "
         "checkpoint (a new run in the history, same output folder)"));
  auto* open_folder = new QPushButton(tr("Open folder"), this);
  open_folder->setObjectName("openFolderButton");
  open_folder->setToolTip(tr("Show the run's output folder in the file manager"));
  connect(resume_, &QPushButton::clicked, this, &RunsPage::resumeSelected);
  connect(open_folder, &QPushButton::clicked, this, &RunsPage::openSelectedFolder);
  auto* remove = new QPushButton(tr("Delete…"), this);
  remove->setObjectName("deleteButton");

  auto* filters = new QHBoxLayout;
  filters->addWidget(search_, 1);
  filters->addWidget(status_filter_);
  filters->addWidget(method_filter_);
  filters->addSpacing(12);
  filters->addWidget(compare);
  filters->addWidget(resume_);
  filters->addWidget(open_folder);
  filters->addWidget(export_model);
  filters->addWidget(export_button);
  filters->addWidget(remove);

  model_ = new RunTableModel(this);
  proxy_ = new QSortFilterProxyModel(this);
  proxy_->setSourceModel(model_);
  proxy_->setSortRole(RunTableModel::kSortRole);
  table_ = new QTableView(this);
  table_->setObjectName("runTable");
  table_->setModel(proxy_);
  table_->setSortingEnabled(true);
  table_->sortByColumn(RunTableModel::kId, Qt::DescendingOrder);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  table_->setAlternatingRowColors(true);
  table_->verticalHeader()->hide();
  table_->verticalHeader()->setDefaultSectionSize(24);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setColumnWidth(RunTableModel::kId, 48);
  table_->setColumnWidth(RunTableModel::kName, 200);
  table_->setColumnWidth(RunTableModel::kStatus, 90);
  table_->setColumnWidth(RunTableModel::kMethod, 70);
  table_->setColumnWidth(RunTableModel::kTask, 100);
  table_->setColumnWidth(RunTableModel::kStep, 60);
  table_->setColumnWidth(RunTableModel::kCreated, 130);

  error_ = new QLabel(this);
  error_->setObjectName("runsError");
  error_->setWordWrap(true);
  error_->setStyleSheet("QLabel { background: #fdecea; color: #8a1c1c; padding: 8px; }");
  error_->hide();

  auto* splitter = new QSplitter(Qt::Vertical, this);
  splitter->addWidget(table_);
  splitter->addWidget(buildDetails());
  splitter->setStretchFactor(0, 2);
  splitter->setStretchFactor(1, 3);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(12, 12, 12, 12);
  layout->addWidget(error_);
  layout->addLayout(filters);
  layout->addWidget(splitter, 1);

  refresh_timer_ = new QTimer(this);
  refresh_timer_->setInterval(kRefreshMs);
  connect(refresh_timer_, &QTimer::timeout, this, &RunsPage::refresh);
  connect(search_, &QLineEdit::textChanged, this, &RunsPage::refresh);
  connect(status_filter_, &QComboBox::currentIndexChanged, this, &RunsPage::refresh);
  connect(method_filter_, &QComboBox::currentIndexChanged, this, &RunsPage::refresh);
  connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
    const QList<qint64> ids = selectedRunIds();
    showRun(ids.isEmpty() ? 0 : ids.first());
  });
  connect(compare, &QPushButton::clicked, this, [this] {
    if (selectedRunIds().size() >= 1) Q_EMIT compareRequested(selectedRunIds());
  });
  connect(remove, &QPushButton::clicked, this, &RunsPage::deleteSelected);
  connect(export_button, &QPushButton::clicked, this, &RunsPage::exportSelected);
  connect(export_model, &QPushButton::clicked, this, [this] {
    const QList<qint64> ids = selectedRunIds();
    if (ids.size() == 1) {
      Q_EMIT exportModelRequested(ids.first());
    } else {
      showError(tr("Select one run to export."));
    }
  });

  if (!store_) {
    showError(store_error);
  } else {
    refresh();
  }
}

QWidget* RunsPage::buildDetails() {
  auto* tabs = new QTabWidget(this);
  tabs->setObjectName("runDetails");

  auto* curves = new QWidget(tabs);
  metric_ = new QComboBox(curves);
  metric_->setObjectName("metricChoice");
  plot_ = new MetricPlot(curves);
  plot_->setPlaceholder(tr("Select a run to see its curves"));
  summary_ = new QLabel(curves);
  summary_->setObjectName("runSummary");
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  summary_->setWordWrap(true);
  auto* metric_row = new QHBoxLayout;
  metric_row->addWidget(new QLabel(tr("Metric:"), curves));
  metric_row->addWidget(metric_, 1);
  auto* curves_layout = new QVBoxLayout(curves);
  curves_layout->addWidget(summary_);
  curves_layout->addLayout(metric_row);
  curves_layout->addWidget(plot_, 1);
  connect(metric_, &QComboBox::currentIndexChanged, this, &RunsPage::showCurves);
  tabs->addTab(curves, tr("Curves"));

  auto* edit = new QWidget(tabs);
  name_edit_ = new QLineEdit(edit);
  name_edit_->setObjectName("nameEdit");
  tags_edit_ = new QLineEdit(edit);
  tags_edit_->setObjectName("tagsEdit");
  tags_edit_->setPlaceholderText(tr("comma-separated, e.g. baseline, recipe-a"));
  notes_edit_ = new QPlainTextEdit(edit);
  notes_edit_->setObjectName("notesEdit");
  auto* save = new QPushButton(tr("Save"), edit);
  save->setObjectName("saveEdits");
  auto* form = new QFormLayout(edit);
  form->addRow(tr("Name"), name_edit_);
  form->addRow(tr("Tags"), tags_edit_);
  form->addRow(tr("Notes"), notes_edit_);
  form->addRow(QString(), save);
  connect(save, &QPushButton::clicked, this, &RunsPage::saveEdits);
  tabs->addTab(edit, tr("Name, tags, notes"));

  config_view_ = new QPlainTextEdit(tabs);
  config_view_->setObjectName("configView");
  config_view_->setReadOnly(true);
  config_view_->setFont(QFont("monospace"));
  tabs->addTab(config_view_, tr("Config"));

  events_ = new QListWidget(tabs);
  events_->setObjectName("eventList");
  tabs->addTab(events_, tr("Events"));
  return tabs;
}

void RunsPage::showError(const QString& text) {
  error_->setText(text);
  error_->setVisible(!text.isEmpty());
}

void RunsPage::refresh() {
  if (!store_) return;
  const QList<qint64> selected = selectedRunIds();
  RunFilter filter;
  filter.search = search_->text().toStdString();
  if (const QString status = status_filter_->currentData().toString(); !status.isEmpty()) {
    filter.status = parse_run_status(status.toStdString());
  }
  filter.method = method_filter_->currentData().toString().toStdString();
  try {
    model_->setRuns(store_->list_runs(filter));
    showError({});
  } catch (const std::exception& error) {
    showError(QString::fromUtf8(error.what()));
    return;
  }
  QItemSelection selection;
  for (const qint64 id : selected) {
    const int row = model_->rowOf(id);
    if (row < 0) continue;
    const QModelIndex index = proxy_->mapFromSource(model_->index(row, 0));
    selection.select(index, index.siblingAtColumn(RunTableModel::kCount - 1));
  }
  table_->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect);
  if (selected.isEmpty() && !selected_once_ && proxy_->rowCount() > 0) {
    selected_once_ = true;  // open on the newest run; afterwards respect the user's choice
    table_->selectRow(0);
  }
  if (shown_run_ != 0 && selected.contains(shown_run_)) showCurves();  // live runs grow
}

bool RunsPage::selectRun(qint64 run_id) {
  const int row = model_->rowOf(run_id);
  if (row < 0) return false;
  table_->selectRow(proxy_->mapFromSource(model_->index(row, 0)).row());
  return true;
}

QList<qint64> RunsPage::selectedRunIds() const {
  QList<qint64> ids;
  for (const QModelIndex& index : table_->selectionModel()->selectedRows()) {
    ids << index.data(RunTableModel::kRunIdRole).toLongLong();
  }
  return ids;
}

bool RunsPage::resumeSelected() {
  const QList<qint64> ids = selectedRunIds();
  if (!store_ || ids.size() != 1) {
    showError(tr("Select one run to resume."));
    return false;
  }
  try {
    const RunRecord run = store_->get_run(ids.first());
    if (run.status == RunStatus::kCompleted || run.status == RunStatus::kRunning ||
        run.status == RunStatus::kQueued) {
      showError(tr("Run %1 is %2; only stopped, failed or interrupted runs resume.")
                    .arg(run.id)
                    .arg(QString::fromUtf8(to_string(run.status))));
      return false;
    }
    if (run.last_checkpoint.empty() ||
        !QFileInfo::exists(QString::fromStdString(run.last_checkpoint))) {
      showError(tr("Run %1 has no checkpoint on disk to resume from; start it again from New "
                   "run instead.")
                    .arg(run.id));
      return false;
    }
    const QString base = QString::fromStdString(run.output_dir);
    LoadedConfig loaded =
        load_config_string(run.config_yaml, "run " + std::to_string(run.id), base.toStdString());
    loaded.config.output.output_dir = run.output_dir;
    loaded.config.output.resume_from_checkpoint = run.last_checkpoint;
    // As many processes as wrote the checkpoint: another count would change every batch.
    int processes = 1;
    QFile state(QString::fromStdString(run.last_checkpoint) + "/trainer_state.json");
    if (state.open(QIODevice::ReadOnly)) {
      processes = std::max(1, QJsonDocument::fromJson(state.readAll())["world_size"].toInt(1));
    }
    Q_EMIT resumeRequested(QString::fromStdString(config_to_yaml(loaded.config)), base, processes);
    return true;
  } catch (const std::exception& error) {
    showError(QString::fromUtf8(error.what()));
    return false;
  }
}

void RunsPage::openSelectedFolder() {
  const QList<qint64> ids = selectedRunIds();
  if (!store_ || ids.size() != 1) {
    showError(tr("Select one run."));
    return;
  }
  try {
    const QString folder = QString::fromStdString(store_->get_run(ids.first()).output_dir);
    if (!QFileInfo(folder).isDir()) {
      showError(tr("The output folder %1 does not exist (any more).").arg(folder));
      return;
    }
    QDesktopServices::openUrl(QUrl::fromLocalFile(folder));
  } catch (const std::exception& error) {
    showError(QString::fromUtf8(error.what()));
  }
}

void RunsPage::showRun(qint64 run_id) {
  shown_run_ = run_id;
  if (!store_ || run_id == 0) {
    summary_->clear();
    metric_->clear();
    plot_->setSeries({});
    config_view_->clear();
    events_->clear();
    return;
  }
  try {
    const RunRecord run = store_->get_run(run_id);
    QString summary = QString("<b>%1</b> &nbsp; <span style='color:%2'>%3</span><br>")
                          .arg(html_escape(run.name), statusColor(run.status).name(),
                               QString::fromUtf8(to_string(run.status)));
    summary += tr("%1 · %2 · model %3 · data %4 %5 · step %6 · created %7")
                   .arg(html_escape(run.method), html_escape(run.task), html_escape(run.model_path),
                        html_escape(run.dataset), html_escape(run.subset))
                   .arg(run.last_step)
                   .arg(time_text(run.created_at));
    if (!run.error_text.empty()) {
      summary += "<br><span style='color:#8a1c1c'>" + html_escape(run.error_text) + "</span>";
    }
    summary_->setText(summary);
    name_edit_->setText(QString::fromStdString(run.name));
    QStringList tags;
    for (const std::string& tag : run.tags) tags << QString::fromStdString(tag);
    tags_edit_->setText(tags.join(", "));
    notes_edit_->setPlainText(QString::fromStdString(run.notes));
    config_view_->setPlainText(QString::fromStdString(run.config_yaml));
    events_->clear();
    for (const RunEvent& event : store_->events(run_id)) {
      auto* item = new QListWidgetItem(
          time_text(event.time) + "  " + QString::fromStdString(event.message), events_);
      if (event.level != "info")
        item->setForeground(QColor(event.level == "error" ? "#c92a2a" : "#b35c00"));
    }
    const QString previous = metric_->currentText();
    const QSignalBlocker block(metric_);
    metric_->clear();
    for (const std::string& name : store_->metric_names(run_id)) {
      metric_->addItem(QString::fromStdString(name));
    }
    const int keep = metric_->findText(previous);
    const int loss = metric_->findText("train/loss");
    metric_->setCurrentIndex(keep >= 0 ? keep : (loss >= 0 ? loss : 0));
    showCurves();
  } catch (const std::exception& error) {
    showError(QString::fromUtf8(error.what()));
  }
}

void RunsPage::showCurves() {
  if (!store_ || shown_run_ == 0 || metric_->currentText().isEmpty()) {
    plot_->setSeries({});
    return;
  }
  const std::string name = metric_->currentText().toStdString();
  // ≤ 2,000 points keep the plot fast; min/max buckets keep spikes visible.
  const std::vector<MetricSeries> series = store_->series({shown_run_}, {name}, 2000);
  PlotSeries curve;
  curve.label = metric_->currentText();
  for (const MetricPoint& point : series.at(0).points) {
    curve.x << static_cast<double>(point.step);
    curve.y << point.value;
  }
  plot_->setAxisLabels(tr("step"), curve.label);
  plot_->setSeries({curve});
}

void RunsPage::saveEdits() {
  if (!store_ || shown_run_ == 0) return;
  std::vector<std::string> tags;
  for (const QString& tag : tags_edit_->text().split(',', Qt::SkipEmptyParts)) {
    if (!tag.trimmed().isEmpty()) tags.push_back(tag.trimmed().toStdString());
  }
  try {
    store_->rename_run(shown_run_, name_edit_->text().trimmed().toStdString());
    store_->set_tags(shown_run_, tags);
    store_->set_notes(shown_run_, notes_edit_->toPlainText().toStdString());
    refresh();
  } catch (const std::exception& error) {
    showError(QString::fromUtf8(error.what()));
  }
}

void RunsPage::deleteSelected() {
  const QList<qint64> ids = selectedRunIds();
  if (!store_ || ids.isEmpty()) return;
  QMessageBox box(QMessageBox::Warning, tr("Delete runs"),
                  tr("Delete %n run(s) from the history? Their metrics and events go too.", "",
                     static_cast<int>(ids.size())),
                  QMessageBox::Yes | QMessageBox::Cancel, this);
  box.setObjectName("confirmDelete");
  auto* with_files = new QCheckBox(tr("Also delete the output folders tunebench created"), &box);
  box.setCheckBox(with_files);
  if (box.exec() != QMessageBox::Yes) return;
  for (const qint64 id : ids) {
    try {
      store_->delete_run(id, with_files->isChecked());
    } catch (const std::exception& error) {
      showError(QString::fromUtf8(error.what()));
    }
  }
  refresh();
}

void RunsPage::exportSelected() {
  const QList<qint64> ids = selectedRunIds();
  if (!store_ || ids.size() != 1) {
    showError(tr("Select one run to export."));
    return;
  }
  const QString file =
      QFileDialog::getSaveFileName(this, tr("Export run"), QString("run-%1.csv").arg(ids.first()),
                                   tr("CSV metrics (*.csv);;Run as JSON (*.json)"));
  if (file.isEmpty()) return;
  try {
    if (file.endsWith(".json")) {
      store_->export_json(ids.first(), file.toStdString());
    } else {
      store_->export_csv(ids.first(), file.toStdString());
    }
  } catch (const std::exception& error) {
    showError(QString::fromUtf8(error.what()));
  }
}

void RunsPage::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (store_) {
    refresh();
    refresh_timer_->start();
  }
}

void RunsPage::hideEvent(QHideEvent* event) {
  QWidget::hideEvent(event);
  refresh_timer_->stop();  // nothing polls the file while the page is not on screen
}

}  // namespace tb::ui
