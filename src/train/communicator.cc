// The one-process communicator, the fixed order of addition every communicator uses, and
// (without MPI) what mpi_world says instead of opening MPI.
#include "nabla/train/communicator.h"

#include <cstdlib>

#include "nabla/core/tensor.h"  // ValueError

namespace nabla {

namespace {

class SingleProcess : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string describe() const override { return "one process"; }
  void sum(std::span<float> /*buffer*/) override {}
  std::vector<std::vector<std::byte>> all_gather(std::span<const std::byte> mine) override {
    return {std::vector<std::byte>(mine.begin(), mine.end())};
  }
  void broadcast(std::span<std::byte> /*bytes*/, int root) override {
    if (root != 0) throw ValueError("broadcast: root " + std::to_string(root) + " of 1 process");
  }
  void barrier() override {}
  [[noreturn]] void abort(int exit_code) override { std::_Exit(exit_code); }
  Traffic traffic() const override { return {}; }
};

}  // namespace

std::shared_ptr<Communicator> single_process() { return std::make_shared<SingleProcess>(); }

bool launched_by_mpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr;
}

void sum_in_rank_order(std::span<const float* const> parts, std::span<float> out) {
  if (parts.empty()) return;
  const std::size_t n = out.size();
  float* o = out.data();
  const float* first = parts[0];
  if (first != o) {
    for (std::size_t i = 0; i < n; ++i) o[i] = first[i];
  }
  for (std::size_t k = 1; k < parts.size(); ++k) {
    const float* p = parts[k];
    for (std::size_t i = 0; i < n; ++i) o[i] += p[i];
  }
}

#ifndef NABLA_MPI
bool built_with_mpi() { return false; }

std::shared_ptr<Communicator> mpi_world() {
  throw ValueError(
      "this nabla was built without MPI (CMake did not find it: install libopenmpi-dev, "
      "then configure again with -DNABLA_MPI=ON)");
}
#endif

}  // namespace nabla
