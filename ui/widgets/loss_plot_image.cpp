#include "ui/widgets/loss_plot_image.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QBuffer>
#include <QDir>
#include <QFile>
#include <QThread>

#include <unistd.h>

#include "ui/widgets/metric_plot.h"

namespace tb::ui {

namespace {

void ensure_application() {
  if (QApplication::instance()) return;
  // Only images are drawn, never windows: offscreen works with or without a display.
  qputenv("QT_QPA_PLATFORM", "offscreen");
  // Qt warns on every start without XDG_RUNTIME_DIR (common in CI and ssh); give it the private
  // folder it would fall back to anyway, so the CLI's output stays clean.
  if (!qEnvironmentVariableIsSet("XDG_RUNTIME_DIR")) {
    const QString runtime = QDir::tempPath() + "/runtime-" + QString::number(::getuid());
    QDir().mkpath(runtime);
    QFile::setPermissions(runtime, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    qputenv("XDG_RUNTIME_DIR", runtime.toLocal8Bit());
  }
  static int argc = 1;
  static char name[] = "tunebench-cli";
  static char* argv[] = {name, nullptr};
  // Deliberately never destroyed: Qt's global teardown at exit must not race static destructors.
  new QApplication(argc, argv);
}

}  // namespace

std::string render_loss_plot_png(const std::vector<MetricSeries>& series, const std::string& title,
                                 int width, int height) {
  ensure_application();
  // Widgets live on the GUI thread: an export thread asks it to draw and waits.
  if (QThread::currentThread() != qApp->thread()) {
    std::string png;
    QMetaObject::invokeMethod(
        qApp, [&] { png = render_loss_plot_png(series, title, width, height); },
        Qt::BlockingQueuedConnection);
    return png;
  }
  MetricPlot plot;
  plot.resize(width, height);
  QVector<PlotSeries> curves;
  for (const MetricSeries& one : series) {
    if (one.points.empty()) continue;
    PlotSeries curve;
    curve.label = QString::fromStdString(one.name);
    for (const MetricPoint& point : one.points) {
      curve.x.push_back(static_cast<double>(point.step));
      curve.y.push_back(point.value);
    }
    curves.push_back(curve);
  }
  if (curves.isEmpty()) return {};
  plot.setSeries(curves);
  plot.setAxisLabels(QObject::tr("step"), QObject::tr("loss"));
  QCustomPlot* custom = plot.plot();
  custom->plotLayout()->insertRow(0);
  custom->plotLayout()->addElement(
      0, 0, new QCPTextElement(custom, QString::fromStdString(title), QFont("sans", 11)));
  custom->replot();
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  custom->toPixmap(width, height).save(&buffer, "PNG");
  return bytes.toStdString();
}

LossPlotRenderer loss_plot_renderer() {
  return [](const std::vector<MetricSeries>& series, const std::string& title) {
    return render_loss_plot_png(series, title);
  };
}

}  // namespace tb::ui
