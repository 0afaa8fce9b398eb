#pragma once
// The loss plot of an exported model card (README.md + loss.png), drawn by the same MetricPlot
// the app shows. Usable without a window system: the CLI gets an offscreen Qt application.

#include <string>
#include <vector>

#include "core/export/export_job.h"
#include "core/runs/run_types.h"

namespace tb::ui {

/// PNG bytes of `series` (value against step, one curve each) under `title`; creates an
/// offscreen QApplication first when the process has none (the CLI).
std::string render_loss_plot_png(const std::vector<MetricSeries>& series, const std::string& title,
                                 int width = 800, int height = 450);

/// render_loss_plot_png at the default size, as the export job's plot renderer.
LossPlotRenderer loss_plot_renderer();

}  // namespace tb::ui
