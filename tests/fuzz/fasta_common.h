// The FASTA targets' shared body: read a file to its end under every --on-invalid policy, and check
// what the reader promises of each record (docs/architecture.md, "Vocabulary").
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "data/fasta_reader.h"
#include "data/vocab.h"
#include "tests/fuzz/support.h"

namespace ankh::fuzz {

// Reads `file` with blocks of `buffer_bytes` (small, so that headers and records straddle blocks).
inline void read_fasta_all_policies(const std::filesystem::path& file, std::size_t buffer_bytes) {
  for (data::InvalidPolicy policy : {data::InvalidPolicy::Error, data::InvalidPolicy::Unk, data::InvalidPolicy::Skip}) {
    expect_clean([&] {
      data::FastaReader reader(data::InputStream::open(file), policy, buffer_bytes);
      data::FastaRecord record;
      while (reader.next(record)) {
        // A record is non-empty and holds residue ids only (<unk> only under --on-invalid unk).
        bool ok = record.length > 0 && record.line >= 1;
        for (std::size_t i = 0; i < record.length; ++i) {
          const int64_t id = record.tokens[i];
          ok = ok && (data::is_residue(id) || (id == data::kUnk && policy == data::InvalidPolicy::Unk));
        }
        if (!ok) {
          std::fprintf(stderr, "==fuzz== bad record '%.*s' at line %lld\n", static_cast<int>(record.id.size()),
                       record.id.data(), static_cast<long long>(record.line));
          std::abort();
        }
      }
    });
  }
}

}  // namespace ankh::fuzz
