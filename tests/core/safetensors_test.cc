// safetensors: round trips, the exact bytes on disk, and a clear DataError (never a
// crash) for every kind of damaged file.
#include "nabla/core/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "test_util.h"

namespace nabla {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

using testing_util::read_bytes;
using testing_util::write_bytes;

class Safetensors : public testing_util::TempDirTest {};

// A file with the given header text and `data_bytes` zero bytes of data; the header
// length field is header.size() unless given.
void write_raw(const std::string& path, const std::string& header, std::size_t data_bytes,
               std::optional<std::uint64_t> length = std::nullopt) {
  std::uint64_t n = length.value_or(header.size());
  std::vector<unsigned char> bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<unsigned char>(n >> (8 * i)));
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.resize(bytes.size() + data_bytes, 0);
  write_bytes(path, bytes);
}

std::string load_error(const std::string& path) {
  try {
    load_safetensors(path);
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

// The names in a directory, sorted.
std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::pair<std::string, Tensor>> sample_tensors() {
  return {
      {"W1", Tensor::from({2, 3}, {1.5, -2.0, 3.25, 0.0, 1e-3, -7.0}, DType::f32)},
      {"b1", Tensor::from({3}, {0.1, 0.2, 1.0 / 3.0}, DType::f64)},
      {"scale", Tensor::scalar(2.5, DType::f64)},
      {"empty", Tensor::zeros({0, 4}, DType::f32)},
  };
}

TEST_F(Safetensors, RoundTripFloat32AndFloat64WithMetadata) {
  auto tensors = sample_tensors();
  std::map<std::string, std::string> metadata = {
      {"model", "two-layer-net"}, {"hidden", "50"}, {"note", "quote \" and unicode \u00e9"}};
  save_safetensors(path("m.safetensors"), tensors, metadata);
  EXPECT_EQ(files_in(dir_), std::vector<std::string>{"m.safetensors"});  // no temporary left

  SafetensorsFile f = load_safetensors(path("m.safetensors"));
  EXPECT_EQ(f.metadata, metadata);
  ASSERT_EQ(f.tensors.size(), tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, t] = f.tensors[i];
    EXPECT_EQ(name, tensors[i].first);
    EXPECT_EQ(t.dtype(), tensors[i].second.dtype()) << name;
    EXPECT_EQ(t.shape(), tensors[i].second.shape()) << name;
    EXPECT_EQ(t.to_vector(), tensors[i].second.to_vector()) << name;  // bit for bit
  }
  EXPECT_EQ(f.tensors[1].second.data<double>()[2], 1.0 / 3.0);
  EXPECT_EQ(f.tensors[0].second.data<float>()[4], 1e-3f);
}

TEST_F(Safetensors, IntegerTensorsRoundTripExactly) {
  Tensor ids = Tensor::empty({2, 3}, DType::i64);
  const std::int64_t values[] = {0, 1, -5, std::int64_t{1} << 60, 400000, -(std::int64_t{1} << 62)};
  std::copy(values, values + 6, ids.data<std::int64_t>());
  Tensor small = Tensor::from({2}, {7, -9}).to(DType::i32);
  save_safetensors(path("ids"), {{"ids", ids}, {"small", small}});
  std::vector<unsigned char> bytes = read_bytes(path("ids"));
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= std::uint64_t{bytes[static_cast<std::size_t>(i)]} << (8 * i);
  auto header = nlohmann::json::parse(
      std::string(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(n)));
  EXPECT_EQ(header["ids"]["dtype"], "I64");
  EXPECT_EQ(header["ids"]["data_offsets"], nlohmann::json::parse("[0, 48]"));
  EXPECT_EQ(header["small"]["dtype"], "I32");
  EXPECT_EQ(header["small"]["data_offsets"], nlohmann::json::parse("[48, 56]"));

  SafetensorsFile f = load_safetensors(path("ids"));
  ASSERT_EQ(f.tensors.size(), 2u);
  ASSERT_EQ(f.tensors[0].second.dtype(), DType::i64);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(f.tensors[0].second.data<std::int64_t>()[i], values[i]);
  ASSERT_EQ(f.tensors[1].second.dtype(), DType::i32);
  EXPECT_EQ(f.tensors[1].second.data<std::int32_t>()[1], -9);
}

TEST_F(Safetensors, IntegerTensorWithTheWrongByteCount) {
  // 3 int64 need 24 bytes, not 12 (12 would be right for I32)
  write_raw(path("f"), R"({"ids":{"dtype":"I64","shape":[3],"data_offsets":[0,12]}})", 12);
  EXPECT_THAT(load_error(path("f")), HasSubstr("tensor 'ids'"));
  write_raw(path("g"), R"({"ids":{"dtype":"I32","shape":[3],"data_offsets":[0,12]}})", 12);
  EXPECT_EQ(load_safetensors(path("g")).tensors[0].second.dtype(), DType::i32);
}

// The names of a save's temporary files, which a run removes after a kill (issue 24).
TEST_F(Safetensors, SaveLeftoversAreKnownByTheirName) {
  EXPECT_TRUE(is_save_leftover("model.safetensors.tmp-0123456789abcdef"));
  EXPECT_TRUE(is_save_leftover("x.tmp-ffffffffffffffff"));
  EXPECT_FALSE(is_save_leftover("model.safetensors"));
  EXPECT_FALSE(is_save_leftover(".tmp-0123456789abcdef"));                    // no name before
  EXPECT_FALSE(is_save_leftover("model.safetensors.tmp-0123456789abcde"));    // 15 digits
  EXPECT_FALSE(is_save_leftover("model.safetensors.tmp-0123456789abcdef0"));  // 17
  EXPECT_FALSE(is_save_leftover("model.safetensors.tmp-0123456789ABCDEF"));   // not ours
  EXPECT_FALSE(is_save_leftover("notes.tmp-mine"));
  // and a save leaves none behind, but its file
  save_safetensors(path("m.safetensors"), {{"w", Tensor::from({2}, {1, 2})}});
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    EXPECT_FALSE(is_save_leftover(entry.path().filename().string())) << entry.path();
  }
}

TEST_F(Safetensors, FastSaveWritesTheSameBytes) {
  // Flush::fast skips the fsyncs only: same file, still renamed into place
  save_safetensors(path("durable"), sample_tensors(), {{"model", "mlp"}}, Flush::durable);
  save_safetensors(path("fast"), sample_tensors(), {{"model", "mlp"}}, Flush::fast);
  EXPECT_EQ(files_in(dir_), (std::vector<std::string>{"durable", "fast"}));
  EXPECT_EQ(read_bytes(path("fast")), read_bytes(path("durable")));
}

TEST_F(Safetensors, BytesOnDisk) {
  save_safetensors(path("m"), sample_tensors(), {{"model", "mlp"}});
  std::vector<unsigned char> bytes = read_bytes(path("m"));
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= std::uint64_t{bytes[static_cast<std::size_t>(i)]} << (8 * i);
  EXPECT_EQ(n % 8, 0u);  // data starts 8-byte aligned
  // Data: 6 float32, 3 float64, 1 float64, nothing.
  ASSERT_EQ(bytes.size(), 8 + n + 24 + 24 + 8);
  auto header = nlohmann::json::parse(
      std::string(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(n)));
  EXPECT_EQ(header["W1"]["dtype"], "F32");
  EXPECT_EQ(header["W1"]["shape"], nlohmann::json::parse("[2, 3]"));
  EXPECT_EQ(header["W1"]["data_offsets"], nlohmann::json::parse("[0, 24]"));
  EXPECT_EQ(header["b1"]["dtype"], "F64");
  EXPECT_EQ(header["b1"]["data_offsets"], nlohmann::json::parse("[24, 48]"));
  EXPECT_EQ(header["scale"]["shape"], nlohmann::json::array());
  EXPECT_EQ(header["scale"]["data_offsets"], nlohmann::json::parse("[48, 56]"));
  EXPECT_EQ(header["empty"]["data_offsets"], nlohmann::json::parse("[56, 56]"));
  EXPECT_EQ(header["__metadata__"]["model"], "mlp");
  // 1.5f little-endian is 00 00 c0 3f.
  const std::size_t data = 8 + n;
  EXPECT_EQ(bytes[data], 0x00);
  EXPECT_EQ(bytes[data + 1], 0x00);
  EXPECT_EQ(bytes[data + 2], 0xc0);
  EXPECT_EQ(bytes[data + 3], 0x3f);
}

TEST_F(Safetensors, TensorsComeBackInOffsetOrder) {
  // The header lists "b" first, but its data comes second.
  write_raw(path("f"),
            R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
            R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
            8);
  SafetensorsFile f = load_safetensors(path("f"));
  ASSERT_EQ(f.tensors.size(), 2u);
  EXPECT_EQ(f.tensors[0].first, "a");
  EXPECT_EQ(f.tensors[1].first, "b");
  EXPECT_TRUE(f.metadata.empty());
}

TEST_F(Safetensors, OverwritesAnExistingFile) {
  save_safetensors(path("m"), sample_tensors());
  save_safetensors(path("m"), {{"x", Tensor::scalar(7.0)}});
  SafetensorsFile f = load_safetensors(path("m"));
  ASSERT_EQ(f.tensors.size(), 1u);
  EXPECT_EQ(f.tensors[0].second.item(), 7.0);
}

TEST_F(Safetensors, SaveRejectsBadNames) {
  Tensor t = Tensor::scalar(1.0);
  EXPECT_THROW(save_safetensors(path("m"), {{"a", t}, {"a", t}}), ValueError);
  EXPECT_THROW(save_safetensors(path("m"), {{"__metadata__", t}}), ValueError);
  EXPECT_THROW(save_safetensors(path("m"), {{"", t}}), ValueError);
  EXPECT_THROW(save_safetensors(path("m"), {{"u", Tensor()}}), ValueError);
  EXPECT_FALSE(fs::exists(path("m")));
  EXPECT_THROW(save_safetensors(path("no/such/dir/m"), {{"a", t}}), DataError);
}

// ---- damaged files ----------------------------------------------------------------------

TEST_F(Safetensors, ConcurrentSavesToOnePath) {
  // Each save writes a temporary file of its own: two at once never share one.
  auto saver = [&](double value, std::string* error) {
    try {
      for (int i = 0; i < 40; ++i) {
        save_safetensors(path("m"), {{"w", Tensor::full({64}, value)}}, {}, Flush::fast);
      }
    } catch (const std::exception& e) {
      *error = e.what();
    }
  };
  std::string error_a, error_b;
  std::thread a(saver, 1.0, &error_a), b(saver, 2.0, &error_b);
  a.join();
  b.join();
  EXPECT_EQ(error_a, "");
  EXPECT_EQ(error_b, "");
  SafetensorsFile f = load_safetensors(path("m"));
  ASSERT_EQ(f.tensors.size(), 1u);
  const double first = f.tensors[0].second.get(0);
  EXPECT_TRUE(first == 1.0 || first == 2.0);
  EXPECT_EQ(f.tensors[0].second.get(63), first);  // one save's bytes, not a mix
  EXPECT_EQ(files_in(dir_), std::vector<std::string>{"m"});
}

// Only a regular file is read: a device (/dev/zero never ends) or a directory is named as
// what it is.
TEST_F(Safetensors, LoadsOnlyRegularFiles) {
  EXPECT_EQ(testing_util::error_of<DataError>([] { load_safetensors("/dev/zero"); }),
            "/dev/zero: is a device, not a safetensors file");
  EXPECT_EQ(testing_util::error_of<DataError>([&] { load_safetensors(dir_.string()); }),
            dir_.string() + ": is a directory, not a safetensors file");
}

TEST_F(Safetensors, FailedRenameSaysWhy) {
  fs::create_directories(path("m") + "/inside");  // a directory in the way
  std::string error;
  try {
    save_safetensors(path("m"), sample_tensors());
  } catch (const DataError& e) {
    error = e.what();
  }
  EXPECT_THAT(error, ::testing::StartsWith(path("m") + ": cannot rename " + path("m.tmp-")));
  EXPECT_THAT(error, ::testing::HasSubstr(": Is a directory"));
  EXPECT_THAT(error, ::testing::Not(::testing::HasSubstr("Success")));
  EXPECT_EQ(files_in(dir_), std::vector<std::string>{"m"});  // the temporary file removed
}

TEST_F(Safetensors, ShapesWithHugeDimensions) {
  // A zero dimension makes the tensor empty, whatever the others multiply to.
  write_raw(path("f"),
            R"({"w":{"dtype":"F32","shape":[4611686018427387904,4,0],"data_offsets":[0,0]}})", 0);
  SafetensorsFile f = load_safetensors(path("f"));
  ASSERT_EQ(f.tensors.size(), 1u);
  EXPECT_EQ(f.tensors[0].second.numel(), 0);
  EXPECT_EQ(f.tensors[0].second.shape(), (Shape{4611686018427387904, 4, 0}));
  write_raw(path("g"),
            R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}})", 8);
  EXPECT_THAT(load_error(path("g")), ::testing::HasSubstr("needs more than the file has"));
}

TEST_F(Safetensors, NumberTooLargeInTheHeader) {
  write_raw(path("f"), R"({"w":{"dtype":"F32","shape":[1e400],"data_offsets":[0,0]}})", 0);
  EXPECT_THAT(load_error(path("f")),
              ::testing::StartsWith(path("f") + ": the JSON header (bytes 8-"));
}

TEST_F(Safetensors, MissingFile) {
  EXPECT_EQ(load_error(path("nope")), path("nope") + ": cannot open: No such file or directory");
}

TEST_F(Safetensors, ShorterThanTheLengthField) {
  write_bytes(path("f"), {1, 2, 3});
  EXPECT_EQ(load_error(path("f")), path("f") +
                                       ": truncated: a safetensors file starts with an "
                                       "8-byte header length, the file has 3 bytes");
}

TEST_F(Safetensors, HeaderLengthPastTheEnd) {
  write_raw(path("f"), "{}", 0, 1000);
  EXPECT_EQ(load_error(path("f")), path("f") +
                                       ": header length 1000 (bytes 0-7) runs past the "
                                       "end of the file (10 bytes)");
  write_raw(path("g"), "{}", 0, ~std::uint64_t{0});
  EXPECT_THAT(load_error(path("g")), HasSubstr("runs past the end of the file"));
}

TEST_F(Safetensors, InvalidJson) {
  write_raw(path("f"), R"({"a": {"dtype": "F32",)", 0);
  EXPECT_THAT(load_error(path("f")), HasSubstr(path("f") + ": the JSON header (bytes 8-30) is "
                                                           "invalid: "));
  write_raw(path("g"), "[1, 2]", 0);
  EXPECT_EQ(load_error(path("g")), path("g") + ": the JSON header is not an object");
}

TEST_F(Safetensors, UnknownDtype) {
  write_raw(path("f"), R"({"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}})", 4);
  EXPECT_EQ(load_error(path("f")),
            path("f") +
                ": tensor 'w': dtype 'BF16' is not supported (nabla reads F32, F64, I64 and I32)");
}

TEST_F(Safetensors, MissingOrMistypedFields) {
  write_raw(path("f"), R"({"w":{"dtype":"F32","data_offsets":[0,4]}})", 4);
  EXPECT_EQ(load_error(path("f")), path("f") + ": tensor 'w': no \"shape\" in its header entry");
  write_raw(path("g"), R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4);
  EXPECT_EQ(load_error(path("g")),
            path("g") + ": tensor 'w': \"shape\" [-1] holds -1, not a non-negative integer");
  write_raw(path("h"), R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4);
  EXPECT_EQ(load_error(path("h")),
            path("h") + ": tensor 'w': \"data_offsets\" is not an array [begin, end]");
  write_raw(path("i"), R"({"w":[1,2]})", 0);
  EXPECT_EQ(load_error(path("i")), path("i") + ": tensor 'w': header entry is not a JSON object");
  write_raw(path("j"), R"({"__metadata__":{"epochs":17}})", 0);
  EXPECT_EQ(load_error(path("j")), path("j") + ": metadata 'epochs' is not a string: 17");
}

TEST_F(Safetensors, OffsetsOutOfRange) {
  write_raw(path("f"), R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 8);
  EXPECT_EQ(load_error(path("f")), path("f") +
                                       ": tensor 'w': data_offsets [4,12] out of range: "
                                       "the data after the header has 8 bytes");
  write_raw(path("g"), R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})", 8);
  EXPECT_THAT(load_error(path("g")), HasSubstr("data_offsets [4,0] out of range"));
}

TEST_F(Safetensors, OffsetsDoNotMatchShape) {
  write_raw(path("f"), R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8);
  EXPECT_EQ(load_error(path("f")), path("f") +
                                       ": tensor 'w': data_offsets [0,8] hold 8 bytes, "
                                       "but F32 (3) needs 12");
  // A shape whose element count overflows 64 bits.
  write_raw(path("g"),
            R"({"w":{"dtype":"F64","shape":[4611686018427387904,4611686018427387904],)"
            R"("data_offsets":[0,8]}})",
            8);
  EXPECT_THAT(load_error(path("g")), HasSubstr("needs more than the file has"));
}

TEST_F(Safetensors, OverlapGapAndLeftover) {
  write_raw(path("f"),
            R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
            R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
            12);
  EXPECT_EQ(load_error(path("f")),
            path("f") + ": tensor 'b' (data_offsets [4, 12]) overlaps tensor 'a'");
  write_raw(path("g"),
            R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
            R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
            12);
  EXPECT_EQ(load_error(path("g")),
            path("g") + ": bytes 4-8 of the data belong to no tensor (before tensor 'b')");
  write_raw(path("h"), R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 8);
  EXPECT_EQ(load_error(path("h")), path("h") +
                                       ": the last 4 of the 8 data bytes belong to no "
                                       "tensor");
}

TEST_F(Safetensors, TruncatedFile) {
  save_safetensors(path("m"), sample_tensors());
  fs::resize_file(path("m"), fs::file_size(path("m")) - 4);
  EXPECT_THAT(load_error(path("m")), HasSubstr(path("m") + ": "));
  EXPECT_THAT(load_error(path("m")), HasSubstr("out of range"));
}

// Every truncation and many random byte flips of a valid file: each either loads or
// gives a DataError; nothing else escapes and nothing crashes.
TEST_F(Safetensors, NeverCrashesOnCorruptInput) {
  save_safetensors(path("m"), sample_tensors(), {{"k", "v"}});
  const std::vector<unsigned char> good = read_bytes(path("m"));
  int errors = 0;
  auto try_load = [&](const std::vector<unsigned char>& bytes) {
    write_bytes(path("c"), bytes);
    try {
      load_safetensors(path("c"));
    } catch (const DataError&) {
      ++errors;
    }
  };
  for (std::size_t len = 0; len < good.size(); ++len) {
    try_load(std::vector<unsigned char>(good.begin(), good.begin() + static_cast<long>(len)));
  }
  EXPECT_EQ(errors, static_cast<int>(good.size()));  // every truncation is caught
  Rng rng(123);
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<unsigned char> bytes = good;
    const int flips = 1 + static_cast<int>(rng.below(3));
    for (int k = 0; k < flips; ++k) {
      auto at = static_cast<std::size_t>(rng.below(static_cast<std::int64_t>(bytes.size())));
      bytes[at] = static_cast<unsigned char>(rng.below(256));
    }
    try_load(bytes);
  }
}

}  // namespace
}  // namespace nabla
