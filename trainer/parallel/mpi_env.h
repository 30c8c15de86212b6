// MPI bootstrap: initialisation and finalisation (RAII), world size, rank, and the local rank
// among the ranks of one host (used to pick a GPU per rank). Works under `mpirun -np N` and as a
// single process started without mpirun (MPI singleton).
#pragma once

#include <mpi.h>

#include <string>

namespace ankh::parallel {

class MpiSession {
 public:
  // Initialises MPI with MPI_THREAD_MULTIPLE (the communicator thread and the watchdog call MPI),
  // unless it is already initialised, in which case this session neither inits nor finalizes.
  MpiSession(int* argc = nullptr, char*** argv = nullptr);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  MPI_Comm world() const { return MPI_COMM_WORLD; }
  MPI_Comm node() const { return node_comm_; }
  const std::string& hostname() const { return hostname_; }
  bool distributed() const { return world_size_ > 1; }

 private:
  bool owns_ = false;
  int rank_ = 0, world_size_ = 1, local_rank_ = 0, local_size_ = 1;
  MPI_Comm node_comm_ = MPI_COMM_NULL;
  std::string hostname_;
};

// Throws DistError naming `what` when an MPI call failed.
void check_mpi(int rc, const char* what);

// Aborts every rank of the job when MPI is running with more than one rank; otherwise does
// nothing. Called by main after logging a fatal error, so that no other rank hangs.
void abort_job_if_distributed(int exit_code);

}  // namespace ankh::parallel
