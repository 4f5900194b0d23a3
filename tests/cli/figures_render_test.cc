// Every figure the commands write, looked at as a person would: rendered by a real
// browser (chromium --headless --screenshot) at the size the SVG asks for, the picture
// must have that size and must not be blank (enough pixels that are not the white
// ground, reaching into its right and bottom quarters, none beyond it). With
// NABLA_KEEP_RENDERS=DIR the pictures are copied there. Skipped without chromium; the
// examples' graphs also need Graphviz's dot. Label `slow` (a browser start per figure).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "nabla/data/image.h"
#include "test_util.h"

namespace nabla {
namespace {

using Result = testing_util::CommandResult;

std::string browser() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    if (testing_util::run_command(std::string("command -v ") + name + " >/dev/null").status == 0) {
      return name;
    }
  }
  return "";
}

// The size the SVG document asks for, in CSS pixels (points are 4/3 of a pixel).
std::pair<int, int> svg_size(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  const std::string text = s.str();
  std::smatch m;
  const std::string head = text.substr(text.find("<svg"), 400);
  auto length = [&](const char* attribute) {
    std::regex re(std::string(attribute) + "=['\"]([0-9.]+)(pt|px)?['\"]");
    if (!std::regex_search(head, m, re)) return 0;
    const double v = std::stod(m[1]) * (m[2] == "pt" ? 4.0 / 3.0 : 1.0);
    return static_cast<int>(std::ceil(v));
  };
  return {length("width"), length("height")};
}

// Renders `svg` and checks the picture. The browser's window is 200 pixels wider and
// taller than the figure (a small headless window clips its page): the figure must fill
// its own width and height (ink in its right and bottom quarters) and nothing may lie
// beyond them.
void expect_rendered(const std::string& chromium, const std::filesystem::path& svg) {
  SCOPED_TRACE(svg.string());
  ASSERT_TRUE(std::filesystem::exists(svg));
  const auto [width, height] = svg_size(svg);
  ASSERT_GT(width, 0);
  ASSERT_GT(height, 0);
  constexpr int kMargin = 200;
  const std::filesystem::path png = svg.string() + ".png";
  const Result r = testing_util::run_command(
      chromium + " --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run" +
      " --user-data-dir=" + (svg.parent_path() / ".chromium").string() +
      " --window-size=" + std::to_string(width + kMargin) + "," +
      std::to_string(height + kMargin) + " --screenshot=" + png.string() + " file://" +
      std::filesystem::absolute(svg).string());
  ASSERT_TRUE(std::filesystem::exists(png)) << r.out;
  const GrayImage image = read_image(png.string());
  ASSERT_EQ(image.width, width + kMargin);
  ASSERT_EQ(image.height, height + kMargin);
  std::int64_t ink = 0, right = 0, bottom = 0, beyond = 0;
  for (std::int64_t y = 0; y < image.height; ++y) {
    for (std::int64_t x = 0; x < image.width; ++x) {
      if (image.pixels[static_cast<std::size_t>(y * image.width + x)] > 235) continue;
      if (x >= width || y >= height) {
        ++beyond;
        continue;
      }
      ++ink;
      right += x >= width * 3 / 4;
      bottom += y >= height * 3 / 4;
    }
  }
  const double share = static_cast<double>(ink) / static_cast<double>(width * height);
  EXPECT_GT(share, 0.005) << "a blank picture: " << png;
  EXPECT_GT(right, 0) << "nothing in the right quarter: " << png;
  EXPECT_GT(bottom, 0) << "nothing in the bottom quarter: " << png;
  EXPECT_EQ(beyond, 0) << "drawn beyond the figure's " << width << " x " << height << ": " << png;
  if (const char* keep = std::getenv("NABLA_KEEP_RENDERS")) {  // to look at them
    std::filesystem::copy_file(png, std::filesystem::path(keep) / png.filename(),
                               std::filesystem::copy_options::overwrite_existing);
  }
}

class FiguresRender : public testing_util::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    chromium_ = browser();
    if (chromium_.empty()) GTEST_SKIP() << "chromium not found: the figures are not rendered";
  }
  std::string chromium_;
};

TEST_F(FiguresRender, TheCommandsFiguresAreNotBlank) {
  testing_util::write_small_mnist(dir_ / "mnist", 60, 20);
  const std::string data = " --data " + (dir_ / "mnist").string();
  const std::filesystem::path run = dir_ / "run";
  ASSERT_EQ(testing_util::run_nabla("train --model linear --loss svm --iters 1200 --batch 20" +
                                    data + " --out " + run.string())
                .status,
            0);
  ASSERT_EQ(testing_util::run_nabla("landscape --model " + (run / "model.safetensors").string() +
                                    data + " --size 40 --points 11")
                .status,
            0);
  ASSERT_EQ(testing_util::run_nabla("knn --k 1,3,5,9" + data + " --out " + run.string()).status,
            0);
  ASSERT_EQ(testing_util::run_nabla("optimizers --out " + run.string()).status, 0);
  for (const char* figure :
       {"curves.svg", "templates.svg", "landscape.svg", "knn_cv.svg", "optimizers.svg"}) {
    expect_rendered(chromium_, run / figure);
  }
}

TEST_F(FiguresRender, EveryExamplesGraphIsNotBlank) {
  if (testing_util::run_command("command -v dot >/dev/null").status != 0) {
    GTEST_SKIP() << "Graphviz's dot not found: the graphs are not drawn";
  }
  const Result list = testing_util::run_nabla("example --list");
  ASSERT_EQ(list.status, 0);
  std::stringstream lines(list.out);
  std::string line;
  while (std::getline(lines, line)) {
    const std::string name = line.substr(0, line.find(' '));
    if (name.empty()) continue;
    const std::filesystem::path svg = dir_ / (name + ".svg");
    const Result r = testing_util::run_nabla("example " + name + " --dot " + svg.string());
    ASSERT_EQ(r.status, 0) << name << ": " << r.out;
    expect_rendered(chromium_, svg);
  }
}

}  // namespace
}  // namespace nabla
