// LibTorch (through merged_model.h) before Qt: Qt's `slots` macro would break torch's headers.
#include "core/export/merged_model.h"

#include "ui/pages/export_page.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QThread>
#include <QVBoxLayout>

#include "core/export/export_job.h"
#include "core/runs/run_store.h"
#include "ui/widgets/finished_runs.h"
#include "ui/widgets/loss_plot_image.h"

namespace tb::ui {

struct ExportPage::Outcome {
  bool ok = false;
  QString message;
};

namespace {

QPushButton* browse_button(QWidget* parent, QLineEdit* target, const QString& title) {
  auto* button = new QPushButton(QObject::tr("Browse…"), parent);
  QObject::connect(button, &QPushButton::clicked, parent, [parent, target, title] {
    const QString dir = QFileDialog::getExistingDirectory(parent, title, target->text());
    if (!dir.isEmpty()) target->setText(dir);
  });
  return button;
}

}  // namespace

ExportPage::ExportPage(RunStore* store, QWidget* parent) : QWidget(parent), store_(store) {
  auto* title = new QLabel(tr("<h2>Export</h2>"), this);
  auto* intro = new QLabel(
      tr("Save a trained result in the format another tool loads: a PEFT adapter (with a model "
         "card and loss plot), a merged Hugging Face model, or a GGUF file for llama.cpp."),
      this);
  intro->setWordWrap(true);

  // Source: a run of the history, or any folder.
  auto* source_box = new QGroupBox(tr("What to export"), this);
  from_run_ = new QRadioButton(tr("Run"), source_box);
  from_folder_ = new QRadioButton(tr("Folder"), source_box);
  from_run_->setChecked(true);
  runs_ = new QComboBox(source_box);
  runs_->setObjectName("exportRuns");
  runs_->setMinimumContentsLength(40);
  folder_ = new QLineEdit(source_box);
  folder_->setObjectName("exportFolder");
  folder_->setPlaceholderText(tr("a run's output or checkpoint folder, an adapter or a model"));
  adapter_ = new QLineEdit(source_box);
  adapter_->setObjectName("exportAdapter");
  adapter_->setPlaceholderText(tr("optional: a PEFT adapter to apply to a model folder"));
  auto* source_form = new QGridLayout(source_box);
  source_form->addWidget(from_run_, 0, 0);
  source_form->addWidget(runs_, 0, 1, 1, 2);
  source_form->addWidget(from_folder_, 1, 0);
  source_form->addWidget(folder_, 1, 1);
  source_form->addWidget(browse_button(this, folder_, tr("Source folder")), 1, 2);
  source_form->addWidget(new QLabel(tr("Adapter"), source_box), 2, 0);
  source_form->addWidget(adapter_, 2, 1);
  source_form->addWidget(browse_button(this, adapter_, tr("Adapter folder")), 2, 2);
  source_form->setColumnStretch(1, 1);
  connect(folder_, &QLineEdit::textEdited, this, [this] { from_folder_->setChecked(true); });
  connect(runs_, &QComboBox::activated, this, [this] { from_run_->setChecked(true); });

  // Format and output.
  auto* format_box = new QGroupBox(tr("How"), this);
  format_ = new QComboBox(format_box);
  format_->setObjectName("exportFormat");
  format_->addItem(tr("PEFT adapter (adapter_config.json + safetensors, model card)"), "peft");
  format_->addItem(tr("Merged Hugging Face model (safetensors, sharded)"), "merged");
  format_->addItem(tr("GGUF model for llama.cpp"), "gguf");
  format_->addItem(tr("GGUF LoRA adapter for llama.cpp (--lora)"), "gguf-lora");
  dtype_ = new QComboBox(format_box);
  dtype_->setObjectName("exportDtype");
  shard_size_ = new QLineEdit("5GB", format_box);
  shard_size_->setObjectName("exportShardSize");
  out_ = new QLineEdit(format_box);
  out_->setObjectName("exportOut");
  out_->setPlaceholderText(tr("default: <source>/exports/…"));
  force_ = new QCheckBox(tr("Replace the output if it exists"), format_box);
  force_->setObjectName("exportForce");
  auto* out_row = new QHBoxLayout;
  out_row->addWidget(out_, 1);
  out_row->addWidget(browse_button(this, out_, tr("Output folder")));
  auto* format_form = new QFormLayout(format_box);
  format_form->addRow(tr("Format"), format_);
  format_form->addRow(tr("Weights"), dtype_);
  format_form->addRow(tr("Largest shard"), shard_size_);
  format_form->addRow(tr("Write to"), out_row);
  format_form->addRow(QString(), force_);
  connect(format_, &QComboBox::currentIndexChanged, this, [this] { updateChoices(); });

  export_button_ = new QPushButton(tr("Export"), this);
  export_button_->setObjectName("exportButton");
  export_button_->setDefault(true);
  busy_ = new QProgressBar(this);
  busy_->setRange(0, 0);
  busy_->setMaximumWidth(160);
  busy_->hide();
  status_ = new QLabel(this);
  status_->setObjectName("exportStatus");
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* action_row = new QHBoxLayout;
  action_row->addWidget(export_button_);
  action_row->addWidget(busy_);
  action_row->addWidget(status_, 1);
  log_ = new QPlainTextEdit(this);
  log_->setObjectName("exportLog");
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(2000);
  log_->setPlaceholderText(tr("What the export does appears here."));
  connect(export_button_, &QPushButton::clicked, this, &ExportPage::startExport);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(title);
  layout->addWidget(intro);
  layout->addWidget(source_box);
  layout->addWidget(format_box);
  layout->addLayout(action_row);
  layout->addWidget(log_, 1);
  updateChoices();
  reloadRuns();
}

ExportPage::~ExportPage() {
  // An export cannot be abandoned half-way (its temp output would stay): let it finish.
  if (thread_) thread_->wait();
  delete outcome_;
}

void ExportPage::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  reloadRuns();
}

void ExportPage::reloadRuns() {
  const QString error = fillFinishedRuns(runs_, store_);
  if (!error.isEmpty()) status_->setText(error);
}

bool ExportPage::selectRun(qint64 run_id) {
  const int index = runs_->findData(run_id);
  if (index < 0) return false;
  runs_->setCurrentIndex(index);
  from_run_->setChecked(true);
  return true;
}

void ExportPage::setSourceFolder(const QString& folder) {
  folder_->setText(folder);
  from_folder_->setChecked(true);
}

void ExportPage::setFormat(const QString& format) {
  const int index = format_->findData(format);
  if (index >= 0) format_->setCurrentIndex(index);
}

void ExportPage::updateChoices() {
  const QString format = format_->currentData().toString();
  const QString previous = dtype_->currentText();
  dtype_->clear();
  if (format == "peft") {
    dtype_->addItem(tr("as trained (f32)"), "");
  } else {
    dtype_->addItem("f32", "f32");
    dtype_->addItem("f16", "f16");
    dtype_->addItem("bf16", "bf16");
    if (format == "gguf") dtype_->addItem("q8_0", "q8_0");
  }
  const int keep = dtype_->findText(previous);
  if (keep >= 0) dtype_->setCurrentIndex(keep);
  dtype_->setEnabled(format != "peft");
  shard_size_->setEnabled(format == "merged");
}

bool ExportPage::isBusy() const { return thread_ != nullptr; }

QString ExportPage::statusText() const { return status_->text(); }

void ExportPage::startExport() {
  if (thread_) return;
  ExportOptions options;
  options.format = format_->currentData().toString().toStdString();
  options.dtype = dtype_->currentData().toString().toStdString();
  options.out = out_->text().trimmed().toStdString();
  options.force = force_->isChecked();
  options.adapter = adapter_->text().trimmed().toStdString();
  std::string source;
  if (from_run_->isChecked()) {
    if (runs_->currentIndex() < 0) {
      status_->setText(tr("No finished run to export: train one, or choose a folder."));
      return;
    }
    source = std::to_string(runs_->currentData().toLongLong());
  } else {
    source = folder_->text().trimmed().toStdString();
  }
  RunStoreOptions store;
  if (store_) store.path = store_->path();
  const std::string shard_size = shard_size_->text().trimmed().toStdString();

  delete outcome_;
  outcome_ = new Outcome;
  Outcome* outcome = outcome_;
  log_->appendPlainText(
      tr("— export %1 as %2")
          .arg(QString::fromStdString(source), QString::fromStdString(options.format)));
  export_button_->setEnabled(false);
  busy_->show();
  status_->setText(tr("Exporting…"));
  auto progress = [this](const std::string& line) {
    QMetaObject::invokeMethod(
        this, [this, text = QString::fromStdString(line)] { log_->appendPlainText(text); },
        Qt::QueuedConnection);
  };
  thread_ = QThread::create([options, source, store, shard_size, outcome, progress]() mutable {
    try {
      options.max_shard_size = parse_byte_size(shard_size);
      const ExportSource resolved = resolve_export_source(source, options, store);
      const ExportResult result =
          run_export(resolved, options, store, loss_plot_renderer(), progress);
      for (const std::string& note : result.notes) progress("note: " + note);
      if (!result.verification.empty()) progress(result.verification);
      outcome->ok = true;
      outcome->message = QObject::tr("Exported %1 to %2 (%3 KiB).")
                             .arg(QString::fromStdString(resolved.description),
                                  QString::fromStdString(result.path.string()))
                             .arg((result.bytes + 512) / 1024);
    } catch (const std::exception& error) {
      outcome->message = QString::fromUtf8(error.what());
    }
  });
  thread_->setObjectName("tunebench-export");
  connect(thread_, &QThread::finished, this, &ExportPage::finish);
  thread_->start();
}

void ExportPage::finish() {
  thread_->deleteLater();
  thread_ = nullptr;
  busy_->hide();
  export_button_->setEnabled(true);
  const bool ok = outcome_->ok;
  const QString message = outcome_->message;
  status_->setText(message);
  status_->setStyleSheet(ok ? "color: #1e6b2e;" : "color: #b00020;");
  log_->appendPlainText(message);
  reloadRuns();
  Q_EMIT exportFinished(ok, message);
}

}  // namespace tb::ui
