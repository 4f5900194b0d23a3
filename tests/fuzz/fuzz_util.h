// Helpers for the libFuzzer harnesses: the readers under test take file paths, so each
// input is written to a file of its own (one per process, under $TMPDIR) first.
#ifndef NABLA_TESTS_FUZZ_FUZZ_UTIL_H_
#define NABLA_TESTS_FUZZ_FUZZ_UTIL_H_

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace nabla::fuzz {

// A file named `name` (its extension picks the format for some readers) in a directory
// of this process's own, holding `size` bytes of `data`; removed when it goes.
class InputFile {
 public:
  InputFile(const std::string& name, const void* data, std::size_t size) {
    static const std::filesystem::path dir = [] {
      std::filesystem::path d =
          std::filesystem::temp_directory_path() / ("nabla_fuzz_" + std::to_string(::getpid()));
      std::filesystem::create_directories(d);
      return d;
    }();
    path_ = (dir / name).string();
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    if (f == nullptr) std::abort();
    if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
    if (std::fclose(f) != 0) std::abort();
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace nabla::fuzz

#endif  // NABLA_TESTS_FUZZ_FUZZ_UTIL_H_
