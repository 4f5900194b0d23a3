// The training-curve chart: fitted accuracy axis, log loss axis, whole-number iteration
// ticks, markers for short series.
#include "nabla/train/curves.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
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
  EXPECT_THAT(svg, HasSubstr(">0.1</text>"));
  EXPECT_THAT(svg, HasSubstr(">0.09</text>"));
}

TEST(SvgPlot, WithoutFittingTheAxisCoversEveryPoint) {
  Panel p{"accuracy",
          "iteration",
          "accuracy",
          {{"train acc", "green", {0, 600, 1200}, {0.10, 0.90, 0.95}}}};
  const std::vector<std::string> ticks = y_ticks(svg_chart({p}));
  EXPECT_EQ(ticks.front(), "0");
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

}  // namespace
}  // namespace nabla
