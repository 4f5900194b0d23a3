#include "nabla/data/image.h"

#include <png.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "core/input_file.h"
#include "nabla/core/tensor.h"  // ValueError
#include "nabla/data/idx.h"     // DataError

namespace nabla {

namespace {

// Reads the next whitespace-separated number of a PGM file (`what`: "width", "pixel"...),
// skipping # comments.
std::int64_t pgm_number(const std::string& path, const std::string& bytes, std::size_t& pos,
                        const char* what) {
  while (pos < bytes.size()) {
    if (bytes[pos] == '#') {
      while (pos < bytes.size() && bytes[pos] != '\n') ++pos;
    } else if (std::isspace(static_cast<unsigned char>(bytes[pos]))) {
      ++pos;
    } else {
      break;
    }
  }
  const std::size_t start = pos;
  std::int64_t v = 0;
  while (pos < bytes.size() && std::isdigit(static_cast<unsigned char>(bytes[pos]))) {
    v = v * 10 + (bytes[pos] - '0');
    if (v > 1'000'000) {
      throw DataError(path + ": PGM " + what + " too large at byte " + std::to_string(start));
    }
    ++pos;
  }
  if (pos == start) {
    throw DataError(path + ": PGM " + what + ": expected a number at byte " +
                    std::to_string(start) +
                    (start >= bytes.size() ? " (the file ends there)" : ""));
  }
  return v;
}

GrayImage read_pgm(const std::string& path, const std::string& bytes) {
  const bool binary = bytes[1] == '5';
  std::size_t pos = 2;
  GrayImage img;
  img.width = pgm_number(path, bytes, pos, "width");
  img.height = pgm_number(path, bytes, pos, "height");
  const std::int64_t maxval = pgm_number(path, bytes, pos, "maxval");
  if (img.width < 1 || img.height < 1 || img.width * img.height > 64'000'000 || maxval < 1 ||
      maxval > 65535) {
    throw DataError(path + ": PGM size " + std::to_string(img.width) + "x" +
                    std::to_string(img.height) + " or maxval " + std::to_string(maxval) +
                    " out of range");
  }
  const std::int64_t n = img.width * img.height;
  img.pixels.resize(static_cast<std::size_t>(n));
  // To 0..255, rounding to nearest.
  auto scale = [&](std::int64_t v, std::int64_t i) {
    if (v > maxval) {
      throw DataError(path + ": PGM pixel " + std::to_string(i) + " is " + std::to_string(v) +
                      ", above maxval " + std::to_string(maxval));
    }
    return static_cast<std::uint8_t>((v * 255 + maxval / 2) / maxval);
  };
  if (binary) {
    ++pos;  // the single whitespace after maxval
    // 16-bit samples are big-endian.
    const std::int64_t bytes_per = maxval > 255 ? 2 : 1;
    const auto available = static_cast<std::int64_t>(bytes.size() - std::min(pos, bytes.size()));
    if (available < n * bytes_per) {
      throw DataError(path + ": truncated PGM: expected " + std::to_string(n * bytes_per) +
                      " bytes of pixels after byte " + std::to_string(pos) + ", got " +
                      std::to_string(available));
    }
    auto byte = [&](std::int64_t k) {
      return static_cast<std::int64_t>(
          static_cast<unsigned char>(bytes[pos + static_cast<std::size_t>(k)]));
    };
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t v = bytes_per == 2 ? byte(2 * i) * 256 + byte(2 * i + 1) : byte(i);
      img.pixels[static_cast<std::size_t>(i)] = scale(v, i);
    }
  } else {
    for (std::int64_t i = 0; i < n; ++i) {
      img.pixels[static_cast<std::size_t>(i)] = scale(pgm_number(path, bytes, pos, "pixel"), i);
    }
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
  // Transparent pixels are composited onto what the buffer holds: white, as a viewer
  // shows them on a page (a dark digit on a transparent background stays visible).
  img.pixels.assign(PNG_IMAGE_SIZE(image), 255);
  if (png_image_finish_read(&image, nullptr, img.pixels.data(), 0, nullptr) == 0) {
    std::string message = image.message;
    png_image_free(&image);
    throw DataError(path + ": damaged PNG (" + message + ")");
  }
  return img;
}

}  // namespace

GrayImage read_image(const std::string& path) {
  // Read whole: only a regular file, and no larger than the largest picture read (a PGM of
  // 64 million 16-bit pixels is 128 MiB; in text, with comments, somewhat more).
  constexpr std::uintmax_t kMaxBytes = std::uintmax_t{512} << 20;
  check_regular_file(path, "a picture file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path + ": cannot open");
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) throw DataError(path + ": cannot read its size: " + ec.message());
  if (size > kMaxBytes) {
    throw DataError(path + ": " + std::to_string(size) + " bytes, more than the " +
                    std::to_string(kMaxBytes) + " (512 MiB) a picture may have");
  }
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  bytes.resize(static_cast<std::size_t>(in.gcount()));  // (a file cut short meanwhile)
  if (bytes.size() >= 2 && bytes[0] == 'P' && (bytes[1] == '2' || bytes[1] == '5')) {
    return read_pgm(path, bytes);
  }
  if (bytes.size() >= 8 && static_cast<unsigned char>(bytes[0]) == 0x89 &&
      bytes.compare(1, 3, "PNG") == 0) {
    return read_png(path);
  }
  throw DataError(path + ": not a PGM (P2/P5) or PNG image");
}

std::vector<std::uint8_t> to_mnist_pixels(const GrayImage& image, std::int64_t size,
                                          bool auto_invert) {
  const std::int64_t width = image.width, height = image.height;
  if (width < 1 || height < 1 || size < 1 ||
      static_cast<std::int64_t>(image.pixels.size()) != width * height) {
    throw ValueError("to_mnist_pixels: image of " + std::to_string(width) + "x" +
                     std::to_string(height) + " with " + std::to_string(image.pixels.size()) +
                     " pixels, or target size " + std::to_string(size) + ", is not valid");
  }
  // Fit the longer side to `size`: target pixel x covers source columns
  // [x * side / size, (x + 1) * side / size), in exact integer arithmetic so that the
  // longer side comes out exactly `size` pixels wide.
  const std::int64_t side = std::max(width, height);
  const std::int64_t scale_num = side > size ? side : 1, scale_den = side > size ? size : 1;
  auto fitted = [&](std::int64_t n) {
    return std::clamp<std::int64_t>((n * scale_den + scale_num / 2) / scale_num, 1, size);
  };
  const std::int64_t w = fitted(width), h = fitted(height);
  auto source_begin = [&](std::int64_t t) { return t * scale_num / scale_den; };

  // Is the picture dark on light? Look at its border (all four edges).
  double border = 0;
  std::int64_t count = 0;
  auto at = [&](std::int64_t x, std::int64_t y) {
    return image.pixels[static_cast<std::size_t>(y * width + x)];
  };
  for (std::int64_t x = 0; x < width; ++x) {
    border += at(x, 0) + at(x, height - 1);
    count += 2;
  }
  for (std::int64_t y = 0; y < height; ++y) {
    border += at(0, y) + at(width - 1, y);
    count += 2;
  }
  const bool invert = auto_invert && border / static_cast<double>(count) > 127;

  std::vector<std::uint8_t> out(static_cast<std::size_t>(size * size), 0);
  const std::int64_t ox = (size - w) / 2, oy = (size - h) / 2;
  for (std::int64_t y = 0; y < h; ++y) {
    const std::int64_t y0 = source_begin(y);
    const std::int64_t y1 = std::min(height, std::max(y0 + 1, source_begin(y + 1)));
    for (std::int64_t x = 0; x < w; ++x) {
      const std::int64_t x0 = source_begin(x);
      const std::int64_t x1 = std::min(width, std::max(x0 + 1, source_begin(x + 1)));
      double sum = 0;
      std::int64_t n = 0;
      for (std::int64_t sy = y0; sy < y1; ++sy) {
        for (std::int64_t sx = x0; sx < x1; ++sx, ++n) sum += at(sx, sy);
      }
      double v = n > 0 ? sum / static_cast<double>(n) : 0;
      if (invert) v = 255 - v;
      out[static_cast<std::size_t>((oy + y) * size + ox + x)] = static_cast<std::uint8_t>(v + 0.5);
    }
  }
  return out;
}

}  // namespace nabla
