// nabla/train/augment.h — data augmentation for image models: each training batch's images
// moved by a few pixels at random, so that a model learns that a digit moved is the same
// digit (the usual cure for a CNN that has learnt its training images' positions).
//
//   Augmentation a = parse_augmentation("shift:2");   // up to 2 pixels each way
//   Rng rng(seed);
//   std::vector<PixelShift> shifts = a.draw(batch_size, rng);
//   shift_images(x, shifts, out);                      // x, out: (B, C, H, W)
//   shift_images(rows, {1, 28, 28}, shifts, pixels);   // sparse pixel rows, the same
//
// The Trainer applies it (TrainConfig::augment) to the batches it trains on, never to an
// evaluation's, drawing from a random stream of its own that checkpoints keep: a run is
// reproducible from its seed, and a resumed one continues exactly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/sparse_pixels.h"
#include "nabla/core/tensor.h"
#include "nabla/ops/sparse.h"

NABLA_API_BEGIN
namespace nabla {

// How far one image moves: down by dy rows and right by dx columns (negative: up, left).
struct PixelShift {
  std::int64_t dy = 0, dx = 0;
  bool operator==(const PixelShift&) const = default;
};

struct Augmentation {
  std::int64_t max_shift = 0;  // shift:N: dy and dx each uniform in [-N, N]; 0: none

  bool any() const { return max_shift > 0; }
  // One shift an image, dy then dx drawn from rng for each in turn.
  std::vector<PixelShift> draw(std::int64_t images, Rng& rng) const;
  // The text parse_augmentation reads: "" (none) or "shift:2".
  std::string text() const;
};

// "" or "none": no augmentation; "shift:N" with N in [1, 8]. ValueError naming the text
// and the forms it may take for anything else.
Augmentation parse_augmentation(const std::string& text);

// out[b, c, y, x] = x[b, c, y - dy_b, x - dx_b], zero where that falls outside the image:
// each image of x (B, C, H, W) float32 moved by its shift, its channels together. `out` is
// resized to x's shape. ShapeError naming the op for an x not of rank 4 or shifts not one
// an image.
void shift_images(const Tensor& x, const std::vector<PixelShift>& shifts, Tensor& out);

// The same for images as sparse pixel rows (ops/sparse.h; MNIST's for an MLP), each row
// an image of shape `image` (C, H, W) flattened: `out` becomes the rows of x in order
// (storage reused), row i's non-zero pixels moved by shifts[i], index c*H*W + y*W + x to
// c*H*W + (y + dy)*W + (x + dx), dropped where that falls outside. Densified, exactly
// shift_images of x densified. ShapeError naming the op for an image shape that is not
// (C, H, W) of x's columns, or shifts not one a row.
void shift_images(const SparseBatch& x, const Shape& image, const std::vector<PixelShift>& shifts,
                  SparsePixels& out);

}  // namespace nabla
NABLA_API_END
