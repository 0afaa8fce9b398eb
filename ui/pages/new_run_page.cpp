// LibTorch (through run_estimate.h) before Qt: Qt's `slots` macro would break its headers.
#include "core/train/run_estimate.h"

#include "ui/pages/new_run_page.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>

#include "core/config/config_validation.h"
#include "core/config/config_yaml.h"
#include "core/config/presets.h"
#include "core/train/run_job.h"
#include "core/util/atomic_file.h"
#include "core/util/runtime.h"
#include "ui/widgets/config_form.h"
#include "ui/widgets/data_preview_panel.h"
#include "ui/widgets/method_queue.h"
#include "ui/widgets/run_monitor.h"

namespace tb::ui {

struct NewRunPage::EstimateOutcome {
  std::vector<MethodEstimate> estimates;  // one per method
  std::string method;                     // the config's own method ("qlora" for 4-bit LoRA)
  std::string error;                      // why nothing could be estimated
};

namespace {

QString mib(int64_t bytes) {
  return QString::number(static_cast<double>(bytes) / (1 << 20), 'f', 1) + " MiB";
}

QString duration(double seconds) {
  if (seconds <= 0) return "–";
  if (seconds < 90) return QString::number(seconds, 'f', 0) + " s";
  if (seconds < 5400) return QString::number(seconds / 60, 'f', 1) + " min";
  return QString::number(seconds / 3600, 'f', 1) + " h";
}

}  // namespace

NewRunPage::NewRunPage(QWidget* parent) : QWidget(parent), base_dir_(QDir::currentPath()) {
  presets_ = new QComboBox(this);
  presets_->setObjectName("presetChoice");
  presets_->addItem(tr("Presets (the recipes)…"), QString());
  for (const PresetInfo& preset : list_presets()) {
    presets_->addItem(QString::fromStdString(preset.name + "  —  " + preset.title),
                      QString::fromStdString(preset.name));
  }
  auto* open = new QPushButton(tr("Open YAML…"), this);
  auto* save = new QPushButton(tr("Save as…"), this);
  auto* check_button = new QPushButton(tr("Check"), this);
  check_button->setObjectName("checkButton");
  estimate_button_ = new QPushButton(tr("Estimate"), this);
  estimate_button_->setObjectName("estimateButton");
  estimate_button_->setToolTip(
      tr("Memory and time of every method for this config (a few real steps are timed)"));
  auto* compare_methods = new QPushButton(tr("Compare methods…"), this);
  compare_methods->setObjectName("compareMethodsButton");
  compare_methods->setToolTip(
      tr("Run this setup once per chosen method, one after another, then compare them"));
  run_ = new QPushButton(tr("Run"), this);
  run_->setObjectName("runButton");
  run_->setDefault(true);
  run_->setStyleSheet("QPushButton { font-weight: bold; padding: 4px 18px; }");

  processes_ = new QSpinBox(this);
  processes_->setObjectName("processesBox");
  processes_->setRange(1, std::max(1, usable_cores()));
  processes_->setPrefix(tr("processes: "));
  processes_->setToolTip(
      tr("Data-parallel processes on this machine: each trains on its share of every batch "
         "(per_device_train_batch_size rows), with cores / processes threads. 1 = this "
         "program alone."));
  processes_->setValue(
      std::clamp(QSettings().value("newRun/processes", 1).toInt(), 1, processes_->maximum()));
  connect(processes_, &QSpinBox::valueChanged, this,
          [](int value) { QSettings().setValue("newRun/processes", value); });

  auto* toolbar = new QHBoxLayout;
  toolbar->addWidget(presets_, 1);
  toolbar->addWidget(open);
  toolbar->addWidget(save);
  toolbar->addSpacing(12);
  toolbar->addWidget(check_button);
  toolbar->addWidget(estimate_button_);
  toolbar->addWidget(processes_);
  toolbar->addWidget(compare_methods);
  toolbar->addWidget(run_);

  source_ = new QLabel(this);
  source_->setObjectName("configSource");
  editor_ = new QPlainTextEdit(this);
  editor_->setObjectName("yamlEditor");
  editor_->setFont(QFont("monospace"));
  editor_->setPlaceholderText(
      tr("model_name_or_path: path/to/model\nfinetuning_type: full\ndataset: train.jsonl\n…\n\n"
         "Pick a preset above, open a YAML file, or type a config (LLaMA-Factory keys)."));
  verdict_ = new QLabel(this);
  verdict_->setObjectName("checkVerdict");
  verdict_->setWordWrap(true);
  verdict_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  estimates_ = new QTableWidget(0, 8, this);
  estimates_->setObjectName("estimateTable");
  estimates_->setHorizontalHeaderLabels({tr("method"), tr("trainable"), tr("weights"),
                                         tr("gradients"), tr("optimizer"), tr("activations"),
                                         tr("total memory"), tr("time")});
  estimates_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  estimates_->horizontalHeader()->setStretchLastSection(true);
  estimates_->verticalHeader()->hide();
  estimates_->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 8);
  estimates_->setWordWrap(false);
  estimates_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  estimates_->hide();
  queue_ = new MethodQueue(this);

  auto* editor_box = new QWidget(this);
  auto* editor_layout = new QVBoxLayout(editor_box);
  editor_layout->setContentsMargins(0, 0, 0, 0);
  editor_layout->addWidget(source_);
  form_ = new ConfigForm(this);
  form_->setObjectName("configForm");
  views_ = new QTabWidget(this);
  views_->setObjectName("configViews");
  views_->addTab(form_, tr("Form"));
  views_->addTab(editor_, tr("YAML"));
  data_preview_ = new DataPreviewPanel(this);
  views_->addTab(data_preview_, tr("Data"));
  views_->setTabToolTip(2, tr("The data set as the run will see it: subsets, first rows, "
                              "token lengths"));
  views_->setCurrentIndex(1);
  editor_layout->addWidget(views_, 1);
  editor_layout->addWidget(verdict_);
  editor_layout->addWidget(estimates_);
  editor_layout->addWidget(queue_);

  monitor_ = new RunMonitor(this);
  splitter_ = new QSplitter(Qt::Vertical, this);
  splitter_->addWidget(editor_box);
  splitter_->addWidget(monitor_);
  splitter_->setStretchFactor(0, 2);
  splitter_->setStretchFactor(1, 3);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(12, 12, 12, 12);
  layout->addLayout(toolbar);
  layout->addWidget(splitter_, 1);

  connect(presets_, &QComboBox::activated, this, [this](int index) {
    const QString name = presets_->itemData(index).toString();
    if (!name.isEmpty()) loadPreset(name);
  });
  connect(open, &QPushButton::clicked, this, [this] {
    const QString file = QFileDialog::getOpenFileName(this, tr("Open run config"), base_dir_,
                                                      tr("YAML (*.yaml *.yml)"));
    if (!file.isEmpty()) loadFile(file);
  });
  connect(save, &QPushButton::clicked, this, &NewRunPage::saveAs);
  connect(check_button, &QPushButton::clicked, this, &NewRunPage::check);
  connect(run_, &QPushButton::clicked, this, &NewRunPage::startRun);
  connect(estimate_button_, &QPushButton::clicked, this, &NewRunPage::estimate);
  connect(compare_methods, &QPushButton::clicked, this, &NewRunPage::askCompareMethods);
  // Two-way: the form is filled from the YAML when shown; a form edit rewrites the YAML.
  connect(views_, &QTabWidget::currentChanged, this, [this](int index) {
    if (index == 0 && !showForm(true)) views_->setCurrentIndex(1);
    if (index == 2 && !showDataPreview()) views_->setCurrentIndex(1);
  });
  connect(form_, &ConfigForm::edited, this, [this] {
    editor_->setPlainText(QString::fromStdString(config_to_yaml(form_->config())));
  });
  connect(monitor_, &RunMonitor::runEnded, this, &NewRunPage::onRunEnded);
  connect(queue_, &MethodQueue::cancelled, this, [this] {
    if (!monitor_->isRunning()) startNextQueued();  // nothing left: offer what ran
  });
}

NewRunPage::~NewRunPage() {
  // The estimate thread only reads its own copy of the config; let it end before we do.
  if (estimate_thread_) estimate_thread_->wait();
}

bool NewRunPage::loadPreset(const QString& name) {
  for (const PresetInfo& preset : list_presets()) {
    if (QString::fromStdString(preset.name) != name) continue;
    if (!loadFile(QString::fromStdString(preset.path.string()))) return false;
    presets_->setCurrentIndex(presets_->findData(name));  // the menu says what is loaded
    return true;
  }
  return false;
}

bool NewRunPage::loadFile(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) {
    verdict_->setText(
        tr("<span style='color:#c92a2a'>Cannot read %1</span>").arg(path.toHtmlEscaped()));
    return false;
  }
  setYaml(QString::fromUtf8(file.readAll()), QFileInfo(path).absolutePath());
  source_->setText(tr("From %1 — relative paths resolve against its folder").arg(path));
  return true;
}

void NewRunPage::setYaml(const QString& yaml, const QString& base_dir) {
  editor_->setPlainText(yaml);
  base_dir_ = base_dir;
  verdict_->clear();
  if (views_->currentIndex() == 0 && !showForm(true)) views_->setCurrentIndex(1);
  if (views_->currentIndex() == 2 && !showDataPreview()) views_->setCurrentIndex(1);
}

QStringList NewRunPage::check() {
  QStringList problems;
  QStringList notes;
  try {
    LoadedConfig loaded = editorConfig();
    apply_model_fallback(loaded);
    ValidationResult result = validate_config(loaded.config);
    check_model_compatibility(loaded.config, result);
    for (const std::string& error : result.errors) problems << QString::fromStdString(error);
    for (const std::string& warning : loaded.warnings) notes << QString::fromStdString(warning);
    for (const std::string& warning : result.warnings) notes << QString::fromStdString(warning);
  } catch (const std::exception& error) {
    problems << QString::fromUtf8(error.what()).split('\n');
  }
  QString html;
  if (problems.isEmpty()) {
    html = tr("<span style='color:#2b8a3e'><b>Config is valid.</b></span>");
  } else {
    html = "<span style='color:#c92a2a'><b>" + tr("Problems:") + "</b><br>" +
           problems.join("<br>").toHtmlEscaped().replace("&lt;br&gt;", "<br>") + "</span>";
  }
  for (const QString& note : notes)
    html += "<br><span style='color:#b35c00'>" + note.toHtmlEscaped() + "</span>";
  verdict_->setText(html);
  return problems;
}

bool NewRunPage::showForm(bool form) {
  if (!form) {
    views_->setCurrentIndex(1);
    return true;
  }
  return showParsedView(0, tr("The form"),
                        [this](LoadedConfig& loaded) { form_->setConfig(loaded.config); });
}

bool NewRunPage::showParsedView(int tab, const QString& what,
                                const std::function<void(LoadedConfig&)>& fill) {
  try {
    LoadedConfig loaded = editorConfig();
    fill(loaded);
  } catch (const std::exception& error) {
    showProblem(tr("%1 needs valid YAML first: %2")
                    .arg(what, QString::fromUtf8(error.what()).toHtmlEscaped()));
    return false;
  }
  const QSignalBlocker block(views_);
  views_->setCurrentIndex(tab);
  return true;
}

QString NewRunPage::yaml() const { return editor_->toPlainText(); }

void NewRunPage::showProblem(const QString& text) {
  verdict_->setText("<span style='color:#c92a2a'>" + text + "</span>");
}

LoadedConfig NewRunPage::editorConfig() const {
  return load_config_string(editor_->toPlainText().toStdString(), "config",
                            base_dir_.toStdString());
}

bool NewRunPage::showDataPreview() {
  return showParsedView(2, tr("The data preview"), [this](LoadedConfig& loaded) {
    apply_model_fallback(loaded);
    data_preview_->preview(loaded.config);
  });
}

void NewRunPage::startRun() {
  if (monitor_->isRunning() || !check().isEmpty()) return;
  try {
    const LoadedConfig loaded = editorConfig();
    ConfigForm::rememberModel(QString::fromStdString(loaded.config.model.model_name_or_path));
  } catch (const std::exception&) {
    // check() above accepted it; nothing to remember otherwise.
  }
  monitor_->reset(tr("Starting: loading the model and the data…"));
  Q_EMIT runRequested(editor_->toPlainText(), base_dir_, processes_->value());
}

bool NewRunPage::compareMethods(const QStringList& methods) {
  if (monitor_->isRunning() || queue_->isActive() || methods.isEmpty() || !check().isEmpty()) {
    return false;
  }
  QVector<QueuedRun> runs;
  try {
    LoadedConfig loaded = editorConfig();
    apply_model_fallback(loaded);
    for (const QString& method : methods) {
      RunConfig config = config_for_method(loaded.config, method.toStdString());
      // Each method keeps its own results and name, so the runs compare side by side.
      if (!config.output.output_dir.empty()) config.output.output_dir += "-" + method.toStdString();
      config.output.run_name = config.output.run_name.empty()
                                   ? default_run_name(config)
                                   : config.output.run_name + " [" + method.toStdString() + "]";
      runs.push_back({method, QString::fromStdString(config_to_yaml(config)), -1, "waiting"});
    }
  } catch (const std::exception& error) {
    showProblem(QString::fromUtf8(error.what()).toHtmlEscaped());
    return false;
  }
  queue_->setRuns(runs);
  startNextQueued();
  return true;
}

void NewRunPage::askCompareMethods() {
  QDialog dialog(this);
  dialog.setWindowTitle(tr("Compare methods"));
  auto* layout = new QVBoxLayout(&dialog);
  layout->addWidget(new QLabel(tr("Run this setup once with each checked method, one after "
                                  "another; the runs open in Compare at the end."),
                               &dialog));
  QList<QCheckBox*> boxes;
  for (const std::string& method : estimable_methods()) {
    auto* box = new QCheckBox(QString::fromStdString(method), &dialog);
    box->setChecked(method == "full" || method == "lora");
    layout->addWidget(box);
    boxes << box;
  }
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("Queue runs"));
  connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
  layout->addWidget(buttons);
  if (dialog.exec() != QDialog::Accepted) return;
  QStringList methods;
  for (QCheckBox* box : boxes) {
    if (box->isChecked()) methods << box->text();
  }
  compareMethods(methods);
}

void NewRunPage::startNextQueued() {
  if (!queue_->hasNext()) {
    const QList<qint64> ids = queue_->finishedRunIds();
    if (!ids.isEmpty()) Q_EMIT compareRequested(ids);
    return;
  }
  const QueuedRun next = queue_->takeNext();
  monitor_->reset(tr("Compare methods: %1 — loading the model and the data…").arg(next.method));
  Q_EMIT runRequested(next.yaml, base_dir_, processes_->value());
}

void NewRunPage::onRunEnded(qint64 run_id, const QString& outcome) {
  if (!queue_->isActive()) return;
  queue_->finishCurrent(run_id, outcome);
  // After the worker has returned from this run (its signals are queued before it returns).
  QTimer::singleShot(0, this, &NewRunPage::startNextQueued);
}

void NewRunPage::estimate() {
  if (estimate_thread_ || monitor_->isRunning() || !check().isEmpty()) return;
  RunConfig config;
  try {
    LoadedConfig loaded = editorConfig();
    apply_model_fallback(loaded);
    config = loaded.config;
  } catch (const std::exception&) {
    return;  // check() above has shown why
  }
  estimate_outcome_ = std::make_shared<EstimateOutcome>();
  estimate_outcome_->method =
      config.method.finetuning_type == "lora" && config.method.quantization_bit == 4
          ? "qlora"
          : config.method.finetuning_type;
  estimate_button_->setEnabled(false);
  run_->setEnabled(false);  // timed steps and a run would slow each other down
  verdict_->setText(verdict_->text() + "<br>" +
                    tr("Estimating every method (timing a few real steps)…"));
  auto outcome = estimate_outcome_;
  estimate_thread_ = QThread::create([config, outcome] {
    try {
      EstimateOptions options;
      options.methods = estimable_methods();
      options.measure_steps = 2;
      outcome->estimates = estimate_methods(config, options);
    } catch (const std::exception& error) {
      outcome->error = error.what();
    }
  });
  estimate_thread_->setObjectName("tunebench-estimate");
  connect(estimate_thread_, &QThread::finished, this, &NewRunPage::showEstimates);
  estimate_thread_->start();
}

void NewRunPage::showEstimates() {
  estimate_thread_->deleteLater();
  estimate_thread_ = nullptr;
  estimate_button_->setEnabled(true);
  run_->setEnabled(true);
  const EstimateOutcome& outcome = *estimate_outcome_;
  if (!outcome.error.empty()) {
    showProblem(QString::fromStdString(outcome.error).toHtmlEscaped());
    Q_EMIT estimateFinished(false);
    return;
  }
  estimates_->setRowCount(static_cast<int>(outcome.estimates.size()));
  int row = 0;
  for (const MethodEstimate& e : outcome.estimates) {
    QStringList cells = {QString::fromStdString(e.method)};
    if (!e.error.empty()) {
      cells << QString::fromStdString(e.error);
    } else {
      const double share = e.parameters.total > 0
                               ? 100.0 * double(e.parameters.trainable) / double(e.parameters.total)
                               : 0;
      cells << QString("%1 (%2 %)")
                   .arg(QLocale().toString(static_cast<qlonglong>(e.parameters.trainable)))
                   .arg(share, 0, 'f', share < 1 ? 3 : 1)
            << mib(e.memory.weights) << mib(e.memory.gradients) << mib(e.memory.optimizer)
            << mib(e.memory.activations) << mib(e.memory.total())
            << (e.seconds_per_step > 0 ? tr("%1 (%2 steps, %3 s/step)")
                                             .arg(duration(e.total_seconds))
                                             .arg(e.total_steps)
                                             .arg(e.seconds_per_step, 0, 'f', 3)
                                       : QString("–"));
    }
    for (int column = 0; column < estimates_->columnCount(); ++column) {
      auto* item = new QTableWidgetItem(column < cells.size() ? cells[column] : QString());
      if (e.method == outcome.method) {
        QFont bold = item->font();
        bold.setBold(true);
        item->setFont(bold);  // the method this config will run
      }
      if (column > 0 && column < 7 && e.error.empty()) {
        item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      }
      estimates_->setItem(row, column, item);
    }
    if (!e.error.empty()) estimates_->setSpan(row, 1, 1, estimates_->columnCount() - 1);
    ++row;
  }
  // Every row visible; the editor side of the splitter grows to make room.
  int height = estimates_->horizontalHeader()->height() + 2 * estimates_->frameWidth();
  for (int r = 0; r < estimates_->rowCount(); ++r) height += estimates_->rowHeight(r);
  estimates_->setFixedHeight(height);
  estimates_->show();
  const int total = splitter_->height();
  splitter_->setSizes({total * 3 / 5, total - total * 3 / 5});
  check();  // the verdict without the "Estimating…" line
  Q_EMIT estimateFinished(true);
}

void NewRunPage::saveAs() {
  const QString file = QFileDialog::getSaveFileName(this, tr("Save run config"), base_dir_,
                                                    tr("YAML (*.yaml *.yml)"));
  if (file.isEmpty()) return;
  try {
    write_file_atomic(file.toStdString(), editor_->toPlainText().toStdString());
    source_->setText(tr("Saved to %1").arg(file));
  } catch (const std::exception& error) {
    showProblem(QString::fromUtf8(error.what()).toHtmlEscaped());
  }
}

}  // namespace tb::ui
