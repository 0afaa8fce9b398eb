#include "ui/pages/new_run_page.h"

#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QVBoxLayout>

#include "core/config/config_validation.h"
#include "core/config/config_yaml.h"
#include "core/config/presets.h"
#include "core/util/atomic_file.h"
#include "ui/widgets/run_monitor.h"

namespace tb::ui {

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
  run_ = new QPushButton(tr("Run"), this);
  run_->setObjectName("runButton");
  run_->setDefault(true);
  run_->setStyleSheet("QPushButton { font-weight: bold; padding: 4px 18px; }");

  auto* toolbar = new QHBoxLayout;
  toolbar->addWidget(presets_, 1);
  toolbar->addWidget(open);
  toolbar->addWidget(save);
  toolbar->addSpacing(12);
  toolbar->addWidget(check_button);
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

  auto* editor_box = new QWidget(this);
  auto* editor_layout = new QVBoxLayout(editor_box);
  editor_layout->setContentsMargins(0, 0, 0, 0);
  editor_layout->addWidget(source_);
  editor_layout->addWidget(editor_, 1);
  editor_layout->addWidget(verdict_);

  monitor_ = new RunMonitor(this);
  auto* splitter = new QSplitter(Qt::Vertical, this);
  splitter->addWidget(editor_box);
  splitter->addWidget(monitor_);
  splitter->setStretchFactor(0, 2);
  splitter->setStretchFactor(1, 3);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(12, 12, 12, 12);
  layout->addLayout(toolbar);
  layout->addWidget(splitter, 1);

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
}

QStringList NewRunPage::check() {
  QStringList problems;
  QStringList notes;
  try {
    LoadedConfig loaded =
        load_config_string(editor_->toPlainText().toStdString(), "config", base_dir_.toStdString());
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

void NewRunPage::startRun() {
  if (monitor_->isRunning() || !check().isEmpty()) return;
  monitor_->reset(tr("Starting: loading the model and the data…"));
  Q_EMIT runRequested(editor_->toPlainText(), base_dir_);
}

void NewRunPage::saveAs() {
  const QString file = QFileDialog::getSaveFileName(this, tr("Save run config"), base_dir_,
                                                    tr("YAML (*.yaml *.yml)"));
  if (file.isEmpty()) return;
  try {
    write_file_atomic(file.toStdString(), editor_->toPlainText().toStdString());
    source_->setText(tr("Saved to %1").arg(file));
  } catch (const std::exception& error) {
    verdict_->setText("<span style='color:#c92a2a'>" +
                      QString::fromUtf8(error.what()).toHtmlEscaped() + "</span>");
  }
}

}  // namespace tb::ui
