#include "trainer/parallel/tensor_checks.h"

#include <sstream>

#include "core/error.h"

namespace ankh::parallel {

std::string describe_tensor(const torch::Tensor& t) {
  if (!t.defined()) return "an undefined tensor";
  std::ostringstream os;
  os << c10::toString(t.scalar_type()) << t.sizes() << " on " << t.device();
  return os.str();
}

void check_collective_tensor(const torch::Tensor& t, const torch::Device& device, const std::string& op) {
  const std::string where = "communicator " + op;
  if (!t.defined()) throw core::DistError("got an undefined tensor", where);
  if (t.device() != device)
    throw core::DistError("tensor " + describe_tensor(t) + " is not on the communicator's device " + device.str(),
                          where, "move it with .to(communicator.device()) first");
  if (!t.is_contiguous())
    throw core::DistError("tensor " + describe_tensor(t) + " is not contiguous", where,
                          "collectives work in place on contiguous memory: pass t.contiguous() and copy back");
}

void check_all_gather_tensors(const torch::Tensor& input, const torch::Tensor& output, const torch::Device& device,
                              int world) {
  check_collective_tensor(input, device, "all_gather (input)");
  check_collective_tensor(output, device, "all_gather (output)");
  if (output.scalar_type() != input.scalar_type())
    throw core::DistError("output " + describe_tensor(output) + " and input " + describe_tensor(input) +
                              " have different dtypes",
                          "communicator all_gather");
  if (output.numel() != input.numel() * world)
    throw core::DistError("output " + describe_tensor(output) + " must have " + std::to_string(world) +
                              " x the elements of input " + describe_tensor(input),
                          "communicator all_gather");
}

}  // namespace ankh::parallel
