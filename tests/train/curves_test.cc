// The training-curve chart: fitted accuracy axis, log loss axis, whole-number iteration
// ticks, markers for short series.
#include "nabla/train/curves.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace nabla {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The y-axis tick labels (right-aligned texts left of the plot), top to bottom order of
// appearance.
std::vector<std::string> y_ticks(const std::string& svg) {
  std::vector<std::string> ticks;
  std::regex tick(R"(text-anchor='end' font-size='11'>([^<]+)<)");
  for (std::sregex_iterator it(svg.begin(), svg.end(), tick), end; it != end; ++it) {
    ticks.push_back((*it)[1]);
  }
  return ticks;
}

std::vector<std::string> x_ticks(const std::string& svg) {
  std::vector<std::string> ticks;
  std::regex tick(R"(text-anchor='middle' font-size='11'>([^<]+)<)");
  for (std::sregex_iterator it(svg.begin(), svg.end(), tick), end; it != end; ++it) {
    ticks.push_back((*it)[1]);
  }
  return ticks;
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(SvgPlot, AccuracyAxisFitsTheCurvesAfterTheFirstEvaluation) {
  Panel p{"accuracy",
          "iteration",
          "accuracy",
          {{"train acc", "green", {0, 600, 1200, 1800}, {0.10, 0.90, 0.95, 0.972}},
           {"test acc", "red", {0, 600, 1200, 1800}, {0.09, 0.91, 0.94, 0.968}}}};
  p.fit_after_first = true;
  const std::string svg = svg_chart({p});
  const std::vector<std::string> ticks = y_ticks(svg);
  ASSERT_FALSE(ticks.empty());
  EXPECT_EQ(ticks.front(), "0.9");  // not 0: the axis starts near the curves
  EXPECT_EQ(ticks.back(), "0.98");  // 0.972 rounded up to the next tick
  // the first evaluations are drawn on the edge, hollow, with their values
  EXPECT_EQ(count(svg, "fill='white' stroke="), 2u);
  // ... all at one precision: one decimal more than the ticks (0.02 apart) need
  EXPECT_THAT(svg, HasSubstr(">0.100</text>"));
  EXPECT_THAT(svg, HasSubstr(">0.090</text>"));
}

TEST(SvgPlot, WithoutFittingTheAxisCoversEveryPoint) {
  Panel p{"accuracy",
          "iteration",
          "accuracy",
          {{"train acc", "green", {0, 600, 1200}, {0.10, 0.90, 0.95}}}};
  const std::vector<std::string> ticks = y_ticks(svg_chart({p}));
  EXPECT_EQ(ticks.front(), "0");
}

// Values too close for their magnitude (a loss that reached denormals, a constant of 1e30
// with a last-bit wobble, one iteration) once gave a tick step of 0 or below the values'
// spacing, and the tick loop never ended (`nabla ner train` on a tiny corpus hung while
// writing curves.svg; found by the command harness). They are drawn as one value.
TEST(SvgPlot, RangesTooNarrowForTheirMagnitudeEnd) {
  for (const std::vector<double>& ys :
       {std::vector<double>{0, 4.9e-324}, std::vector<double>{1e-320, 2e-320},
        std::vector<double>{1e30, std::nextafter(1e30, 2e30)}, std::vector<double>{7, 7}}) {
    Panel p{"loss", "iteration", "loss", {{"loss", "blue", {1, 1}, ys}}};
    const std::vector<std::string> ticks = y_ticks(svg_chart({p}));
    EXPECT_GE(ticks.size(), 2u) << ys[0];
    EXPECT_LE(ticks.size(), 12u) << ys[0];
  }
}

TEST(SvgPlot, ATitleWiderThanItsPanelIsSqueezedIntoIt) {
  const std::string arch(120, 'w');  // (a window tagger's whole architecture, say)
  Panel wide{"loss: " + arch, "iteration", "loss", {{"loss", "blue", {0, 1}, {2, 1}}}};
  const std::string svg = svg_chart({wide});
  // The panel is 480 wide; the title gets 460 of it.
  EXPECT_THAT(svg, HasSubstr("textLength='460' lengthAdjust='spacingAndGlyphs' font-size='15'>"
                             "loss: www"));
  Panel narrow{"loss", "iteration", "loss", {{"loss", "blue", {0, 1}, {2, 1}}}};
  EXPECT_THAT(svg_chart({narrow}), Not(HasSubstr("textLength")));
}

TEST(SvgPlot, LossSpanningOrdersOfMagnitudeGetsALogAxis) {
  Panel p{"loss", "iteration", "loss", {{"loss", "blue", {0, 1, 2, 3}, {2.3, 40, 1e6, 7.4e28}}}};
  const std::string svg = svg_chart({p});
  EXPECT_THAT(svg, HasSubstr("loss (log scale)"));
  for (const std::string& t : y_ticks(svg)) {
    EXPECT_TRUE(std::regex_match(t, std::regex(R"(1(e\+\d+)?|10|100|1000|10000|100000)"))) << t;
  }
  Panel flat{"loss", "iteration", "loss", {{"loss", "blue", {0, 1, 2}, {2.3, 1.0, 0.3}}}};
  EXPECT_THAT(svg_chart({flat}), Not(HasSubstr("log scale")));
}

TEST(SvgPlot, IterationTicksAreWholeNumbers) {
  Panel p{"loss", "iteration", "loss", {{"loss", "blue", {0, 1, 2}, {2.3, 2.2, 2.1}}}};
  for (const std::string& t : x_ticks(svg_chart({p}))) {
    EXPECT_TRUE(std::regex_match(t, std::regex(R"(\d+)"))) << t;
  }
}

TEST(SvgPlot, ShortSeriesAreMarkedAndOnePointIsVisible) {
  Panel one{"accuracy", "iteration", "accuracy", {{"test acc", "red", {5}, {0.5}}}};
  EXPECT_EQ(count(svg_chart({one}), "<circle"), 1u);
  std::vector<double> x, y;
  for (int i = 0; i < 1000; ++i) x.push_back(i), y.push_back(1.0 / (i + 1));
  Panel many{"loss", "iteration", "loss", {{"loss", "blue", x, y}}};
  EXPECT_EQ(count(svg_chart({many}), "<circle"), 0u);  // a dense curve needs none
}

// The x of every point of the first polyline.
std::vector<double> polyline_x(const std::string& svg) {
  std::vector<double> xs;
  const std::size_t at = svg.find("<polyline");
  const std::size_t from = svg.find("points='", at) + 8, to = svg.find('\'', from);
  std::istringstream points(svg.substr(from, to - from));
  std::string point;
  while (points >> point) xs.push_back(std::stod(point.substr(0, point.find(','))));
  return xs;
}

TEST(SvgPlot, IterationAxisEndsAtTheLastIteration) {
  std::vector<double> x, y;
  for (int i = 0; i <= 1200; i += 10) x.push_back(i), y.push_back(2.3 / (1 + i / 100.0));
  Panel p{"loss", "iteration", "loss", {{"loss", "blue", x, y}}};
  const std::string svg = svg_chart({p});
  const std::vector<std::string> ticks = x_ticks(svg);
  ASSERT_FALSE(ticks.empty());
  EXPECT_EQ(ticks.front(), "0");
  EXPECT_LE(std::stod(ticks.back()), 1200);  // no axis running on to 1,500
  EXPECT_THAT(svg, Not(HasSubstr(">1500<")));
  // the last iteration is drawn at the right edge of the plot: x = 480 - 20
  const std::vector<double> xs = polyline_x(svg);
  ASSERT_FALSE(xs.empty());
  EXPECT_NEAR(xs.back(), 460, 1e-9);
  EXPECT_NEAR(xs.front(), 60, 1e-9);
}

TEST(SvgPlot, ErrorBarsSpanOneErrorEitherSide) {
  Series s{"mean", "blue", {1, 3, 5}, {5, 7, 6}};
  s.y_err = {1, 0, 2};  // no bar for a zero error
  Panel p{"acc", "k", "accuracy", {s}};
  p.y_axis = YAxis::linear;
  const std::string svg = svg_chart({p});
  EXPECT_EQ(count(svg, "class='error-bar'"), 2u);
  // y from 4 to 8 over the plot's 238 pixels from y = 36: 5 +- 1 runs from 4 (the
  // bottom, 274) to 6 (155); x = 1 is the left edge, 60
  EXPECT_THAT(svg, HasSubstr("d='M60,274V155"));
}

TEST(SvgPlot, PanelsInRowsAndAHeatMapWithItsScale) {
  Panel p{"map", "x", "y", {}};
  p.integer_x = false;
  p.heatmap = Heatmap{.rows = 2, .cols = 3, .values = {0, 1, 2, 3, 4, 5}, .label = "f"};
  const std::string svg = svg_chart({p, p, p}, 2);
  const ChartSize size = chart_size(3, 2);
  EXPECT_EQ(size.width, 960);
  EXPECT_EQ(size.height, 640);
  EXPECT_THAT(svg, HasSubstr("width='960' height='640'"));
  // each panel: 6 cells, the smallest value darkest, the largest lightest, and a colour
  // scale from the one to the other, its ends labelled, named by the heat map's label
  EXPECT_EQ(count(svg, "fill='#440154'"), 3u * 2);  // one cell, and the scale's bottom
  EXPECT_EQ(count(svg, "fill='#fde725'"), 3u * 2);
  EXPECT_EQ(count(svg, "font-size='10'>5</text>"), 3u);
  EXPECT_EQ(count(svg, "font-size='10'>0</text>"), 3u);
  EXPECT_EQ(count(svg, "rotate(90)' text-anchor='middle' font-size='11'>f</text>"), 3u);
  // a map's y axis is a place, never a log scale, however its values or points spread
  Panel path = p;
  path.series.push_back({"path", "red", {0.1, 0.5}, {1e-9, 0.9}});
  EXPECT_THAT(svg_chart({path}), Not(HasSubstr("log scale")));
  // the third panel starts the second row
  EXPECT_THAT(svg, HasSubstr("<text x='240' y='340'"));
}

}  // namespace
}  // namespace nabla
