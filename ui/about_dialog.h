#pragma once
// Help → About: tunebench's version and the versions of every library it runs with.

#include <QDialog>

namespace tb::ui {

/// Modal dialog with the app icon, version, and a table of library versions.
class AboutDialog : public QDialog {
  Q_OBJECT
 public:
  explicit AboutDialog(QWidget* parent = nullptr);
  /// The version table as plain "name version" lines (also what "Copy" puts on the clipboard).
  QString versionsText() const;

 private:
  QString versions_text_;
};

}  // namespace tb::ui
