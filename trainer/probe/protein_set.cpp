#include "trainer/probe/protein_set.h"

#include <algorithm>
#include <unordered_set>

#include "core/error.h"
#include "core/hash.h"
#include "data/fasta_reader.h"
#include "data/input_stream.h"
#include "data/vocab.h"
#include "trainer/probe/blast_db.h"
#include "trainer/probe/go_annotations.h"

namespace ankh::probe {

namespace fs = std::filesystem;

std::vector<uint8_t> residue_tokens(const std::string& sequence) {
  std::vector<uint8_t> tokens;
  tokens.reserve(sequence.size());
  for (const char c : sequence) {
    const int id = data::residue_id(static_cast<unsigned char>(c));
    tokens.push_back(static_cast<uint8_t>(id >= 0 ? id : data::kUnk));
  }
  return tokens;
}

std::string residue_letters(const uint8_t* tokens, std::size_t length) {
  std::string letters(length, 'X');  // <unk> (what InvalidPolicy::Unk stores) reads back as 'X'
  for (std::size_t i = 0; i < length; ++i)
    if (data::is_residue(tokens[i])) letters[i] = data::kResidues[tokens[i] - data::kFirstResidue];
  return letters;
}

namespace {

// Keeps the `cap` candidates of smallest rank (0: all) while they stream past; the input index
// puts the survivors back in file order.
class CappedPart {
 public:
  explicit CappedPart(int64_t cap) : cap_(cap) {}

  void offer(uint64_t rank, int64_t index, Protein&& protein) {
    ++candidates_;
    if (cap_ > 0 && static_cast<int64_t>(heap_.size()) == cap_) {
      if (rank >= heap_.front().rank) return;
      std::pop_heap(heap_.begin(), heap_.end());
      heap_.pop_back();
    }
    heap_.push_back({rank, index, std::move(protein)});
    std::push_heap(heap_.begin(), heap_.end());
  }
  int64_t candidates() const { return candidates_; }

  std::vector<Protein> take() {
    std::sort(heap_.begin(), heap_.end(), [](const Entry& a, const Entry& b) { return a.index < b.index; });
    std::vector<Protein> out;
    out.reserve(heap_.size());
    for (auto& e : heap_) out.push_back(std::move(e.protein));
    heap_.clear();
    return out;
  }

 private:
  struct Entry {
    uint64_t rank;
    int64_t index;
    Protein protein;
    bool operator<(const Entry& o) const { return rank < o.rank; }  // max-heap: the largest rank on top
  };
  int64_t cap_;
  int64_t candidates_ = 0;
  std::vector<Entry> heap_;  // a max-heap on rank while offering
};

// The FASTA file of the task: its own, or its BLAST database exported by blastdbcmd.
fs::path task_fasta(const ProbeTask& task, const fs::path& work_dir) {
  if (!task.fasta.empty()) return task.fasta;
  fs::create_directories(work_dir);
  const fs::path out = work_dir / "proteins.fasta";
  export_blast_db(task.blastdb, out, std::string(kBlastHint) + ", or give the proteins as fasta:");
  return out;
}

}  // namespace

ProteinSplit read_protein_split(const ProbeTask& task, const std::function<bool(const std::string&)>& keep,
                                const fs::path& work_dir) {
  const fs::path fasta = task_fasta(task, work_dir);
  data::FastaReader reader(data::InputStream::open(fasta), data::InvalidPolicy::Error);
  const auto seed = static_cast<uint64_t>(task.seed);
  CappedPart lookup(task.max_lookup), query(task.max_query);
  std::unordered_set<std::string> seen;
  ProteinSplit split;
  ProteinCounts& counts = split.counts;
  data::FastaRecord record;
  for (int64_t index = 0; reader.next(record); ++index) {
    ++counts.read;
    std::string id = protein_id_of_header(record.id);
    if (!keep(id)) { ++counts.unlabelled; continue; }
    if (static_cast<int64_t>(record.length) > task.max_length) { ++counts.too_long; continue; }
    if (!seen.insert(id).second) { ++counts.duplicates; continue; }
    const uint64_t rank = core::hash_bytes(id, core::hash_words(seed, 0xCA9));
    const bool is_query = in_query_set(id, task.query_fraction, seed);
    Protein p{std::move(id), residue_letters(record.tokens, record.length)};
    (is_query ? query : lookup).offer(rank, index, std::move(p));
  }
  split.lookup_candidates = lookup.candidates();
  split.query_candidates = query.candidates();
  split.lookup = lookup.take();
  split.query = query.take();
  if (split.lookup.empty() || split.query.empty())
    throw core::InputError("the split leaves " + std::string(split.lookup.empty() ? "no lookup" : "no query") +
                               " proteins (" + std::to_string(counts.read) + " read, " +
                               std::to_string(counts.unlabelled) + " unlabelled, " + std::to_string(counts.too_long) +
                               " longer than max_length)",
                           task.file.string(), "check the task's proteins, labels, query_fraction and max_length");
  return split;
}

}  // namespace ankh::probe
