// Launches the real `tunebench` binary on a virtual X server (xvfb-run), as a user would,
// and checks the screenshot it saves: the window must have opened and drawn something.
#include <QImage>
#include <QProcess>
#include <QSet>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

class TestGuiLaunch : public QObject {
  Q_OBJECT
 private Q_SLOTS:
  void opensWindowOnX11AndDrawsIt() {
    const QString xvfb_run = QStandardPaths::findExecutable("xvfb-run");
    QVERIFY2(!xvfb_run.isEmpty(), "xvfb-run is missing: run packaging/install-deps.sh (xvfb)");
    QTemporaryDir dir;
    const QString png = dir.filePath("window.png");
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove("QT_QPA_PLATFORM");  // the real X11 platform plugin, not offscreen
    process.setProcessEnvironment(env);
    process.start(xvfb_run, {"-a", "-s", "-screen 0 1280x800x24", TB_GUI_PATH, "--page", "runs",
                             "--screenshot", png, "--startup-time"});
    QVERIFY(process.waitForFinished(120000));
    const QString output = process.readAllStandardOutput() + process.readAllStandardError();
    QVERIFY2(process.exitCode() == 0, qPrintable(output));
    QVERIFY2(output.contains("startup: window shown after"), qPrintable(output));
    qInfo().noquote() << output.trimmed();

    const QImage image(png);
    QVERIFY2(!image.isNull(), "no screenshot written");
    QVERIFY(image.width() >= 800 && image.height() >= 500);
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 4) {
      for (int x = 0; x < image.width(); x += 4) colours.insert(image.pixel(x, y));
    }
    // Text, icons and widgets give hundreds of colours; a blank window gives a handful.
    QVERIFY2(colours.size() > 50, qPrintable(QString::number(colours.size())));
  }

  void rejectsUnknownPage() {
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("QT_QPA_PLATFORM", "offscreen");
    process.setProcessEnvironment(env);
    process.start(TB_GUI_PATH, {"--page", "nope"});
    QVERIFY(process.waitForFinished(60000));
    QCOMPARE(process.exitCode(), 2);
    QVERIFY(process.readAllStandardError().contains("unknown page 'nope'"));
  }
};

QTEST_GUILESS_MAIN(TestGuiLaunch)
#include "test_gui_launch.moc"
