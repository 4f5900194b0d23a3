// Data augmentation for image batches (see nabla/train/augment.h).
#include "nabla/train/augment.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace nabla {

namespace {

constexpr std::int64_t kMaxShift = 8;

}  // namespace

std::vector<PixelShift> Augmentation::draw(std::int64_t images, Rng& rng) const {
  std::vector<PixelShift> shifts(static_cast<std::size_t>(images));
  if (!any()) return shifts;
  const std::int64_t span = 2 * max_shift + 1;
  for (PixelShift& s : shifts) {
    s.dy = rng.below(span) - max_shift;
    s.dx = rng.below(span) - max_shift;
  }
  return shifts;
}

std::string Augmentation::text() const { return any() ? "shift:" + std::to_string(max_shift) : ""; }

Augmentation parse_augmentation(const std::string& text) {
  Augmentation a;
  if (text.empty() || text == "none") return a;
  long long n = 0;
  int used = 0;
  if (std::sscanf(text.c_str(), "shift:%lld%n", &n, &used) == 1 &&
      used == static_cast<int>(text.size()) && n >= 1 && n <= kMaxShift) {
    a.max_shift = n;
    return a;
  }
  throw ValueError("augmentation '" + text + "' is not one nabla knows; the forms are none and " +
                   "shift:N (random moves of up to N pixels each way, N from 1 to " +
                   std::to_string(kMaxShift) + ")");
}

void shift_images(const Tensor& x, const std::vector<PixelShift>& shifts, Tensor& out) {
  const char* op = "shift_images";
  if (x.rank() != 4 || x.dtype() != DType::f32) {
    throw ShapeError(std::string(op) + ": images " + dtype_name(x.dtype()) + " " +
                     shape_str(x.shape()) + ", expected float32 (B, C, H, W)");
  }
  const std::int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  if (static_cast<std::int64_t>(shifts.size()) != b) {
    throw ShapeError(std::string(op) + ": " + std::to_string(shifts.size()) +
                     " shifts for a batch of " + std::to_string(b) + " images " +
                     shape_str(x.shape()));
  }
  out.resize(x.shape(), DType::f32);
  const float* in = x.data<float>();
  float* o = out.data<float>();
  std::fill(o, o + x.numel(), 0.0f);
  for (std::int64_t i = 0; i < b; ++i) {
    const PixelShift s = shifts[static_cast<std::size_t>(i)];
    // the columns of an output row that come from inside the image: x - dx in [0, w)
    const std::int64_t x0 = std::clamp<std::int64_t>(s.dx, 0, w);
    const std::int64_t x1 = std::clamp<std::int64_t>(w + s.dx, 0, w);
    for (std::int64_t ch = 0; ch < c; ++ch) {
      const float* plane = in + (i * c + ch) * h * w;
      float* dst = o + (i * c + ch) * h * w;
      for (std::int64_t y = 0; y < h; ++y) {
        const std::int64_t from = y - s.dy;
        if (from < 0 || from >= h || x1 <= x0) continue;
        std::memcpy(dst + y * w + x0, plane + from * w + (x0 - s.dx),
                    static_cast<std::size_t>(x1 - x0) * sizeof(float));
      }
    }
  }
}

void shift_images(const SparseBatch& x, const Shape& image, const std::vector<PixelShift>& shifts,
                  SparsePixels& out) {
  const char* op = "shift_images";
  const SparsePixels& pixels = *x.pixels;
  if (image.size() != 3 || image[0] * image[1] * image[2] != pixels.cols()) {
    throw ShapeError(std::string(op) + ": images " + shape_str(image) + " in rows of " +
                     std::to_string(pixels.cols()) + " pixels, expected (C, H, W) of as many");
  }
  if (static_cast<std::int64_t>(shifts.size()) != x.size()) {
    throw ShapeError(std::string(op) + ": " + std::to_string(shifts.size()) +
                     " shifts for a batch of " + std::to_string(x.size()) + " rows of images " +
                     shape_str(image));
  }
  if (out.cols() != pixels.cols() || out.scale() != pixels.scale()) {
    out = SparsePixels(pixels.cols(), pixels.scale());
  } else {
    out.clear();
  }
  const std::int64_t h = image[1], w = image[2];
  std::vector<std::uint16_t> index;  // one row's moved entries (a move keeps their order)
  std::vector<std::uint8_t> value;
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const PixelShift s = shifts[static_cast<std::size_t>(i)];
    const std::int64_t r = x.rows[static_cast<std::size_t>(i)];
    index.clear();
    value.clear();
    for (std::int64_t k = pixels.row_begin(r); k < pixels.row_begin(r + 1); ++k) {
      const std::int64_t at = pixels.index()[k];
      const std::int64_t plane = at / (h * w), y = at / w % h + s.dy, col = at % w + s.dx;
      if (y < 0 || y >= h || col < 0 || col >= w) continue;
      index.push_back(static_cast<std::uint16_t>((plane * h + y) * w + col));
      value.push_back(pixels.value()[k]);
    }
    out.append_row(index.data(), value.data(), static_cast<std::int64_t>(index.size()));
  }
}

}  // namespace nabla
