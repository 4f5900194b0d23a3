// nabla/train/curves.h — a small SVG line chart for training curves, viewable in any
// browser: panels side by side, each with its series of (x, y) points.
//
//   Panel loss{"loss", "iteration", "loss", {{"loss", "#1f77b4", {1, 2, 3}, {2.3, 1.1, 0.6}}}};
//   std::string svg = svg_chart({loss});
//
// write_curves draws a run's metrics.csv (metrics_log.h) so: curves.svg of `nabla train`.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/train/metrics_log.h"

NABLA_API_BEGIN
namespace nabla {

struct Series {
  std::string label;
  std::string color;  // CSS color
  std::vector<double> x, y;
};

enum class YAxis {
  automatic,  // log10 when every value is positive and they span a factor of 100 or more
  linear,
  log,
};

struct Panel {
  std::string title;
  std::string x_label, y_label;
  std::vector<Series> series;
  YAxis y_axis = YAxis::automatic;
  bool integer_x = true;  // x counts something (iterations): ticks on whole numbers
  // Fit the y range to each series without its first point (when it has 3 or more), so
  // that an untrained model's first evaluation does not flatten the curves that matter;
  // a point left outside is drawn on the edge, hollow, with its value.
  bool fit_after_first = false;
};

// Panels side by side in one SVG document. Points are marked when a series has few of
// them (a one-point series is a marker).
std::string svg_chart(const std::vector<Panel>& panels);

// A run's curves (curves.svg): the loss, and the two accuracies, against the iteration.
// Throws naming the file when it cannot be written.
void write_curves(const std::filesystem::path& path, const Metrics& m, const std::string& title);

}  // namespace nabla
NABLA_API_END
