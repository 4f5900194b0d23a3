#include "svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace nabla::cli {

namespace {

constexpr double kWidth = 480, kHeight = 320, kLeft = 60, kRight = 20, kTop = 36, kBottom = 46;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", std::abs(v) < 1e-12 ? 0.0 : v);
  return buf;
}

// A round tick spacing (1, 2 or 5 times a power of ten) giving about four intervals.
double nice_step(double range) {
  double raw = range / 4;
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * power >= raw) return m * power;
  }
  return 10 * power;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

void draw_panel(std::ostringstream& out, const Panel& p, double x0) {
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin;
  double ymin = xmin, ymax = -xmin;
  for (const Series& s : p.series) {
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      xmin = std::min(xmin, s.x[i]);
      xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, s.y[i]);
      ymax = std::max(ymax, s.y[i]);
    }
  }
  if (!std::isfinite(xmin)) xmin = 0, xmax = 1, ymin = 0, ymax = 1;
  if (xmax == xmin) xmax = xmin + 1;
  if (ymax == ymin) ymax = ymin + 1;
  // Widen both ranges to round numbers: the ticks then fall on them.
  const double xstep = nice_step(xmax - xmin), ystep = nice_step(ymax - ymin);
  xmin = std::floor(xmin / xstep) * xstep;
  xmax = std::ceil(xmax / xstep) * xstep;
  ymin = std::floor(ymin / ystep) * ystep;
  ymax = std::ceil(ymax / ystep) * ystep;
  double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  auto px = [&](double x) { return x0 + kLeft + (x - xmin) / (xmax - xmin) * pw; };
  auto py = [&](double y) { return kTop + (1 - (y - ymin) / (ymax - ymin)) * ph; };

  out << "<text x='" << x0 + kWidth / 2 << "' y='20' text-anchor='middle' font-size='15'>"
      << escape(p.title) << "</text>\n";
  out << "<rect x='" << x0 + kLeft << "' y='" << kTop << "' width='" << pw << "' height='" << ph
      << "' fill='none' stroke='#888'/>\n";
  for (double fy = ymin; fy <= ymax + ystep / 2; fy += ystep) {  // grid and tick labels
    out << "<line x1='" << x0 + kLeft << "' x2='" << x0 + kLeft + pw << "' y1='" << py(fy)
        << "' y2='" << py(fy) << "' stroke='#eee'/>\n";
    out << "<text x='" << x0 + kLeft - 6 << "' y='" << py(fy) + 4
        << "' text-anchor='end' font-size='11'>" << num(fy) << "</text>\n";
  }
  for (double fx = xmin; fx <= xmax + xstep / 2; fx += xstep) {
    out << "<text x='" << px(fx) << "' y='" << kTop + ph + 16
        << "' text-anchor='middle' font-size='11'>" << num(fx) << "</text>\n";
  }
  out << "<text x='" << x0 + kLeft + pw / 2 << "' y='" << kHeight - 8
      << "' text-anchor='middle' font-size='12'>" << escape(p.x_label) << "</text>\n";
  out << "<text transform='translate(" << x0 + 14 << "," << kTop + ph / 2
      << ") rotate(-90)' text-anchor='middle' font-size='12'>" << escape(p.y_label) << "</text>\n";
  // In the right-hand corner the curves end away from: top for a falling loss, bottom
  // for a rising accuracy.
  bool ends_high =
      !p.series.empty() && !p.series[0].y.empty() && p.series[0].y.back() > (ymin + ymax) / 2;
  double legend_y =
      ends_high ? kTop + ph - 10 - 16 * static_cast<double>(p.series.size() - 1) : kTop + 14;
  for (const Series& s : p.series) {
    out << "<polyline fill='none' stroke='" << s.color << "' stroke-width='1.5' points='";
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (std::isfinite(s.y[i])) out << px(s.x[i]) << "," << py(s.y[i]) << " ";
    }
    out << "'/>\n";
    out << "<text x='" << x0 + kLeft + pw - 8 << "' y='" << legend_y
        << "' text-anchor='end' font-size='12' fill='" << s.color << "'>" << escape(s.label)
        << "</text>\n";
    legend_y += 16;
  }
}

}  // namespace

std::string svg_chart(const std::vector<Panel>& panels) {
  std::ostringstream out;
  out << "<?xml version='1.0' encoding='UTF-8'?>\n"
      << "<svg xmlns='http://www.w3.org/2000/svg' width='"
      << kWidth * static_cast<double>(panels.size()) << "' height='" << kHeight
      << "' font-family='Helvetica, Arial, sans-serif'>\n"
      << "<rect width='100%' height='100%' fill='white'/>\n";
  for (std::size_t i = 0; i < panels.size(); ++i) {
    draw_panel(out, panels[i], kWidth * static_cast<double>(i));
  }
  out << "</svg>\n";
  return out.str();
}

}  // namespace nabla::cli
