// A small SVG line chart for training curves, viewable in any browser.
#pragma once

#include <string>
#include <vector>

namespace nabla::cli {

struct Series {
  std::string label;
  std::string color;  // CSS color
  std::vector<double> x, y;
};

struct Panel {
  std::string title;
  std::string x_label, y_label;
  std::vector<Series> series;
};

// Panels side by side in one SVG document.
std::string svg_chart(const std::vector<Panel>& panels);

}  // namespace nabla::cli
