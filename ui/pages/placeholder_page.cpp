#include "ui/pages/placeholder_page.h"

#include <QLabel>
#include <QVBoxLayout>

namespace tb::ui {

PlaceholderPage::PlaceholderPage(const QString& title, const QString& description, QWidget* parent)
    : QWidget(parent) {
  auto* heading = new QLabel(title, this);
  heading->setObjectName("pageTitle");
  QFont font = heading->font();
  font.setPointSizeF(font.pointSizeF() * 1.6);
  font.setBold(true);
  heading->setFont(font);

  auto* body = new QLabel(description, this);
  body->setObjectName("pageDescription");
  body->setWordWrap(true);
  body->setTextFormat(Qt::RichText);

  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(24, 20, 24, 20);
  layout->addWidget(heading);
  layout->addSpacing(8);
  layout->addWidget(body);
  layout->addStretch(1);
}

}  // namespace tb::ui
