#include "ui/models/run_table_model.h"

#include <QColor>
#include <QDateTime>
#include <QFileInfo>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace tb::ui {

RunTableModel::RunTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void RunTableModel::setRuns(std::vector<RunRecord> runs) {
  beginResetModel();
  runs_ = std::move(runs);
  figures_.clear();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const RunRecord& run : runs_) {
    const nlohmann::json summary = nlohmann::json::parse(
        run.summary_json.empty() ? "{}" : run.summary_json, nullptr, /*allow_exceptions=*/false);
    auto number = [&](const char* key) {
      return summary.is_object() && summary.contains(key) && summary[key].is_number()
                 ? summary[key].get<double>()
                 : nan;
    };
    Figures f{};
    f.final_loss = number("train/loss");
    f.best_is_accuracy = !std::isnan(number("best/eval/accuracy"));
    f.best_eval = f.best_is_accuracy ? number("best/eval/accuracy") : number("best/eval/loss");
    f.tokens_per_second = number("perf/tokens_per_second");
    f.peak_mb = number("memory/peak_rss_mb");
    f.seconds = run.started_at && run.finished_at ? *run.finished_at - *run.started_at : nan;
    figures_.push_back(f);
  }
  endResetModel();
}

int RunTableModel::rowOf(int64_t run_id) const {
  for (size_t row = 0; row < runs_.size(); ++row) {
    if (runs_[row].id == run_id) return static_cast<int>(row);
  }
  return -1;
}

int RunTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(runs_.size());
}

int RunTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kCount;
}

QColor statusColor(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning:
      return QColor("#1f6fd1");
    case RunStatus::kCompleted:
      return QColor("#2b8a3e");
    case RunStatus::kFailed:
      return QColor("#c92a2a");
    case RunStatus::kInterrupted:
      return QColor("#d9480f");
    case RunStatus::kStopped:
      return QColor("#7950f2");
    case RunStatus::kQueued:
      break;
  }
  return QColor("#666666");
}

QVariant RunTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount()) return {};
  const RunRecord& run = runs_[static_cast<size_t>(index.row())];
  const Figures& f = figures_[static_cast<size_t>(index.row())];
  if (role == kRunIdRole) return QVariant::fromValue<qint64>(run.id);
  if (role == Qt::ForegroundRole && index.column() == kStatus) return statusColor(run.status);
  if (role == Qt::ToolTipRole) {
    if (index.column() == kModel) return QString::fromStdString(run.model_path);
    if (index.column() == kData) return QString::fromStdString(run.dataset + "\n" + run.subset);
    if (index.column() == kStatus && !run.error_text.empty()) {
      return QString::fromStdString(run.error_text);
    }
    return {};
  }
  if (role == kSortRole) {
    switch (index.column()) {
      case kId:
        return QVariant::fromValue<qint64>(run.id);
      case kStep:
        return QVariant::fromValue<qint64>(run.last_step);
      case kCreated:
        return run.created_at;
      case kFinalLoss:
        return f.final_loss;
      case kBestEval:
        return f.best_eval;
      case kTokensPerSecond:
        return f.tokens_per_second;
      case kPeakMemory:
        return f.peak_mb;
      case kDuration:
        return f.seconds;
      default:
        break;
    }
  }
  if (role != Qt::DisplayRole && role != kSortRole) return {};
  switch (index.column()) {
    case kId:
      return QString::number(run.id);
    case kName:
      return QString::fromStdString(run.name);
    case kStatus:
      return QString::fromUtf8(to_string(run.status));
    case kMethod:
      return QString::fromStdString(run.method);
    case kTask:
      return QString::fromStdString(run.task);
    case kModel:
      return QFileInfo(QString::fromStdString(run.model_path)).fileName();
    case kData:
      return QFileInfo(QString::fromStdString(run.dataset)).fileName();
    case kStep:
      return QString::number(run.last_step);
    case kFinalLoss:
      return std::isnan(f.final_loss) ? QString() : QString::number(f.final_loss, 'f', 4);
    case kBestEval:
      if (std::isnan(f.best_eval)) return QString();
      return f.best_is_accuracy ? tr("acc %1").arg(f.best_eval, 0, 'f', 4)
                                : tr("loss %1").arg(f.best_eval, 0, 'f', 4);
    case kTokensPerSecond:
      return std::isnan(f.tokens_per_second) ? QString()
                                             : QString::number(f.tokens_per_second, 'f', 0);
    case kPeakMemory:
      return std::isnan(f.peak_mb) ? QString() : tr("%1 MB").arg(f.peak_mb, 0, 'f', 0);
    case kDuration: {
      if (std::isnan(f.seconds)) return QString();
      const qint64 s = static_cast<qint64>(f.seconds + 0.5);
      return s < 3600 ? QString("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QChar('0'))
                      : QString("%1:%2:%3")
                            .arg(s / 3600)
                            .arg(s / 60 % 60, 2, 10, QChar('0'))
                            .arg(s % 60, 2, 10, QChar('0'));
    }
    case kCreated:
      return QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(run.created_at * 1000))
          .toString("yyyy-MM-dd HH:mm");
    case kTags: {
      QStringList tags;
      for (const std::string& tag : run.tags) tags << QString::fromStdString(tag);
      return tags.join(", ");
    }
    default:
      return {};
  }
}

QVariant RunTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* const names[] = {"ID",       "Name",     "Status",   "Method",     "Task",
                                      "Model",    "Data",     "Step",     "Final loss", "Best eval",
                                      "Tokens/s", "Peak mem", "Duration", "Created",    "Tags"};
  static_assert(sizeof(names) / sizeof(names[0]) == kCount, "one header per column");
  return section >= 0 && section < kCount ? tr(names[section]) : QVariant();
}

}  // namespace tb::ui
