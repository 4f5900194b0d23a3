#include "nabla/image.h"

#include <png.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>

#include "nabla/idx.h"  // DataError

namespace nabla {

namespace {

// Reads the next whitespace-separated number of a PGM header, skipping # comments.
std::int64_t pgm_number(const std::string& path, const std::string& bytes, std::size_t& pos) {
  while (pos < bytes.size()) {
    if (bytes[pos] == '#') {
      while (pos < bytes.size() && bytes[pos] != '\n') ++pos;
    } else if (std::isspace(static_cast<unsigned char>(bytes[pos]))) {
      ++pos;
    } else {
      break;
    }
  }
  std::size_t start = pos;
  std::int64_t v = 0;
  while (pos < bytes.size() && std::isdigit(static_cast<unsigned char>(bytes[pos]))) {
    v = v * 10 + (bytes[pos] - '0');
    if (v > 1'000'000) throw DataError(path + ": PGM header number too large at byte " + std::to_string(start));
    ++pos;
  }
  if (pos == start) throw DataError(path + ": malformed PGM header at byte " + std::to_string(start));
  return v;
}

GrayImage read_pgm(const std::string& path, const std::string& bytes) {
  bool binary = bytes[1] == '5';
  std::size_t pos = 2;
  GrayImage img;
  img.width = pgm_number(path, bytes, pos);
  img.height = pgm_number(path, bytes, pos);
  std::int64_t maxval = pgm_number(path, bytes, pos);
  if (img.width < 1 || img.height < 1 || maxval < 1 || maxval > 65535) {
    throw DataError(path + ": PGM size " + std::to_string(img.width) + "x" +
                    std::to_string(img.height) + " or maxval " + std::to_string(maxval) +
                    " out of range");
  }
  std::int64_t n = img.width * img.height;
  img.pixels.resize(static_cast<std::size_t>(n));
  auto scale = [&](std::int64_t v) {
    if (v > maxval) throw DataError(path + ": PGM pixel value " + std::to_string(v) + " above maxval");
    return static_cast<std::uint8_t>(v * 255 / maxval);
  };
  if (binary) {
    ++pos;  // the single whitespace after maxval
    std::int64_t bytes_per = maxval > 255 ? 2 : 1;
    if (static_cast<std::int64_t>(bytes.size() - std::min(pos, bytes.size())) < n * bytes_per) {
      throw DataError(path + ": truncated PGM: expected " + std::to_string(n * bytes_per) +
                      " bytes of pixels after byte " + std::to_string(pos));
    }
    for (std::int64_t i = 0; i < n; ++i) {
      std::int64_t v = static_cast<unsigned char>(bytes[pos + static_cast<std::size_t>(i * bytes_per)]);
      if (bytes_per == 2) v = v * 256 + static_cast<unsigned char>(bytes[pos + static_cast<std::size_t>(i * 2 + 1)]);
      img.pixels[static_cast<std::size_t>(i)] = scale(v);
    }
  } else {
    for (std::int64_t i = 0; i < n; ++i) img.pixels[static_cast<std::size_t>(i)] = scale(pgm_number(path, bytes, pos));
  }
  return img;
}

GrayImage read_png(const std::string& path) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (png_image_begin_read_from_file(&image, path.c_str()) == 0) {
    throw DataError(path + ": not a readable PNG (" + image.message + ")");
  }
  image.format = PNG_FORMAT_GRAY;
  GrayImage img;
  img.width = image.width;
  img.height = image.height;
  if (img.width * img.height > 64'000'000) {
    png_image_free(&image);
    throw DataError(path + ": PNG of " + std::to_string(img.width) + "x" +
                    std::to_string(img.height) + " pixels is too large");
  }
  img.pixels.resize(PNG_IMAGE_SIZE(image));
  if (png_image_finish_read(&image, nullptr, img.pixels.data(), 0, nullptr) == 0) {
    std::string message = image.message;
    png_image_free(&image);
    throw DataError(path + ": damaged PNG (" + message + ")");
  }
  return img;
}

}  // namespace

GrayImage read_image(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() >= 2 && bytes[0] == 'P' && (bytes[1] == '2' || bytes[1] == '5')) {
    return read_pgm(path, bytes);
  }
  if (bytes.size() >= 8 && static_cast<unsigned char>(bytes[0]) == 0x89 && bytes.compare(1, 3, "PNG") == 0) {
    return read_png(path);
  }
  throw DataError(path + ": not a PGM (P2/P5) or PNG image");
}

std::vector<std::uint8_t> to_mnist_pixels(const GrayImage& image, std::int64_t size,
                                          bool auto_invert) {
  // Fit the longer side to `size`, averaging the source pixels each target pixel covers.
  std::int64_t side = std::max(image.width, image.height);
  double step = side > size ? static_cast<double>(side) / static_cast<double>(size) : 1.0;
  std::int64_t w = std::min<std::int64_t>(size, static_cast<std::int64_t>(static_cast<double>(image.width) / step));
  std::int64_t h = std::min<std::int64_t>(size, static_cast<std::int64_t>(static_cast<double>(image.height) / step));
  w = std::max<std::int64_t>(w, 1);
  h = std::max<std::int64_t>(h, 1);
  // Is the picture dark on light? Look at its border.
  double border = 0;
  std::int64_t count = 0;
  for (std::int64_t x = 0; x < image.width; ++x) {
    border += image.pixels[static_cast<std::size_t>(x)] +
              image.pixels[static_cast<std::size_t>((image.height - 1) * image.width + x)];
    count += 2;
  }
  bool invert = auto_invert && border / static_cast<double>(count) > 127;
  std::vector<std::uint8_t> out(static_cast<std::size_t>(size * size), 0);
  std::int64_t ox = (size - w) / 2, oy = (size - h) / 2;
  for (std::int64_t y = 0; y < h; ++y) {
    for (std::int64_t x = 0; x < w; ++x) {
      auto y0 = static_cast<std::int64_t>(static_cast<double>(y) * step);
      auto y1 = std::max(y0 + 1, static_cast<std::int64_t>(static_cast<double>(y + 1) * step));
      auto x0 = static_cast<std::int64_t>(static_cast<double>(x) * step);
      auto x1 = std::max(x0 + 1, static_cast<std::int64_t>(static_cast<double>(x + 1) * step));
      double sum = 0;
      std::int64_t n = 0;
      for (std::int64_t sy = y0; sy < std::min(y1, image.height); ++sy)
        for (std::int64_t sx = x0; sx < std::min(x1, image.width); ++sx, ++n)
          sum += image.pixels[static_cast<std::size_t>(sy * image.width + sx)];
      double v = n > 0 ? sum / static_cast<double>(n) : 0;
      if (invert) v = 255 - v;
      out[static_cast<std::size_t>((oy + y) * size + ox + x)] = static_cast<std::uint8_t>(v + 0.5);
    }
  }
  return out;
}

}  // namespace nabla
