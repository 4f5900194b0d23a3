// The SVG chart and a run's curves (see nabla/train/curves.h).
#include "nabla/train/curves.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace nabla {

namespace {

constexpr double kWidth = 480, kHeight = 320, kLeft = 60, kRight = 20, kTop = 36, kBottom = 46;
constexpr std::size_t kMarkedPoints = 40;  // series with at most this many points get markers

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

struct Range {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  void add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return !(lo <= hi); }
};

// The points of a series worth drawing: finite, and positive on a log axis.
bool drawable(double y, bool log_y) { return std::isfinite(y) && (!log_y || y > 0); }

bool use_log(const Panel& p) {
  if (p.y_axis != YAxis::automatic) return p.y_axis == YAxis::log;
  Range r;
  for (const Series& s : p.series) {
    for (double y : s.y) {
      if (!std::isfinite(y)) continue;
      if (y <= 0) return false;
      r.add(y);
    }
  }
  return !r.empty() && r.hi / r.lo >= 100;
}

void draw_panel(std::ostringstream& out, const Panel& p, double x0) {
  const bool log_y = use_log(p);
  auto ty = [&](double y) { return log_y ? std::log10(y) : y; };  // to axis units
  Range xr, yr;
  for (const Series& s : p.series) {
    const std::size_t n = std::min(s.x.size(), s.y.size());
    const std::size_t from = p.fit_after_first && n >= 3 ? 1 : 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!drawable(s.y[i], log_y)) continue;
      xr.add(s.x[i]);
      if (i >= from) yr.add(ty(s.y[i]));
    }
  }
  if (xr.empty()) xr = {0, 1};
  if (yr.empty()) yr = {0, 1};
  if (xr.hi == xr.lo) xr.hi = xr.lo + 1;
  if (yr.hi == yr.lo) yr.lo -= 0.5, yr.hi += 0.5;
  // Widen both ranges to round numbers: the ticks then fall on them. Log axes tick at
  // powers of ten; counting axes at whole numbers.
  double xstep = nice_step(xr.hi - xr.lo);
  if (p.integer_x) xstep = std::max(1.0, std::round(xstep));
  const double ystep =
      log_y ? std::max(1.0, std::round(nice_step(yr.hi - yr.lo))) : nice_step(yr.hi - yr.lo);
  const double xmin = std::floor(xr.lo / xstep) * xstep, xmax = std::ceil(xr.hi / xstep) * xstep;
  const double ymin = std::floor(yr.lo / ystep) * ystep, ymax = std::ceil(yr.hi / ystep) * ystep;
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  auto px = [&](double x) { return x0 + kLeft + (x - xmin) / (xmax - xmin) * pw; };
  // Points outside the fitted range sit on its edge.
  auto py = [&](double y) {
    const double t = std::clamp((ty(y) - ymin) / (ymax - ymin), 0.0, 1.0);
    return kTop + (1 - t) * ph;
  };
  auto inside = [&](double y) { return ty(y) >= ymin - 1e-12 && ty(y) <= ymax + 1e-12; };

  out << "<text x='" << x0 + kWidth / 2 << "' y='20' text-anchor='middle' font-size='15'>"
      << escape(p.title) << "</text>\n";
  out << "<rect x='" << x0 + kLeft << "' y='" << kTop << "' width='" << pw << "' height='" << ph
      << "' fill='none' stroke='#888'/>\n";
  for (double fy = ymin; fy <= ymax + ystep / 2; fy += ystep) {  // grid and tick labels
    const double yy = kTop + (1 - (fy - ymin) / (ymax - ymin)) * ph;
    out << "<line x1='" << x0 + kLeft << "' x2='" << x0 + kLeft + pw << "' y1='" << yy << "' y2='"
        << yy << "' stroke='#eee'/>\n";
    out << "<text x='" << x0 + kLeft - 6 << "' y='" << yy + 4
        << "' text-anchor='end' font-size='11'>" << num(log_y ? std::pow(10.0, fy) : fy)
        << "</text>\n";
  }
  for (double fx = xmin; fx <= xmax + xstep / 2; fx += xstep) {
    out << "<text x='" << px(fx) << "' y='" << kTop + ph + 16
        << "' text-anchor='middle' font-size='11'>" << num(fx) << "</text>\n";
  }
  out << "<text x='" << x0 + kLeft + pw / 2 << "' y='" << kHeight - 8
      << "' text-anchor='middle' font-size='12'>" << escape(p.x_label) << "</text>\n";
  const std::string y_label = p.y_label + (log_y ? " (log scale)" : "");
  out << "<text transform='translate(" << x0 + 14 << "," << kTop + ph / 2
      << ") rotate(-90)' text-anchor='middle' font-size='12'>" << escape(y_label) << "</text>\n";
  // In the right-hand corner the curves end away from: top for a falling loss, bottom
  // for a rising accuracy.
  bool ends_high = !p.series.empty() && !p.series[0].y.empty() &&
                   std::isfinite(p.series[0].y.back()) && py(p.series[0].y.back()) < kTop + ph / 2;
  double legend_y =
      ends_high ? kTop + ph - 10 - 16 * static_cast<double>(p.series.size() - 1) : kTop + 14;
  for (std::size_t k = 0; k < p.series.size(); ++k) {
    const Series& s = p.series[k];
    const std::size_t n = std::min(s.x.size(), s.y.size());
    out << "<polyline fill='none' stroke='" << s.color << "' stroke-width='1.5' points='";
    for (std::size_t i = 0; i < n; ++i) {
      if (drawable(s.y[i], log_y) && inside(s.y[i])) out << px(s.x[i]) << "," << py(s.y[i]) << " ";
    }
    out << "'/>\n";
    for (std::size_t i = 0; i < n; ++i) {
      if (!drawable(s.y[i], log_y)) continue;
      if (!inside(s.y[i])) {  // off the fitted range: hollow, on the edge, with its value
        out << "<circle cx='" << px(s.x[i]) << "' cy='" << py(s.y[i])
            << "' r='3.5' fill='white' stroke='" << s.color << "'/>\n";
        // Values of several series off the same edge stack up instead of overlapping.
        const double shift = 11 * static_cast<double>(k);
        out << "<text x='" << px(s.x[i]) + 6 << "' y='"
            << (py(s.y[i]) > kTop ? py(s.y[i]) - 4 - shift : py(s.y[i]) + 12 + shift)
            << "' font-size='10' fill='" << s.color << "'>" << num(s.y[i]) << "</text>\n";
      } else if (n <= kMarkedPoints) {
        out << "<circle cx='" << px(s.x[i]) << "' cy='" << py(s.y[i]) << "' r='2.5' fill='"
            << s.color << "'/>\n";
      }
    }
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

void write_curves(const std::filesystem::path& path, const Metrics& m, const std::string& title) {
  // Thin the loss curve to at most ~2000 points so the file stays small.
  Series loss{"loss", "#1f77b4", {}, {}};
  std::size_t stride = std::max<std::size_t>(1, m.iters.size() / 2000);
  for (std::size_t i = 0; i < m.iters.size(); i += stride) {
    loss.x.push_back(m.iters[i]);
    loss.y.push_back(m.losses[i]);
  }
  Panel left{"loss: " + title, "iteration", "loss", {loss}};
  // The metric of each split, in the data's words: "train acc", "dev f1", ...
  auto label = [](std::string column) {
    std::replace(column.begin(), column.end(), '_', ' ');
    return column;
  };
  const MetricColumns& c = m.columns;
  Panel right{c.metric, "iteration", c.metric, {{label(c.train), "#2ca02c", m.eval_iters, m.train_acc}}};
  if (!c.validation.empty() && m.validation_acc.size() == m.eval_iters.size()) {
    right.series.push_back({label(c.validation), "#ff7f0e", m.eval_iters, m.validation_acc});
  }
  right.series.push_back({label(c.test), "#d62728", m.eval_iters, m.test_acc});
  right.fit_after_first = true;  // the untrained model's chance accuracy would flatten it
  errno = 0;
  std::ofstream out(path);
  out << svg_chart({left, right});
  out.close();
  if (out.fail()) {
    throw std::runtime_error("cannot write " + path.string() + ": " +
                             (errno != 0 ? std::strerror(errno) : "write failed"));
  }
}

}  // namespace nabla
