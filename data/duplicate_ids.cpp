#include "data/duplicate_ids.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <queue>

#include "core/error.h"
#include "data/dataset.h"

namespace ankh::data {

namespace fs = std::filesystem;

namespace {

// A run file: Entry records sorted by hash.
struct Entry {
  uint64_t hash;
  uint64_t index;  // record index within the run's shard
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File open_file(const fs::path& path, const char* mode) {
  File f(std::fopen(path.c_str(), mode));
  if (!f) throw core::IoError(std::string("cannot open scratch file: ") + std::strerror(errno), path.string());
  return f;
}

// Reads a run in blocks of entries.
class RunReader {
 public:
  explicit RunReader(const fs::path& path) : path_(path), file_(open_file(path, "rb")), block_(1 << 14) { refill(); }
  bool done() const { return at_ == size_; }
  const Entry& current() const { return block_[at_]; }
  void advance() {
    if (++at_ == size_) refill();
  }

 private:
  void refill() {
    size_ = std::fread(block_.data(), sizeof(Entry), block_.size(), file_.get());
    at_ = 0;
    if (size_ == 0 && std::ferror(file_.get())) throw core::IoError("cannot read scratch file", path_.string());
  }
  fs::path path_;
  File file_;
  std::vector<Entry> block_;
  std::size_t at_ = 0, size_ = 0;
};

// LSD radix sort by hash, 11 bits per pass (the buckets stay in cache): several times faster
// than std::sort on these keys, and stable (equal hashes keep their index order).
void radix_sort(std::vector<Entry>& entries) {
  constexpr int kBits = 11;
  constexpr uint64_t kMask = (1u << kBits) - 1;
  std::vector<Entry> other(entries.size());
  std::vector<std::size_t> count(std::size_t{1} << kBits);
  for (int shift = 0; shift < 64; shift += kBits) {
    std::fill(count.begin(), count.end(), 0);
    for (const Entry& e : entries) ++count[(e.hash >> shift) & kMask];
    std::size_t sum = 0;
    for (auto& c : count) {
      const std::size_t n = c;
      c = sum;
      sum += n;
    }
    for (const Entry& e : entries) other[count[(e.hash >> shift) & kMask]++] = e;
    entries.swap(other);
  }
}

}  // namespace

DuplicateIdFinder::DuplicateIdFinder(fs::path scratch_dir) : dir_(std::move(scratch_dir)) {}

void DuplicateIdFinder::add(const ShardBuffer& shard, const fs::path& shard_file) {
  std::vector<Entry> entries(static_cast<std::size_t>(shard.sequences()));
  for (std::size_t i = 0; i < entries.size(); ++i) entries[i] = {shard.id_hash(static_cast<int64_t>(i)), i};
  radix_sort(entries);
  const fs::path file = dir_ / (shard_file.filename().string() + ".ids");
  {
    File f = open_file(file, "wb");
    if (std::fwrite(entries.data(), sizeof(Entry), entries.size(), f.get()) != entries.size() ||
        std::fflush(f.get()) != 0)
      throw core::IoError(std::string("cannot write scratch file: ") + std::strerror(errno), file.string());
  }
  std::lock_guard<std::mutex> guard(mutex_);
  runs_.push_back({file, shard_file});
}

DuplicateIdFinder::Result DuplicateIdFinder::finish(std::size_t max_examples) {
  std::vector<std::unique_ptr<RunReader>> readers;
  for (const auto& run : runs_) readers.push_back(std::make_unique<RunReader>(run.file));
  auto later = [&](std::size_t a, std::size_t b) { return readers[b]->current().hash < readers[a]->current().hash; };
  std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(later)> heap(later);
  for (std::size_t i = 0; i < readers.size(); ++i)
    if (!readers[i]->done()) heap.push(i);

  Result result;
  std::vector<std::pair<std::size_t, uint64_t>> example_at;  // (run, index) of one record per repeated id
  uint64_t previous = 0;
  bool have_previous = false, reported = false;
  while (!heap.empty()) {
    const std::size_t i = heap.top();
    heap.pop();
    const Entry e = readers[i]->current();
    if (have_previous && e.hash == previous) {
      ++result.duplicates;
      if (!reported && example_at.size() < max_examples) example_at.emplace_back(i, e.index);
      reported = true;
    } else {
      previous = e.hash;
      have_previous = true;
      reported = false;
    }
    readers[i]->advance();
    if (!readers[i]->done()) heap.push(i);
  }
  for (const auto& [run, index] : example_at)
    result.examples.push_back(read_shard_id(runs_[run].shard_file, static_cast<int64_t>(index)));
  return result;
}

}  // namespace ankh::data
