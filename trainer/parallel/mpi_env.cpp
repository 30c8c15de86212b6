#include "trainer/parallel/mpi_env.h"

#include <exception>

#include <spdlog/spdlog.h>

#include "core/error.h"

namespace ankh::parallel {

void check_mpi(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw core::DistError(std::string(what) + " failed: " + std::string(text, len));
}

MpiSession::MpiSession(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided), "MPI_Init_thread");
    owns_ = true;
    if (provided < MPI_THREAD_MULTIPLE)
      spdlog::warn("MPI provides thread level {} < MPI_THREAD_MULTIPLE; communication is serialised", provided);
  }
  // Errors come back as return codes, which check_mpi turns into exceptions with context.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &world_size_), "MPI_Comm_size");
  check_mpi(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node_comm_),
            "MPI_Comm_split_type (ranks per host)");
  check_mpi(MPI_Comm_rank(node_comm_, &local_rank_), "MPI_Comm_rank (node)");
  check_mpi(MPI_Comm_size(node_comm_, &local_size_), "MPI_Comm_size (node)");
  char name[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  MPI_Get_processor_name(name, &len);
  hostname_.assign(name, len);
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  // While an exception unwinds a multi-rank job, other ranks may sit in a collective and
  // MPI_Finalize would wait for them forever: leave it to main, which calls MPI_Abort.
  if (std::uncaught_exceptions() > 0 && world_size_ > 1) return;
  if (node_comm_ != MPI_COMM_NULL) MPI_Comm_free(&node_comm_);
  if (owns_) MPI_Finalize();
}

void abort_job_if_distributed(int exit_code) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return;
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size > 1) MPI_Abort(MPI_COMM_WORLD, exit_code);
}

}  // namespace ankh::parallel
