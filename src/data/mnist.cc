#include "nabla/data/mnist.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <sstream>

namespace nabla {
namespace {

namespace fs = std::filesystem;

std::string fetch_hint(const std::string& dir) {
  return "fetch MNIST with: scripts/fetch_mnist.sh " + dir +
         " (or point --data DIR or $NABLA_DATA at a directory that has it)";
}

// dir/stem, or dir/stem.gz if only that exists.
std::string find_mnist_file(const std::string& dir, const std::string& stem) {
  fs::path plain = fs::path(dir) / stem;
  fs::path gz = fs::path(dir) / (stem + ".gz");
  std::error_code ec;
  if (fs::exists(plain, ec)) return plain.string();
  if (fs::exists(gz, ec)) return gz.string();
  throw DataError(dir + ": missing " + stem + " (or " + stem + ".gz); " + fetch_hint(dir));
}

// Pixel value v scaled to [0, 1] exactly as the textbook does it: float(v) / 255 in the
// target type (a table, so forming a batch is one load per pixel).
template <class T>
const std::array<T, 256>& pixel_scale() {
  static const std::array<T, 256> table = [] {
    std::array<T, 256> t{};
    for (int v = 0; v < 256; ++v) t[static_cast<std::size_t>(v)] = static_cast<T>(v) / T{255};
    return t;
  }();
  return table;
}

// out (rows, features) = pixels / 255 of the samples row_index(0), ..., row_index(rows-1).
template <class T, class RowIndex>
void scale_rows(const Dataset& data, std::int64_t rows, RowIndex row_index, T* out) {
  const std::array<T, 256>& scale = pixel_scale<T>();
  const auto features = static_cast<std::size_t>(data.features);
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::uint8_t* src =
        data.images.data() + static_cast<std::size_t>(row_index(r)) * features;
    T* dst = out + static_cast<std::size_t>(r) * features;
    for (std::size_t j = 0; j < features; ++j) dst[j] = scale[src[j]];
  }
}

void check_range(const Dataset& data, std::int64_t begin, std::int64_t count, const char* fn) {
  if (begin < 0 || count < 0 || begin + count > data.size) {
    throw ValueError(std::string(fn) + ": samples [" + std::to_string(begin) + ", " +
                     std::to_string(begin + count) + ") outside the data set's " +
                     std::to_string(data.size));
  }
}

// The labels of an images file, checked against it and against the number of classes.
ByteBuffer read_labels(const std::string& labels_path, const std::string& images_path,
                       std::int64_t images, std::int64_t classes) {
  IdxArray labels = read_idx(labels_path, 1);
  if (images != labels.dims[0]) {
    throw DataError(labels_path + ": " + std::to_string(labels.dims[0]) + " labels, but " +
                    images_path + " has " + std::to_string(images) + " images");
  }
  for (std::size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= classes) {
      throw DataError(labels_path + ": label " + std::to_string(labels.data[i]) + " of sample " +
                      std::to_string(i) + " (byte " + std::to_string(8 + i) +
                      ") is out of range: expected 0 to " + std::to_string(classes - 1));
    }
  }
  return std::move(labels.data);
}

void check_directory(const std::string& dir) {
  if (dir.empty()) {
    throw DataError("empty path where the data directory was expected; " + fetch_hint("data"));
  }
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return;
  if (fs::exists(dir, ec)) {
    throw DataError(dir + ": is a file, not a data directory (point --data DIR or $NABLA_DATA "
                    "at the directory that holds the MNIST files)");
  }
  throw DataError("data directory " + dir + " does not exist; " + fetch_hint(dir));
}

void check_same_features(const std::string& dir, std::int64_t train, std::int64_t test) {
  if (train != test) {
    throw DataError(dir + ": training images have " + std::to_string(train) +
                    " pixels, test images " + std::to_string(test));
  }
}

}  // namespace

std::string resolve_data_dir(const std::optional<std::string>& flag) {
  if (flag) return *flag;
  const char* env = std::getenv("NABLA_DATA");
  if (env != nullptr && env[0] != '\0') return env;
  return "data/mnist";
}

Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path,
                         std::int64_t classes) {
  IdxArray images = read_idx(images_path, 3);
  ByteBuffer labels = read_labels(labels_path, images_path, images.dims[0], classes);
  Dataset data;
  data.size = images.dims[0];
  data.features = images.dims[1] * images.dims[2];
  data.classes = classes;
  data.images = std::move(images.data);
  data.labels = std::move(labels);
  return data;
}

SparsePixels sparse_pixels(const Dataset& data) {
  return SparsePixels(data.images.data(), data.size, data.features, 1.0f / 255.0f);
}

// Blocks of 8 MB: enough rows to split over workers (MNIST: 10,700 rows a block, 6 blocks),
// and only that much of the file mapped, or of its decompressed data buffered, at a time.
constexpr std::int64_t kBlockBytes = std::int64_t{8} << 20;

SparsePixels read_idx_sparse(const std::string& path, float scale) {
  SparsePixels px;
  std::error_code ec;
  const std::uintmax_t file_size = std::filesystem::file_size(path, ec);
  const bool gz = path.size() >= 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  // What the file can hold, for reserving room up front without trusting its header: its
  // size, or for gzip a generous 16 times that (MNIST compresses 5 to 1).
  const std::uintmax_t can_hold = ec ? 0 : gz ? 16 * file_size : file_size;
  constexpr std::int64_t kMaxCols = std::numeric_limits<std::uint16_t>::max() + 1;
  const std::vector<std::int64_t> file_dims = read_idx_rows(
      path, 3,
      [&](const std::vector<std::int64_t>& dims, const std::uint8_t* data, std::int64_t first,
          std::int64_t count) {
        const std::int64_t cols = dims[1] * dims[2];  // at most kMaxCols (read_idx_rows)
        if (first == 0) {
          if (cols == 0) throw DataError(path + ": images of 0 pixels");
          px = SparsePixels(cols, scale);
          const auto rows = static_cast<std::uintmax_t>(dims[0]);
          // More blocks to come: room for every pixel (only the pages used are ever
          // touched), so that the arrays never move while they grow.
          const std::uintmax_t room =
              count < dims[0] ? std::min(rows * static_cast<std::uintmax_t>(cols), can_hold) : 0;
          px.reserve(static_cast<std::int64_t>(
                         std::min(rows, can_hold / static_cast<std::uintmax_t>(cols))),
                     static_cast<std::int64_t>(room));
        }
        px.append_rows(data, count);
      },
      kBlockBytes, kMaxCols);
  if (px.rows() == 0) px = SparsePixels(file_dims[1] * file_dims[2], scale);  // no images
  return px;
}

SparseMnist SparseMnist::from(const Mnist& mnist) {
  SparseMnist s;
  s.train_images = sparse_pixels(mnist.train);
  s.test_images = sparse_pixels(mnist.test);
  s.train_labels = mnist.train.labels;
  s.test_labels = mnist.test.labels;
  s.classes = mnist.train.classes;
  return s;
}

SparseMnist load_mnist_sparse(const std::string& dir) {
  check_directory(dir);
  SparseMnist s;
  const std::string train_images = find_mnist_file(dir, "train-images-idx3-ubyte");
  const std::string train_labels = find_mnist_file(dir, "train-labels-idx1-ubyte");
  const std::string test_images = find_mnist_file(dir, "t10k-images-idx3-ubyte");
  const std::string test_labels = find_mnist_file(dir, "t10k-labels-idx1-ubyte");
  s.train_images = read_idx_sparse(train_images, 1.0f / 255.0f);
  s.train_labels = read_labels(train_labels, train_images, s.train_images.rows(), s.classes);
  s.test_images = read_idx_sparse(test_images, 1.0f / 255.0f);
  s.test_labels = read_labels(test_labels, test_images, s.test_images.rows(), s.classes);
  check_same_features(dir, s.train_images.cols(), s.test_images.cols());
  return s;
}

Dataset load_mnist_split(const std::string& dir, MnistSplit split) {
  check_directory(dir);
  const std::string stem = split == MnistSplit::train ? "train" : "t10k";
  return load_idx_dataset(find_mnist_file(dir, stem + "-images-idx3-ubyte"),
                          find_mnist_file(dir, stem + "-labels-idx1-ubyte"));
}

Mnist load_mnist(const std::string& dir) {
  check_directory(dir);
  Mnist mnist;
  mnist.train = load_idx_dataset(find_mnist_file(dir, "train-images-idx3-ubyte"),
                                 find_mnist_file(dir, "train-labels-idx1-ubyte"));
  mnist.test = load_idx_dataset(find_mnist_file(dir, "t10k-images-idx3-ubyte"),
                                find_mnist_file(dir, "t10k-labels-idx1-ubyte"));
  check_same_features(dir, mnist.train.features, mnist.test.features);
  return mnist;
}

void gather_batch(const Dataset& data, const std::vector<std::int64_t>& indices, Tensor& x,
                  std::vector<std::int64_t>& t) {
  for (std::int64_t i : indices) check_range(data, i, 1, "gather_batch");
  const auto batch = static_cast<std::int64_t>(indices.size());
  const DType dtype = x.defined() ? x.dtype() : DType::f32;
  x.resize({batch, data.features}, dtype);
  visit_dtype(dtype, [&](auto zero) {
    using T = decltype(zero);
    scale_rows(
        data, batch, [&](std::int64_t r) { return indices[static_cast<std::size_t>(r)]; },
        x.data<T>());
  });
  t.resize(indices.size());
  for (std::size_t b = 0; b < indices.size(); ++b) {
    t[b] = data.labels[static_cast<std::size_t>(indices[b])];
  }
}

Tensor images_as_tensor(const Dataset& data, std::int64_t begin, std::int64_t count, DType dtype) {
  check_range(data, begin, count, "images_as_tensor");
  Tensor x({count, data.features}, dtype);
  visit_dtype(dtype, [&](auto zero) {
    using T = decltype(zero);
    scale_rows(
        data, count, [&](std::int64_t r) { return begin + r; }, x.data<T>());
  });
  return x;
}

std::vector<std::int64_t> labels_as_vector(const Dataset& data, std::int64_t begin,
                                           std::int64_t count) {
  check_range(data, begin, count, "labels_as_vector");
  auto first = data.labels.begin() + begin;
  return std::vector<std::int64_t>(first, first + count);
}

// ---- BatchSampler --------------------------------------------------------------------

const char* sampling_name(Sampling mode) {
  return mode == Sampling::with_replacement ? "with_replacement" : "shuffled_epochs";
}

BatchSampler::BatchSampler(std::int64_t dataset_size, std::int64_t batch_size, Sampling mode)
    : mode_(mode), size_(dataset_size), batch_(batch_size) {
  if (dataset_size <= 0 || batch_size <= 0) {
    throw ValueError("BatchSampler: need a positive data set size and batch size, got " +
                     std::to_string(dataset_size) + " and " + std::to_string(batch_size));
  }
}

std::int64_t BatchSampler::batches_per_epoch() const {
  if (mode_ == Sampling::with_replacement) return std::max<std::int64_t>(size_ / batch_, 1);
  return (size_ + batch_ - 1) / batch_;
}

void BatchSampler::next(Rng& rng, std::vector<std::int64_t>& indices) {
  if (mode_ == Sampling::with_replacement) {
    indices.resize(static_cast<std::size_t>(batch_));
    for (std::int64_t& i : indices) i = rng.below(size_);
    ++drawn_;
    return;
  }
  if (permutation_.empty() || position_ >= size_) {
    // A new epoch: Fisher-Yates shuffle of 0..size-1.
    permutation_.resize(static_cast<std::size_t>(size_));
    for (std::int64_t i = 0; i < size_; ++i) permutation_[static_cast<std::size_t>(i)] = i;
    for (std::int64_t i = size_ - 1; i > 0; --i) {
      std::swap(permutation_[static_cast<std::size_t>(i)],
                permutation_[static_cast<std::size_t>(rng.below(i + 1))]);
    }
    position_ = 0;
  }
  const std::int64_t count = std::min(batch_, size_ - position_);
  auto first = permutation_.begin() + position_;
  indices.assign(first, first + count);
  position_ += count;
  ++drawn_;
}

std::string BatchSampler::state() const {
  std::ostringstream out;
  out << sampling_name(mode_) << ' ' << size_ << ' ' << batch_ << ' ' << drawn_ << ' ' << position_;
  for (std::int64_t i : permutation_) out << ' ' << i;
  return out.str();
}

void BatchSampler::restore(const std::string& state) {
  std::istringstream in(state);
  std::string mode;
  std::int64_t size = 0, batch = 0, drawn = 0, position = 0;
  in >> mode >> size >> batch >> drawn >> position;
  if (!in) throw ValueError("BatchSampler::restore: malformed state '" + state.substr(0, 80) + "'");
  if (mode != sampling_name(mode_) || size != size_ || batch != batch_) {
    throw ValueError("BatchSampler::restore: state of a " + mode + " sampler of " +
                     std::to_string(size) + " samples in batches of " + std::to_string(batch) +
                     ", this one is " + sampling_name(mode_) + " of " + std::to_string(size_) +
                     " in batches of " + std::to_string(batch_));
  }
  std::vector<std::int64_t> permutation;
  std::vector<bool> seen(static_cast<std::size_t>(size_), false);
  std::int64_t i = 0;
  while (in >> i) {
    if (i < 0 || i >= size_ || seen[static_cast<std::size_t>(i)]) {
      throw ValueError("BatchSampler::restore: the permutation is not one of 0.." +
                       std::to_string(size_ - 1) + " (bad entry " + std::to_string(i) + ")");
    }
    seen[static_cast<std::size_t>(i)] = true;
    permutation.push_back(i);
  }
  if (!in.eof()) throw ValueError("BatchSampler::restore: malformed permutation");
  const bool need_permutation = mode_ == Sampling::shuffled_epochs && drawn > 0;
  const auto expected = need_permutation ? static_cast<std::size_t>(size_) : std::size_t{0};
  if (drawn < 0 || position < 0 || position > size_ || permutation.size() != expected) {
    throw ValueError("BatchSampler::restore: inconsistent state (" + std::to_string(drawn) +
                     " batches drawn, position " + std::to_string(position) + ", " +
                     std::to_string(permutation.size()) + " permutation entries)");
  }
  drawn_ = drawn;
  position_ = position;
  permutation_ = std::move(permutation);
}

}  // namespace nabla
