#include "ui/models/run_table_model.h"

#include <QColor>
#include <QDateTime>
#include <QFileInfo>

namespace tb::ui {

RunTableModel::RunTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void RunTableModel::setRuns(std::vector<RunRecord> runs) {
  beginResetModel();
  runs_ = std::move(runs);
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
  static const char* const names[] = {"ID",    "Name", "Status", "Method",  "Task",
                                      "Model", "Data", "Step",   "Created", "Tags"};
  return section >= 0 && section < kCount ? tr(names[section]) : QVariant();
}

}  // namespace tb::ui
