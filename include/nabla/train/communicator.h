// nabla/train/communicator.h — the processes that train one model together (data
// parallelism): each computes the gradient of its slice of every batch, and they add the
// slices' gradients up in a fixed order, so that every process applies the same update.
//
//   std::shared_ptr<Communicator> world =
//       launched_by_mpirun() ? mpi_world() : single_process();   // mpirun -np P, or alone
//   Trainer trainer(config, data);       // config.shards == world->size()
//   trainer.set_communicator(world);     // before the first step
//   while (!trainer.done()) trainer.step();
//
// The sum is the same bits on every rank and in every run: rank r holds part r of the
// buffer summed over the ranks in rank order, ((b0 + b1) + b2) + ..., and then every
// rank gets every part (a reduce-scatter, then an all-gather). MPI_Allreduce is not used:
// its order of addition depends on the algorithm the library picks. One process with
// TrainConfig::shards = P adds its P slices in the same order (sum_in_rank_order below),
// so `--shards P` and `mpirun -np P` give the same bits.
//
// The one-process communicator is always built; the Open MPI one (mpi_world) when CMake
// found MPI (NABLA_MPI). Every call is collective: all ranks make it, in the same order,
// from the thread that opened the world.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "nabla/core/export.h"

NABLA_API_BEGIN
namespace nabla {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // "one process", "Open MPI, 2 ranks"
  virtual std::string describe() const = 0;

  // buffer := the sum over the ranks of their buffers (all of one length), added in rank
  // order (sum_in_rank_order), on every rank.
  virtual void sum(std::span<float> buffer) = 0;
  // Every rank's bytes, in rank order (each rank may give a different number).
  virtual std::vector<std::vector<std::byte>> all_gather(std::span<const std::byte> mine) = 0;
  // bytes := root's bytes, on every rank (all of one length).
  virtual void broadcast(std::span<std::byte> bytes, int root) = 0;
  virtual void barrier() = 0;
  // Ends every process of the job with `exit_code` (MPI_Abort), at once: for an error
  // on one rank that the others would otherwise wait for forever.
  [[noreturn]] virtual void abort(int exit_code) = 0;

  // What crossed the network from this rank so far: bytes sent, and seconds spent in
  // the calls above (waiting for the slowest rank included).
  struct Traffic {
    std::int64_t bytes_sent = 0;
    std::int64_t calls = 0;
    double seconds = 0;
  };
  virtual Traffic traffic() const = 0;
};

// This process alone (rank 0 of 1): sum and the others leave the data as it is; abort
// exits the process (std::_Exit).
std::shared_ptr<Communicator> single_process();

// Whether this process was started by an MPI launcher (mpirun / mpiexec of Open MPI or
// MPICH sets OMPI_COMM_WORLD_SIZE or PMI_SIZE), as one rank of several or of one.
bool launched_by_mpirun();
// Whether this nabla was built with MPI (CMake found it; NABLA_MPI on).
bool built_with_mpi();
// The processes mpirun started (MPI_COMM_WORLD). Opens MPI in this process (one thread
// calls MPI); the last copy of the pointer closes it (MPI_Finalize). ValueError when
// nabla was built without MPI, or when MPI was opened here before.
std::shared_ptr<Communicator> mpi_world();

// out[i] = ((parts[0][i] + parts[1][i]) + parts[2][i]) + ..., float by float: the one
// order of addition of every communicator, and of a Trainer's shards in one process.
void sum_in_rank_order(std::span<const float* const> parts, std::span<float> out);

}  // namespace nabla
NABLA_API_END
