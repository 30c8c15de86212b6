#include "data/preprocess.h"

#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "ankh/build_config.h"
#include "core/error.h"
#include "core/files.h"
#include "core/hash.h"
#include "core/progress.h"
#include "core/strings.h"
#include "core/timer.h"
#include "data/duplicate_ids.h"
#include "data/input_stream.h"
#include "data/shard_format.h"
#include "data/vocab.h"

namespace ankh::data {

namespace fs = std::filesystem;

uint64_t id_hash(std::string_view id) {
  // Part of the format (it decides the split): 8 bytes at a time, little-endian, then the
  // SplitMix64 finaliser; several times faster than a byte-wise FNV on long FASTA headers.
  constexpr uint64_t kSplitSeed = 0x616E6B6873706C74ULL;  // "ankhsplt"
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  uint64_t h = kSplitSeed ^ (static_cast<uint64_t>(id.size()) * kMul);
  std::size_t i = 0;
  for (; i + 8 <= id.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, id.data() + i, 8);
    h = (h ^ word) * kMul;
    h ^= h >> 32;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, id.data() + i, id.size() - i);
  h = (h ^ tail) * kMul;
  return core::mix64(h);
}

bool in_valid_split(uint64_t hash, double valid_fraction) {
  return static_cast<double>(hash >> 11) * 0x1.0p-53 < valid_fraction;
}

bool in_valid_split(std::string_view id, double valid_fraction) { return in_valid_split(id_hash(id), valid_fraction); }

namespace {

// Writes finished shards: inline with one thread, otherwise on `threads - 1` writer threads
// while the caller keeps parsing. At most `threads` shards are in memory at once.
class ShardSink {
 public:
  ShardSink(fs::path dir, int threads, DuplicateIdFinder& dups) : dir_(std::move(dir)), dups_(dups) {
    capacity_ = static_cast<std::size_t>(std::max(1, threads - 1));
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
  }
  ~ShardSink() { stop(); }

  void submit(int64_t number, std::unique_ptr<ShardBuffer> shard) {
    if (workers_.empty()) {
      write(number, *shard);
      recycle(std::move(shard));
      return;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    not_full_.wait(lock, [&] { return queue_.size() < capacity_ || error_; });
    if (error_) std::rethrow_exception(error_);
    queue_.emplace_back(number, std::move(shard));
    not_empty_.notify_one();
  }

  // An empty buffer for the next shard: a written one when there is one, so that its memory
  // (already faulted in) is reused.
  std::unique_ptr<ShardBuffer> take(Split split, uint64_t reserve) {
    {
      std::lock_guard<std::mutex> lock(infos_mutex_);
      if (!spare_.empty()) {
        auto b = std::move(spare_.back());
        spare_.pop_back();
        b->clear(split);
        return b;
      }
    }
    return std::make_unique<ShardBuffer>(split, reserve);
  }

  std::vector<ShardInfo> finish() {
    stop();
    if (error_) std::rethrow_exception(error_);
    std::sort(infos_.begin(), infos_.end(), [](const ShardInfo& a, const ShardInfo& b) {
      return a.split != b.split ? a.split == Split::Train : a.number < b.number;
    });
    return infos_;
  }

 private:
  void recycle(std::unique_ptr<ShardBuffer> shard) {
    std::lock_guard<std::mutex> lock(infos_mutex_);
    if (spare_.size() < 2) spare_.push_back(std::move(shard));
  }

  void write(int64_t number, const ShardBuffer& shard) {
    // Durable later, at install time: meanwhile the disk writes overlap the parsing.
    ShardInfo info = write_shard(dir_, number, shard, Durability::Deferred);
    dups_.add(shard, dir_ / info.file);
    std::lock_guard<std::mutex> lock(infos_mutex_);
    infos_.push_back(std::move(info));
  }

  void work() {
    for (;;) {
      std::pair<int64_t, std::unique_ptr<ShardBuffer>> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        not_empty_.wait(lock, [&] { return !queue_.empty() || closing_; });
        if (queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
        not_full_.notify_one();
      }
      try {
        write(job.first, *job.second);
        recycle(std::move(job.second));
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!error_) error_ = std::current_exception();
        queue_.clear();
        not_full_.notify_all();
      }
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closing_ = true;
      not_empty_.notify_all();
    }
    for (auto& t : workers_)
      if (t.joinable()) t.join();
    workers_.clear();
  }

  fs::path dir_;
  DuplicateIdFinder& dups_;
  std::size_t capacity_ = 1;
  std::vector<std::thread> workers_;
  std::mutex mutex_, infos_mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<std::pair<int64_t, std::unique_ptr<ShardBuffer>>> queue_;
  bool closing_ = false;
  std::exception_ptr error_;
  std::vector<ShardInfo> infos_;
  std::vector<std::unique_ptr<ShardBuffer>> spare_;  // written buffers, for reuse
};

bool is_shard_file(const fs::path& p) {
  const std::string name = p.filename().string();
  return (core::starts_with(name, "train-") || core::starts_with(name, "valid-")) && core::ends_with(name, ".h5");
}

// The output directory may be new, empty, or hold unrelated files; a dataset in it is only
// replaced with --overwrite.
void check_output(const PreprocessOptions& o) {
  std::error_code ec;
  if (fs::exists(o.output, ec) && !fs::is_directory(o.output, ec))
    throw core::IoError("output exists and is not a directory", o.output.string());
  if (!fs::exists(o.output, ec)) return;
  bool has_dataset = fs::exists(o.output / shard::kManifestName, ec);
  for (const auto& entry : fs::directory_iterator(o.output, ec)) has_dataset = has_dataset || is_shard_file(entry.path());
  if (has_dataset && !o.overwrite)
    throw core::InputError("output directory already holds a dataset", o.output.string(),
                           "pass --overwrite to replace it, or choose another --output directory");
}

// Removes the staging directory however preprocess ends.
struct StagingDir {
  fs::path path;
  ~StagingDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void add_counts(PreprocessCounts& total, const PreprocessCounts& c) {
  total.records += c.records;
  total.sequences += c.sequences;
  total.residues += c.residues;
  total.empty_records += c.empty_records;
  total.stripped_stops += c.stripped_stops;
  total.invalid_characters += c.invalid_characters;
  total.records_with_invalid += c.records_with_invalid;
  total.unknown_residues += c.unknown_residues;
  total.skipped_invalid += c.skipped_invalid;
}

void check_options(const PreprocessOptions& o) {
  if (o.inputs.empty()) throw core::UsageError("no input files", "ankh preprocess", "pass --input FILE (repeatable)");
  if (o.output.empty()) throw core::UsageError("no output directory", "ankh preprocess", "pass --output DIR");
  if (!(o.valid_fraction >= 0 && o.valid_fraction < 1))
    throw core::UsageError("--valid-fraction must be in [0, 1), got " + core::format_double(o.valid_fraction));
  if (o.shard_sequences < 0 || o.shard_mb <= 0) throw core::UsageError("shard size must be positive");
  if (o.threads < 1) throw core::UsageError("--threads must be at least 1");
}

// The sizes of the inputs, each opened once: every input must be readable before hours of work.
std::vector<uint64_t> probe_inputs(const PreprocessOptions& o) {
  std::vector<uint64_t> sizes;
  for (const auto& input : o.inputs) sizes.push_back(InputStream::open(input)->file_size());
  return sizes;
}

// The manifest's fields known before reading (shards, sources and counts come later).
Manifest new_manifest(const PreprocessOptions& o) {
  Manifest m;
  m.format = shard::kFormatName;
  m.format_version = shard::kFormatVersion;
  m.vocabulary = kVocabularyName;
  m.created_by = std::string("ankh ") + ANKH_VERSION;
  m.on_invalid = name_of(o.on_invalid);
  m.valid_fraction = o.valid_fraction;
  return m;
}

// The two shards being filled (train and valid); a full one goes to the sink for writing and a
// fresh buffer takes its place.
class OpenShards {
 public:
  OpenShards(const PreprocessOptions& o, ShardSink& sink)
      : sink_(sink),
        limit_sequences_(o.shard_sequences),
        limit_bytes_(static_cast<uint64_t>(o.shard_mb) << 20),
        reserve_(o.shard_sequences > 0 ? 0 : limit_bytes_) {
    buffers_[0] = std::make_unique<ShardBuffer>(Split::Train, reserve_);
    buffers_[1] = std::make_unique<ShardBuffer>(Split::Valid);
  }
  void add(const FastaRecord& rec, double valid_fraction) {
    const uint64_t hash = id_hash(rec.id);
    const int k = in_valid_split(hash, valid_fraction) ? 1 : 0;
    buffers_[k]->add(rec.id, hash, rec.tokens, rec.length);
    const ShardBuffer& b = *buffers_[k];
    if (limit_sequences_ > 0 ? b.sequences() >= limit_sequences_ : b.bytes() >= limit_bytes_) flush(k);
  }
  // Writes what is left and waits for every shard.
  std::vector<ShardInfo> finish() {
    for (int k = 0; k < 2; ++k)
      if (!buffers_[k]->empty()) flush(k);
    return sink_.finish();
  }

 private:
  void flush(int k) {
    sink_.submit(numbers_[k]++, std::move(buffers_[k]));
    buffers_[k] = sink_.take(k == 0 ? Split::Train : Split::Valid, k == 0 ? reserve_ : 0);
  }
  ShardSink& sink_;
  int64_t limit_sequences_;
  uint64_t limit_bytes_, reserve_;
  std::unique_ptr<ShardBuffer> buffers_[2];
  int64_t numbers_[2] = {0, 0};
};

// Reads every input into the shards; records each source and adds up the counts in `m`.
void read_inputs(const PreprocessOptions& o, const std::vector<uint64_t>& sizes, OpenShards& shards, Manifest& m,
                 core::Progress* progress) {
  for (std::size_t f = 0; f < o.inputs.size(); ++f) {
    FastaReader reader(InputStream::open(o.inputs[f]), o.on_invalid);
    FastaRecord rec;
    uint64_t reported_bytes = 0;
    int64_t since_report = 0;
    while (reader.next(rec)) {
      shards.add(rec, o.valid_fraction);
      if (progress && ++since_report == 4096) {
        const uint64_t at = reader.stream().file_position();
        progress->advance(since_report, static_cast<int64_t>(at - reported_bytes));
        reported_bytes = at;
        since_report = 0;
      }
    }
    if (progress) progress->advance(since_report, static_cast<int64_t>(sizes[f] - std::min(sizes[f], reported_bytes)));
    m.sources.push_back({fs::absolute(o.inputs[f]).lexically_normal().string(), sizes[f], reader.counts().records});
    add_counts(m.counts, reader.counts());
  }
}

// The old dataset (with --overwrite) goes only now that the new one is complete; its manifest
// first, so that no manifest ever lists a mixture of old and new shards.
void install(const fs::path& staging, const fs::path& output, const Manifest& m) {
  std::error_code ec;
  fs::remove(output / shard::kManifestName, ec);
  for (const auto& entry : fs::directory_iterator(output))
    if (is_shard_file(entry.path())) fs::remove(entry.path());
  for (const ShardInfo& s : m.shards) {
    core::fsync_path(staging / s.file);
    core::rename_durable(staging / s.file, output / s.file);
  }
  core::write_file_atomic(output / shard::kManifestName, m.to_yaml());
}

}  // namespace

PreprocessResult preprocess(const PreprocessOptions& o) {
  check_options(o);
  core::Stopwatch clock;
  PreprocessResult result;
  const std::vector<uint64_t> sizes = probe_inputs(o);
  for (uint64_t size : sizes) result.input_bytes += size;
  check_output(o);
  fs::create_directories(o.output);
  StagingDir staging{o.output / (".staging-" + std::to_string(::getpid()))};
  fs::remove_all(staging.path);
  fs::create_directories(staging.path);

  DuplicateIdFinder dups(staging.path);
  ShardSink sink(staging.path, o.threads, dups);
  OpenShards shards(o, sink);
  Manifest& m = result.manifest;
  m = new_manifest(o);
  std::unique_ptr<core::Progress> progress;
  if (o.progress) progress = std::make_unique<core::Progress>("preprocess", 0, "records", static_cast<int64_t>(result.input_bytes));
  read_inputs(o, sizes, shards, m, progress.get());
  m.shards = shards.finish();
  spdlog::debug("preprocess: input read and shards written in {:.3f} s", clock.seconds());
  if (progress) progress->finish();

  if (m.shards.empty())
    throw core::InputError("no sequences in the input (" + core::format_count(m.counts.records) + " records, " +
                               core::format_count(m.counts.empty_records) + " empty, " +
                               core::format_count(m.counts.skipped_invalid) + " skipped as invalid)",
                           o.inputs.front().string(), "nothing to write: no dataset was created");

  const DuplicateIdFinder::Result duplicates = dups.finish();
  spdlog::debug("preprocess: duplicate ids checked at {:.3f} s", clock.seconds());
  m.counts.duplicate_ids = duplicates.duplicates;
  result.duplicate_examples = duplicates.examples;

  install(staging.path, o.output, m);
  result.seconds = clock.seconds();
  spdlog::debug("preprocess: shards durable and installed, manifest written at {:.3f} s", result.seconds);
  return result;
}

}  // namespace ankh::data
