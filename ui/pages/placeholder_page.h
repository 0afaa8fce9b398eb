#pragma once
// A page of the final navigation whose real content lands with its own issue: it names the
// page and says what it will do, so the app's structure is visible from the first build.

#include <QWidget>

namespace tb::ui {

/// Title + description page used until the page's real implementation exists.
class PlaceholderPage : public QWidget {
  Q_OBJECT
 public:
  /// `title` is shown large; `description` says what the page will offer.
  PlaceholderPage(const QString& title, const QString& description, QWidget* parent = nullptr);
};

}  // namespace tb::ui
