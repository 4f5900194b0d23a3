// IDX files: round trips (plain and gzip) and every kind of bad file, each with the
// exact message a user would see.
#include "nabla/data/idx.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "nabla/core/tensor.h"
#include "test_util.h"

namespace nabla {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

using testing_util::read_bytes;
using testing_util::write_bytes;

// A fresh directory per test, removed afterwards.
class IdxTest : public testing_util::TempDirTest {};

void gzip_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

// The DataError message of read_idx(path), or "" if it succeeds.
std::string read_error(const std::string& path, std::optional<int> rank = std::nullopt) {
  try {
    read_idx(path, rank);
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

// 2 images of 3 x 2 pixels: 0, 1, ..., 11.
IdxArray small_images() {
  IdxArray a;
  a.dims = {2, 3, 2};
  for (int i = 0; i < 12; ++i) a.data.push_back(static_cast<std::uint8_t>(i));
  return a;
}

TEST_F(IdxTest, WritesTheDocumentedLayout) {
  write_idx(path("images"), small_images());
  std::vector<unsigned char> bytes = read_bytes(path("images"));
  ASSERT_EQ(bytes.size(), 4u + 3 * 4 + 12);
  std::vector<unsigned char> header(bytes.begin(), bytes.begin() + 16);
  EXPECT_EQ(header, (std::vector<unsigned char>{0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 2}));
  EXPECT_EQ(bytes[16], 0);
  EXPECT_EQ(bytes[27], 11);
}

TEST_F(IdxTest, RoundTripPlain) {
  write_idx(path("images"), small_images());
  IdxArray back = read_idx(path("images"), 3);
  EXPECT_EQ(back.dims, (std::vector<std::int64_t>{2, 3, 2}));
  EXPECT_EQ(back.data, small_images().data);
}

TEST_F(IdxTest, RoundTripGzip) {
  IdxArray labels;
  labels.dims = {1000};
  for (int i = 0; i < 1000; ++i) labels.data.push_back(static_cast<std::uint8_t>(i % 10));
  write_idx(path("labels.gz"), labels);
  std::vector<unsigned char> bytes = read_bytes(path("labels.gz"));
  ASSERT_GE(bytes.size(), 2u);
  EXPECT_EQ(bytes[0], 0x1f);  // gzip magic
  EXPECT_EQ(bytes[1], 0x8b);
  EXPECT_LT(bytes.size(), 1008u);  // compressed
  IdxArray back = read_idx(path("labels.gz"), 1);
  EXPECT_EQ(back.dims, (std::vector<std::int64_t>{1000}));
  EXPECT_EQ(back.data, labels.data);
}

TEST_F(IdxTest, EmptyDimensionIsAllowed) {
  IdxArray a;
  a.dims = {0, 28, 28};
  write_idx(path("empty"), a);
  IdxArray back = read_idx(path("empty"));
  EXPECT_EQ(back.dims, (std::vector<std::int64_t>{0, 28, 28}));
  EXPECT_TRUE(back.data.empty());
}

TEST_F(IdxTest, MissingFile) {
  EXPECT_EQ(read_error(path("nope")), path("nope") + ": cannot open: No such file or directory");
}

TEST_F(IdxTest, Directory) {
  EXPECT_EQ(read_error(dir_.string()), dir_.string() + ": is a directory, not an IDX file");
}

// A device or a FIFO has no size to check a header against (and /dev/zero never ends, a
// FIFO's open waits for a writer): only regular files are read.
TEST_F(IdxTest, Device) {
  EXPECT_EQ(read_error("/dev/zero"), "/dev/zero: is a device, not an IDX file");
  auto ignore = [](const std::vector<std::int64_t>&, const std::uint8_t*, std::int64_t,
                   std::int64_t) {};
  EXPECT_EQ(testing_util::error_of<DataError>([&] { read_idx_rows("/dev/null", 1, ignore); }),
            "/dev/null: is a device, not an IDX file");
}

TEST_F(IdxTest, EmptyFile) {
  write_bytes(path("f"), {});
  EXPECT_EQ(read_error(path("f")),
            path("f") + ": truncated: expected a 4-byte magic number, got 0 bytes");
}

TEST_F(IdxTest, TruncatedData) {
  write_idx(path("f"), small_images());
  fs::resize_file(path("f"), 20);
  EXPECT_EQ(read_error(path("f")), path("f") + ": truncated: expected 28 bytes, got 20");
}

TEST_F(IdxTest, RowsComeInBlocksOfWholeRows) {
  // a plain file's blocks come from a mapping of it, a gzip file's from a buffer: the same
  IdxArray a;
  a.dims = {7, 2, 3};
  for (int i = 0; i < 42; ++i) a.data.push_back(static_cast<std::uint8_t>(3 * i));
  write_idx(path("f"), a);
  write_idx(path("f.gz"), a);
  for (const char* name : {"f", "f.gz"}) {
    for (std::int64_t block_bytes : {1, 6, 13, 1000}) {
      SCOPED_TRACE(std::string(name) + " " + std::to_string(block_bytes));
      std::vector<std::uint8_t> seen;
      std::vector<std::int64_t> firsts;
      std::vector<std::int64_t> dims = read_idx_rows(
          path(name), 3,
          [&](const std::vector<std::int64_t>& d, const std::uint8_t* data, std::int64_t first,
              std::int64_t count) {
            EXPECT_EQ(d, a.dims);
            EXPECT_EQ(first, static_cast<std::int64_t>(seen.size()) / 6);
            firsts.push_back(first);
            seen.insert(seen.end(), data, data + count * 6);
          },
          block_bytes);
      EXPECT_EQ(dims, a.dims);
      EXPECT_EQ(ByteBuffer(seen.begin(), seen.end()), a.data);
      // whole rows: at least one a block, as many as fit in block_bytes
      const std::int64_t per_block = std::max<std::int64_t>(1, block_bytes / 6);
      EXPECT_EQ(static_cast<std::int64_t>(firsts.size()), (7 + per_block - 1) / per_block);
    }
  }
}

TEST_F(IdxTest, RowsOfAFileWithTrailingBytesFailBeforeAnyRow) {
  // a plain file's size is known: one too long fails before any row, with read_idx's message
  write_idx(path("f"), small_images());
  std::vector<unsigned char> bytes = read_bytes(path("f"));
  bytes.push_back(9);
  write_bytes(path("f"), bytes);
  std::int64_t rows_seen = 0;
  std::string error;
  try {
    read_idx_rows(path("f"), 3,
                  [&](const std::vector<std::int64_t>&, const std::uint8_t*, std::int64_t,
                      std::int64_t count) { rows_seen += count; });
  } catch (const DataError& e) {
    error = e.what();
  }
  EXPECT_EQ(error, read_error(path("f")));
  EXPECT_EQ(error, path("f") +
                       ": trailing bytes: expected 28 bytes, got 29 (1 after the last element, "
                       "from byte 28)");
  EXPECT_EQ(rows_seen, 0);
}

TEST_F(IdxTest, RowsOfATruncatedFileFailBeforeAnyRow) {
  // a plain file's size is known: a short one fails before any row is handed over, with
  // read_idx's message
  write_idx(path("f"), small_images());
  fs::resize_file(path("f"), 24);  // a 16-byte header, image 0 whole, image 1 cut
  std::int64_t rows_seen = 0;
  auto count_rows = [&](const std::vector<std::int64_t>&, const std::uint8_t*, std::int64_t,
                        std::int64_t count) { rows_seen += count; };
  std::string error;
  try {
    read_idx_rows(path("f"), 3, count_rows, 6);
  } catch (const DataError& e) {
    error = e.what();
  }
  EXPECT_EQ(error, read_error(path("f")));
  EXPECT_EQ(error, path("f") + ": truncated: expected 28 bytes, got 24");
  EXPECT_EQ(rows_seen, 0);
}

TEST_F(IdxTest, RowsLongerThanAllowedAreRefusedFirst) {
  // a header that promises 2^32-byte rows in a 16-byte file: refused, nothing allocated
  IdxArray a;
  a.dims = {0, 65536, 65536};
  write_idx(path("f"), a);
  auto ignore = [](const std::vector<std::int64_t>&, const std::uint8_t*, std::int64_t,
                   std::int64_t) {};
  try {
    read_idx_rows(path("f"), 3, ignore, 1 << 20, 1 << 16);
    ADD_FAILURE() << "no error";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()),
              path("f") +
                  ": rows of 4294967296 bytes (0,65536,65536); at most 65536 are "
                  "read this way");
  }
}

TEST_F(IdxTest, TruncatedHeader) {
  write_idx(path("f"), small_images());
  fs::resize_file(path("f"), 10);
  EXPECT_EQ(read_error(path("f")),
            path("f") + ": truncated: the header of 3 dimensions needs 16 bytes, got 10");
}

TEST_F(IdxTest, TrailingBytes) {
  write_idx(path("f"), small_images());
  std::vector<unsigned char> bytes = read_bytes(path("f"));
  bytes.insert(bytes.end(), {1, 2, 3});
  write_bytes(path("f"), bytes);
  EXPECT_EQ(read_error(path("f")),
            path("f") +
                ": trailing bytes: expected 28 bytes, got 31 (3 after the last element, "
                "from byte 28)");
}

TEST_F(IdxTest, UnsupportedElementType) {
  // A float32 vector of one element.
  write_bytes(path("f"), {0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0x80, 0x3f});
  EXPECT_EQ(read_error(path("f")),
            path("f") +
                ": magic number 0x00000D01: element type 0x0D (float32) at byte 2 is "
                "not supported; nabla reads only 0x08 (unsigned byte)");
}

TEST_F(IdxTest, NotAnIdxFile) {
  write_bytes(path("f"), {0x89, 'P', 'N', 'G', 13, 10, 26, 10});
  EXPECT_EQ(read_error(path("f")), path("f") +
                                       ": bad magic number 0x89504E47 at byte 0: an IDX "
                                       "file starts with two zero bytes");
}

TEST_F(IdxTest, ZeroDimensions) {
  write_bytes(path("f"), {0, 0, 8, 0});
  EXPECT_EQ(read_error(path("f")),
            path("f") + ": magic number 0x00000800: 0 dimensions at byte 3; expected at least 1");
}

TEST_F(IdxTest, WrongRank) {
  IdxArray labels;
  labels.dims = {3};
  labels.data = {1, 2, 3};
  write_idx(path("labels"), labels);
  EXPECT_EQ(read_error(path("labels"), 3),
            path("labels") +
                ": magic number 0x00000801 at byte 0 says 1 dimensions, expected 3 "
                "(magic 0x00000803)");
}

TEST_F(IdxTest, NegativeDimension) {
  write_bytes(path("f"), {0, 0, 8, 1, 0xFF, 0xFF, 0xFF, 0xFE});
  EXPECT_EQ(read_error(path("f")), path("f") + ": dimension 0 at byte 4 is negative (-2)");
}

TEST_F(IdxTest, HugeDimensionsDoNotAllocate) {
  // 2^31-1 cubed elements announced, 3 present: an error, not an allocation of 10^28 bytes.
  write_bytes(path("f"), {0, 0, 8, 3, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF,
                          0xFF, 0xFF, 1, 2, 3});
  EXPECT_THAT(read_error(path("f")), HasSubstr("describe more than 2^48 elements"));
  // 2^38 elements announced: read in chunks, so only what is there is allocated.
  write_bytes(path("g"), {0, 0, 8, 2, 0, 0, 1, 0, 0x40, 0, 0, 0, 1, 2, 3});
  EXPECT_EQ(read_error(path("g")), path("g") + ": truncated: expected 274877906956 bytes, got 15");
}

TEST_F(IdxTest, RowSizeIsCheckedWhenTheFirstDimensionIsZero) {
  // 0 x (2^31-1)^4: no elements, but a row of (2^31-1)^4 bytes, which overflows int64.
  std::vector<unsigned char> bytes = {0, 0, 8, 5, 0, 0, 0, 0};
  for (int i = 0; i < 4; ++i) bytes.insert(bytes.end(), {0x7F, 0xFF, 0xFF, 0xFF});
  write_bytes(path("f"), bytes);
  const std::string expected =
      path("f") + ": dimensions at bytes 4-23 describe more than 2^48 elements";
  EXPECT_EQ(read_error(path("f")), expected);
  std::string rows_error;
  try {
    read_idx_rows(path("f"), std::nullopt, [](auto&&...) { FAIL() << "a block was handed over"; });
  } catch (const DataError& e) {
    rows_error = e.what();
  }
  EXPECT_EQ(rows_error, expected);
  // 0 x 2^20 x 2^20 x 2^20: no overflow, still over the bound.
  write_bytes(path("g"), {0, 0, 8, 4, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x10, 0, 0, 0, 0x10, 0, 0});
  EXPECT_THAT(read_error(path("g")), HasSubstr("describe more than 2^48 elements"));
}

TEST_F(IdxTest, GzipFloodAfterTheElementsIsNotDecompressedToTheEnd) {
  // 4 labels, then 64 MiB of zeros behind them (64 KiB compressed).
  gzFile f = gzopen(path("f.gz").c_str(), "wb9");
  ASSERT_NE(f, nullptr);
  const unsigned char header[] = {0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 3, 4};
  ASSERT_EQ(gzwrite(f, header, sizeof header), static_cast<int>(sizeof header));
  std::vector<unsigned char> zeros(1 << 20, 0);
  for (int i = 0; i < 64; ++i) {
    ASSERT_EQ(gzwrite(f, zeros.data(), static_cast<unsigned>(zeros.size())), 1 << 20);
  }
  ASSERT_EQ(gzclose(f), Z_OK);
  EXPECT_EQ(read_error(path("f.gz")),
            path("f.gz") +
                ": trailing bytes: expected 12 bytes (after decompression), got more "
                "than 16396 (from byte 12)");
}

TEST_F(IdxTest, GzipHeaderAnnouncingMoreThanTheFileCanHold) {
  // 60000 x 28 x 28 announced by a gzip file of a few dozen bytes.
  gzip_bytes(path("f.gz"), {0, 0, 8, 3, 0, 0, 0xEA, 0x60, 0, 0, 0, 28, 0, 0, 0, 28, 7});
  const std::string error = read_error(path("f.gz"));
  EXPECT_THAT(error, ::testing::StartsWith(path("f.gz") + ": the header announces 47040016 bytes "
                                                          "after decompression, more than a gzip "
                                                          "file of "));
}

// Issue 24 (class 6): a 763 KB gzip file could make `nabla eval` hold a gigabyte, within
// deflate's bound. A file may expand 64 times (at least to 64 MiB), no more.
TEST_F(IdxTest, GzipExpandingMoreThan64TimesIsRefused) {
  // 80 MiB of bytes announced (a 1-D IDX of 83886080), behind it 100 KB that do not
  // compress: deflate could hold it (about 103 MB), but not 64 times 100 KB.
  std::vector<unsigned char> bytes = {0, 0, 8, 1, 0x05, 0, 0, 0};
  std::mt19937 bits(7);
  for (int i = 0; i < 100000; ++i) bytes.push_back(static_cast<unsigned char>(bits()));
  gzip_bytes(path("f.gz"), bytes);
  const auto size = std::filesystem::file_size(path("f.gz"));
  ASSERT_GT(1032 * size, 83886088u);
  const std::uint64_t allowed = std::max<std::uint64_t>(64 << 20, 64 * size);
  EXPECT_EQ(read_error(path("f.gz")),
            path("f.gz") + ": the header announces 83886088 bytes after decompression, more " +
                "than nabla decompresses from a gzip file of " + std::to_string(size) + " bytes (" +
                std::to_string(allowed) +
                ": 64 times its size, at least 67108864); gunzip it to read it as a plain file");
  // announcing at most 64 MiB is read (here: found truncated, after what the file holds)
  bytes[4] = 0x03;
  bytes[5] = 0xFF;
  bytes[6] = 0xFF;
  bytes[7] = 0xF8;  // 67108856 elements + 8 bytes of header: 64 MiB
  gzip_bytes(path("g.gz"), bytes);
  EXPECT_EQ(read_error(path("g.gz")),
            path("g.gz") + ": truncated: expected 67108864 bytes (after decompression), got " +
                std::to_string(bytes.size()));
}

TEST_F(IdxTest, GzipTruncatedData) {
  IdxArray a = small_images();
  write_idx(path("f.gz"), a);
  // Cut the gzip stream itself: its 8-byte trailer and some of the compressed data.
  std::vector<unsigned char> bytes = read_bytes(path("f.gz"));
  ASSERT_GT(bytes.size(), 12u);
  bytes.erase(bytes.end() - 12, bytes.end());
  write_bytes(path("f.gz"), bytes);
  std::string error = read_error(path("f.gz"));
  EXPECT_THAT(error, HasSubstr(path("f.gz") + ": truncated gzip data after "));
  EXPECT_THAT(error, HasSubstr("unexpected end of file"));
}

TEST_F(IdxTest, GzipTruncatedIdx) {
  // A complete gzip stream whose content is a truncated IDX file.
  std::vector<unsigned char> bytes = {0, 0, 8, 1, 0, 0, 0, 12, 1, 2, 3};
  gzip_bytes(path("f.gz"), bytes);
  EXPECT_EQ(read_error(path("f.gz")),
            path("f.gz") + ": truncated: expected 20 bytes (after decompression), got 11");
}

TEST_F(IdxTest, GzipTrailingBytes) {
  std::vector<unsigned char> bytes = {0, 0, 8, 1, 0, 0, 0, 12};
  for (unsigned char i = 0; i < 13; ++i) bytes.push_back(i);
  gzip_bytes(path("f.gz"), bytes);
  EXPECT_EQ(read_error(path("f.gz")),
            path("f.gz") +
                ": trailing bytes: expected 20 bytes (after decompression), got 21 "
                "(1 after the last element, from byte 20)");
}

TEST_F(IdxTest, GzipCorruptStream) {
  IdxArray labels;
  labels.dims = {5000};
  for (int i = 0; i < 5000; ++i) labels.data.push_back(static_cast<std::uint8_t>((i * 7) % 251));
  write_idx(path("f.gz"), labels);
  std::vector<unsigned char> bytes = read_bytes(path("f.gz"));
  for (std::size_t i = 20; i < bytes.size() - 8; i += 3) bytes[i] ^= 0x5A;
  write_bytes(path("f.gz"), bytes);
  EXPECT_THAT(read_error(path("f.gz")), HasSubstr(path("f.gz") + ": "));
  EXPECT_THAT(read_error(path("f.gz")), HasSubstr("gzip data"));
}

// Random byte changes to plain and gzip files: each read either succeeds or throws
// DataError; nothing else escapes and nothing crashes.
TEST_F(IdxTest, NeverCrashesOnCorruptInput) {
  IdxArray a = small_images();
  Rng rng(99);
  for (const char* name : {"f", "f.gz"}) {
    write_idx(path(name), a);
    const std::vector<unsigned char> good = read_bytes(path(name));
    int loaded = 0;
    for (int trial = 0; trial < 1000; ++trial) {
      std::vector<unsigned char> bytes = good;
      auto at = static_cast<std::size_t>(rng.below(static_cast<std::int64_t>(bytes.size())));
      bytes[at] = static_cast<unsigned char>(rng.below(256));
      if (rng.below(4) == 0) bytes.resize(at);
      write_bytes(path("c"), bytes);
      try {
        IdxArray back = read_idx(path("c"));
        ++loaded;
        std::int64_t count = 1;
        for (std::int64_t d : back.dims) count *= d;
        EXPECT_EQ(static_cast<std::size_t>(count), back.data.size());
      } catch (const DataError&) {
      }
    }
    EXPECT_GT(loaded, 0) << name;  // changes to pixel bytes still load
  }
}

TEST_F(IdxTest, WriterChecksDims) {
  IdxArray a = small_images();
  a.dims = {2, 3, 3};
  try {
    write_idx(path("f"), a);
    FAIL() << "no error";
  } catch (const ValueError& e) {
    EXPECT_EQ(std::string(e.what()),
              "write_idx: " + path("f") + ": dims (2,3,3) hold 18 elements, data has 12");
  }
  EXPECT_FALSE(fs::exists(path("f")));
}

}  // namespace
}  // namespace nabla
