// `ankh bench checkpoint [--config FILE]`: checkpoint save and load GB/s for a model-sized set
// of tensors (the config's parameters under their Hugging Face names plus optimizer state of the
// configured optimizer, built from shapes alone), next to a raw sequential write and read of the
// same number of bytes in the same run and directory. Reads start from a cold page cache
// (posix_fadvise DONTNEED on the fsynced files) when the file system honours it, and go into
// freshly allocated memory, as any loader's must. With --device cuda the tensors live on the GPU,
// so the stall measured is the device-to-host copy.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>

#include <torch/cuda.h>

#include "checkpoints/checkpoint_dir.h"
#include "checkpoints/t5_layout.h"
#include "trainer/optim/optimizer.h"
#include "trainer/weights/model_io.h"
#include "core/error.h"
#include "core/file_descriptor.h"
#include "core/strings.h"
#include "core/timer.h"
#include "trainer/app/bench/benchmark.h"
#include "trainer/app/cli/choice_option.h"
#include "trainer/parallel/device.h"
#include "trainer/run_config.h"

namespace ankh::bench {

namespace fs = std::filesystem;

namespace {

struct Options {
  std::string config = "configs/ankh-small.yaml";
  std::string dir;  // default: the system temp directory
  int repeat = 3;
  parallel::DeviceKind device = parallel::DeviceKind::Cpu;
};

struct Workload {
  checkpoints::NamedTensors model, optimizer;
  int64_t parameters = 0;
  uint64_t model_bytes = 0, optimizer_bytes = 0;
};

Workload make_workload(const trainer::RunConfig& config, const torch::Device& device) {
  Workload w;
  torch::manual_seed(1);
  // The parameters of the config's model under their Hugging Face names, random; the optimizer
  // state is the configured optimizer's own (what a training checkpoint holds).
  const auto layout = checkpoints::t5_layout(weights::hf_t5_config(config.model), /*encoder_only=*/false);
  optim::NamedParams params;
  for (const auto& [name, shape] : layout.required) {
    torch::Tensor p = torch::randn(shape, torch::TensorOptions().device(device));
    w.parameters += p.numel();
    w.model_bytes += static_cast<uint64_t>(p.nbytes());
    params.emplace_back(name, p);
    w.model[name] = std::move(p);
  }
  const auto optimizer = optim::make_optimizer(config.optim, params);
  for (const auto& [name, t] : optimizer->state_tensors()) w.optimizer[name] = t.clone();
  for (const auto& [name, t] : w.optimizer) w.optimizer_bytes += static_cast<uint64_t>(t.nbytes());
  return w;
}

void evict(const fs::path& path) {  // drop the (clean, fsynced) file from the page cache
  const core::FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.valid()) ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
}

void evict_tree(const fs::path& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) evict(e.path());
}

constexpr std::size_t kChunk = std::size_t{64} << 20;

// Stops the compiler from dropping a copy into memory that is freed right after.
void keep(const void* p) { asm volatile("" : : "r"(p) : "memory"); }

double raw_write(const fs::path& path, const std::vector<char>& bytes) {
  core::Stopwatch sw;
  auto fd = core::FileDescriptor::open(path, O_WRONLY | O_CREAT | O_TRUNC);
  for (std::size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd.get(), bytes.data() + done, std::min(kChunk, bytes.size() - done));
    if (n <= 0) throw core::IoError(std::string("write failed: ") + std::strerror(errno), path.string());
    done += static_cast<std::size_t>(n);
  }
  ::fsync(fd.get());
  fd.close(path);
  return sw.seconds();
}

// Reads into fresh (not yet faulted-in) memory, like a loader's new tensors.
double raw_read(const fs::path& path, std::size_t size) {
  core::Stopwatch sw;
  std::unique_ptr<char[]> bytes(new char[size]);
  const auto fd = core::FileDescriptor::open(path, O_RDONLY);
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  for (std::size_t done = 0; done < size;) {
    const ssize_t n = ::read(fd.get(), bytes.get() + done, std::min(kChunk, size - done));
    if (n <= 0) throw core::IoError(std::string("read failed: ") + std::strerror(errno), path.string());
    done += static_cast<std::size_t>(n);
  }
  return sw.seconds();
}

// The alternative to pread: map the file and copy out of the mapping.
double raw_mmap_read(const fs::path& path, std::size_t size) {
  core::Stopwatch sw;
  std::unique_ptr<char[]> bytes(new char[size]);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, core::FileDescriptor::open(path, O_RDONLY).get(), 0);
  if (map == MAP_FAILED) throw core::IoError(std::string("mmap failed: ") + std::strerror(errno), path.string());
  ::madvise(map, size, MADV_SEQUENTIAL);
  std::memcpy(bytes.get(), map, size);
  keep(bytes.get());
  ::munmap(map, size);
  return sw.seconds();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Seconds of each part of one round, over the rounds.
struct Timings {
  std::vector<double> raw_write, raw_read, mmap_read, save, stall, files, load;
  uint64_t saved_bytes = 0;
};

// One round: the raw baselines on `raw_file` (as many bytes as the checkpoint's tensors), then a
// real checkpoint save into `run_dir` and its cold load.
void one_round(const Workload& w, const trainer::RunConfig& config, const std::vector<char>& buffer, const fs::path& raw_file,
               const fs::path& run_dir, int64_t step, Timings& t) {
  t.raw_write.push_back(raw_write(raw_file, buffer));
  evict(raw_file);
  t.raw_read.push_back(raw_read(raw_file, buffer.size()));
  evict(raw_file);
  t.mmap_read.push_back(raw_mmap_read(raw_file, buffer.size()));
  fs::remove(raw_file);

  core::Stopwatch sw;
  auto writer = checkpoints::CheckpointWriter::begin(run_dir, step);
  writer.write_tensors("model.safetensors", w.model);
  writer.write_tensors("optimizer.safetensors", w.optimizer);
  writer.write_json("state.json", {{"step", step}});
  writer.write_text("config.yaml", trainer::to_yaml(config));
  const fs::path dir = writer.commit();
  t.save.push_back(sw.seconds());
  t.stall.push_back(writer.stats().snapshot_s);
  t.files.push_back(writer.stats().write_s);
  t.saved_bytes = writer.stats().bytes;

  evict_tree(dir);
  sw.reset();
  const auto reader = checkpoints::CheckpointReader::open(dir);
  const auto model = reader.load_tensors("model.safetensors");
  const auto optimizer = reader.load_tensors("optimizer.safetensors");
  const auto state = reader.read_json("state.json");
  t.load.push_back(sw.seconds());
  if (model.size() != w.model.size() || optimizer.size() != w.optimizer.size())
    throw core::TrainingError("benchmark checkpoint lost tensors", dir.string());
  fs::remove_all(dir);
}

void report(const Options& opts, uint64_t total, const Timings& t) {
  const double gb = static_cast<double>(total) / 1e9;
  const double raw_w = gb / median(t.raw_write), save = gb / median(t.save);
  const double raw_r = gb / median(t.raw_read), mmap_r = gb / median(t.mmap_read), load = gb / median(t.load);
  std::printf("\n%-38s %8s %8s\n", "", "GB/s", "vs raw");
  std::printf("%-38s %8.2f %8.2f\n", "raw sequential write + fsync", raw_w, 1.0);
  std::printf("%-38s %8.2f %8.2f\n", "checkpoint save (commit included)", save, save / raw_w);
  const double files = gb / median(t.files);
  std::printf("%-38s %8.2f %8.2f\n", "  of which file writing (background)", files, files / raw_w);
  std::printf("%-38s %8.2f %8.2f\n", "raw sequential read (cold)", raw_r, 1.0);
  std::printf("%-38s %8.2f %8.2f\n", "raw mmap + memcpy (cold)", mmap_r, mmap_r / raw_r);
  std::printf("%-38s %8.2f %8.2f\n", "checkpoint load + XXH64 (cold)", load, load / raw_r);
  std::printf("\ntraining stalls %.3f s per save (copy from %s to CPU memory), %.0f%% of the %.3f s save; files %s\n",
              median(t.stall), parallel::name_of(opts.device), 100.0 * median(t.stall) / median(t.save), median(t.save),
              core::format_bytes(static_cast<double>(t.saved_bytes)).c_str());
  std::printf("\n| config | device | bytes | raw write GB/s | save GB/s | save/raw | stall s | raw read GB/s | load GB/s | load/raw |\n");
  std::printf("| %s | %s | %s | %.2f | %.2f | %.2f | %.3f | %.2f | %.2f | %.2f |\n", fs::path(opts.config).stem().string().c_str(),
              parallel::name_of(opts.device), core::format_bytes(static_cast<double>(total)).c_str(), raw_w, save,
              save / raw_w, median(t.stall), raw_r, load, load / raw_r);
}

int run(const Options& opts) {
  if (opts.repeat < 1) throw core::UsageError("--repeat must be at least 1", "ankh bench checkpoint");
  const trainer::RunConfig config = trainer::load_run_config(opts.config, {});
  const Workload w = make_workload(config, parallel::choose_device(opts.device, 0, "--device"));
  const uint64_t total = w.model_bytes + w.optimizer_bytes;

  const fs::path base = opts.dir.empty() ? fs::temp_directory_path() : fs::path(opts.dir);
  const fs::path scratch = base / ("ankh-bench-checkpoint-" + std::to_string(::getpid()));
  fs::create_directories(scratch);
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{scratch};

  std::printf("checkpoint benchmark: %s, %s parameters on %s + %s optimizer state (%s), %s in %s, median of %d\n",
              opts.config.c_str(), core::format_count(w.parameters).c_str(), parallel::name_of(opts.device),
              optim::name_of(config.optim.name), core::format_bytes(static_cast<double>(w.optimizer_bytes)).c_str(),
              core::format_bytes(static_cast<double>(total)).c_str(), scratch.string().c_str(), opts.repeat);
  // The raw baseline moves exactly as many bytes as the checkpoint's two tensor files.
  std::vector<char> buffer(total);
  for (std::size_t i = 0; i < buffer.size(); i += 4096) buffer[i] = static_cast<char>(i / 4096);
  Timings t;
  for (int r = 0; r < opts.repeat; ++r) one_round(w, config, buffer, scratch / "raw.bin", scratch / "run", r + 1, t);
  report(opts, total, t);
  return 0;
}

}  // namespace

cli::Action setup_checkpoint(CLI::App& sub) {
  auto opts = std::make_shared<Options>();
  sub.add_option("--config", opts->config, "run config whose model (and optimizer) sizes the tensors")->capture_default_str();
  sub.add_option("--dir", opts->dir, "directory (file system) to benchmark; default: the system temp directory");
  sub.add_option("--repeat", opts->repeat, "repetitions; the median is reported")->capture_default_str();
  cli::add_choice(sub, "--device", opts->device, parallel::device_kinds(),
                  "where the tensors live (cuda: the stall is then the device-to-host copy)");
  return [opts]() { return run(*opts); };
}

}  // namespace ankh::bench
