// LibTorch (through chat_session.h) before Qt: Qt's `slots` macro would break its headers.
#include "core/train/chat_session.h"

#include "ui/pages/playground_page.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QThread>
#include <QVBoxLayout>
#include <filesystem>

#include "core/config/config_yaml.h"
#include "core/runs/run_store.h"
#include "ui/widgets/finished_runs.h"

namespace tb::ui {

// One side: its folders (GUI thread), its loaded session (generation thread only) and its pane.
struct PlaygroundPage::Side {
  QLineEdit* model = nullptr;
  QLineEdit* adapter = nullptr;
  QGroupBox* box = nullptr;
  QPlainTextEdit* output = nullptr;
  std::unique_ptr<ChatSession> session;  // kept between prompts while the folders stay the same
  QString loaded_model, loaded_adapter;  // what `session` holds
};

namespace {

QPushButton* browse(QWidget* parent, QLineEdit* target) {
  auto* button = new QPushButton(QObject::tr("…"), parent);
  button->setMaximumWidth(32);
  QObject::connect(button, &QPushButton::clicked, parent, [parent, target] {
    const QString dir = QFileDialog::getExistingDirectory(parent, QString(), target->text());
    if (!dir.isEmpty()) target->setText(dir);
  });
  return button;
}

}  // namespace

PlaygroundPage::PlaygroundPage(RunStore* store, QWidget* parent)
    : QWidget(parent), store_(store), error_(std::make_shared<QString>()) {
  auto* title = new QLabel(tr("<h2>Playground</h2>"), this);
  runs_ = new QComboBox(this);
  runs_->setObjectName("playgroundRuns");
  runs_->setMinimumContentsLength(40);
  connect(runs_, &QComboBox::activated, this,
          [this] { selectRun(runs_->currentData().toLongLong()); });
  auto* run_row = new QHBoxLayout;
  run_row->addWidget(new QLabel(tr("Compare a run with its base:"), this));
  run_row->addWidget(runs_, 1);

  auto* panes = new QHBoxLayout;
  const QString titles[2] = {tr("Base"), tr("Fine-tuned")};
  for (int i = 0; i < 2; ++i) {
    auto side = std::make_shared<Side>();
    side->box = new QGroupBox(titles[i], this);
    side->model = new QLineEdit(side->box);
    side->model->setObjectName(QString("playgroundModel%1").arg(i));
    side->model->setPlaceholderText(tr("model folder"));
    side->adapter = new QLineEdit(side->box);
    side->adapter->setObjectName(QString("playgroundAdapter%1").arg(i));
    side->adapter->setPlaceholderText(tr("optional: PEFT adapter folder"));
    side->output = new QPlainTextEdit(side->box);
    side->output->setObjectName(QString("playgroundOutput%1").arg(i));
    side->output->setReadOnly(true);
    auto* grid = new QGridLayout(side->box);
    grid->addWidget(new QLabel(tr("Model"), side->box), 0, 0);
    grid->addWidget(side->model, 0, 1);
    grid->addWidget(browse(this, side->model), 0, 2);
    grid->addWidget(new QLabel(tr("Adapter"), side->box), 1, 0);
    grid->addWidget(side->adapter, 1, 1);
    grid->addWidget(browse(this, side->adapter), 1, 2);
    grid->addWidget(side->output, 2, 0, 1, 3);
    grid->setRowStretch(2, 1);
    panes->addWidget(side->box, 1);
    sides_[i] = side;
  }

  prompt_ = new QPlainTextEdit(this);
  prompt_->setObjectName("playgroundPrompt");
  prompt_->setPlaceholderText(
      tr("Your prompt: a user message for chat models, the text to classify for classifiers."));
  prompt_->setMaximumHeight(110);
  max_tokens_ = new QSpinBox(this);
  max_tokens_->setRange(1, 4096);
  max_tokens_->setValue(64);
  temperature_ = new QDoubleSpinBox(this);
  temperature_->setRange(0, 2);
  temperature_->setSingleStep(0.1);
  temperature_->setToolTip(tr("0 = greedy (the same answer every time)"));
  generate_ = new QPushButton(tr("Generate"), this);
  generate_->setObjectName("playgroundGenerate");
  generate_->setDefault(true);
  status_ = new QLabel(this);
  status_->setObjectName("playgroundStatus");
  status_->setWordWrap(true);
  auto* controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Max new tokens"), this));
  controls->addWidget(max_tokens_);
  controls->addWidget(new QLabel(tr("Temperature"), this));
  controls->addWidget(temperature_);
  controls->addStretch(1);
  controls->addWidget(generate_);
  connect(generate_, &QPushButton::clicked, this, &PlaygroundPage::generate);

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(title);
  layout->addLayout(run_row);
  layout->addWidget(prompt_);
  layout->addLayout(controls);
  layout->addWidget(status_);
  layout->addLayout(panes, 1);
  reloadRuns();
}

PlaygroundPage::~PlaygroundPage() {
  if (thread_) thread_->wait();  // the thread uses the sides' sessions
}

void PlaygroundPage::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  reloadRuns();
}

void PlaygroundPage::reloadRuns() {
  const QString error = fillFinishedRuns(runs_, store_);
  if (!error.isEmpty()) status_->setText(error);
  // The run the menu shows is the one compared until the user picks models themselves.
  if (sides_[0]->model->text().isEmpty() && sides_[1]->model->text().isEmpty() &&
      runs_->currentIndex() >= 0 && runs_->currentData().isValid()) {
    selectRun(runs_->currentData().toLongLong());
  }
}

void PlaygroundPage::setLeft(const QString& model) {
  sides_[0]->model->setText(model);
  sides_[0]->adapter->clear();
}

void PlaygroundPage::setRight(const QString& model, const QString& adapter) {
  sides_[1]->model->setText(model);
  sides_[1]->adapter->setText(adapter);
}

bool PlaygroundPage::selectRun(qint64 run_id) {
  if (!store_) return false;
  try {
    const RunRecord run = store_->get_run(run_id);
    const RunConfig config =
        load_config_string(run.config_yaml, "run " + std::to_string(run_id), run.output_dir).config;
    const QString base = QString::fromStdString(config.model.model_name_or_path);
    const QString out = QString::fromStdString(run.output_dir);
    const bool adapter = std::filesystem::exists(run.output_dir + "/adapter_config.json");
    setLeft(base);
    setRight(adapter ? base : out, adapter ? out : QString());
    const int index = runs_->findData(run_id);
    if (index >= 0) runs_->setCurrentIndex(index);
    return true;
  } catch (const std::exception& error) {
    status_->setText(QString::fromUtf8(error.what()));
    return false;
  }
}

void PlaygroundPage::setPrompt(const QString& text) { prompt_->setPlainText(text); }

QString PlaygroundPage::outputText(int side) const { return sides_[side]->output->toPlainText(); }

QString PlaygroundPage::statusText() const { return status_->text(); }

void PlaygroundPage::generate() {
  if (thread_) return;
  const std::string prompt = prompt_->toPlainText().trimmed().toStdString();
  if (prompt.empty()) {
    status_->setText(tr("Write a prompt first."));
    return;
  }
  GenerateOptions options;
  options.max_new_tokens = max_tokens_->value();
  options.temperature = temperature_->value();
  struct Job {
    std::shared_ptr<Side> side;
    QString model, adapter;
  };
  std::vector<Job> jobs;
  for (const auto& side : sides_) {
    side->output->clear();
    const QString model = side->model->text().trimmed();
    if (!model.isEmpty()) jobs.push_back({side, model, side->adapter->text().trimmed()});
  }
  if (jobs.empty()) {
    status_->setText(tr("Choose a model folder (or a run) first."));
    return;
  }
  generate_->setEnabled(false);
  status_->setText(tr("Generating…"));
  error_->clear();
  auto error = error_;
  thread_ = QThread::create([this, jobs, prompt, options, error] {
    for (const Job& job : jobs) {
      Side& side = *job.side;
      auto show = [this, &side](const QString& text, bool replace) {
        QMetaObject::invokeMethod(
            this,
            [output = side.output, text, replace] {
              if (replace)
                output->setPlainText(text);
              else
                output->insertPlainText(text);
            },
            Qt::QueuedConnection);
      };
      try {
        if (!side.session || side.loaded_model != job.model || side.loaded_adapter != job.adapter) {
          side.session.reset();
          show(QObject::tr("loading…"), true);
          side.session = std::make_unique<ChatSession>(
              ChatModelSpec{job.model.toStdString(), job.adapter.toStdString(), std::string()});
          side.loaded_model = job.model;
          side.loaded_adapter = job.adapter;
        }
        show(QString(), true);
        if (side.session->is_decoder()) {
          side.session->reply({{"user", prompt}}, options, [&](const std::string& piece) {
            show(QString::fromStdString(piece), false);
            return true;
          });
        } else {
          QString lines;
          for (const auto& [label, p] : side.session->classify(prompt)) {
            lines += QString("%1  %2  %3\n")
                         .arg(QString::fromStdString(label), -12)
                         .arg(p, 6, 'f', 4)
                         .arg(QString(static_cast<int>(p * 40 + 0.5), QChar(0x2588)));
          }
          show(lines, true);
        }
      } catch (const std::exception& failure) {
        show(QObject::tr("error: %1").arg(QString::fromUtf8(failure.what())), true);
        *error = QString::fromUtf8(failure.what());
      }
    }
  });
  thread_->setObjectName("tunebench-playground");
  connect(thread_, &QThread::finished, this, &PlaygroundPage::finish);
  thread_->start();
}

void PlaygroundPage::finish() {
  thread_->deleteLater();
  thread_ = nullptr;
  generate_->setEnabled(true);
  for (const auto& side : sides_) {
    if (side->session) side->box->setToolTip(QString::fromStdString(side->session->description()));
  }
  status_->setText(error_->isEmpty() ? tr("Done.") : *error_);
  Q_EMIT generationFinished(error_->isEmpty());
}

}  // namespace tb::ui
