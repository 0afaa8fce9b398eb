#include "ui/about_dialog.h"

#include <qcustomplot.h>
#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include "core/util/system_info.h"
#include "core/version.h"

namespace tb::ui {

AboutDialog::AboutDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("About tunebench"));
  setObjectName("aboutDialog");

  auto* icon = new QLabel(this);
  icon->setPixmap(QApplication::windowIcon().pixmap(72, 72));
  auto* title = new QLabel(
      tr("<h2>tunebench %1</h2><p>A native workbench for fine-tuning language models: full, "
         "Freeze, LoRA, QLoRA, P-tuning v2 and prompt + verbalizer, with live plots, run "
         "history and exports that PEFT, transformers and llama.cpp load.</p>"
         "<p>Build %2 (%3).</p>")
          .arg(kVersion, kGitCommit, kBuildType),
      this);
  title->setWordWrap(true);
  auto* header = new QHBoxLayout;
  header->addWidget(icon, 0, Qt::AlignTop);
  header->addWidget(title, 1);

  std::vector<LibraryVersion> versions = core_library_versions();
  versions.insert(versions.begin(), {"Qt", qVersion()});
  versions.emplace_back("QCustomPlot", QCUSTOMPLOT_VERSION_STR);

  auto* table = new QTableWidget(static_cast<int>(versions.size()), 2, this);
  table->setObjectName("versionTable");
  table->setHorizontalHeaderLabels({tr("Library"), tr("Version")});
  table->verticalHeader()->hide();
  table->horizontalHeader()->setStretchLastSection(true);
  table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table->setSelectionMode(QAbstractItemView::NoSelection);
  for (int row = 0; row < static_cast<int>(versions.size()); ++row) {
    const QString name = QString::fromStdString(versions[row].first);
    const QString version = QString::fromStdString(versions[row].second);
    table->setItem(row, 0, new QTableWidgetItem(name));
    table->setItem(row, 1, new QTableWidgetItem(version));
    versions_text_ += name + " " + version + "\n";
  }
  table->resizeColumnToContents(0);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  QPushButton* copy = buttons->addButton(tr("Copy versions"), QDialogButtonBox::ActionRole);
  connect(copy, &QPushButton::clicked, this,
          [this] { QApplication::clipboard()->setText(versions_text_); });
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(header);
  layout->addWidget(table, 1);
  layout->addWidget(buttons);
  resize(560, 480);
}

QString AboutDialog::versionsText() const { return versions_text_; }

}  // namespace tb::ui
