#pragma once
// New run's Data tab: what the config's data set holds before anything trains — the detected
// reader and format, rows, the seeded train/eval subsets, per-column statistics, the first rows
// as the task sees them (prompt and target coloured) and the token-length histogram of the
// train subset against cutoff_len. Computed on a background thread (tokenising takes a while).

#include <QWidget>
#include <memory>

#include "core/config/run_config.h"

class QLabel;
class QTableWidget;
class QTextBrowser;
class QThread;

namespace tb::ui {

class MetricPlot;

/// The data preview of a run config.
class DataPreviewPanel : public QWidget {
  Q_OBJECT
 public:
  explicit DataPreviewPanel(QWidget* parent = nullptr);
  ~DataPreviewPanel() override;

  /// Starts previewing `config`'s data (a preview in progress is finished first).
  void preview(const RunConfig& config);
  /// Whether a preview is being computed.
  bool isBusy() const { return thread_ != nullptr; }
  /// The summary line (tests).
  QString summaryText() const;
  /// The rendered first rows as HTML (tests).
  QString rowsHtml() const;
  /// The histogram's bars (tests): rows per bin, empty when no tokenizer loaded.
  QVector<double> histogram() const;

 Q_SIGNALS:
  /// The preview is shown (ok) or its error is (not ok).
  void previewFinished(bool ok);

 private:
  void show_result();

  struct Outcome;
  std::shared_ptr<Outcome> outcome_;
  QThread* thread_ = nullptr;
  QLabel* summary_ = nullptr;
  QTextBrowser* rows_ = nullptr;
  QTableWidget* columns_ = nullptr;
  MetricPlot* histogram_ = nullptr;
  QVector<double> bars_;
};

}  // namespace tb::ui
