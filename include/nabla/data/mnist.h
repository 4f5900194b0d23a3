// nabla/mnist.h — the MNIST data set, batches drawn from it, and where it lives on disk.
//
//   std::string dir = resolve_data_dir(data_flag);     // --data, $NABLA_DATA, data/mnist
//   Mnist mnist = load_mnist(dir);                      // 60,000 train, 10,000 test
//   BatchSampler sampler(mnist.train.size, 100, Sampling::with_replacement);
//   Rng rng(42);
//   std::vector<std::int64_t> indices, t;
//   Tensor x;                                           // reused: no allocation per step
//   for (int i = 0; i < 10000; ++i) {
//     sampler.next(rng, indices);                       // np.random.choice(60000, 100)
//     gather_batch(mnist.train, indices, x, t);         // x (100, 784) in [0, 1], t labels
//     ...
//   }
//
// Images stay uint8 in memory (47 MB for the training set instead of 188 MB as float32)
// and are scaled to [0, 1] only when a batch is formed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nabla/core/export.h"
#include "nabla/core/sparse_pixels.h"
#include "nabla/core/tensor.h"
#include "nabla/data/idx.h"

NABLA_API_BEGIN
namespace nabla {

struct Dataset {
  std::int64_t size = 0;        // number of samples
  std::int64_t features = 784;  // pixels per image (rows * cols)
  std::int64_t classes = 10;
  ByteBuffer images;  // (size, features), row-major, 0..255
  ByteBuffer labels;  // (size), each in [0, classes)
};

struct Mnist {
  Dataset train;  // train-images-idx3-ubyte, train-labels-idx1-ubyte
  Dataset test;   // t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte
};

// The data directory: the --data flag if given, else $NABLA_DATA if set and not empty,
// else "data/mnist" (relative to the working directory; scripts/fetch_mnist.sh fills it).
std::string resolve_data_dir(const std::optional<std::string>& flag);

// Reads the four standard MNIST files from dir, each either plain or with ".gz" added.
// Throws DataError for a missing directory or file (saying how to fetch the data), a
// bad IDX file, image and label counts that differ, or a label >= 10.
Mnist load_mnist(const std::string& dir);

// One of the two splits alone (`nabla eval` needs only the test files), checked the same.
enum class MnistSplit { train, test };
Dataset load_mnist_split(const std::string& dir, MnistSplit split);

// One split from an images file (N, rows, cols) and a labels file (N), checked as above.
Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path,
                         std::int64_t classes = 10);

// The batch of the given sample indices: x becomes (B, features), pixels / 255 in x's
// dtype (float32 if x is undefined), t the B labels. Both reuse their storage, so a loop
// with a fixed batch size allocates only on its first call. Throws ValueError for an
// index outside [0, size).
void gather_batch(const Dataset& data, const std::vector<std::int64_t>& indices, Tensor& x,
                  std::vector<std::int64_t>& t);

// Samples [begin, begin + count) as a (count, features) tensor scaled to [0, 1], and
// their labels (for evaluation on a whole split, in chunks).
Tensor images_as_tensor(const Dataset& data, std::int64_t begin, std::int64_t count,
                        DType dtype = DType::f32);
std::vector<std::int64_t> labels_as_vector(const Dataset& data, std::int64_t begin,
                                           std::int64_t count);

enum class Sampling {
  // Each index drawn uniformly and independently (the textbook's
  // np.random.choice(train_size, batch_size)): a batch may repeat a sample.
  with_replacement,
  // A fresh random permutation per epoch, consumed batch by batch: every sample once per
  // epoch. The last batch of an epoch is smaller when batch_size does not divide size.
  shuffled_epochs,
};

// Draws batches of sample indices from an Rng passed to each call, so the whole stream
// is reproducible from the Rng's seed. state() / restore() save and resume the position
// (and the current permutation) for checkpoints.
class BatchSampler {
 public:
  BatchSampler(std::int64_t dataset_size, std::int64_t batch_size, Sampling mode);

  // Fills indices with the next batch (resized, so its storage is reused).
  void next(Rng& rng, std::vector<std::int64_t>& indices);

  Sampling mode() const { return mode_; }
  std::int64_t dataset_size() const { return size_; }
  std::int64_t batch_size() const { return batch_; }
  // Batches per epoch: ceil(size / batch) when shuffled; max(size / batch, 1) with
  // replacement, as the textbook counts iter_per_epoch.
  std::int64_t batches_per_epoch() const;
  // Batches drawn so far, and the epochs they complete.
  std::int64_t batches_drawn() const { return drawn_; }
  std::int64_t epoch() const { return drawn_ / batches_per_epoch(); }

  // The sampler's state as text: "shuffled_epochs SIZE BATCH DRAWN POSITION P0 P1 ..."
  // (no permutation with replacement). Together with Rng::state() it resumes a run
  // exactly.
  std::string state() const;
  // Reads state() back; throws ValueError if it is malformed or was written by a sampler
  // of another mode, size or batch size.
  void restore(const std::string& state);

 private:
  Sampling mode_;
  std::int64_t size_;
  std::int64_t batch_;
  std::int64_t drawn_ = 0;
  std::int64_t position_ = 0;              // next unused entry of permutation_
  std::vector<std::int64_t> permutation_;  // empty until the first shuffled batch
};

const char* sampling_name(Sampling mode);

// All images of a dataset as sparse pixels, scaled to [0, 1].
SparsePixels sparse_pixels(const Dataset& data);
// The images of an IDX file (N, rows, cols), plain or gzip, straight into sparse pixels: a
// plain file from a mapping of it (read_idx_rows), a gzip one a block at a time; the
// dense pixels are never copied into memory of their own. The same checks and errors as
// read_idx. With current workers (detail/workers.h), the rows are compressed in parts at once.
SparsePixels read_idx_sparse(const std::string& path, float scale);

// MNIST as training reads it: the images as sparse pixels, scaled to [0, 1], and the
// labels. load_mnist_sparse reads it straight from the files, never holding the dense
// images (55 MB less to fault in and keep); from() converts a dense Mnist.
struct SparseMnist {
  SparsePixels train_images, test_images;
  ByteBuffer train_labels, test_labels;
  std::int64_t classes = 10;

  static SparseMnist from(const Mnist& mnist);
};

// The same files, checks and errors as load_mnist. With current workers (detail/workers.h), each
// file's rows are compressed in parts at once.
SparseMnist load_mnist_sparse(const std::string& dir);

}  // namespace nabla
NABLA_API_END
