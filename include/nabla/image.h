// nabla/image.h — reading a picture of a digit for `nabla predict`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nabla {

struct GrayImage {
  std::int64_t width = 0, height = 0;
  std::vector<std::uint8_t> pixels;  // row-major, 0 = black, 255 = white
};

// Reads a PGM (P2 or P5, maxval up to 255 or 65535) or PNG (any colour type; converted
// to gray) file. Throws DataError naming the file and what is wrong.
GrayImage read_image(const std::string& path);

// The image as MNIST sees a digit: `size` x `size` (box-averaged when larger, centred
// on black when smaller), white strokes on black. `invert` flips dark-on-light
// pictures; with `auto_invert` it flips when the border is mostly light.
std::vector<std::uint8_t> to_mnist_pixels(const GrayImage& image, std::int64_t size = 28,
                                          bool auto_invert = true);

}  // namespace nabla
