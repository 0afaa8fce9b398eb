#pragma once
// The run pickers of Export and Playground: finished runs (completed or stopped) that left an
// output folder, newest first, as "#id  name  (method, status)" with the id as item data.

#include <QString>

class QComboBox;

namespace tb {
class RunStore;
}

namespace tb::ui {

/// Refills `combo` from `store` (null: leaves it empty), keeping the selected run when it is
/// still listed. Returns the error text when the history cannot be read ("" = fine).
QString fillFinishedRuns(QComboBox* combo, RunStore* store);

}  // namespace tb::ui
