#pragma once
// Application-wide Qt setup shared by the GUI binary and the UI tests.

class QApplication;

namespace tb::ui {

/// Registers the bundled resources (icons), names the application and sets its icon.
void setupApplication(QApplication& app);

}  // namespace tb::ui
