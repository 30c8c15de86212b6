#include "trainer/parallel/mpi_communicator.h"

#include <algorithm>
#include <climits>
#include <exception>

#include "core/error.h"
#include "trainer/parallel/mpi_env.h"
#include "trainer/parallel/tensor_checks.h"

namespace ankh::parallel {

namespace {

// MPI counts are ints: larger tensors go in pieces of at most this many elements.
constexpr int64_t kMaxChunk = int64_t{1} << 30;

struct MpiReduceType {
  MPI_Datatype type;
  bool logical;  // bool: Sum and Max are logical or, Min is logical and
};

MpiReduceType mpi_type(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat: return {MPI_FLOAT, false};
    case torch::kDouble: return {MPI_DOUBLE, false};
    case torch::kInt: return {MPI_INT32_T, false};
    case torch::kLong: return {MPI_INT64_T, false};
    case torch::kShort: return {MPI_INT16_T, false};
    case torch::kChar: return {MPI_INT8_T, false};
    case torch::kByte: return {MPI_UINT8_T, false};
    case torch::kBool: return {MPI_C_BOOL, true};
    default:
      throw core::DistError(std::string("all_reduce of ") + c10::toString(t) + " tensors is not supported",
                            "mpi communicator", "use float32, float64, bfloat16, float16 or an integer type");
  }
}

MPI_Op mpi_op(ReduceOp op, bool logical) {
  if (logical) return op == ReduceOp::Min ? MPI_LAND : MPI_LOR;
  switch (op) {
    case ReduceOp::Sum: return MPI_SUM;
    case ReduceOp::Max: return MPI_MAX;
    case ReduceOp::Min: return MPI_MIN;
  }
  return MPI_SUM;
}

bool is_half_type(torch::ScalarType t) { return t == torch::kBFloat16 || t == torch::kHalf; }

// In-place all-reduce of a contiguous CPU tensor of an MPI-native type, in int-sized pieces.
void all_reduce_native(torch::Tensor& t, ReduceOp op, MPI_Comm comm) {
  const MpiReduceType type = mpi_type(t.scalar_type());
  auto* base = static_cast<char*>(t.data_ptr());
  const int64_t item = t.element_size();
  for (int64_t done = 0; done < t.numel();) {
    const int64_t n = std::min(kMaxChunk, t.numel() - done);
    check_mpi(MPI_Allreduce(MPI_IN_PLACE, base + done * item, static_cast<int>(n), type.type,
                            mpi_op(op, type.logical), comm),
              "MPI_Allreduce");
    done += n;
  }
}

class MpiWork final : public Work {
 public:
  explicit MpiWork(std::shared_ptr<Completion> completion) : completion_(std::move(completion)) {}
  void wait() override { completion_->wait(); }
  bool completed() override { return completion_->done(); }

 private:
  std::shared_ptr<Completion> completion_;
};

// Deregisters a collective from the watchdog however its body ends.
class WatchdogEntry {
 public:
  WatchdogEntry(Watchdog& w, std::string label) : watchdog_(w), id_(w.start(std::move(label))) {}
  ~WatchdogEntry() { watchdog_.done(id_); }
  WatchdogEntry(const WatchdogEntry&) = delete;
  WatchdogEntry& operator=(const WatchdogEntry&) = delete;

 private:
  Watchdog& watchdog_;
  uint64_t id_;
};

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm parent, WatchdogOptions watchdog, torch::Device device) : device_(device) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized)
    throw core::DistError("MPI is not initialised", "mpi communicator", "create a parallel::MpiSession first");
  // A private communicator: our collectives, issued from the communication thread, can never
  // interleave with collectives that other code issues on MPI_COMM_WORLD.
  check_mpi(MPI_Comm_dup(parent, &comm_), "MPI_Comm_dup");
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  check_mpi(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  watchdog.name = "mpi";
  watchdog_ = std::make_shared<Watchdog>(std::move(watchdog));
  executor_ = std::make_unique<SerialExecutor>("ankh-mpi-comm");
}

MpiCommunicator::~MpiCommunicator() {
  const bool unwinding = std::uncaught_exceptions() > 0;
  executor_.reset();  // runs what is queued (or, unwinding, abandons it)
  int finalized = 0;
  MPI_Finalized(&finalized);
  // While unwinding, the abandoned thread may still be inside a collective on comm_.
  if (!unwinding && !finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

std::shared_ptr<Completion> MpiCommunicator::submit(const std::string& label, std::function<void(MPI_Comm)> body) {
  std::lock_guard<std::mutex> lock(issue_mutex_);
  std::string full = "#" + std::to_string(++sequence_) + " " + label;
  return executor_->submit([watchdog = watchdog_, comm = comm_, full = std::move(full), body = std::move(body)] {
    WatchdogEntry entry(*watchdog, full);
    body(comm);
  });
}

std::unique_ptr<Work> MpiCommunicator::all_reduce_async(torch::Tensor& tensor, ReduceOp op, const std::string& label) {
  check_collective_tensor(tensor, device(), "all_reduce");
  if (!is_half_type(tensor.scalar_type())) mpi_type(tensor.scalar_type());  // refuse unsupported types now
  const std::string full = label + " (" + describe_tensor(tensor) + ")";
  return std::make_unique<MpiWork>(submit(full, [t = tensor, op](MPI_Comm comm) mutable {
    // MPI has no 16-bit floating types: reduce those in float32, which also avoids summing in 16
    // bits. Device tensors are reduced in a host copy (to(kCPU) waits for the kernels that wrote them).
    const bool widen = is_half_type(t.scalar_type());
    if (!widen && t.is_cpu()) return all_reduce_native(t, op, comm);
    torch::Tensor host = t.to(torch::kCPU, widen ? torch::kFloat : t.scalar_type());
    all_reduce_native(host, op, comm);
    t.copy_(host);
  }));
}

void MpiCommunicator::all_reduce(torch::Tensor& tensor, ReduceOp op) { all_reduce_async(tensor, op)->wait(); }

void MpiCommunicator::broadcast(torch::Tensor& tensor, int root) {
  check_collective_tensor(tensor, device(), "broadcast");
  if (root < 0 || root >= size_)
    throw core::DistError("broadcast root " + std::to_string(root) + " is not a rank (world size " +
                              std::to_string(size_) + ")",
                          "mpi communicator");
  submit("broadcast from rank " + std::to_string(root) + " (" + describe_tensor(tensor) + ")",
         [t = tensor, root](MPI_Comm comm) mutable {
           // Bytes: no arithmetic, so every dtype works.
           torch::Tensor host = t.is_cpu() ? t : t.to(torch::kCPU);
           auto* base = static_cast<char*>(host.data_ptr());
           const int64_t bytes = host.numel() * host.element_size();
           for (int64_t done = 0; done < bytes;) {
             const int64_t n = std::min(kMaxChunk, bytes - done);
             check_mpi(MPI_Bcast(base + done, static_cast<int>(n), MPI_BYTE, root, comm), "MPI_Bcast");
             done += n;
           }
           if (!t.is_cpu()) t.copy_(host);
         })
      ->wait();
}

void MpiCommunicator::all_gather(const torch::Tensor& input, torch::Tensor& output) {
  check_all_gather_tensors(input, output, device(), size_);
  const int64_t bytes = input.numel() * input.element_size();
  if (bytes > INT_MAX)
    throw core::DistError("all_gather of " + describe_tensor(input) + " exceeds 2 GiB per rank", "mpi communicator",
                          "gather in pieces");
  submit("all_gather (" + describe_tensor(input) + ")",
         [in = input, out = output, bytes](MPI_Comm comm) mutable {
           const torch::Tensor in_host = in.to(torch::kCPU);
           torch::Tensor out_host = out.is_cpu() ? out : torch::empty_like(out, torch::TensorOptions().device(torch::kCPU));
           check_mpi(MPI_Allgather(in_host.data_ptr(), static_cast<int>(bytes), MPI_BYTE, out_host.data_ptr(),
                                   static_cast<int>(bytes), MPI_BYTE, comm),
                     "MPI_Allgather");
           if (!out.is_cpu()) out.copy_(out_host);
         })
      ->wait();
}

void MpiCommunicator::barrier() {
  submit("barrier", [](MPI_Comm comm) { check_mpi(MPI_Barrier(comm), "MPI_Barrier"); })->wait();
}

}  // namespace ankh::parallel
