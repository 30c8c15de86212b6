#include "trainer/model/inference_memory.h"

#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>

#include "ankh/build_config.h"
#include "core/error.h"
#include "trainer/model/layers.h"
#include "trainer/model/model_stats.h"

#if ANKH_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

namespace ankh::model {

namespace fs = std::filesystem;

// T5's relative position buckets (relative_position.cpp, kept bit-identical to Hugging Face) are
// computed on a [T, T] grid of int64 and float32 temporaries: 61 bytes per position pair live at
// once at its peak, whatever the batch or the heads. For models with few heads it is the largest
// phase of a single long protein (measured: docs/model.md "Inference memory").
constexpr double kBucketBytesPerPair = 61;

InferenceMemory estimate_encoder_inference(const ModelConfig& c, int64_t batch, int64_t tokens, torch::ScalarType dtype) {
  const double s = dtype == torch::kBFloat16 || dtype == torch::kHalf ? 2 : (dtype == torch::kDouble ? 8 : 4);
  const double b = static_cast<double>(std::max<int64_t>(batch, 1)), t = static_cast<double>(std::max<int64_t>(tokens, 1));
  const double h = static_cast<double>(c.num_heads), d = static_cast<double>(c.d_model);
  const double a = static_cast<double>(c.num_heads * c.d_kv), f = static_cast<double>(c.d_ff);
  const double pairs = t * t, bt = b * t;
  const double bias = 4 * h * b * pairs;  // the position bias + padding mask [B, heads, T, T], fp32, for all layers

  // The phases of one forward; each term is a tensor alive at that point (stack.cpp, attention.cpp).
  const double buckets = kBucketBytesPerPair * pairs;
  // The table lookup [T, T, heads] in the weights' dtype, then its sum with the padding mask.
  const double lookup = s * h * pairs + std::max(8 * pairs, bias);
  // Scores and softmax in fp32 beside the bias (+ the probabilities' copy in a 2-byte dtype); the
  // block's input, its norm, q, k, v and the contiguous copies the batched matmuls take.
  const double attention = bias + (s < 4 ? 10 : 8) * h * b * pairs + bt * s * (2 * d + 5 * a);
  // Feed-forward with the bias still alive: input, attention output, norm, output; gated: wi_0,
  // its activation, wi_1 and their product.
  const double feed_forward = bias + bt * s * (4 * d + (is_gated(c.activation) ? 4 : 2) * f);
  // The last hidden state, its fp32 copy and the masked product of the mean.
  const double output = bt * (s * d + 8 * d);
  // Alive throughout: ids and attention mask (int64), the residue mask (fp32), the embeddings.
  const double inputs = bt * (20 + s * d);

  InferenceMemory m;
  m.weights = s * static_cast<double>(count_parameters(c).total);
  m.activations = kInferenceMemoryMargin * (std::max({buckets, lookup, attention, feed_forward, output}) + inputs);
  return m;
}

namespace {

constexpr double kUnlimited = std::numeric_limits<double>::infinity();

std::optional<double> read_number(const fs::path& file) {
  std::ifstream in(file);
  std::string word;
  if (!(in >> word) || word == "max") return std::nullopt;
  try {
    return std::stod(word);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// "key value" lines (/proc/meminfo "MemAvailable: 123 kB", /proc/self/status, memory.stat).
std::optional<double> read_field(const fs::path& file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string name;
    double value = 0;
    if (!(words >> name >> value)) continue;
    if (!name.empty() && name.back() == ':') name.pop_back();
    if (name != key) continue;
    std::string unit;
    words >> unit;
    return unit == "kB" ? value * 1024 : value;
  }
  return std::nullopt;
}

struct Tightest {
  MemoryHeadroom best{kUnlimited, "nothing (no limit found)"};
  void offer(double bytes, const std::string& what) {
    if (bytes < best.bytes) best = {std::max(bytes, 0.0), what};
  }
};

// /proc/self/cgroup: "0::/path" (v2) and "N:memory:/path" or "N:cpu,memory:/path" (v1).
void cgroup_limits(Tightest& t) {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const fs::path path = fs::path(line.substr(second + 1)).relative_path();
    if (controllers.empty()) {
      // v2: every ancestor's memory.max binds; usage less the page cache the kernel can reclaim.
      for (const char* root : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
        for (fs::path rel = path;; rel = rel.parent_path()) {
          const fs::path dir = rel.empty() ? fs::path(root) : fs::path(root) / rel;
          const auto limit = read_number(dir / "memory.max");
          const auto current = read_number(dir / "memory.current");
          if (limit && current)
            t.offer(*limit - (*current - read_field(dir / "memory.stat", "inactive_file").value_or(0)),
                    "cgroup memory.max (" + dir.string() + ")");
          if (rel.empty()) break;
        }
      }
    } else if (("," + controllers + ",").find(",memory,") != std::string::npos) {
      // v1: in a container the mount is the container's own group, not the path the host sees.
      fs::path dir = fs::path("/sys/fs/cgroup/memory") / path;
      if (!fs::exists(dir / "memory.usage_in_bytes")) dir = "/sys/fs/cgroup/memory";
      const fs::path stat = dir / "memory.stat";
      const auto limit = read_field(stat, "hierarchical_memory_limit").has_value()
                             ? read_field(stat, "hierarchical_memory_limit")
                             : read_number(dir / "memory.limit_in_bytes");
      const auto usage = read_number(dir / "memory.usage_in_bytes");
      if (limit && usage && *limit < 0x1p62)  // "no limit" reads as 2^63 rounded to pages
        t.offer(*limit - (*usage - read_field(stat, "total_inactive_file").value_or(0)),
                "cgroup memory.limit_in_bytes (" + dir.string() + ")");
    }
  }
}

void rlimit(Tightest& t, int resource, const char* name, const char* status_field) {
  struct rlimit limit {};
  if (::getrlimit(resource, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return;
  const double used = read_field("/proc/self/status", status_field).value_or(0);
  t.offer(static_cast<double>(limit.rlim_cur) - used, name);
}

MemoryHeadroom host_headroom() {
  Tightest t;
  if (const auto available = read_field("/proc/meminfo", "MemAvailable")) t.offer(*available, "MemAvailable (/proc/meminfo)");
  cgroup_limits(t);
  rlimit(t, RLIMIT_AS, "RLIMIT_AS (ulimit -v)", "VmSize");
  rlimit(t, RLIMIT_DATA, "RLIMIT_DATA (ulimit -d)", "VmData");
  return t.best;
}

}  // namespace

MemoryHeadroom memory_headroom(const torch::Device& device) {
  if (device.is_cpu()) return host_headroom();
#if ANKH_TORCH_CUDA
  if (device.is_cuda()) {
    const c10::DeviceIndex index = device.has_index() ? device.index() : c10::cuda::current_device();
    c10::cuda::CUDAGuard guard(index);
    std::size_t free = 0, total = 0;
    if (cudaMemGetInfo(&free, &total) != cudaSuccess) {
      (void)cudaGetLastError();  // clear it: the forward would report it otherwise
      return {kUnlimited, "nothing (cudaMemGetInfo failed)"};
    }
    // Blocks the caching allocator holds but no tensor uses are free for this process too.
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(index);
    const double cached = static_cast<double>(stats.reserved_bytes[0].current - stats.allocated_bytes[0].current);
    return {static_cast<double>(free) + std::max(cached, 0.0), "CUDA free memory (device " + std::to_string(index) + ")"};
  }
#endif
  return {kUnlimited, "nothing (no memory query for " + device.str() + ")"};
}

double parse_memory_size(const std::string& text, const std::string& option) {
  const auto bad = [&] {
    return core::UsageError("'" + text + "' is not a memory size", option, "give bytes with a unit, e.g. 8G, 512M, 1.5GiB");
  };
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    throw bad();
  }
  std::string unit;
  for (std::size_t i = used; i < text.size(); ++i)
    if (!std::isspace(static_cast<unsigned char>(text[i]))) unit += static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
  if (unit.size() > 1 && unit.back() == 'B') unit.pop_back();   // GB -> G, GIB -> GI
  if (unit.size() > 1 && unit.back() == 'I') unit.pop_back();   // GI -> G
  const std::string units = "KMGT";
  double scale = 1;
  if (unit.size() == 1 && units.find(unit[0]) != std::string::npos)
    scale = std::pow(1024.0, static_cast<double>(units.find(unit[0]) + 1));
  else if (!unit.empty() && unit != "B")
    throw bad();
  if (!std::isfinite(value) || value <= 0) throw bad();
  return value * scale;
}

}  // namespace ankh::model
