#include "data/dataset_verify.h"

#include <fcntl.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/file_descriptor.h"
#include "core/parallel_for.h"
#include "core/progress.h"
#include "core/strings.h"
#include "data/composition.h"
#include "data/manifest.h"
#include "data/mapped_shard.h"
#include "data/shard_format.h"
#include "data/vocab.h"

namespace ankh::data {

namespace fs = std::filesystem;

namespace {

// Pieces of /tokens checked by one thread at a time: large enough for sequential reads, small
// enough to keep every thread busy to the end.
constexpr int64_t kPieceBytes = int64_t{64} << 20;

struct Piece {
  std::size_t shard = 0;
  int64_t begin = 0, size = 0;
  // Results.
  uint32_t crc = 0;
  Composition composition;
  TokenCount count;
};

// A shard's pieces joined: the checksum over all of them, the composition, the invalid bytes.
// `offsets_ok`: its offsets passed check_offsets, so a token position can be named by sequence.
void check_tokens(const MappedShard& shard, bool offsets_ok, const std::vector<const Piece*>& pieces,
                  core::VerifyReport& report) {
  const ShardInfo& info = shard.info();
  const std::string where = shard.path().string();
  uLong crc = ::crc32(0L, Z_NULL, 0);
  Composition composition;
  int64_t invalid = 0, first_invalid = -1;
  for (const Piece* p : pieces) {
    crc = ::crc32_combine(crc, p->crc, static_cast<z_off_t>(p->size));
    composition += p->composition;
    if (p->count.invalid > 0 && first_invalid < 0) first_invalid = p->begin + p->count.first_invalid;
    invalid += p->count.invalid;
  }
  if (static_cast<uint32_t>(crc) != info.tokens_crc32)
    report.add(where, "/tokens checksum " + std::to_string(crc) + " differs from the manifest's " +
                          std::to_string(info.tokens_crc32));
  if (invalid > 0) {
    const uint8_t value = shard.tokens()[first_invalid];
    std::string what = core::format_count(invalid) + " byte" + (invalid == 1 ? " of /tokens is" : "s of /tokens are") +
                       " not a residue id; the first, /tokens[" + std::to_string(first_invalid) +
                       "] = " + std::to_string(value);
    if (offsets_ok) {  // name the sequence, and its record when /ids can be read
      const int64_t seq = shard.sequence_at(first_invalid);
      what += ", is residue " + std::to_string(first_invalid - static_cast<int64_t>(shard.offset(seq))) + " of sequence " +
              std::to_string(seq);
      try {
        what += " (record '" + shard.id(seq) + "')";
      } catch (const core::Error&) {
      }
    }
    report.add(where, what);
  }
  if (info.composition && invalid == 0 && *info.composition != composition) {
    std::string diff;
    for (int k = 0; k < Composition::kSize; ++k) {
      const auto i = static_cast<std::size_t>(k);
      if (composition.counts[i] != info.composition->counts[i])
        diff += std::string(diff.empty() ? "" : ", ") + composition_key(k) + " " + std::to_string(composition.counts[i]) +
                " (manifest " + std::to_string(info.composition->counts[i]) + ")";
    }
    report.add(where, "residue composition differs from the manifest's: " + diff);
  }
}

}  // namespace

core::VerifyReport verify_dataset(const fs::path& dir, const core::VerifyOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  core::VerifyReport report;
  report.kind = "dataset";
  const fs::path manifest_file = dir / shard::kManifestName;
  Manifest manifest;
  try {
    manifest = Manifest::read(manifest_file);
  } catch (const core::Error& e) {
    report.add(e.where().empty() ? manifest_file.string() : e.where(), e.what_text());
    return report;
  }
  ++report.files;
  if (manifest.format != shard::kFormatName || manifest.format_version != shard::kFormatVersion) {
    report.add(manifest_file.string(), "format '" + manifest.format + "' version " + std::to_string(manifest.format_version) +
                                           ", this build of ankh reads '" + shard::kFormatName + "' version " +
                                           std::to_string(shard::kFormatVersion));
    return report;
  }
  if (manifest.vocabulary != kVocabularyName)
    report.add(manifest_file.string(), "vocabulary '" + manifest.vocabulary + "', this build of ankh uses '" +
                                           kVocabularyName + "'");

  // Structure and offsets first (metadata and 8 bytes per sequence), shard by shard.
  std::vector<std::unique_ptr<MappedShard>> shards;
  std::vector<bool> offsets_ok;
  for (const ShardInfo& info : manifest.shards) {
    try {
      auto shard = std::make_unique<MappedShard>(dir / info.file, info);
      report.bytes += 8 * static_cast<uint64_t>(info.sequences + 1);
      try {
        shard->check_offsets();
        offsets_ok.push_back(true);
      } catch (const core::Error& e) {
        report.add(e.where(), e.what_text());
        offsets_ok.push_back(false);
      }
      shards.push_back(std::move(shard));
      ++report.files;
    } catch (const core::Error& e) {
      report.add(e.where().empty() ? (dir / info.file).string() : e.where(), e.what_text());
    }
  }
  if (!manifest.composition(Split::Train))
    report.notes.push_back("the manifest records no residue composition (written by an older ankh); `ankh preprocess` "
                           "adds it");

  // Then every token, in parallel pieces.
  std::vector<Piece> pieces;
  uint64_t token_bytes = 0;
  for (std::size_t s = 0; s < shards.size(); ++s) {
    const int64_t n = shards[s]->info().residues;
    for (int64_t begin = 0; begin < n; begin += kPieceBytes) {
      Piece p;
      p.shard = s;
      p.begin = begin;
      p.size = std::min(kPieceBytes, n - begin);
      pieces.push_back(p);
    }
    token_bytes += static_cast<uint64_t>(n);
  }
  std::vector<core::FileDescriptor> files;
  for (const auto& shard : shards) {
    files.push_back(core::FileDescriptor::open(shard->path(), O_RDONLY));
    ::posix_fadvise(files.back().get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  std::unique_ptr<core::Progress> progress;
  if (options.progress) progress = std::make_unique<core::Progress>("verify", static_cast<int64_t>(pieces.size()), "pieces",
                                                                      static_cast<int64_t>(token_bytes));
  std::atomic<int64_t> done_pieces{0}, done_bytes{0};
  int64_t shown_pieces = 0, shown_bytes = 0;
  core::parallel_for(
      static_cast<int64_t>(pieces.size()), core::default_threads(options.threads),
      [&](int64_t i) {
        // pread, not the mapping: sequential reads with the kernel's readahead run at disk speed.
        thread_local std::vector<uint8_t> buffer;
        Piece& p = pieces[static_cast<std::size_t>(i)];
        const MappedShard& shard = *shards[p.shard];
        buffer.resize(static_cast<std::size_t>(p.size));
        files[p.shard].read_at(buffer.data(), static_cast<std::size_t>(p.size),
                               shard.tokens_file_offset() + static_cast<uint64_t>(p.begin), shard.path());
        p.crc = shard::crc32(0, buffer.data(), static_cast<uint64_t>(p.size));
        p.count = count_tokens(buffer.data(), p.size, p.composition);
        ++done_pieces;
        done_bytes += p.size;
      },
      [&] {
        if (!progress) return;
        const int64_t pieces_now = done_pieces, bytes_now = done_bytes;
        progress->advance(pieces_now - shown_pieces, bytes_now - shown_bytes);
        shown_pieces = pieces_now;
        shown_bytes = bytes_now;
      });
  if (progress) progress->finish();
  report.bytes += token_bytes;

  std::vector<std::vector<const Piece*>> by_shard(shards.size());
  for (const Piece& p : pieces) by_shard[p.shard].push_back(&p);
  for (std::size_t s = 0; s < shards.size(); ++s) check_tokens(*shards[s], offsets_ok[s], by_shard[s], report);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

void throw_problems(const core::VerifyReport& report) {
  if (report.ok()) return;
  core::throw_problems(report, "", "`ankh verify DATASET` lists every problem; re-run `ankh preprocess` to rebuild it");
}

}  // namespace ankh::data
