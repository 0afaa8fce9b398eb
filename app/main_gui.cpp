// tunebench: the desktop workbench. Thin: set up Qt and the runtime, show the main window.
#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QMessageBox>
#include <QPixmap>
#include <QTimer>

#include <cstdio>

#include "core/util/blas_core.h"
#include "core/util/crash_report.h"
#include "core/util/error.h"
#include "core/util/runtime.h"
#include "ui/app_setup.h"
#include "ui/main_window.h"
#include "ui/pages/compare_page.h"
#include "ui/pages/new_run_page.h"
#include "ui/pages/playground_page.h"

int main(int argc, char** argv) {
  tb::use_best_blas_kernels(argv);  // may re-execute: first, before any thread starts
  tb::install_crash_report("tunebench");
  QElapsedTimer since_start;
  since_start.start();
  QApplication app(argc, argv);
  tb::ui::setupApplication(app);

  QCommandLineParser parser;
  parser.setApplicationDescription("tunebench: a workbench for fine-tuning language models");
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption page_option("page",
                                       "Open on this page (new-run, runs, compare, "
                                       "export, playground).",
                                       "id");
  const QCommandLineOption screenshot_option(
      "screenshot", "Save a PNG of the window once it is shown, then quit.", "file");
  const QCommandLineOption timing_option("startup-time",
                                         "Print the time from start to the shown window.");
  const QCommandLineOption compare_option(
      "compare", "Open Compare with these runs overlaid (ids separated by commas).", "ids");
  const QCommandLineOption metric_option(
      "metric", "With --compare: the metric to overlay (e.g. eval/accuracy).", "name");
  const QCommandLineOption smoothing_option(
      "smoothing", "With --compare: EMA smoothing of the curves (0 … 0.99).", "weight");
  const QCommandLineOption config_option(
      "config", "Open New run with this YAML config (or preset name) loaded.", "file");
  const QCommandLineOption start_option("start", "Start the loaded config right away.");
  const QCommandLineOption prompt_option(
      "prompt", "Open Playground on the newest run and generate for this prompt.", "text");
  const QCommandLineOption delay_option(
      "screenshot-after", "With --screenshot: wait this long first (e.g. while a run trains).",
      "ms", "0");
  parser.addOptions({page_option, compare_option, metric_option, smoothing_option, config_option,
                     start_option, screenshot_option, delay_option, timing_option, prompt_option});
  parser.process(app);

  tb::ui::MainWindow window;
  try {
    window.setRuntimeInfo(tb::init_runtime());
  } catch (const std::exception& error) {
    // The window still opens; training pages will report the problem when used.
    QMessageBox::warning(&window, "tunebench", QString::fromUtf8(error.what()));
  }
  if (parser.isSet(page_option) && !window.showPage(parser.value(page_option))) {
    std::fprintf(stderr, "tunebench: unknown page '%s'; pages: %s\n",
                 qPrintable(parser.value(page_option)), qPrintable(window.pageIds().join(", ")));
    return 2;
  }
  if (parser.isSet(config_option)) {
    const QString config = parser.value(config_option);
    if (!window.newRunPage()->loadFile(config) && !window.newRunPage()->loadPreset(config)) {
      std::fprintf(stderr, "tunebench: cannot open config '%s'\n", qPrintable(config));
      return 2;
    }
    window.showPage("new-run");
    if (parser.isSet(start_option)) {
      QTimer::singleShot(0, window.newRunPage(), [&window] { window.newRunPage()->startRun(); });
    }
  } else {
    window.welcomeFirstLaunch();  // a newcomer's first look: a recipe on the bundled demo
  }
  if (parser.isSet(compare_option)) {
    QList<qint64> ids;
    for (const QString& id : parser.value(compare_option).split(',', Qt::SkipEmptyParts)) {
      ids << id.trimmed().toLongLong();
    }
    window.comparePage()->setRuns(ids);
    if (parser.isSet(metric_option) &&
        !window.comparePage()->setMetric(parser.value(metric_option))) {
      std::fprintf(stderr, "tunebench: none of the runs logged metric '%s'\n",
                   qPrintable(parser.value(metric_option)));
      return 2;
    }
    if (parser.isSet(smoothing_option)) {
      window.comparePage()->setSmoothing(parser.value(smoothing_option).toDouble());
    }
    window.showPage("compare");
  }
  if (parser.isSet(prompt_option)) {
    window.showPage("playground");
    window.playgroundPage()->setPrompt(parser.value(prompt_option));
    QTimer::singleShot(0, window.playgroundPage(),
                       [&window] { window.playgroundPage()->generate(); });
  }
  window.show();

  QTimer::singleShot(0, &window, [&] {
    if (parser.isSet(timing_option)) {
      std::printf("startup: window shown after %lld ms\n",
                  static_cast<long long>(since_start.elapsed()));
      std::fflush(stdout);
    }
  });
  if (parser.isSet(screenshot_option)) {
    QTimer::singleShot(parser.value(delay_option).toInt(), &window, [&] {
      const QString path = parser.value(screenshot_option);
      if (!window.grab().save(path, "PNG")) {
        std::fprintf(stderr, "tunebench: cannot write the screenshot to '%s'\n", qPrintable(path));
        QApplication::exit(1);
        return;
      }
      QApplication::exit(0);  // not quit(): that would ask about a run still training
    });
  }
  return QApplication::exec();
}
