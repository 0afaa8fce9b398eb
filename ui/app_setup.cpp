#include "ui/app_setup.h"

#include <QApplication>
#include <QIcon>

#include "core/version.h"

// Q_INIT_RESOURCE must run outside any namespace; the .qrc lives in a static library, so
// nothing registers it automatically.
static void registerTunebenchResources() { Q_INIT_RESOURCE(tunebench); }

namespace tb::ui {

void setupApplication(QApplication& app) {
  registerTunebenchResources();
  QApplication::setApplicationName("tunebench");
  QApplication::setApplicationDisplayName("tunebench");
  QApplication::setApplicationVersion(kVersion);
  QApplication::setOrganizationName("tunebench");
  QApplication::setDesktopFileName("tunebench");
  app.setWindowIcon(QIcon(":/icons/tunebench.svg"));
}

}  // namespace tb::ui
