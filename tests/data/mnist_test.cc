// MNIST loading, batch forming and sampling, on small synthetic files and (when
// scripts/fetch_mnist.sh has been run) on the real data.
#include "nabla/data/mnist.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <tuple>

#include "nabla/ops/sparse.h"
#include "test_util.h"

namespace nabla {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

IdxArray idx(std::vector<std::int64_t> dims, ByteBuffer data) {
  return IdxArray{std::move(dims), std::move(data)};
}

// A fresh directory holding a tiny MNIST: 5 training and 3 test images of 2 x 2 pixels.
class MnistFiles : public testing_util::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    write_files();
  }
  void write_files() {
    write_idx(file("train-images-idx3-ubyte"), idx({5, 2, 2}, {0,  255, 51, 102,  //
                                                               1,  2,   3,  4,    //
                                                               10, 20,  30, 40,   //
                                                               5,  6,   7,  8,    //
                                                               9,  9,   9,  9}));
    write_idx(file("train-labels-idx1-ubyte"), idx({5}, {3, 1, 4, 1, 5}));
    // The test split compressed, to check that ".gz" is found too.
    write_idx(file("t10k-images-idx3-ubyte.gz"),
              idx({3, 2, 2}, {255, 255, 255, 255, 0, 0, 0, 0, 1, 1, 1, 1}));
    write_idx(file("t10k-labels-idx1-ubyte.gz"), idx({3}, {9, 0, 2}));
  }
  std::string file(const std::string& name) const { return path(name); }
};

template <class F>
std::string data_error(F f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

TEST_F(MnistFiles, LoadsBothSplits) {
  Mnist m = load_mnist(dir_);
  EXPECT_EQ(m.train.size, 5);
  EXPECT_EQ(m.train.features, 4);
  EXPECT_EQ(m.train.classes, 10);
  EXPECT_EQ(m.train.labels, (ByteBuffer{3, 1, 4, 1, 5}));
  EXPECT_EQ(m.train.images.size(), 20u);
  EXPECT_EQ(m.train.images[1], 255);
  EXPECT_EQ(m.test.size, 3);
  EXPECT_EQ(m.test.labels, (ByteBuffer{9, 0, 2}));
  EXPECT_EQ(m.test.images[0], 255);
}

TEST_F(MnistFiles, SparseLoadHoldsTheSameData) {
  // load_mnist_sparse reads the files straight into sparse pixels (the test split from .gz)
  Mnist m = load_mnist(dir_);
  SparseMnist s = load_mnist_sparse(dir_);
  EXPECT_EQ(s.train_labels, m.train.labels);
  EXPECT_EQ(s.test_labels, m.test.labels);
  EXPECT_EQ(s.classes, 10);
  SparseMnist from_dense = SparseMnist::from(m);
  for (auto [sparse, dense, other] :
       {std::tuple{&s.train_images, &m.train, &from_dense.train_images},
        std::tuple{&s.test_images, &m.test, &from_dense.test_images}}) {
    ASSERT_EQ(sparse->rows(), dense->size);
    ASSERT_EQ(sparse->cols(), dense->features);
    EXPECT_EQ(sparse->nonzeros(), other->nonzeros());
    std::vector<std::int64_t> all(static_cast<std::size_t>(dense->size));
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
    Tensor pixels = SparseBatch{sparse, all}.to_dense();
    for (std::int64_t k = 0; k < pixels.numel(); ++k) {
      EXPECT_FLOAT_EQ(static_cast<float>(pixels.get(k)),
                      static_cast<float>(dense->images[static_cast<std::size_t>(k)]) / 255.0f);
    }
  }
  EXPECT_EQ(s.train_images.value()[0], 255);  // the first non-zero pixel of image 0
}

TEST_F(MnistFiles, SparseLoadGivesTheSameErrors) {
  auto truncate = [&](const std::string& name, std::uintmax_t size) {
    fs::resize_file(file(name), size);
  };
  std::vector<std::function<void()>> breakages = {
      [&] {
        write_idx(file("train-labels-idx1-ubyte"), idx({4}, {3, 1, 4, 1}));
      },
      [&] {
        write_idx(file("train-labels-idx1-ubyte"), idx({5}, {3, 1, 10, 1, 5}));
      },
      [&] {
        write_idx(file("train-images-idx3-ubyte"), idx({5}, {1, 2, 3, 4, 5}));
      },
      [&] { fs::remove(file("t10k-labels-idx1-ubyte.gz")); },
      [&] { truncate("train-images-idx3-ubyte", 16 + 13); },  // in the middle of image 3
      [&] { truncate("train-images-idx3-ubyte", 9); },        // in the header
      [&] {                                                   // trailing bytes
        std::ofstream(file("train-images-idx3-ubyte"), std::ios::app | std::ios::binary) << "xy";
      },
      [&] {
        write_idx(file("t10k-images-idx3-ubyte.gz"), idx({3, 1, 2}, {1, 2, 3, 4, 5, 6}));
      },
  };
  for (std::size_t k = 0; k < breakages.size(); ++k) {
    write_files();
    breakages[k]();
    const std::string dense = data_error([&] { load_mnist(dir_); });
    const std::string sparse = data_error([&] { load_mnist_sparse(dir_); });
    EXPECT_FALSE(dense.empty()) << k;
    EXPECT_EQ(sparse, dense) << k;
  }
}

TEST_F(MnistFiles, SparseLoadRefusesHeadersItCannotHold) {
  // images of 0 pixels, or of more than 65536, in files too small for what they claim
  write_idx(file("train-images-idx3-ubyte"), idx({5, 0, 3}, {}));
  EXPECT_EQ(data_error([&] { load_mnist_sparse(dir_); }),
            file("train-images-idx3-ubyte") + ": images of 0 pixels");
  write_idx(file("train-images-idx3-ubyte"), idx({0, 300, 300}, {}));
  EXPECT_THAT(data_error([&] { load_mnist_sparse(dir_); }),
              HasSubstr("rows of 90000 bytes (0,300,300); at most 65536"));
}

TEST_F(MnistFiles, MissingDirectorySaysHowToFetch) {
  std::string missing = dir_.string() + "/nothing";
  EXPECT_EQ(data_error([&] { load_mnist(missing); }),
            "data directory " + missing +
                " does not exist; fetch MNIST with: "
                "scripts/fetch_mnist.sh " +
                missing + " (or point --data DIR or $NABLA_DATA at a directory that has it)");
}

// A file where the directory belongs, or no path at all, is said as such, not as a
// directory that does not exist.
TEST_F(MnistFiles, AFileOrAnEmptyPathIsNotADirectory) {
  std::string plain = file("t10k-labels-idx1-ubyte.gz");
  EXPECT_EQ(data_error([&] { load_mnist(plain); }),
            plain + ": is a file, not a data directory (point --data DIR or $NABLA_DATA at "
                    "the directory that holds the MNIST files)");
  EXPECT_EQ(data_error([&] { load_mnist(""); }),
            "empty path where the data directory was expected; fetch MNIST with: "
            "scripts/fetch_mnist.sh data (or point --data DIR or $NABLA_DATA at a directory "
            "that has it)");
}

TEST_F(MnistFiles, MissingFileSaysHowToFetch) {
  fs::remove(file("t10k-labels-idx1-ubyte.gz"));
  std::string error = data_error([&] { load_mnist(dir_); });
  EXPECT_THAT(error, HasSubstr(dir_.string() +
                               ": missing t10k-labels-idx1-ubyte (or "
                               "t10k-labels-idx1-ubyte.gz); fetch MNIST with: "
                               "scripts/fetch_mnist.sh " +
                               dir_.string()));
}

TEST_F(MnistFiles, CountMismatch) {
  write_idx(file("train-labels-idx1-ubyte"), idx({4}, {3, 1, 4, 1}));
  EXPECT_EQ(data_error([&] { load_mnist(dir_); }),
            file("train-labels-idx1-ubyte") + ": 4 labels, but " + file("train-images-idx3-ubyte") +
                " has 5 images");
}

TEST_F(MnistFiles, LabelOutOfRange) {
  write_idx(file("train-labels-idx1-ubyte"), idx({5}, {3, 1, 10, 1, 5}));
  EXPECT_EQ(data_error([&] { load_mnist(dir_); }),
            file("train-labels-idx1-ubyte") +
                ": label 10 of sample 2 (byte 10) is out of range: expected 0 to 9");
}

TEST_F(MnistFiles, LabelsInPlaceOfImages) {
  write_idx(file("train-images-idx3-ubyte"), idx({5}, {1, 2, 3, 4, 5}));
  EXPECT_EQ(data_error([&] { load_mnist(dir_); }),
            file("train-images-idx3-ubyte") +
                ": magic number 0x00000801 at byte 0 says 1 dimensions, expected 3 (magic "
                "0x00000803)");
}

TEST_F(MnistFiles, GatherBatchScalesAndReusesStorage) {
  Mnist m = load_mnist(dir_);
  Tensor x;
  std::vector<std::int64_t> t;
  gather_batch(m.train, {0, 2, 0}, x, t);
  EXPECT_EQ(x.dtype(), DType::f32);
  EXPECT_EQ(x.shape(), (Shape{3, 4}));
  const float* p = x.data<float>();
  EXPECT_EQ(p[0], 0.0f);
  EXPECT_EQ(p[1], 1.0f);
  EXPECT_EQ(p[2], 51.0f / 255.0f);
  EXPECT_EQ(p[3], 102.0f / 255.0f);
  EXPECT_FLOAT_EQ(p[2], 0.2f);
  EXPECT_FLOAT_EQ(p[4], 10.0f / 255.0f);
  EXPECT_EQ(p[8], 0.0f);  // sample 0 again
  EXPECT_EQ(t, (std::vector<std::int64_t>{3, 4, 3}));

  // The same batch size again: same storage, new contents.
  const void* storage = x.raw();
  const std::int64_t* labels = t.data();
  gather_batch(m.train, {4, 3, 1}, x, t);
  EXPECT_EQ(x.raw(), storage);
  EXPECT_EQ(t.data(), labels);
  EXPECT_FLOAT_EQ(x.data<float>()[0], 9.0f / 255.0f);
  EXPECT_EQ(t, (std::vector<std::int64_t>{5, 1, 1}));
}

TEST_F(MnistFiles, GatherBatchKeepsFloat64) {
  Mnist m = load_mnist(dir_);
  Tensor x = Tensor::zeros({1, 1}, DType::f64);
  std::vector<std::int64_t> t;
  gather_batch(m.train, {0}, x, t);
  EXPECT_EQ(x.dtype(), DType::f64);
  EXPECT_EQ(x.shape(), (Shape{1, 4}));
  EXPECT_EQ(x.data<double>()[2], 51.0 / 255.0);
}

TEST_F(MnistFiles, GatherBatchRejectsBadIndex) {
  Mnist m = load_mnist(dir_);
  Tensor x;
  std::vector<std::int64_t> t;
  EXPECT_THROW(gather_batch(m.train, {0, 5}, x, t), ValueError);
  EXPECT_THROW(gather_batch(m.train, {-1}, x, t), ValueError);
}

TEST_F(MnistFiles, ImagesAsTensor) {
  Mnist m = load_mnist(dir_);
  Tensor x = images_as_tensor(m.test, 1, 2, DType::f64);
  EXPECT_EQ(x.shape(), (Shape{2, 4}));
  EXPECT_EQ(x.to_vector(),
            (std::vector<double>{0, 0, 0, 0, 1 / 255.0, 1 / 255.0, 1 / 255.0, 1 / 255.0}));
  EXPECT_EQ(labels_as_vector(m.test, 0, 3), (std::vector<std::int64_t>{9, 0, 2}));
  EXPECT_THROW(images_as_tensor(m.test, 2, 2), ValueError);
  EXPECT_THROW(labels_as_vector(m.test, -1, 1), ValueError);
}

// ---- data directory ---------------------------------------------------------------------

TEST(ResolveDataDir, FlagThenEnvironmentThenDefault) {
  const char* old = std::getenv("NABLA_DATA");
  std::string saved = old ? old : "";
  ::unsetenv("NABLA_DATA");
  EXPECT_EQ(resolve_data_dir(std::nullopt), "data/mnist");
  ::setenv("NABLA_DATA", "", 1);
  EXPECT_EQ(resolve_data_dir(std::nullopt), "data/mnist");
  ::setenv("NABLA_DATA", "/srv/mnist", 1);
  EXPECT_EQ(resolve_data_dir(std::nullopt), "/srv/mnist");
  EXPECT_EQ(resolve_data_dir(std::string("here")), "here");
  if (old) {
    ::setenv("NABLA_DATA", saved.c_str(), 1);
  } else {
    ::unsetenv("NABLA_DATA");
  }
}

// ---- sampling ---------------------------------------------------------------------------

TEST(BatchSampler, WithReplacementDrawsUniformIndicesFromTheRng) {
  BatchSampler sampler(60000, 100, Sampling::with_replacement);
  EXPECT_EQ(sampler.batches_per_epoch(), 600);
  Rng rng(7), reference(7);
  std::vector<std::int64_t> batch;
  for (int b = 0; b < 3; ++b) {
    sampler.next(rng, batch);
    ASSERT_EQ(batch.size(), 100u);
    for (std::int64_t i : batch) EXPECT_EQ(i, reference.below(60000));
  }
  EXPECT_EQ(sampler.batches_drawn(), 3);
  EXPECT_EQ(sampler.epoch(), 0);
  // Textbook's max(train_size / batch_size, 1).
  EXPECT_EQ(BatchSampler(50, 100, Sampling::with_replacement).batches_per_epoch(), 1);
}

TEST(BatchSampler, WithReplacementCoversTheRange) {
  BatchSampler sampler(10, 1000, Sampling::with_replacement);
  Rng rng(1);
  std::vector<std::int64_t> batch;
  sampler.next(rng, batch);
  std::vector<int> counts(10, 0);
  for (std::int64_t i : batch) {
    ASSERT_GE(i, 0);
    ASSERT_LT(i, 10);
    ++counts[static_cast<std::size_t>(i)];
  }
  // Each index about 100 times (binomial sd 9.5).
  for (int c : counts) {
    EXPECT_GT(c, 55);
    EXPECT_LT(c, 145);
  }
}

TEST(BatchSampler, ShuffledEpochsVisitEverySampleOnce) {
  BatchSampler sampler(10, 4, Sampling::shuffled_epochs);
  EXPECT_EQ(sampler.batches_per_epoch(), 3);
  Rng rng(3);
  std::vector<std::int64_t> batch, epoch1, epoch2;
  std::vector<std::size_t> sizes;
  for (int b = 0; b < 3; ++b) {
    sampler.next(rng, batch);
    sizes.push_back(batch.size());
    epoch1.insert(epoch1.end(), batch.begin(), batch.end());
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{4, 4, 2}));
  EXPECT_EQ(sampler.epoch(), 1);
  for (int b = 0; b < 3; ++b) {
    sampler.next(rng, batch);
    epoch2.insert(epoch2.end(), batch.begin(), batch.end());
  }
  EXPECT_EQ(sampler.epoch(), 2);
  std::vector<std::int64_t> sorted1 = epoch1, sorted2 = epoch2;
  std::sort(sorted1.begin(), sorted1.end());
  std::sort(sorted2.begin(), sorted2.end());
  const std::vector<std::int64_t> all = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_EQ(sorted1, all);
  EXPECT_EQ(sorted2, all);
  EXPECT_NE(epoch1, all);     // shuffled...
  EXPECT_NE(epoch1, epoch2);  // ...differently each epoch
}

TEST(BatchSampler, ReproducibleFromTheSeed) {
  for (Sampling mode : {Sampling::with_replacement, Sampling::shuffled_epochs}) {
    BatchSampler a(1000, 32, mode), b(1000, 32, mode);
    Rng ra(2024), rb(2024);
    std::vector<std::int64_t> xa, xb;
    for (int i = 0; i < 50; ++i) {
      a.next(ra, xa);
      b.next(rb, xb);
      ASSERT_EQ(xa, xb) << sampling_name(mode) << " batch " << i;
    }
  }
}

TEST(BatchSampler, ResumesFromSavedState) {
  for (Sampling mode : {Sampling::with_replacement, Sampling::shuffled_epochs}) {
    BatchSampler straight(100, 30, mode);
    Rng rng(11);
    std::vector<std::int64_t> batch;
    std::string sampler_state, rng_state;
    std::vector<std::vector<std::int64_t>> expected;
    for (int i = 0; i < 10; ++i) {
      if (i == 5) {
        sampler_state = straight.state();
        rng_state = rng.state();
      }
      straight.next(rng, batch);
      if (i >= 5) expected.push_back(batch);
    }
    BatchSampler resumed(100, 30, mode);
    Rng rng2(999);
    resumed.restore(sampler_state);
    rng2.restore(rng_state);
    EXPECT_EQ(resumed.batches_drawn(), 5);
    for (int i = 0; i < 5; ++i) {
      resumed.next(rng2, batch);
      EXPECT_EQ(batch, expected[static_cast<std::size_t>(i)]) << sampling_name(mode);
    }
    EXPECT_EQ(resumed.state(), straight.state());
  }
}

TEST(BatchSampler, StateTextAndBadStates) {
  BatchSampler s(5, 2, Sampling::shuffled_epochs);
  EXPECT_EQ(s.state(), "shuffled_epochs 5 2 0 0");
  Rng rng(5);
  std::vector<std::int64_t> batch;
  s.next(rng, batch);
  EXPECT_THAT(s.state(), ::testing::StartsWith("shuffled_epochs 5 2 1 2 "));

  BatchSampler other(5, 2, Sampling::shuffled_epochs);
  EXPECT_THROW(other.restore("garbage"), ValueError);
  EXPECT_THROW(other.restore("with_replacement 5 2 1 0"), ValueError);           // other mode
  EXPECT_THROW(other.restore("shuffled_epochs 6 2 0 0"), ValueError);            // other size
  EXPECT_THROW(other.restore("shuffled_epochs 5 2 1 2 0 1 2 3"), ValueError);    // short
  EXPECT_THROW(other.restore("shuffled_epochs 5 2 1 2 0 1 2 3 3"), ValueError);  // repeat
  EXPECT_THROW(other.restore("shuffled_epochs 5 2 1 2 0 1 2 3 x"), ValueError);
  EXPECT_THROW(other.restore("shuffled_epochs 5 2 1 9 0 1 2 3 4"), ValueError);  // position
  EXPECT_EQ(other.state(), "shuffled_epochs 5 2 0 0");  // unchanged by failed restores
  EXPECT_THROW(BatchSampler(0, 2, Sampling::shuffled_epochs), ValueError);
  EXPECT_THROW(BatchSampler(5, 0, Sampling::shuffled_epochs), ValueError);
}

// ---- the real data set --------------------------------------------------------------------

std::string real_mnist_dir() {
  const char* env = std::getenv("NABLA_DATA");
  if (env != nullptr && env[0] != '\0') return env;
  return std::string(NABLA_SOURCE_DIR) + "/data/mnist";
}

TEST(RealMnist, CountsLabelsAndPixels) {
  const std::string dir = real_mnist_dir();
  if (!fs::exists(fs::path(dir) / "train-images-idx3-ubyte") &&
      !fs::exists(fs::path(dir) / "train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "no MNIST in " << dir << "; run scripts/fetch_mnist.sh to fetch it";
  }
  Mnist m = load_mnist(dir);
  EXPECT_EQ(m.train.size, 60000);
  EXPECT_EQ(m.test.size, 10000);
  EXPECT_EQ(m.train.features, 784);
  EXPECT_EQ(m.train.images.size(), 47040000u);
  EXPECT_EQ(m.test.images.size(), 7840000u);
  EXPECT_EQ(std::vector<std::uint8_t>(m.train.labels.begin(), m.train.labels.begin() + 5),
            (std::vector<std::uint8_t>{5, 0, 4, 1, 9}));
  EXPECT_EQ(std::vector<std::uint8_t>(m.test.labels.begin(), m.test.labels.begin() + 5),
            (std::vector<std::uint8_t>{7, 2, 1, 0, 4}));

  // The first training image (a 5): 166 non-zero pixels summing to 27525, max 255.
  Tensor x;
  std::vector<std::int64_t> t;
  gather_batch(m.train, {0}, x, t);
  EXPECT_EQ(t, (std::vector<std::int64_t>{5}));
  int nonzero = 0;
  double sum = 0, max = 0;
  for (std::int64_t j = 0; j < 784; ++j) {
    double v = x.get(j);
    nonzero += v > 0;
    sum += v;
    max = std::max(max, v);
  }
  EXPECT_EQ(nonzero, 166);
  EXPECT_NEAR(sum, 27525.0 / 255.0, 1e-4);
  EXPECT_EQ(max, 1.0);
  // Row 5 of the image, pixels 12-15 (bytes 152-155): 3, 18, 18, 18.
  EXPECT_EQ(x.get(152), 3.0f / 255.0f);
  EXPECT_EQ(x.get(153), 18.0f / 255.0f);

  // Read straight into sparse pixels on two threads (the training set in 6 blocks of the
  // mapped file): the same as the dense images converted on one.
  SparseMnist s = testing_util::with_threads(2, [&] { return load_mnist_sparse(dir); });
  SparseMnist from_dense = SparseMnist::from(m);
  for (auto [read, converted] : {std::pair{&s.train_images, &from_dense.train_images},
                                 std::pair{&s.test_images, &from_dense.test_images}}) {
    ASSERT_EQ(read->rows(), converted->rows());
    ASSERT_EQ(read->nonzeros(), converted->nonzeros());
    for (std::int64_t r = 0; r <= read->rows(); ++r) {
      ASSERT_EQ(read->row_begin(r), converted->row_begin(r)) << r;
    }
    EXPECT_TRUE(std::equal(read->index(), read->index() + read->nonzeros(), converted->index()));
    EXPECT_TRUE(std::equal(read->value(), read->value() + read->nonzeros(), converted->value()));
  }
  EXPECT_EQ(s.train_images.row_begin(1), 166);
  EXPECT_EQ(s.train_labels, m.train.labels);
}

}  // namespace
}  // namespace nabla
