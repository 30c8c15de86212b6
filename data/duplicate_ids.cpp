#include "data/duplicate_ids.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <queue>

#include "core/error.h"
#include "core/hash.h"

namespace ankh::data {

namespace fs = std::filesystem;

namespace {

// A run file is a sequence of entries: uint64 hash, uint32 length, the id's bytes; sorted by
// (hash, id). Sorting by the hash first makes the order cheap; comparing the ids too makes
// the result exact (no false duplicates from hash collisions).
struct Entry {
  uint64_t hash = 0;
  std::string id;
  bool operator<(const Entry& o) const { return hash != o.hash ? hash < o.hash : id < o.id; }
  bool operator==(const Entry& o) const { return hash == o.hash && id == o.id; }
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File open_file(const fs::path& path, const char* mode) {
  File f(std::fopen(path.c_str(), mode));
  if (!f) throw core::IoError(std::string("cannot open scratch file: ") + std::strerror(errno), path.string());
  std::setvbuf(f.get(), nullptr, _IOFBF, 1 << 16);
  return f;
}

class RunReader {
 public:
  explicit RunReader(const fs::path& path) : path_(path), file_(open_file(path, "rb")) { advance(); }
  bool done() const { return done_; }
  const Entry& current() const { return current_; }
  void advance() {
    uint32_t length = 0;
    if (std::fread(&current_.hash, sizeof current_.hash, 1, file_.get()) != 1) {
      done_ = true;
      return;
    }
    if (std::fread(&length, sizeof length, 1, file_.get()) != 1) fail();
    current_.id.resize(length);
    if (length > 0 && std::fread(current_.id.data(), 1, length, file_.get()) != length) fail();
  }

 private:
  [[noreturn]] void fail() const { throw core::IoError("scratch file ended early", path_.string()); }
  fs::path path_;
  File file_;
  Entry current_;
  bool done_ = false;
};

}  // namespace

DuplicateIdFinder::DuplicateIdFinder(fs::path scratch_dir) : dir_(std::move(scratch_dir)) {}

void DuplicateIdFinder::add(const ShardBuffer& shard, const std::string& run_name) {
  std::vector<Entry> entries(static_cast<std::size_t>(shard.sequences()));
  for (int64_t i = 0; i < shard.sequences(); ++i) {
    const std::string_view id = shard.id(i);
    entries[static_cast<std::size_t>(i)] = {core::hash_bytes(id), std::string(id)};
  }
  std::sort(entries.begin(), entries.end());
  const fs::path path = dir_ / (run_name + ".ids");
  {
    File f = open_file(path, "wb");
    for (const Entry& e : entries) {
      const auto length = static_cast<uint32_t>(e.id.size());
      if (std::fwrite(&e.hash, sizeof e.hash, 1, f.get()) != 1 || std::fwrite(&length, sizeof length, 1, f.get()) != 1 ||
          std::fwrite(e.id.data(), 1, e.id.size(), f.get()) != e.id.size())
        throw core::IoError(std::string("cannot write scratch file: ") + std::strerror(errno), path.string());
    }
    if (std::fflush(f.get()) != 0)
      throw core::IoError(std::string("cannot write scratch file: ") + std::strerror(errno), path.string());
  }
  std::lock_guard<std::mutex> guard(mutex_);
  runs_.push_back(path);
}

DuplicateIdFinder::Result DuplicateIdFinder::finish(std::size_t max_examples) {
  std::vector<std::unique_ptr<RunReader>> readers;
  for (const auto& run : runs_) readers.push_back(std::make_unique<RunReader>(run));
  auto later = [&](std::size_t a, std::size_t b) { return readers[b]->current() < readers[a]->current(); };
  std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(later)> heap(later);
  for (std::size_t i = 0; i < readers.size(); ++i)
    if (!readers[i]->done()) heap.push(i);

  Result result;
  Entry previous;
  bool have_previous = false, reported = false;
  while (!heap.empty()) {
    const std::size_t i = heap.top();
    heap.pop();
    const Entry& e = readers[i]->current();
    if (have_previous && e == previous) {
      ++result.duplicates;
      if (!reported && result.examples.size() < max_examples) result.examples.push_back(e.id);
      reported = true;
    } else {
      previous = e;
      have_previous = true;
      reported = false;
    }
    readers[i]->advance();
    if (!readers[i]->done()) heap.push(i);
  }
  return result;
}

}  // namespace ankh::data
