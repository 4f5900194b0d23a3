// mpirun's ranks or one process, and a failing rank ending the job (distributed.h).
#include "distributed.h"

#include <cstdio>
#include <exception>
#include <string>

#include "exit_status.h"
#include "nabla/train/run_dir.h"

namespace nabla::cli {

std::shared_ptr<Communicator> open_world() {
  if (!launched_by_mpirun()) return single_process();
  if (!built_with_mpi()) {
    throw UsageError(
        "started by mpirun, but this nabla was built without MPI: install libopenmpi-dev "
        "(scripts/install_deps.sh) and build again, or run without mpirun (--shards P computes "
        "P slices in one process)");
  }
  return mpi_world();
}

std::int64_t shards_for(std::int64_t given, const Communicator& world) {
  if (given > 0 && world.size() > 1 && given != world.size()) {
    throw UsageError("--shards " + std::to_string(given) + " with " + std::to_string(world.size()) +
                     " MPI ranks: each rank computes one slice of the batch, so --shards must be " +
                     std::to_string(world.size()) + " (or left out)");
  }
  return given > 0 ? given : world.size();
}

int on_every_rank(Communicator& world, const char* name, const std::function<int()>& command) {
  if (world.size() == 1) return command();
  int status = kExitRuntimeError;
  std::string what;
  try {
    return command();
  } catch (const UsageError& e) {
    status = kExitUsageError;
    what = e.what();
  } catch (const RunDirTaken& e) {
    status = kExitUsageError;
    what = e.what();
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "an unknown error";
  }
  std::fflush(stdout);
  std::fprintf(stderr, "%s: rank %d of %d: %s; ending every rank of the job\n", name, world.rank(),
               world.size(), what.c_str());
  std::fflush(stderr);
  world.abort(status);
  return status;  // (not reached: abort ends the process)
}

}  // namespace nabla::cli
