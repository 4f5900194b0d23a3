// The Open MPI communicator (built when CMake found MPI: NABLA_MPI): MPI_COMM_WORLD, with
// the sum in a fixed order of nabla's own (communicator.h): each rank receives its part of
// every rank's buffer (MPI_Alltoallv), adds them in rank order, and the summed parts go to
// every rank (MPI_Allgatherv). The bytes a rank sends per sum: 2 (P - 1) / P of the buffer,
// as for a ring all-reduce.
#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstdlib>

#include "nabla/core/tensor.h"  // ValueError
#include "nabla/train/communicator.h"

namespace nabla {

namespace {

using Clock = std::chrono::steady_clock;

// An MPI call that failed (the default error handler aborts first; this is for the case
// it was changed): the call's name and MPI's text.
void check(int code, const char* call) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw std::runtime_error(std::string(call) +
                           " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

int as_count(std::size_t n, const char* what) {
  if (n > static_cast<std::size_t>(INT_MAX)) {
    throw ValueError(std::string(what) + ": " + std::to_string(n) +
                     " elements are more than one MPI message may hold (" +
                     std::to_string(INT_MAX) + ")");
  }
  return static_cast<int>(n);
}

class MpiWorld : public Communicator {
 public:
  MpiWorld() {
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
  }
  MpiWorld(const MpiWorld&) = delete;
  MpiWorld& operator=(const MpiWorld&) = delete;
  ~MpiWorld() override { MPI_Finalize(); }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string describe() const override {
    return "Open MPI, " + std::to_string(size_) + (size_ == 1 ? " rank" : " ranks");
  }

  void sum(std::span<float> buffer) override {
    if (size_ == 1) return;
    const auto start = Clock::now();
    const std::size_t n = buffer.size();
    as_count(n, "sum");
    // Part r of the buffer: [n r / P, n (r + 1) / P).
    std::vector<int> counts(static_cast<std::size_t>(size_)), offsets(counts.size());
    for (int r = 0; r < size_; ++r) {
      offsets[static_cast<std::size_t>(r)] =
          static_cast<int>(n * static_cast<std::size_t>(r) / static_cast<std::size_t>(size_));
      counts[static_cast<std::size_t>(r)] =
          static_cast<int>(n * static_cast<std::size_t>(r + 1) / static_cast<std::size_t>(size_)) -
          offsets[static_cast<std::size_t>(r)];
    }
    const int mine = counts[static_cast<std::size_t>(rank_)];
    // My part of every rank's buffer, in rank order.
    parts_.resize(static_cast<std::size_t>(mine) * static_cast<std::size_t>(size_));
    std::vector<int> receive_counts(counts.size(), mine), receive_offsets(counts.size());
    for (int r = 0; r < size_; ++r) receive_offsets[static_cast<std::size_t>(r)] = r * mine;
    check(MPI_Alltoallv(buffer.data(), counts.data(), offsets.data(), MPI_FLOAT, parts_.data(),
                        receive_counts.data(), receive_offsets.data(), MPI_FLOAT, MPI_COMM_WORLD),
          "MPI_Alltoallv");
    std::vector<const float*> ordered;
    for (int r = 0; r < size_; ++r)
      ordered.push_back(parts_.data() +
                        static_cast<std::size_t>(r) * static_cast<std::size_t>(mine));
    summed_.resize(static_cast<std::size_t>(mine));
    sum_in_rank_order(ordered, summed_);
    check(MPI_Allgatherv(summed_.data(), mine, MPI_FLOAT, buffer.data(), counts.data(),
                         offsets.data(), MPI_FLOAT, MPI_COMM_WORLD),
          "MPI_Allgatherv");
    const std::int64_t others = static_cast<std::int64_t>(n) - mine;
    count(start, 4 * (others + static_cast<std::int64_t>(mine) * (size_ - 1)));
  }

  std::vector<std::vector<std::byte>> all_gather(std::span<const std::byte> mine) override {
    const auto start = Clock::now();
    const int length = as_count(mine.size(), "all_gather");
    std::vector<int> lengths(static_cast<std::size_t>(size_));
    check(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, MPI_COMM_WORLD),
          "MPI_Allgather");
    std::vector<int> offsets(lengths.size());
    std::size_t total = 0;
    for (std::size_t r = 0; r < lengths.size(); ++r) {
      offsets[r] = as_count(total, "all_gather");
      total += static_cast<std::size_t>(lengths[r]);
    }
    as_count(total, "all_gather");
    std::vector<std::byte> all(total);
    check(MPI_Allgatherv(mine.data(), length, MPI_BYTE, all.data(), lengths.data(), offsets.data(),
                         MPI_BYTE, MPI_COMM_WORLD),
          "MPI_Allgatherv");
    std::vector<std::vector<std::byte>> out;
    for (std::size_t r = 0; r < lengths.size(); ++r) {
      out.emplace_back(all.begin() + offsets[r], all.begin() + offsets[r] + lengths[r]);
    }
    count(start, static_cast<std::int64_t>(sizeof(int) + mine.size()) * (size_ - 1));
    return out;
  }

  void broadcast(std::span<std::byte> bytes, int root) override {
    const auto start = Clock::now();
    if (root < 0 || root >= size_) {
      throw ValueError("broadcast: root " + std::to_string(root) + " of " + std::to_string(size_) +
                       " ranks");
    }
    check(MPI_Bcast(bytes.data(), as_count(bytes.size(), "broadcast"), MPI_BYTE, root,
                    MPI_COMM_WORLD),
          "MPI_Bcast");
    count(start, rank_ == root ? static_cast<std::int64_t>(bytes.size()) * (size_ - 1) : 0);
  }

  void barrier() override {
    const auto start = Clock::now();
    check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    count(start, 0);
  }

  [[noreturn]] void abort(int exit_code) override {
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::_Exit(exit_code);  // (MPI_Abort does not return)
  }

  Traffic traffic() const override { return traffic_; }

 private:
  void count(Clock::time_point start, std::int64_t bytes) {
    traffic_.seconds += std::chrono::duration<double>(Clock::now() - start).count();
    traffic_.bytes_sent += bytes;
    ++traffic_.calls;
  }

  int rank_ = 0, size_ = 1;
  std::vector<float> parts_, summed_;  // reused by every sum
  Traffic traffic_;
};

}  // namespace

bool built_with_mpi() { return true; }

std::shared_ptr<Communicator> mpi_world() {
  int opened = 0;
  MPI_Initialized(&opened);
  if (opened != 0) {
    throw ValueError("mpi_world: MPI is already open in this process (one world per process)");
  }
  return std::make_shared<MpiWorld>();
}

}  // namespace nabla
