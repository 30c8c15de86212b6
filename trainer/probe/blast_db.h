// Protein sequences in and out of BLAST: reading every protein of a BLAST database (metastudent-
// data ships its annotated proteins only as one, goasp.fasta.p*), writing FASTA for makeblastdb
// and blastp, and building a protein database. The programs are NCBI BLAST+'s, run without a
// shell (core/subprocess.h).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/fasta_reader.h"
#include "trainer/probe/protein.h"

namespace ankh::probe {

inline constexpr const char* kBlastHint = "install ncbi-blast+ (scripts/setup.sh does)";

// Every protein of the BLAST database `db` (the path blastdbcmd -db takes: without the .pin/.psq
// suffixes), in database order, as Proteins (protein.h: the id up to the first '|', residues as
// letters): `blastdbcmd -db DB -entry all`, run in DB's directory (see make_blast_db), into a
// temporary file read back with data::FastaReader. Characters outside Ankh's vocabulary follow
// `policy`; one read as <unk> comes back as 'X'. IoError naming blastdbcmd when it is missing or
// fails; InputError naming the temporary file's line for a character that `policy` refuses.
std::vector<Protein> read_blast_db(const std::filesystem::path& db, data::InvalidPolicy policy = data::InvalidPolicy::Unk);

// `blastdbcmd -db DB -entry all` into `fasta` (one line per sequence), run in DB's directory.
// IoError naming blastdbcmd, with `missing_hint` (default kBlastHint) when it is not installed.
void export_blast_db(const std::filesystem::path& db, const std::filesystem::path& fasta,
                     const std::string& missing_hint = {});
// The proteins of a FASTA file (plain or gzip), as read_blast_db() reads them.
std::vector<Protein> read_fasta_proteins(const std::filesystem::path& path, data::InvalidPolicy policy);

// Writes `proteins` as FASTA, 80 residues a line; a protein's header is its id, or, when
// `id_prefix` is given, the prefix and its index in `proteins` ("L0", "L1", ...). Proteins
// without residues are left out (makeblastdb refuses them, FastaReader skips them). Returns how
// many were written; the file appears whole (atomically) or not at all; IoError when writing fails.
std::size_t write_fasta(const std::filesystem::path& path, const std::vector<Protein>& proteins,
                        const std::string& id_prefix = {});

// `makeblastdb -in FASTA -dbtype prot -out DB`, run in DB's directory (BLAST+ splits -in and -out
// at spaces: the names it is given are relative to that directory when FASTA lies there too, as
// they are for read_blast_db's -db). IoError naming makeblastdb when it is missing or fails.
void make_blast_db(const std::filesystem::path& fasta, const std::filesystem::path& db);

}  // namespace ankh::probe
