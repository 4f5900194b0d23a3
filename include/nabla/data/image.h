// nabla/image.h — reading a picture of a digit for `nabla predict`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/tensor.h"  // DataError

NABLA_API_BEGIN
namespace nabla {

struct GrayImage {
  std::int64_t width = 0, height = 0;
  std::vector<std::uint8_t> pixels;  // row-major, 0 = black, 255 = white
};

// Reads a PGM (P2 or P5, maxval up to 255 or 65535, scaled to 0..255) or PNG (any
// colour type; converted to gray) file of at most 64 million pixels. Throws DataError
// naming the file and what is wrong: "digit.pgm: truncated PGM: expected 784 bytes of
// pixels after byte 15, got 9"; a path that is not a regular file (a directory, a device
// such as /dev/zero, a FIFO) or a file over 512 MiB is refused before it is read.
GrayImage read_image(const std::string& path);

// The image as MNIST sees a digit: `size` x `size`, white strokes on black. A larger
// image is shrunk so that its longer side is `size` pixels, each the average of the
// box of source pixels it covers; a smaller one is not enlarged. Either is centred on
// black. With `auto_invert`, a picture whose border (the four edges) is mostly light
// (mean above 127) is taken as dark-on-light and inverted. Throws ValueError if
// pixels.size() is not width * height.
std::vector<std::uint8_t> to_mnist_pixels(const GrayImage& image, std::int64_t size = 28,
                                          bool auto_invert = true);

}  // namespace nabla
NABLA_API_END
