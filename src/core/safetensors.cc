#include "nabla/core/safetensors.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "core/input_file.h"

namespace nabla {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian data; nabla writes the memory as it is");

namespace fs = std::filesystem;

// The reference implementation refuses headers above 100 MB; so do we.
constexpr std::uint64_t kMaxHeader = 100'000'000;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

const char* dtype_code(DType dtype) {
  static constexpr const char* kCodes[] = {"F32", "F64", "I64", "I32"};  // DType order
  return kCodes[static_cast<int>(dtype)];
}

std::string num(std::uint64_t n) { return std::to_string(n); }

// ---- writing ---------------------------------------------------------------------------

void write_all(std::FILE* f, const void* data, std::size_t n, const std::string& tmp) {
  if (n > 0 && std::fwrite(data, 1, n, f) != n) {
    throw DataError(tmp + ": write failed: " + std::strerror(errno));
  }
}

// Flushes the directory entry of a rename to disk (best effort: not all file systems
// allow opening a directory).
void sync_directory(const fs::path& file) {
  fs::path dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::string build_header(const std::vector<std::pair<std::string, Tensor>>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name.empty() || name == "__metadata__" || !names.insert(name).second) {
      throw ValueError("save_safetensors: tensor name '" + name +
                       "' is empty, reserved or used twice");
    }
    if (!tensor.defined()) {
      throw ValueError("save_safetensors: tensor '" + name + "' is undefined");
    }
    header[name] = {{"dtype", dtype_code(tensor.dtype())},
                    {"shape", tensor.shape()},
                    {"data_offsets", {offset, offset + tensor.nbytes()}}};
    offset += tensor.nbytes();
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    throw ValueError(std::string("save_safetensors: a name or metadata value is not valid "
                                 "UTF-8: ") +
                     e.what());
  }
  // Pad so that the data starts at a multiple of 8 bytes, as the reference writer does.
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

// ---- reading ---------------------------------------------------------------------------

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  std::uint64_t begin, end;
};

std::uint64_t read_offset(const nlohmann::json& v, const std::string& fail) {
  if (!v.is_number_unsigned()) throw DataError(fail);
  return v.get<std::uint64_t>();
}

Entry parse_entry(const std::string& where, const std::string& name, const nlohmann::json& info,
                  std::uint64_t data_size) {
  const std::string at = where + "tensor '" + name + "': ";
  if (!info.is_object()) throw DataError(at + "header entry is not a JSON object");
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (!info.contains(key)) throw DataError(at + "no \"" + key + "\" in its header entry");
  }
  const nlohmann::json& dtype = info["dtype"];
  if (!dtype.is_string()) throw DataError(at + "\"dtype\" is not a string");
  Entry e{name, DType::f32, {}, 0, 0};
  const std::string code = dtype.get<std::string>();
  if (code == "F32") {
    e.dtype = DType::f32;
  } else if (code == "F64") {
    e.dtype = DType::f64;
  } else if (code == "I64") {
    e.dtype = DType::i64;
  } else if (code == "I32") {
    e.dtype = DType::i32;
  } else {
    throw DataError(at + "dtype '" + code +
                    "' is not supported (nabla reads F32, F64, I64 and I32)");
  }

  const nlohmann::json& shape = info["shape"];
  if (!shape.is_array()) throw DataError(at + "\"shape\" is not an array");
  // The element count, saturated just above what the data could hold.
  const std::uint64_t cap = data_size + 1;
  std::uint64_t count = 1;
  for (const nlohmann::json& d : shape) {
    const std::string bad =
        at + "\"shape\" " + shape.dump() + " holds " + d.dump() + ", not a non-negative integer";
    std::uint64_t dim = read_offset(d, bad);
    if (dim > static_cast<std::uint64_t>(INT64_MAX)) throw DataError(bad);
    count = dim == 0 ? 0 : (count > cap / dim ? cap : count * dim);
    e.shape.push_back(static_cast<std::int64_t>(dim));
  }

  const nlohmann::json& offsets = info["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2) {
    throw DataError(at + "\"data_offsets\" is not an array [begin, end]");
  }
  const std::string bad_offset =
      at + "\"data_offsets\" " + offsets.dump() + " are not non-negative integers";
  e.begin = read_offset(offsets[0], bad_offset);
  e.end = read_offset(offsets[1], bad_offset);
  if (e.begin > e.end || e.end > data_size) {
    throw DataError(at + "data_offsets " + offsets.dump() +
                    " out of range: the data after the "
                    "header has " +
                    num(data_size) + " bytes");
  }
  const std::uint64_t needed = count * dtype_size(e.dtype);
  if (count > data_size || e.end - e.begin != needed) {
    throw DataError(at + "data_offsets " + offsets.dump() + " hold " + num(e.end - e.begin) +
                    " bytes, but " + code + " " + shape_str(e.shape) + " needs " +
                    (count > data_size ? "more than the file has" : num(needed)));
  }
  return e;
}

}  // namespace

void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, Tensor>>& tensors,
                      const std::map<std::string, std::string>& metadata, Flush flush) {
  const std::string header = build_header(tensors, metadata);
  // A temporary name of this save's own (two saves to one path at once must not share
  // it), created exclusively, then renamed over `path`.
  std::string tmp;
  File f;
  std::random_device random;
  for (int attempt = 0; !f; ++attempt) {
    char suffix[40];
    std::snprintf(suffix, sizeof suffix, ".tmp-%08x%08x", random(), random());
    tmp = path + suffix;
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
      if (errno == EEXIST && attempt < 8) continue;
      throw DataError(tmp + ": cannot create: " + std::strerror(errno));
    }
    f.reset(::fdopen(fd, "wb"));
    if (!f) {
      const int error = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw DataError(tmp + ": cannot open: " + std::strerror(error));
    }
  }
  {
    try {
      unsigned char length[8];
      std::uint64_t n = header.size();
      for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(n >> (8 * i));
      write_all(f.get(), length, 8, tmp);
      write_all(f.get(), header.data(), header.size(), tmp);
      for (const auto& entry : tensors) {
        write_all(f.get(), entry.second.raw(), entry.second.nbytes(), tmp);
      }
      if (std::fflush(f.get()) != 0 || (flush == Flush::durable && ::fsync(fileno(f.get())) != 0)) {
        throw DataError(tmp + ": cannot flush to disk: " + std::strerror(errno));
      }
      if (std::fclose(f.release()) != 0) {
        throw DataError(tmp + ": cannot close: " + std::strerror(errno));
      }
    } catch (...) {
      f.reset();
      std::error_code ec;
      fs::remove(tmp, ec);
      throw;
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    const std::string why = ec.message();  // (before remove() overwrites ec)
    fs::remove(tmp, ec);
    throw DataError(path + ": cannot rename " + tmp + " to it: " + why);
  }
  if (flush == Flush::durable) sync_directory(path);
}

bool is_save_leftover(const std::string& file_name) {
  constexpr std::size_t kDigits = 16;
  const std::size_t tmp = file_name.rfind(".tmp-");
  if (tmp == std::string::npos || tmp == 0 || file_name.size() != tmp + 5 + kDigits) return false;
  return file_name.find_first_not_of("0123456789abcdef", tmp + 5) == std::string::npos;
}

SafetensorsFile load_safetensors(const std::string& path) {
  const std::string where = path + ": ";
  check_regular_file(path, "a safetensors file");
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) throw DataError(where + "cannot open: " + std::strerror(errno));
  std::error_code ec;
  std::uintmax_t size = fs::file_size(path, ec);
  if (ec) throw DataError(where + "cannot read its size: " + ec.message());

  unsigned char length[8];
  if (size < 8 || std::fread(length, 1, 8, f.get()) != 8) {
    throw DataError(where +
                    "truncated: a safetensors file starts with an 8-byte header "
                    "length, the file has " +
                    num(size) + " bytes");
  }
  std::uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= std::uint64_t{length[i]} << (8 * i);
  if (n > size - 8) {
    throw DataError(where + "header length " + num(n) +
                    " (bytes 0-7) runs past the end of "
                    "the file (" +
                    num(size) + " bytes)");
  }
  if (n > kMaxHeader) {
    throw DataError(where + "header length " + num(n) + " (bytes 0-7) is over the limit of " +
                    num(kMaxHeader));
  }
  std::string text(static_cast<std::size_t>(n), '\0');
  if (n > 0 && std::fread(text.data(), 1, text.size(), f.get()) != text.size()) {
    throw DataError(where + "cannot read the header: " + std::strerror(errno));
  }
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, out_of_range (1e400)
    throw DataError(where + "the JSON header (bytes 8-" + num(8 + n) + ") is invalid: " + e.what());
  }
  if (!header.is_object()) throw DataError(where + "the JSON header is not an object");

  const std::uint64_t data_size = size - 8 - n;
  SafetensorsFile out;
  std::vector<Entry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) throw DataError(where + "\"__metadata__\" is not a JSON object");
      for (const auto& [key, value] : info.items()) {
        if (!value.is_string()) {
          throw DataError(where + "metadata '" + key + "' is not a string: " + value.dump());
        }
        out.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(where, name, info, data_size));
  }

  // In file order, the tensors must tile the data exactly: no gap, no overlap.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t covered = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (e.begin < covered) {
      throw DataError(where + "tensor '" + e.name + "' (data_offsets [" + num(e.begin) + ", " +
                      num(e.end) + "]) overlaps tensor '" + entries[i - 1].name + "'");
    }
    if (e.begin > covered) {
      throw DataError(where + "bytes " + num(covered) + "-" + num(e.begin) +
                      " of the data belong to no tensor (before tensor '" + e.name + "')");
    }
    covered = e.end;
  }
  if (covered != data_size) {
    throw DataError(where + "the last " + num(data_size - covered) + " of the " + num(data_size) +
                    " data bytes belong to no tensor");
  }

  for (const Entry& e : entries) {
    Tensor t(e.shape, e.dtype);
    if (t.nbytes() > 0 && std::fread(t.raw(), 1, t.nbytes(), f.get()) != t.nbytes()) {
      throw DataError(where + "tensor '" + e.name + "': cannot read its data at byte " +
                      num(8 + n + e.begin) + ": file changed while reading?");
    }
    out.tensors.emplace_back(e.name, std::move(t));
  }
  return out;
}

}  // namespace nabla
