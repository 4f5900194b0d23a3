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
constexpr int kMaxTicks = 100;  // tick labels per axis, at most
constexpr std::size_t kMarkedPoints = 40;  // series with at most this many points get markers
constexpr double kColourScale = 60;         // the width a heat map's colour scale takes

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", std::abs(v) < 1e-12 ? 0.0 : v);
  return buf;
}

// Three significant digits: the ends of a colour scale.
std::string short_num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", std::abs(v) < 1e-12 ? 0.0 : v);
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
  if (!p.heatmap.empty()) return false;  // (a map's axes are places, not magnitudes)
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

// A colour for t in [0, 1]: dark blue through green to yellow (sequential), or blue,
// white, red around t = 0.5 (diverging).
std::string colour(double t, bool diverging) {
  t = std::clamp(std::isfinite(t) ? t : 0.5, 0.0, 1.0);
  struct Rgb {
    double r, g, b;
  };
  static const Rgb sequential[] = {{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98},
                                   {253, 231, 37}};
  static const Rgb divergent[] = {{33, 102, 172}, {247, 247, 247}, {178, 24, 43}};
  const Rgb* stops = diverging ? divergent : sequential;
  const std::size_t n = diverging ? 3 : 5;
  const double at = t * static_cast<double>(n - 1);
  const std::size_t i = std::min(n - 2, static_cast<std::size_t>(at));
  const double f = at - static_cast<double>(i);
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x",
                static_cast<int>(std::lround(stops[i].r + f * (stops[i + 1].r - stops[i].r))),
                static_cast<int>(std::lround(stops[i].g + f * (stops[i + 1].g - stops[i].g))),
                static_cast<int>(std::lround(stops[i].b + f * (stops[i + 1].b - stops[i].b))));
  return buf;
}

// The range of a heat map's finite values (symmetric around 0 when diverging).
Range value_range(const Heatmap& h) {
  Range r;
  for (double v : h.values) {
    if (std::isfinite(v)) r.add(v);
  }
  if (r.empty()) r = {0, 1};
  if (h.diverging) {
    const double m = std::max({std::abs(r.lo), std::abs(r.hi), 1e-300});
    r = {-m, m};
  }
  if (r.hi == r.lo) r.hi = r.lo + 1;
  return r;
}

// `digits` decimals: "%.*f".
std::string fixed(double v, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, std::abs(v) < 1e-12 ? 0.0 : v);
  return buf;
}

void draw_panel(std::ostringstream& out, const Panel& p, double x0, double y0) {
  const bool log_y = use_log(p);
  auto ty = [&](double y) { return log_y ? std::log10(y) : y; };  // to axis units
  Range xr, yr;
  for (const Series& s : p.series) {
    const std::size_t n = std::min(s.x.size(), s.y.size());
    const std::size_t from = p.fit_after_first && n >= 3 ? 1 : 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!drawable(s.y[i], log_y)) continue;
      xr.add(s.x[i]);
      if (i < from) continue;
      const double e = i < s.y_err.size() && std::isfinite(s.y_err[i]) ? s.y_err[i] : 0;
      yr.add(ty(s.y[i]));
      if (e > 0 && drawable(s.y[i] - e, log_y)) yr.add(ty(s.y[i] - e));
      if (e > 0) yr.add(ty(s.y[i] + e));
    }
  }
  const Heatmap& h = p.heatmap;
  const bool heat = !h.empty() && h.rows > 0 && h.cols > 0 &&
                    h.values.size() == static_cast<std::size_t>(h.rows * h.cols);
  if (heat) {
    xr.add(h.x0), xr.add(h.x1);
    yr.add(ty(h.y0)), yr.add(ty(h.y1));
  }
  if (xr.empty()) xr = {0, 1};
  if (yr.empty()) yr = {0, 1};
  // A range too narrow for its magnitude (the same value, or values a few ulps apart, or
  // denormals whose quarter is 0) is drawn as one value: its tick step would be 0 or
  // smaller than the values' spacing, and the ticks would never end.
  auto narrow = [](const Range& r) {
    return !(r.hi - r.lo > 1e-9 * std::max({1e-290, std::abs(r.lo), std::abs(r.hi)}));
  };
  if (narrow(xr)) xr.hi = xr.lo + std::max(1.0, 1e-6 * std::abs(xr.lo));
  if (narrow(yr)) {
    const double half = std::max(0.5, 1e-6 * std::max(std::abs(yr.lo), std::abs(yr.hi)));
    yr.lo -= half, yr.hi += half;
  }
  // Widen the ranges to round numbers: the ticks then fall on them. Log axes tick at
  // powers of ten; counting axes at whole numbers, and end at the last x. A heat map's
  // axes end at its edges.
  double xstep = nice_step(xr.hi - xr.lo);
  if (p.integer_x) xstep = std::max(1.0, std::round(xstep));
  const double ystep =
      log_y ? std::max(1.0, std::round(nice_step(yr.hi - yr.lo))) : nice_step(yr.hi - yr.lo);
  double xmin = std::floor(xr.lo / xstep) * xstep, xmax = std::ceil(xr.hi / xstep) * xstep;
  double ymin = std::floor(yr.lo / ystep) * ystep, ymax = std::ceil(yr.hi / ystep) * ystep;
  if (p.integer_x) xmax = xr.hi;
  if (heat) xmin = xr.lo, xmax = xr.hi, ymin = yr.lo, ymax = yr.hi;
  // (a heat map's colour scale stands at the right of its plot)
  double pw = kWidth - kLeft - kRight - (heat ? kColourScale : 0), ph = kHeight - kTop - kBottom;
  double left = x0 + kLeft;
  if (p.equal_aspect) {  // (narrowed or shortened, the plot stays centred in the panel)
    const double unit = std::min(pw / (xmax - xmin), ph / (ymax - ymin));
    left += (pw - unit * (xmax - xmin)) / 2;
    pw = unit * (xmax - xmin), ph = unit * (ymax - ymin);
  }
  const double top = y0 + kTop;
  auto px = [&](double x) { return left + (x - xmin) / (xmax - xmin) * pw; };
  // Axis units to the page; points outside the fitted range sit on its edge.
  auto page_y = [&](double axis) {
    const double t = std::clamp((axis - ymin) / (ymax - ymin), 0.0, 1.0);
    return top + (p.y_down ? t : 1 - t) * ph;
  };
  auto py = [&](double y) { return page_y(ty(y)); };
  auto inside = [&](double y) { return ty(y) >= ymin - 1e-12 && ty(y) <= ymax + 1e-12; };
  // Values drawn off the fitted range: one more decimal than the ticks need, for all.
  const int off_digits = std::max(0, static_cast<int>(-std::floor(std::log10(ystep)))) + 1;
  auto off_label = [&](double v) { return log_y ? num(v) : fixed(v, off_digits); };

  // A title wider than the panel (about 0.55 em a character) is squeezed to fit it.
  const double room = kWidth - 20;
  const bool squeeze = 0.55 * 15 * static_cast<double>(p.title.size()) > room;
  out << "<text x='" << x0 + kWidth / 2 << "' y='" << y0 + 20 << "' text-anchor='middle'"
      << (squeeze ? " textLength='" + num(room) + "' lengthAdjust='spacingAndGlyphs'" : "")
      << " font-size='15'>" << escape(p.title) << "</text>\n";
  if (heat) {
    const Range vr = value_range(h);
    const double cw = (h.x1 - h.x0) / static_cast<double>(h.cols);
    const double ch = (h.y1 - h.y0) / static_cast<double>(h.rows);
    for (std::int64_t r = 0; r < h.rows; ++r) {
      for (std::int64_t c = 0; c < h.cols; ++c) {
        const double v = h.values[static_cast<std::size_t>(r * h.cols + c)];
        const double xa = px(h.x0 + static_cast<double>(c) * cw);
        const double xb = px(h.x0 + static_cast<double>(c + 1) * cw);
        const double ya = page_y(h.y1 - static_cast<double>(r) * ch);
        const double yb = page_y(h.y1 - static_cast<double>(r + 1) * ch);
        // (a hair wider than the cell, so that no seam shows between cells)
        out << "<rect x='" << std::min(xa, xb) << "' y='" << std::min(ya, yb) << "' width='"
            << std::abs(xb - xa) + 0.5 << "' height='" << std::abs(yb - ya) + 0.5 << "' fill='"
            << colour((v - vr.lo) / (vr.hi - vr.lo), h.diverging) << "'/>\n";
      }
    }
  }
  out << "<rect x='" << left << "' y='" << top << "' width='" << pw << "' height='" << ph
      << "' fill='none' stroke='#888'/>\n";
  // grid and tick labels, on the multiples of the step within the axis
  // (a whole-number count of steps, at most kMaxTicks: the loop ends whatever the range)
  const double fy0 = std::ceil(ymin / ystep - 1e-9) * ystep;
  for (int i = 0; i <= kMaxTicks && fy0 + i * ystep <= ymax + 1e-9 * ystep; ++i) {
    const double fy = fy0 + i * ystep;
    const double yy = page_y(fy);
    if (!heat) {
      out << "<line x1='" << left << "' x2='" << left + pw << "' y1='" << yy << "' y2='" << yy
          << "' stroke='#eee'/>\n";
    }
    out << "<text x='" << left - 6 << "' y='" << yy + 4 << "' text-anchor='end' font-size='11'>"
        << num(log_y ? std::pow(10.0, fy) : fy) << "</text>\n";
  }
  const double fx0 = std::ceil(xmin / xstep - 1e-9) * xstep;
  for (int i = 0; i <= kMaxTicks && fx0 + i * xstep <= xmax + 1e-9 * xstep; ++i) {
    const double fx = fx0 + i * xstep;
    out << "<text x='" << px(fx) << "' y='" << top + ph + 16
        << "' text-anchor='middle' font-size='11'>" << num(fx) << "</text>\n";
  }
  out << "<text x='" << left + pw / 2 << "' y='" << top + ph + 36
      << "' text-anchor='middle' font-size='12'>" << escape(p.x_label) << "</text>\n";
  const std::string y_label = p.y_label + (log_y ? " (log scale)" : "");
  out << "<text transform='translate(" << left - kLeft + 14 << "," << top + ph / 2
      << ") rotate(-90)' text-anchor='middle' font-size='12'>" << escape(y_label) << "</text>\n";
  // In the right-hand corner the curves end away from: top for a falling loss, bottom
  // for a rising accuracy.
  bool ends_high = !p.series.empty() && !p.series[0].y.empty() &&
                   std::isfinite(p.series[0].y.back()) && py(p.series[0].y.back()) < top + ph / 2;
  const double entries = static_cast<double>(p.series.size());
  double legend_y = ends_high ? top + ph - 10 - 16 * (entries - 1) : top + 14;
  for (std::size_t k = 0; k < p.series.size(); ++k) {
    const Series& s = p.series[k];
    const std::size_t n = std::min(s.x.size(), s.y.size());
    if (s.line) {
      out << "<polyline fill='none' stroke='" << s.color << "' stroke-width='1.5' points='";
      for (std::size_t i = 0; i < n; ++i) {
        if (drawable(s.y[i], log_y) && inside(s.y[i])) {
          out << px(s.x[i]) << "," << py(s.y[i]) << " ";
        }
      }
      out << "'/>\n";
    }
    for (std::size_t i = 0; i < n && i < s.y_err.size(); ++i) {  // error bars, with caps
      const double e = s.y_err[i];
      if (!drawable(s.y[i], log_y) || !std::isfinite(e) || e <= 0) continue;
      const double lo = drawable(s.y[i] - e, log_y) ? py(s.y[i] - e) : top + ph;
      const double hi = py(s.y[i] + e), xx = px(s.x[i]);
      out << "<path class='error-bar' d='M" << xx << "," << lo << "V" << hi << "M" << xx - 4 << ","
          << lo << "h8M" << xx - 4 << "," << hi << "h8' stroke='" << s.color << "'/>\n";
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!drawable(s.y[i], log_y)) continue;
      if (!inside(s.y[i])) {  // off the fitted range: hollow, on the edge, with its value
        out << "<circle cx='" << px(s.x[i]) << "' cy='" << py(s.y[i])
            << "' r='3.5' fill='white' stroke='" << s.color << "'/>\n";
        // Values of several series off the same edge stack up instead of overlapping.
        const double shift = 11 * static_cast<double>(k);
        out << "<text x='" << px(s.x[i]) + 6 << "' y='"
            << (py(s.y[i]) > top ? py(s.y[i]) - 4 - shift : py(s.y[i]) + 12 + shift)
            << "' font-size='10' fill='" << s.color << "'>" << off_label(s.y[i]) << "</text>\n";
      } else if (n <= kMarkedPoints || !s.line) {
        out << "<circle cx='" << px(s.x[i]) << "' cy='" << py(s.y[i]) << "' r='2.5' fill='"
            << s.color << "'/>\n";
      }
    }
    // (legend entries on a white ground: readable over a heat map)
    out << "<text x='" << left + pw - 8 << "' y='" << legend_y
        << "' text-anchor='end' font-size='12' fill='" << s.color
        << "' stroke='white' stroke-width='3' paint-order='stroke'>" << escape(s.label)
        << "</text>\n";
    legend_y += 16;
  }
  if (heat) {  // the colour scale: a bar from the lowest value (bottom) to the highest
    const Range vr = value_range(h);
    constexpr int kSteps = 32;
    const double bx = left + pw + 10, step = ph / kSteps;
    for (int i = 0; i < kSteps; ++i) {
      out << "<rect x='" << bx << "' y='" << top + ph - (i + 1) * step << "' width='10' height='"
          << step + 0.5 << "' fill='" << colour(i / (kSteps - 1.0), h.diverging) << "'/>\n";
    }
    out << "<rect x='" << bx << "' y='" << top << "' width='10' height='" << ph
        << "' fill='none' stroke='#888'/>\n";
    out << "<text x='" << bx + 13 << "' y='" << top + 8 << "' font-size='10'>" << short_num(vr.hi)
        << "</text>\n<text x='" << bx + 13 << "' y='" << top + ph << "' font-size='10'>"
        << short_num(vr.lo) << "</text>\n";
    out << "<text transform='translate(" << bx + 22 << "," << top + ph / 2
        << ") rotate(90)' text-anchor='middle' font-size='11'>" << escape(h.label) << "</text>\n";
  }
}

}  // namespace

ChartSize chart_size(std::size_t count, std::size_t columns) {
  if (columns == 0 || columns > count) columns = std::max<std::size_t>(count, 1);
  const std::size_t rows = std::max<std::size_t>(1, (count + columns - 1) / columns);
  return {kWidth * static_cast<double>(columns), kHeight * static_cast<double>(rows)};
}

std::string svg_chart(const std::vector<Panel>& panels, std::size_t columns) {
  if (columns == 0 || columns > panels.size()) columns = std::max<std::size_t>(panels.size(), 1);
  const ChartSize size = chart_size(panels.size(), columns);
  std::ostringstream out;
  out << "<?xml version='1.0' encoding='UTF-8'?>\n"
      << "<svg xmlns='http://www.w3.org/2000/svg' width='" << size.width << "' height='"
      << size.height << "' font-family='Helvetica, Arial, sans-serif'>\n"
      << "<rect width='100%' height='100%' fill='white'/>\n";
  for (std::size_t i = 0; i < panels.size(); ++i) {
    draw_panel(out, panels[i], kWidth * static_cast<double>(i % columns),
               kHeight * static_cast<double>(i / columns));
  }
  out << "</svg>\n";
  return out.str();
}

void write_chart(const std::filesystem::path& path, const std::vector<Panel>& panels,
                 std::size_t columns) {
  errno = 0;
  std::ofstream out(path);
  out << svg_chart(panels, columns);
  out.close();
  if (out.fail()) {
    throw std::runtime_error("cannot write " + path.string() + ": " +
                             (errno != 0 ? std::strerror(errno) : "write failed"));
  }
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
  write_chart(path, {left, right});
}

}  // namespace nabla
