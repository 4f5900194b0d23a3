// Reading digit pictures (PGM, PNG) and turning them into MNIST's 28 x 28 white-on-black.
#include "nabla/data/image.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <png.h>

#include <filesystem>
#include <fstream>

#include "nabla/core/tensor.h"  // ValueError
#include "nabla/data/idx.h"     // DataError
#include "test_util.h"

namespace nabla {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ImageFiles : public testing_util::TempDirTest {
 protected:
  std::string write(const std::string& name, const std::string& bytes) const {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  // A PNG written with libpng's simplified API; `format` e.g. PNG_FORMAT_GRAY.
  std::string write_png(const std::string& name, std::uint32_t width, std::uint32_t height,
                        std::uint32_t format, const std::vector<std::uint8_t>& pixels) const {
    std::string path = (dir_ / name).string();
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    image.width = width;
    image.height = height;
    image.format = format;
    EXPECT_EQ(PNG_IMAGE_SIZE(image), pixels.size());
    EXPECT_NE(png_image_write_to_file(&image, path.c_str(), 0, pixels.data(), 0, nullptr), 0)
        << image.message;
    return path;
  }
};

std::string data_error(const std::string& path) {
  try {
    read_image(path);
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no exception)";
}

// ---- PGM ----------------------------------------------------------------------------

TEST_F(ImageFiles, PlainPgm) {
  std::string path = write("a.pgm", "P2\n# a comment\n3 2\n255\n0 128 255\n 10 20\t30\n");
  GrayImage img = read_image(path);
  EXPECT_EQ(img.width, 3);
  EXPECT_EQ(img.height, 2);
  EXPECT_EQ(img.pixels, (std::vector<std::uint8_t>{0, 128, 255, 10, 20, 30}));
}

TEST_F(ImageFiles, PlainPgmWithSmallMaxval) {
  // maxval 15: v * 255 / 15, rounded.
  GrayImage img = read_image(write("a.pgm", "P2 2 2 15 0 1 8 15"));
  EXPECT_EQ(img.pixels, (std::vector<std::uint8_t>{0, 17, 136, 255}));
}

TEST_F(ImageFiles, BinaryPgm8Bit) {
  std::string bytes = "P5\n2 2\n255\n";
  bytes += std::string{'\x00', '\x7f', '\x80', '\xff'};
  GrayImage img = read_image(write("a.pgm", bytes));
  EXPECT_EQ(img.width, 2);
  EXPECT_EQ(img.height, 2);
  EXPECT_EQ(img.pixels, (std::vector<std::uint8_t>{0, 127, 128, 255}));
}

TEST_F(ImageFiles, BinaryPgm16Bit) {
  // Big-endian 16-bit samples, scaled from 0..65535 to 0..255 and rounded.
  std::string bytes = "P5 4 1 65535\n";
  bytes += std::string{'\x00', '\x00', '\xff', '\xff', '\x80', '\x00', '\x01', '\x01'};
  GrayImage img = read_image(write("a.pgm", bytes));
  EXPECT_EQ(img.width, 4);
  EXPECT_EQ(img.height, 1);
  EXPECT_EQ(img.pixels, (std::vector<std::uint8_t>{0, 255, 128, 1}));
}

TEST_F(ImageFiles, PgmErrors) {
  std::string path = write("short.pgm", "P5\n4 4\n255\n" + std::string(9, '\x10'));
  EXPECT_EQ(data_error(path),
            path + ": truncated PGM: expected 16 bytes of pixels after byte 11, got 9");

  path = write("short.pgm", "P2 2 2 255 1 2 3");
  EXPECT_EQ(data_error(path),
            path + ": PGM pixel: expected a number at byte 16 (the file ends there)");

  path = write("header.pgm", "P5\n4 x\n255\n");
  EXPECT_EQ(data_error(path), path + ": PGM height: expected a number at byte 5");

  path = write("zero.pgm", "P5 0 4 255\n");
  EXPECT_EQ(data_error(path), path + ": PGM size 0x4 or maxval 255 out of range");

  path = write("maxval.pgm", "P5 1 1 70000\n\x01\x01");
  EXPECT_EQ(data_error(path), path + ": PGM size 1x1 or maxval 70000 out of range");

  path = write("huge.pgm", "P5 99999999 1 255\n");
  EXPECT_EQ(data_error(path), path + ": PGM width too large at byte 3");

  path = write("bright.pgm", "P2 2 1 100 50 101");
  EXPECT_EQ(data_error(path), path + ": PGM pixel 1 is 101, above maxval 100");
}

TEST_F(ImageFiles, NotAnImage) {
  std::string path = write("notes.txt", "hello, world\n");
  EXPECT_EQ(data_error(path), path + ": not a PGM (P2/P5) or PNG image");
  path = write("p6.ppm", "P6 1 1 255\n\x01\x02\x03");
  EXPECT_EQ(data_error(path), path + ": not a PGM (P2/P5) or PNG image");
  path = write("empty.pgm", "");
  EXPECT_EQ(data_error(path), path + ": not a PGM (P2/P5) or PNG image");
  path = (dir_ / "missing.png").string();
  EXPECT_EQ(data_error(path), path + ": cannot open");
}

// A picture is read whole, so only a regular file of bounded size is read: a device
// (/dev/zero never ends), a directory or a FIFO is refused by what it is, and a file
// larger than any picture nabla reads is refused by its size, before a byte is read.
TEST_F(ImageFiles, OnlyRegularFilesOfAPictureSizeAreRead) {
  EXPECT_EQ(data_error("/dev/zero"), "/dev/zero: is a device, not a picture file");
  EXPECT_EQ(data_error("/dev/null"), "/dev/null: is a device, not a picture file");
  EXPECT_EQ(data_error(dir_.string()), dir_.string() + ": is a directory, not a picture file");
  const std::string path = write("huge.pgm", "P5 8000 8000 65535\n");
  fs::resize_file(path, (std::uintmax_t{512} << 20) + 1);  // sparse: no disk used
  EXPECT_EQ(data_error(path), path +
                                  ": 536870913 bytes, more than the 536870912 (512 MiB) a "
                                  "picture may have");
}

// ---- PNG ----------------------------------------------------------------------------

TEST_F(ImageFiles, GrayPng) {
  std::vector<std::uint8_t> pixels = {0, 1, 2, 100, 200, 255};
  GrayImage img = read_image(write_png("a.png", 3, 2, PNG_FORMAT_GRAY, pixels));
  EXPECT_EQ(img.width, 3);
  EXPECT_EQ(img.height, 2);
  EXPECT_EQ(img.pixels, pixels);
}

TEST_F(ImageFiles, ColourPngBecomesGray) {
  // Gray colours (R = G = B) keep their value.
  std::vector<std::uint8_t> rgb = {0, 0, 0, 255, 255, 255, 77, 77, 77, 200, 200, 200};
  GrayImage img = read_image(write_png("rgb.png", 2, 2, PNG_FORMAT_RGB, rgb));
  EXPECT_EQ(img.pixels, (std::vector<std::uint8_t>{0, 255, 77, 200}));
}

TEST_F(ImageFiles, TransparentPngIsShownOnWhite) {
  // A black stroke on a transparent background, as drawing programs save it: the
  // transparent part reads as white, so the picture is dark on light.
  std::vector<std::uint8_t> gray_alpha = {0, 0, 0, 255, 0, 0,  //
                                          0, 0, 0, 255, 0, 0};
  GrayImage img = read_image(write_png("ga.png", 3, 2, PNG_FORMAT_GA, gray_alpha));
  EXPECT_EQ(img.pixels, (std::vector<std::uint8_t>{255, 0, 255, 255, 0, 255}));
}

TEST_F(ImageFiles, DamagedPng) {
  std::vector<std::uint8_t> pixels(64 * 64);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 7);
  std::string path = write_png("a.png", 64, 64, PNG_FORMAT_GRAY, pixels);
  fs::resize_file(path, fs::file_size(path) / 2);
  EXPECT_THAT(data_error(path), HasSubstr(path + ": damaged PNG ("));

  // The signature, then nothing useful.
  path = write("sig.png", std::string("\x89PNG\r\n\x1a\n", 8) + "garbage");
  EXPECT_THAT(data_error(path), HasSubstr(path + ": not a readable PNG ("));
}

// ---- to MNIST's 28 x 28 -------------------------------------------------------------

GrayImage image_of(std::int64_t width, std::int64_t height, std::uint8_t fill = 0) {
  return GrayImage{width, height,
                   std::vector<std::uint8_t>(static_cast<std::size_t>(width * height), fill)};
}

TEST(ToMnistPixels, SameSizeIsIdentity) {
  GrayImage img = image_of(28, 28);
  for (std::int64_t y = 1; y < 27; ++y) {
    for (std::int64_t x = 1; x < 27; ++x) {
      img.pixels[static_cast<std::size_t>(y * 28 + x)] = static_cast<std::uint8_t>(x * 9 + y);
    }
  }
  EXPECT_EQ(to_mnist_pixels(img), img.pixels);
}

TEST(ToMnistPixels, LargerImageIsBoxAveraged) {
  // 56 x 56: each output pixel is the rounded mean of a 2 x 2 block.
  GrayImage img = image_of(56, 56);
  auto set = [&](std::int64_t x, std::int64_t y, std::uint8_t v) {
    img.pixels[static_cast<std::size_t>(y * 56 + x)] = v;
  };
  set(10, 20, 10);  // block (5, 10): 10, 20, 30, 41 -> 25.25 -> 25
  set(11, 20, 20);
  set(10, 21, 30);
  set(11, 21, 41);
  set(30, 30, 255);  // block (15, 15): 255, 255, 255, 0 -> 191.25 -> 191
  set(31, 30, 255);
  set(30, 31, 255);
  set(41, 7, 2);  // block (20, 3): 2, 0, 0, 0 -> 0.5 -> 1 (rounded half up)
  std::vector<std::uint8_t> out = to_mnist_pixels(img);
  ASSERT_EQ(out.size(), 784u);
  std::vector<std::uint8_t> expected(784, 0);
  expected[10 * 28 + 5] = 25;
  expected[15 * 28 + 15] = 191;
  expected[3 * 28 + 20] = 1;
  EXPECT_EQ(out, expected);
}

TEST(ToMnistPixels, AnyLargerSizeFillsTheSquare) {
  // Sizes that are not multiples of 28 still give all 28 x 28 pixels (no black seam).
  for (std::int64_t side : {29, 36, 58, 100, 123, 500}) {
    std::vector<std::uint8_t> out = to_mnist_pixels(image_of(side, side, 90), 28, false);
    EXPECT_EQ(out, std::vector<std::uint8_t>(784, 90)) << side << " x " << side;
  }
}

TEST(ToMnistPixels, WideImageKeepsItsAspect) {
  // 56 x 28 -> 28 x 14, centred vertically: rows 7 to 20.
  std::vector<std::uint8_t> out = to_mnist_pixels(image_of(56, 28, 60), 28, false);
  for (std::int64_t y = 0; y < 28; ++y) {
    std::uint8_t expected = y >= 7 && y < 21 ? 60 : 0;
    for (std::int64_t x = 0; x < 28; ++x) {
      ASSERT_EQ(out[static_cast<std::size_t>(y * 28 + x)], expected) << x << ", " << y;
    }
  }
}

TEST(ToMnistPixels, SmallerImageIsCentred) {
  // 10 x 10 lands at (9..18, 9..18), unscaled; the rest is black.
  GrayImage img = image_of(10, 10);
  for (std::size_t i = 0; i < img.pixels.size(); ++i) {
    img.pixels[i] = static_cast<std::uint8_t>(i);
  }
  std::vector<std::uint8_t> out = to_mnist_pixels(img);
  for (std::int64_t y = 0; y < 28; ++y) {
    for (std::int64_t x = 0; x < 28; ++x) {
      bool inside = x >= 9 && x < 19 && y >= 9 && y < 19;
      std::uint8_t expected =
          inside ? static_cast<std::uint8_t>((y - 9) * 10 + (x - 9)) : std::uint8_t{0};
      ASSERT_EQ(out[static_cast<std::size_t>(y * 28 + x)], expected) << x << ", " << y;
    }
  }
}

TEST(ToMnistPixels, DarkOnLightIsInverted) {
  // A black vertical stroke on white paper becomes a white stroke on black.
  GrayImage paper = image_of(28, 28, 255);
  for (std::int64_t y = 4; y < 24; ++y) paper.pixels[static_cast<std::size_t>(y * 28 + 14)] = 0;
  std::vector<std::uint8_t> out = to_mnist_pixels(paper);
  for (std::int64_t y = 0; y < 28; ++y) {
    for (std::int64_t x = 0; x < 28; ++x) {
      std::uint8_t expected = x == 14 && y >= 4 && y < 24 ? 255 : 0;
      ASSERT_EQ(out[static_cast<std::size_t>(y * 28 + x)], expected) << x << ", " << y;
    }
  }
  // Without auto_invert it is left alone.
  EXPECT_EQ(to_mnist_pixels(paper, 28, false), paper.pixels);
  // A light border on the left and right edges only counts too.
  GrayImage sides = image_of(28, 28, 0);
  for (std::int64_t y = 0; y < 28; ++y) {
    for (std::int64_t x : {0, 1, 26, 27}) sides.pixels[static_cast<std::size_t>(y * 28 + x)] = 255;
  }
  // Edge pixels: 28 + 28 (left, right) + 4 + 4 (top, bottom) of 112 are white.
  EXPECT_EQ(to_mnist_pixels(sides)[14 * 28 + 14], 255);
}

TEST(ToMnistPixels, InconsistentImage) {
  GrayImage bad{3, 3, std::vector<std::uint8_t>(8)};
  EXPECT_THROW(to_mnist_pixels(bad), ValueError);
  EXPECT_THROW(to_mnist_pixels(GrayImage{}), ValueError);
}

}  // namespace
}  // namespace nabla
