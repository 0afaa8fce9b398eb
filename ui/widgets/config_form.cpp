// LibTorch before Qt (core/models/inspect.h pulls nothing heavy, but keep the house order).
#include "core/models/inspect.h"

#include "ui/widgets/config_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleValidator>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMenu>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>
#include <climits>
#include <type_traits>

#include "core/config/config_fields.h"
#include "core/tokenizer/chat_template.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/paths.h"

namespace tb::ui {

namespace {

// Which method a method-group key belongs to ("" = every method).
QString method_of(const QString& key) {
  if (key.startsWith("lora_") || key == "additional_target" || key == "use_rslora" ||
      key == "use_dora" || key.startsWith("quantization_") || key == "double_quantization") {
    return "lora";
  }
  if (key.startsWith("freeze_")) return "freeze";
  if (key == "pre_seq_len" || key.startsWith("prefix_")) return "ptuning";
  return "";
}

// Keys whose value is a path: a Browse… button next to them (folder or file).
enum class PathKind { kNone, kFolder, kFile };
PathKind path_kind(const QString& key) {
  if (key == "model_name_or_path" || key == "fallback_model" || key == "adapter_name_or_path" ||
      key == "output_dir" || key == "resume_from_checkpoint") {
    return PathKind::kFolder;
  }
  if (key == "dataset" || key == "eval_dataset") return PathKind::kFile;
  return PathKind::kNone;
}

QString group_title(const QString& group) {
  if (group == "model") return QObject::tr("Model");
  if (group == "method") return QObject::tr("Method");
  if (group == "task") return QObject::tr("Task");
  if (group == "data") return QObject::tr("Data");
  if (group == "training") return QObject::tr("Training");
  return QObject::tr("Output");
}

QString number_text(double value) { return QString::number(value, 'g', 12); }

// "tokenizer: 32,000 tokens · chat template: llama2", or why the tokenizer does not load.
QString tokenizer_text(const QString& folder) {
  try {
    const Tokenizer tokenizer = Tokenizer::load(folder.toStdString());
    const std::string& jinja = tokenizer.config().chat_template;
    const std::string recognised = jinja.empty() ? "" : recognize_chat_template(jinja);
    return QObject::tr("<br>tokenizer: %1 tokens · chat template: %2")
        .arg(QLocale().toString(static_cast<qulonglong>(tokenizer.vocab_size())))
        .arg(jinja.empty()        ? QObject::tr("none")
             : recognised.empty() ? QObject::tr("not one tunebench knows (set template)")
                                  : QString::fromStdString(recognised));
  } catch (const std::exception& error) {
    return QObject::tr("<br>tokenizer: %1").arg(QString::fromUtf8(error.what()).toHtmlEscaped());
  }
}

}  // namespace

ConfigForm::ConfigForm(QWidget* parent) : QWidget(parent) {
  auto* content = new QWidget;
  auto* columns = new QHBoxLayout(content);
  QVBoxLayout* left = new QVBoxLayout;
  QVBoxLayout* right = new QVBoxLayout;
  columns->addLayout(left, 1);
  columns->addLayout(right, 1);
  QMap<QString, QFormLayout*> groups;

  RunConfig defaults;
  visit_fields(defaults, [&](auto& member, const FieldMeta& meta) {
    using T = std::decay_t<decltype(member)>;
    const QString key = meta.key;
    const QString group = meta.group;
    if (!groups.contains(group)) {
      auto* box = new QGroupBox(group_title(group), content);
      box->setObjectName("group-" + group);
      auto* form = new QFormLayout(box);
      form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
      // Model, method and task on the left; data, training and output on the right.
      (group == "model" || group == "method" || group == "task" ? left : right)->addWidget(box);
      groups[group] = form;
    }
    QWidget* editor = nullptr;
    if constexpr (std::is_same_v<T, bool>) {
      auto* box = new QCheckBox(content);
      connect(box, &QCheckBox::toggled, this, &ConfigForm::userEdited);
      editor = box;
    } else if constexpr (std::is_same_v<T, int64_t>) {
      auto* box = new QSpinBox(content);
      box->setRange(static_cast<int>(std::max<double>(meta.min, INT_MIN)),
                    static_cast<int>(std::min<double>(meta.max, INT_MAX)));
      connect(box, &QSpinBox::valueChanged, this, &ConfigForm::userEdited);
      editor = box;
    } else if constexpr (std::is_same_v<T, double>) {
      auto* line = new QLineEdit(content);  // text, so 5e-5 reads as written
      auto* validator = new QDoubleValidator(line);
      validator->setLocale(QLocale::c());
      validator->setNotation(QDoubleValidator::ScientificNotation);
      line->setValidator(validator);
      connect(line, &QLineEdit::editingFinished, this, &ConfigForm::userEdited);
      editor = line;
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!meta.choices.empty()) {
        auto* combo = new QComboBox(content);
        for (const std::string& choice : meta.choices)
          combo->addItem(QString::fromStdString(choice));
        connect(combo, &QComboBox::currentIndexChanged, this, &ConfigForm::userEdited);
        editor = combo;
      } else {
        auto* line = new QLineEdit(content);
        connect(line, &QLineEdit::editingFinished, this, &ConfigForm::userEdited);
        editor = line;
      }
    } else {
      static_assert(std::is_same_v<T, std::vector<std::string>>, "a new field type needs a widget");
      auto* line = new QLineEdit(content);  // comma-separated, as in LLaMA-Factory's YAML
      line->setPlaceholderText(tr("comma-separated"));
      connect(line, &QLineEdit::editingFinished, this, &ConfigForm::userEdited);
      editor = line;
    }
    editor->setObjectName("field-" + key);
    editor->setToolTip(QString::fromUtf8(meta.help));
    QWidget* field = editor;
    const PathKind kind = path_kind(key);
    if (kind != PathKind::kNone) {
      field = new QWidget(content);
      auto* row = new QHBoxLayout(field);
      row->setContentsMargins(0, 0, 0, 0);
      row->addWidget(editor, 1);
      auto* browse = new QPushButton(tr("Browse…"), field);
      row->addWidget(browse);
      auto* line = static_cast<QLineEdit*>(editor);
      connect(browse, &QPushButton::clicked, this, [this, line, kind, key] {
        const QString chosen =
            kind == PathKind::kFolder
                ? QFileDialog::getExistingDirectory(this, key, line->text())
                : QFileDialog::getOpenFileName(this, key, line->text(),
                                               tr("Data (*.jsonl *.json *.csv *.tsv *.txt *.gz)"));
        if (chosen.isEmpty()) return;
        line->setText(chosen);
        userEdited();
      });
    }
    if (key == "model_name_or_path") {
      // Recent models and the bundled demos, one click away.
      auto* recent = new QToolButton(field);
      recent->setObjectName("recentModels");
      recent->setText(tr("Recent"));
      recent->setPopupMode(QToolButton::InstantPopup);
      auto* menu = new QMenu(recent);
      recent->setMenu(menu);
      auto* line = static_cast<QLineEdit*>(editor);
      connect(menu, &QMenu::aboutToShow, this, [this, menu, line] {
        menu->clear();
        for (const QString& folder : modelChoices()) {
          menu->addAction(folder, this, [this, line, folder] {
            line->setText(folder);
            userEdited();
          });
        }
      });
      static_cast<QHBoxLayout*>(field->layout())->addWidget(recent);
    }
    auto* label = new QLabel(key, content);
    label->setToolTip(QString::fromUtf8(meta.help));
    groups[group]->addRow(label, field);
    editors_[key] = editor;
    rows_[key] = label;
    layout_of_[key] = groups[group];
    if (key == "model_name_or_path") {
      model_summary_ = new QLabel(content);
      model_summary_->setObjectName("modelSummary");
      model_summary_->setWordWrap(true);
      model_summary_->setStyleSheet("color: #555;");
      groups[group]->addRow(QString(), model_summary_);
    }
  });
  left->addStretch(1);
  right->addStretch(1);

  auto* scroll = new QScrollArea(this);
  scroll->setWidget(content);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(scroll);
  setConfig(defaults);
}

void ConfigForm::setConfig(const RunConfig& config) {
  filling_ = true;
  shown_ = config;
  visit_fields(shown_, [&](auto& member, const FieldMeta& meta) {
    using T = std::decay_t<decltype(member)>;
    QWidget* editor = editors_.value(meta.key);
    if constexpr (std::is_same_v<T, bool>) {
      static_cast<QCheckBox*>(editor)->setChecked(member);
    } else if constexpr (std::is_same_v<T, int64_t>) {
      static_cast<QSpinBox*>(editor)->setValue(static_cast<int>(member));
    } else if constexpr (std::is_same_v<T, double>) {
      static_cast<QLineEdit*>(editor)->setText(number_text(member));
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (auto* combo = qobject_cast<QComboBox*>(editor)) {
        combo->setCurrentIndex(combo->findText(QString::fromStdString(member)));
      } else {
        static_cast<QLineEdit*>(editor)->setText(QString::fromStdString(member));
      }
    } else {
      QStringList items;
      for (const std::string& item : member) items << QString::fromStdString(item);
      static_cast<QLineEdit*>(editor)->setText(items.join(", "));
    }
  });
  filling_ = false;
  updateMethodRows();
  updateModelSummary();
}

RunConfig ConfigForm::config() const {
  RunConfig config = shown_;
  visit_fields(config, [&](auto& member, const FieldMeta& meta) {
    using T = std::decay_t<decltype(member)>;
    QWidget* editor = editors_.value(meta.key);
    if constexpr (std::is_same_v<T, bool>) {
      member = static_cast<QCheckBox*>(editor)->isChecked();
    } else if constexpr (std::is_same_v<T, int64_t>) {
      member = static_cast<QSpinBox*>(editor)->value();
    } else if constexpr (std::is_same_v<T, double>) {
      bool ok = false;
      const double value = QLocale::c().toDouble(static_cast<QLineEdit*>(editor)->text(), &ok);
      if (ok) member = value;  // a half-typed number keeps the last valid value
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (auto* combo = qobject_cast<QComboBox*>(editor)) {
        if (combo->currentIndex() >= 0) member = combo->currentText().toStdString();
      } else {
        member = static_cast<QLineEdit*>(editor)->text().trimmed().toStdString();
      }
    } else {
      member.clear();
      for (const QString& item :
           static_cast<QLineEdit*>(editor)->text().split(',', Qt::SkipEmptyParts)) {
        if (!item.trimmed().isEmpty()) member.push_back(item.trimmed().toStdString());
      }
    }
  });
  return config;
}

QWidget* ConfigForm::editorFor(const QString& key) const { return editors_.value(key); }

bool ConfigForm::isRowVisible(const QString& key) const {
  const QWidget* label = rows_.value(key);
  return label != nullptr && !label->isHidden();
}

QString ConfigForm::modelSummary() const { return model_summary_->text(); }

void ConfigForm::rememberModel(const QString& folder) {
  if (folder.trimmed().isEmpty()) return;
  QSettings settings;
  QStringList recent = settings.value("newRun/recentModels").toStringList();
  recent.removeAll(folder);
  recent.prepend(folder);
  while (recent.size() > 8) recent.removeLast();
  settings.setValue("newRun/recentModels", recent);
}

QStringList ConfigForm::modelChoices() {
  QStringList choices;
  for (const QString& folder : QSettings().value("newRun/recentModels").toStringList()) {
    if (QFileInfo(folder).isDir()) choices << folder;  // a deleted folder is no choice
  }
  const QDir demos(QString::fromStdString((resources_dir() / "demo" / "models").string()));
  for (const QString& name : demos.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
    const QString folder = demos.filePath(name);
    if (!choices.contains(folder)) choices << folder;
  }
  return choices;
}

void ConfigForm::userEdited() {
  if (filling_) return;
  updateMethodRows();
  if (sender() == editors_.value("model_name_or_path")) updateModelSummary();
  Q_EMIT edited();
}

void ConfigForm::updateMethodRows() {
  const auto* type = qobject_cast<QComboBox*>(editors_.value("finetuning_type"));
  const QString method = type ? type->currentText() : QString();
  for (auto it = rows_.begin(); it != rows_.end(); ++it) {
    const QString owner = method_of(it.key());
    if (owner.isEmpty()) continue;
    layout_of_[it.key()]->setRowVisible(it.value(), owner == method);
  }
}

void ConfigForm::updateModelSummary() {
  const QString folder =
      static_cast<QLineEdit*>(editors_.value("model_name_or_path"))->text().trimmed();
  if (folder == summarised_folder_) return;  // reading the tokenizer again would only cost
  summarised_folder_ = folder;
  if (folder.isEmpty()) {
    model_summary_->setText(tr("Choose a Hugging Face model folder."));
    return;
  }
  try {
    const ModelSummary summary = inspect_model(folder.toStdString());
    model_summary_->setText(
        tr("%1 (%2) · %3 parameters · %4 · %5 MB on disk%6")
            .arg(QString::fromStdString(summary.architecture.empty() ? summary.model_type
                                                                     : summary.architecture),
                 QString::fromStdString(summary.model_type))
            .arg(QLocale().toString(static_cast<qlonglong>(summary.parameters)))
            .arg(QString::fromStdString(summary.dtype))
            .arg(static_cast<double>(summary.bytes) / (1 << 20), 0, 'f', 1)
            .arg(summary.supported ? QString() : tr(" · not supported by tunebench")) +
        tokenizer_text(folder));
  } catch (const std::exception& error) {
    model_summary_->setText(QString::fromUtf8(error.what()));
  }
}

}  // namespace tb::ui
