#include "trainer/parallel/nccl_communicator.h"

#if ANKH_WITH_NCCL

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <atomic>
#include <exception>
#include <mutex>
#include <optional>

#include <spdlog/spdlog.h>

#include "core/error.h"
#include "trainer/parallel/tensor_checks.h"

#if ANKH_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace ankh::parallel {

namespace {

void check_cuda(cudaError_t rc, const char* what) {
  if (rc == cudaSuccess) return;
  throw core::DistError(std::string(what) + " failed: " + cudaGetErrorString(rc), "nccl communicator");
}

void check_nccl(ncclResult_t rc, const char* what) {
  if (rc == ncclSuccess) return;
  throw core::DistError(std::string(what) + " failed: " + ncclGetErrorString(rc), "nccl communicator",
                        rc == ncclSystemError || rc == ncclRemoteError
                            ? "another rank may have died; NCCL_DEBUG=INFO shows what NCCL saw"
                            : "NCCL_DEBUG=INFO shows what NCCL saw");
}

struct NcclType {
  ncclDataType_t type;
  bool logical;  // bool as uint8: Sum becomes Max (logical or)
};

NcclType nccl_type(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat: return {ncclFloat32, false};
    case torch::kDouble: return {ncclFloat64, false};
    case torch::kHalf: return {ncclFloat16, false};
    case torch::kBFloat16: return {ncclBfloat16, false};
    case torch::kInt: return {ncclInt32, false};
    case torch::kLong: return {ncclInt64, false};
    case torch::kChar: return {ncclInt8, false};
    case torch::kByte: return {ncclUint8, false};
    case torch::kBool: return {ncclUint8, true};
    default:
      throw core::DistError(std::string("all_reduce of ") + c10::toString(t) + " tensors is not supported",
                            "nccl communicator", "use a floating-point or integer type");
  }
}

ncclRedOp_t nccl_op(ReduceOp op, bool logical) {
  switch (op) {
    case ReduceOp::Sum: return logical ? ncclMax : ncclSum;
    case ReduceOp::Max: return ncclMax;
    case ReduceOp::Min: return ncclMin;
  }
  return ncclSum;
}

// Makes `device` current on this thread for the guard's lifetime (autograd's device threads and
// the caller's thread may differ).
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) {
    check_cuda(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device) check_cuda(cudaSetDevice(device), "cudaSetDevice");
  }
  ~DeviceGuard() { cudaSetDevice(previous_); }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

// The stream the caller's kernels run on.
cudaStream_t compute_stream(int device) {
#if ANKH_TORCH_CUDA
  return c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device)).stream();
#else
  (void)device;
  return cudaStreamLegacy;
#endif
}

// An event that marks the end of one collective on the communication stream; shared by the
// Work handle and the watchdog entry, destroyed when both are done with it.
class Event {
 public:
  Event() { check_cuda(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming), "cudaEventCreate"); }
  ~Event() { cudaEventDestroy(event_); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return event_; }
  bool done() const { return cudaEventQuery(event_) != cudaErrorNotReady; }

 private:
  cudaEvent_t event_ = nullptr;
};

class NcclWork final : public Work {
 public:
  NcclWork(std::shared_ptr<Event> done, int device) : done_(std::move(done)), device_(device) {}
  // Orders the caller's compute stream after the collective; the host does not wait.
  void wait() override {
    DeviceGuard guard(device_);
    check_cuda(cudaStreamWaitEvent(compute_stream(device_), done_->get(), 0), "cudaStreamWaitEvent");
  }
  bool completed() override { return done_->done(); }

 private:
  std::shared_ptr<Event> done_;
  int device_;
};

}  // namespace

struct NcclCommunicator::Impl {
  int rank = 0, size = 1, device = 0;
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
#if ANKH_TORCH_CUDA
  std::optional<c10::cuda::CUDAStream> torch_stream;  // the same stream, for the caching allocator
#endif
  float* barrier_buffer = nullptr;
  std::atomic<bool> aborted{false};
  std::mutex issue_mutex;  // hooks on autograd's device thread and the main thread both issue
  uint64_t sequence = 0;
  std::unique_ptr<Watchdog> watchdog;  // reset first in ~NcclCommunicator: it reads `comm`

  // Queues `launch` (one NCCL call on `stream`) after the work already on the compute stream;
  // returns the end event, registered with the watchdog under `label`.
  std::shared_ptr<Event> issue(const std::string& label, const torch::Tensor& tensor,
                               const std::function<ncclResult_t()>& launch, const char* what) {
    std::lock_guard<std::mutex> lock(issue_mutex);
    if (aborted) throw core::DistError("the NCCL communicator was aborted", "nccl communicator");
    DeviceGuard guard(device);
    Event ready;
    check_cuda(cudaEventRecord(ready.get(), compute_stream(device)), "cudaEventRecord");
    check_cuda(cudaStreamWaitEvent(stream, ready.get(), 0), "cudaStreamWaitEvent");
    check_nccl(launch(), what);
    auto done = std::make_shared<Event>();
    check_cuda(cudaEventRecord(done->get(), stream), "cudaEventRecord");
#if ANKH_TORCH_CUDA
    // The caching allocator must not hand this memory to other work before the collective ends.
    if (tensor.defined()) c10::cuda::CUDACachingAllocator::recordStream(tensor.storage().data_ptr(), *torch_stream);
#else
    (void)tensor;
#endif
    watchdog->start("#" + std::to_string(++sequence) + " " + label, [done] { return done->done(); });
    return done;
  }
};

NcclCommunicator::NcclCommunicator(const MpiSession& session, torch::Device device, WatchdogOptions watchdog)
    : impl_(std::make_unique<Impl>()) {
  if (!device.is_cuda())
    throw core::DistError("the NCCL communicator needs a CUDA device, got " + device.str(), "dist.backend=nccl",
                          "use dist.backend=mpi (or auto) on CPU");
  int count = 0;
  check_cuda(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
  const int index = device.has_index() ? device.index() : 0;
  if (index >= count)
    throw core::DistError("CUDA device " + std::to_string(index) + " does not exist (" + std::to_string(count) +
                              " visible)",
                          "nccl communicator", "check CUDA_VISIBLE_DEVICES and the ranks per host");
  Impl& m = *impl_;
  m.rank = session.rank();
  m.size = session.world_size();
  m.device = index;
  DeviceGuard guard(m.device);

  watchdog.name = "nccl";
  Impl* raw = impl_.get();  // the watchdog is destroyed before *impl_ (see the destructor)
  watchdog.before_abort = [raw] {
    if (!raw->aborted.exchange(true) && raw->comm) ncclCommAbort(raw->comm);
  };
  watchdog.health_check = [raw]() -> std::string {
    if (!raw->comm || raw->aborted) return {};
    ncclResult_t async = ncclSuccess;
    if (ncclCommGetAsyncError(raw->comm, &async) != ncclSuccess) return {};
    if (async == ncclSuccess || async == ncclInProgress) return {};
    return std::string("asynchronous NCCL error: ") + ncclGetErrorString(async);
  };
  m.watchdog = std::make_unique<Watchdog>(std::move(watchdog));

  ncclUniqueId id;
  if (m.rank == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  check_mpi(MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, session.world()), "MPI_Bcast (NCCL unique id)");
  {
    // Every rank must join; one that never does would leave the others here forever.
    const uint64_t entry = m.watchdog->start("ncclCommInitRank");
    check_nccl(ncclCommInitRank(&m.comm, m.size, id, m.rank), "ncclCommInitRank");
    m.watchdog->done(entry);
  }
#if ANKH_TORCH_CUDA
  m.torch_stream = c10::cuda::getStreamFromPool(/*isHighPriority=*/true, static_cast<c10::DeviceIndex>(m.device));
  m.stream = m.torch_stream->stream();
#else
  int least = 0, greatest = 0;
  check_cuda(cudaDeviceGetStreamPriorityRange(&least, &greatest), "cudaDeviceGetStreamPriorityRange");
  // High priority, like PyTorch DDP's: gradient buckets should not queue behind compute kernels.
  check_cuda(cudaStreamCreateWithPriority(&m.stream, cudaStreamNonBlocking, greatest), "cudaStreamCreate");
#endif
  check_cuda(cudaMalloc(reinterpret_cast<void**>(&m.barrier_buffer), sizeof(float)), "cudaMalloc");
  spdlog::debug("nccl communicator: rank {}/{} on cuda:{}, NCCL {}.{}", m.rank, m.size, m.device, NCCL_MAJOR,
                NCCL_MINOR);
}

NcclCommunicator::~NcclCommunicator() {
  Impl& m = *impl_;
  m.watchdog.reset();
  DeviceGuard guard(m.device);
  if (m.comm && !m.aborted) {
    if (std::uncaught_exceptions() > 0) {
      // Other ranks may never join the collectives still queued: do not wait for them.
      ncclCommAbort(m.comm);
    } else {
      cudaStreamSynchronize(m.stream);
      ncclCommDestroy(m.comm);
    }
  }
#if !ANKH_TORCH_CUDA
  if (m.stream) cudaStreamDestroy(m.stream);
#endif
  if (m.barrier_buffer) cudaFree(m.barrier_buffer);
}

int NcclCommunicator::rank() const { return impl_->rank; }
int NcclCommunicator::size() const { return impl_->size; }
torch::Device NcclCommunicator::device() const {
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(impl_->device));
}

std::unique_ptr<Work> NcclCommunicator::all_reduce_async(torch::Tensor& tensor, ReduceOp op,
                                                         const std::string& label) {
  check_collective_tensor(tensor, device(), "all_reduce");
  const NcclType type = nccl_type(tensor.scalar_type());
  Impl& m = *impl_;
  void* data = tensor.data_ptr();
  const auto count = static_cast<size_t>(tensor.numel());
  auto done = m.issue(label + " (" + describe_tensor(tensor) + ")", tensor, [&] {
    return ncclAllReduce(data, data, count, type.type, nccl_op(op, type.logical), m.comm, m.stream);
  }, "ncclAllReduce");
  return std::make_unique<NcclWork>(std::move(done), m.device);
}

void NcclCommunicator::all_reduce(torch::Tensor& tensor, ReduceOp op) { all_reduce_async(tensor, op)->wait(); }

void NcclCommunicator::broadcast(torch::Tensor& tensor, int root) {
  check_collective_tensor(tensor, device(), "broadcast");
  Impl& m = *impl_;
  if (root < 0 || root >= m.size)
    throw core::DistError("broadcast root " + std::to_string(root) + " is not a rank (world size " +
                              std::to_string(m.size) + ")",
                          "nccl communicator");
  void* data = tensor.data_ptr();
  const auto bytes = static_cast<size_t>(tensor.numel() * tensor.element_size());
  auto done = m.issue("broadcast from rank " + std::to_string(root) + " (" + describe_tensor(tensor) + ")", tensor,
                      [&] { return ncclBroadcast(data, data, bytes, ncclUint8, root, m.comm, m.stream); },
                      "ncclBroadcast");
  NcclWork(std::move(done), m.device).wait();
}

void NcclCommunicator::all_gather(const torch::Tensor& input, torch::Tensor& output) {
  Impl& m = *impl_;
  check_all_gather_tensors(input, output, device(), m.size);
  const void* in = input.data_ptr();
  void* out = output.data_ptr();
  const auto bytes = static_cast<size_t>(input.numel() * input.element_size());
  // The input's memory is recorded too: both must outlive the collective.
  auto done = m.issue("all_gather (" + describe_tensor(input) + ")", output,
                      [&] { return ncclAllGather(in, out, bytes, ncclUint8, m.comm, m.stream); }, "ncclAllGather");
#if ANKH_TORCH_CUDA
  c10::cuda::CUDACachingAllocator::recordStream(input.storage().data_ptr(), *m.torch_stream);
#endif
  NcclWork(std::move(done), m.device).wait();
}

void NcclCommunicator::barrier() {
  Impl& m = *impl_;
  auto done = m.issue("barrier", torch::Tensor(), [&] {
    return ncclAllReduce(m.barrier_buffer, m.barrier_buffer, 1, ncclFloat32, ncclSum, m.comm, m.stream);
  }, "ncclAllReduce (barrier)");
  // The host waits here by design; the watchdog still sees the collective.
  DeviceGuard guard(m.device);
  check_cuda(cudaEventSynchronize(done->get()), "cudaEventSynchronize (barrier)");
}

}  // namespace ankh::parallel

#endif  // ANKH_WITH_NCCL
