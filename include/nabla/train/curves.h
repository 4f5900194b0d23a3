// nabla/train/curves.h — nabla's one SVG chart, viewable in any browser: panels side by
// side (or in rows), each with axes, labels, a legend, its series of (x, y) points (lines,
// or points, with error bars) and, under them, a heat map (a grid of values as colours).
//
//   Panel loss{"loss", "iteration", "loss", {{"loss", "#1f77b4", {1, 2, 3}, {2.3, 1.1, 0.6}}}};
//   std::string svg = svg_chart({loss});
//
// write_curves draws a run's metrics.csv (metrics_log.h) so: curves.svg of `nabla train`;
// the other figures of the commands (k-NN's accuracy against k, a linear classifier's
// weight templates, loss landscapes, optimizer paths) are panels of this chart too.
#pragma once

#include <cstdint>
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
  std::vector<double> y_err{};  // when given (one per point): error bars y +- y_err
  bool line = true;           // false: points only (a scatter), each marked
};

// Values on a grid, drawn as colours under a panel's series: row r, column c covers
// x in [x0 + c dx, x0 + (c + 1) dx] and y in [y1 - (r + 1) dy, y1 - r dy] (row 0 on top,
// as in an image, whatever the axis direction), dx = (x1 - x0) / cols, dy likewise.
struct Heatmap {
  std::int64_t rows = 0, cols = 0;
  std::vector<double> values;  // rows x cols, row-major
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  std::string label;      // what the colour shows, in the legend
  bool diverging = false;  // blue (negative), white (0), red (positive); else dark to light
  bool empty() const { return values.empty(); }
};

enum class YAxis {
  automatic,  // log10 when every value is positive and they span a factor of 100 or more
              // (never under a heat map)
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
  Heatmap heatmap{};
  bool y_down = false;        // y grows downwards (image rows)
  bool equal_aspect = false;  // one unit as long on both axes (images, 2-D functions)
};

// Panels side by side in one SVG document, or in rows of `columns` (0: one row). Points
// are marked when a series has few of them (a one-point series is a marker). A counting
// (integer_x) axis ends at the last x; the others at round numbers.
std::string svg_chart(const std::vector<Panel>& panels, std::size_t columns = 0);
// The size svg_chart gives the document of `count` panels in rows of `columns`.
struct ChartSize {
  double width = 0, height = 0;
};
ChartSize chart_size(std::size_t count, std::size_t columns = 0);

// Writes svg_chart(panels, columns) to `path`; throws naming the file when it cannot.
void write_chart(const std::filesystem::path& path, const std::vector<Panel>& panels,
                 std::size_t columns = 0);

// A run's curves (curves.svg): the loss, and the two accuracies, against the iteration.
// Throws naming the file when it cannot be written.
void write_curves(const std::filesystem::path& path, const Metrics& m, const std::string& title);

}  // namespace nabla
NABLA_API_END
