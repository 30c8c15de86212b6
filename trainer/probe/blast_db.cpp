#include "trainer/probe/blast_db.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "core/files.h"
#include "core/subprocess.h"
#include "data/input_stream.h"
#include "data/vocab.h"
#include "trainer/probe/go_annotations.h"

namespace ankh::probe {

namespace {

namespace fs = std::filesystem;

// A fresh, empty file under the system's temporary directory, removed when this goes away.
class TempFile {
 public:
  explicit TempFile(const std::string& stem) {
    std::string name = (fs::temp_directory_path() / (stem + "-XXXXXX")).string();
    const int fd = ::mkstemp(name.data());
    if (fd < 0) throw core::IoError(std::string("cannot create a temporary file: ") + std::strerror(errno), name);
    ::close(fd);
    path_ = name;
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path_, ec);  // best effort: never throw from a destructor
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

std::vector<Protein> read_fasta_proteins(const fs::path& path, data::InvalidPolicy policy) {
  data::FastaReader reader(data::InputStream::open(path), policy);
  std::vector<Protein> out;
  data::FastaRecord record;
  while (reader.next(record))
    out.push_back({protein_id_of_header(record.id), residue_letters(record.tokens, record.length)});
  return out;
}

std::vector<Protein> read_blast_db(const fs::path& db, data::InvalidPolicy policy) {
  const TempFile fasta("ankh-blastdbcmd");
  export_blast_db(db, fasta.path());
  return read_fasta_proteins(fasta.path(), policy);
}

void export_blast_db(const fs::path& db, const fs::path& fasta, const std::string& missing_hint) {
  core::ProgramOptions options;
  options.stdout_path = fs::absolute(fasta);
  // BLAST+ splits some path arguments at spaces: run in the database's folder with its bare name.
  const fs::path absolute_db = fs::absolute(db);
  options.working_dir = absolute_db.parent_path();
  options.missing_hint = missing_hint.empty() ? kBlastHint : missing_hint;
  core::run_program({"blastdbcmd", "-db", absolute_db.filename().string(), "-entry", "all", "-line_length", "1000000"},
                    options);
}

std::size_t write_fasta(const fs::path& path, const std::vector<Protein>& proteins, const std::string& id_prefix) {
  constexpr std::size_t kWidth = 80;
  std::string text;
  std::size_t written = 0;
  for (std::size_t i = 0; i < proteins.size(); ++i) {
    const std::string& s = proteins[i].sequence;
    if (s.empty()) continue;
    text += '>' + (id_prefix.empty() ? proteins[i].id : id_prefix + std::to_string(i)) + '\n';
    for (std::size_t at = 0; at < s.size(); at += kWidth) (text += std::string_view(s).substr(at, kWidth)) += '\n';
    ++written;
  }
  core::write_file_atomic(path, text);  // a temporary sibling, renamed when complete
  return written;
}

void make_blast_db(const fs::path& fasta, const fs::path& db) {
  core::ProgramOptions options;
  options.working_dir = db.parent_path();
  options.missing_hint = kBlastHint;
  const fs::path in = fasta.parent_path() == db.parent_path() ? fasta.filename() : fs::absolute(fasta);
  core::run_program({"makeblastdb", "-in", in.string(), "-dbtype", "prot", "-out", db.filename().string()}, options);
}

}  // namespace ankh::probe
